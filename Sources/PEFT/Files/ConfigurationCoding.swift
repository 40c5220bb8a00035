import Autograd
import Foundation
import Transformer

/// Decoding and encoding of `adapter_config.json` with errors that name the file and the key: what
/// an adapter's ``Adapter/init(configuration:weights:model:)`` and
/// ``Adapter/configurationData()`` are written with, inside this package or outside it.
public enum ConfigurationCoding {
    /// Decodes `type` from `data`, checking that `peft_type` is `expectedType`.
    /// - Throws: ``AdapterError/invalidConfiguration(file:key:reason:)`` naming the offending key.
    public static func decode<Value: Decodable>(
        _ type: Value.Type, from data: Data, expectedType: String, file: String = "adapter_config.json"
    ) throws -> Value {
        do {
            let declared = try JSONDecoder().decode(DeclaredType.self, from: data).peftType
            guard declared == expectedType else {
                throw AdapterError.invalidConfiguration(
                    file: file, key: "peft_type", reason: "expected \"\(expectedType)\", found \(declared.map { "\"\($0)\"" } ?? "none")")
            }
            return try JSONDecoder().decode(type, from: data)
        } catch let error as DecodingError {
            throw AdapterError.invalidConfiguration(file: file, key: key(of: error), reason: reason(of: error))
        }
    }

    /// Pretty, key-sorted JSON, as PEFT writes it.
    /// - Throws: ``AdapterError/invalidConfiguration(file:key:reason:)`` if `value` cannot be encoded.
    public static func encode<Value: Encodable>(_ value: Value) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        do {
            return try encoder.encode(value)
        } catch {
            throw AdapterError.invalidConfiguration(file: "adapter_config.json", key: "", reason: "cannot encode: \(error)")
        }
    }

    /// Pretty, key-sorted JSON of `value` with `extra` keys added (the model's dimensions, which
    /// PEFT records but the configuration does not own).
    /// - Throws: ``AdapterError/invalidConfiguration(file:key:reason:)`` if `value` cannot be encoded.
    public static func encode<Value: Encodable>(_ value: Value, adding extra: [String: Int]) throws -> Data {
        var json = try JSONSerialization.jsonObject(with: encode(value)) as? [String: Any] ?? [:]
        for (key, number) in extra { json[key] = number }
        return try JSONSerialization.data(withJSONObject: json, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
    }

    /// Checks the model dimensions a configuration records (`num_layers`, `token_dim`), when it
    /// records them, against the model's.
    /// - Parameters:
    ///   - layers: the model's layer count.
    ///   - tokenDimension: the width `token_dim` must have for this adapter and model (the hidden
    ///     size for prompt methods; `kvHeads · headDim` for prefix tuning).
    ///   - meaning: what that width is, for the error message.
    /// - Throws: ``AdapterError/invalidConfiguration(file:key:reason:)`` naming the key that differs.
    public static func checkDimensions(
        in data: Data, layers: Int, tokenDimension: Int, meaning: String = "hidden size"
    ) throws {
        let declared = try? JSONDecoder().decode(DeclaredDimensions.self, from: data)
        try require(declared?.layers.map { $0 == layers } ?? true, "num_layers",
                    "\(declared?.layers ?? 0) layers, but the model has \(layers)")
        try require(declared?.tokenDimension.map { $0 == tokenDimension } ?? true, "token_dim",
                    "\(declared?.tokenDimension ?? 0), but the model's \(meaning) is \(tokenDimension)")
    }

    /// Throws ``AdapterError/invalidConfiguration(file:key:reason:)`` for `key` unless `condition`.
    public static func require(_ condition: Bool, _ key: String, _ reason: @autoclosure () -> String) throws {
        guard condition else { throw AdapterError.invalidConfiguration(file: "adapter_config.json", key: key, reason: reason()) }
    }

    private static func key(of error: DecodingError) -> String {
        let path: [any CodingKey]
        switch error {
        case let .keyNotFound(key, context): path = context.codingPath + [key]
        case let .typeMismatch(_, context), let .valueNotFound(_, context), let .dataCorrupted(context): path = context.codingPath
        @unknown default: path = []
        }
        return path.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
    }

    private static func reason(of error: DecodingError) -> String {
        switch error {
        case .keyNotFound: return "missing"
        case let .typeMismatch(type, _): return "expected \(type)"
        case let .valueNotFound(type, _): return "expected \(type), found null"
        case let .dataCorrupted(context): return context.underlyingError.map { "not valid JSON: \($0.localizedDescription)" } ?? context.debugDescription
        @unknown default: return "\(error)"
        }
    }
}

/// The `peft_type` of an `adapter_config.json`, whatever else it holds.
struct DeclaredType: Decodable {
    let peftType: String?
    enum CodingKeys: String, CodingKey { case peftType = "peft_type" }
}

/// The model dimensions PEFT records in prompt-learning configurations.
struct DeclaredDimensions: Decodable {
    let layers: Int?, tokenDimension: Int?
    enum CodingKeys: String, CodingKey { case layers = "num_layers", tokenDimension = "token_dim" }
}
