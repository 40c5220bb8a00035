import Foundation
import Transformer

/// The adapter types that ``AdapterFiles/load(from:model:registry:)`` can read, by `peft_type`.
///
/// The built-in registry knows LoRA, prompt tuning, P-tuning v2 and IAPT; an adapter type
/// defined elsewhere is added with ``registering(_:)``, no change to this package needed.
public struct AdapterRegistry: @unchecked Sendable {
    private let types: [String: any Adapter.Type]

    /// A registry of exactly `types`.
    public init(types: [any Adapter.Type]) {
        self.types = Dictionary(types.map { ($0.peftType, $0) }, uniquingKeysWith: { _, last in last })
    }

    /// The adapter types of this package.
    public static let builtIn = AdapterRegistry(
        types: [LoRAAdapter.self, PromptTuningAdapter.self, PTuningV2Adapter.self, IAPTAdapter.self])

    /// This registry plus `type` (replacing a type with the same `peftType`).
    public func registering(_ type: any Adapter.Type) -> AdapterRegistry {
        AdapterRegistry(types: Array(types.values) + [type])
    }

    /// The type registered for `peftType`.
    public func type(for peftType: String) -> (any Adapter.Type)? { types[peftType] }

    /// The registered `peft_type` names, sorted.
    public var peftTypes: [String] { types.keys.sorted() }
}

/// Adapter folders in PEFT's layout: `adapter_config.json` and `adapter_model.safetensors`.
public enum AdapterFiles {
    /// `adapter_config.json`.
    public static let configurationFile = "adapter_config.json"
    /// `adapter_model.safetensors`.
    public static let weightsFile = "adapter_model.safetensors"

    /// Writes `adapter` to the folder `url`, atomically: a new folder appears whole, and in an
    /// existing folder each file is replaced whole (weights first, then the configuration).
    /// - Throws: ``AdapterError`` if the configuration cannot be encoded; ``ModelFileError`` if a
    ///   file cannot be written.
    public static func save(_ adapter: any Adapter, to url: URL) throws {
        let configuration = try adapter.configurationData()
        let weights = adapter.weights
        try AtomicFolder.write(to: url) { folder in
            try SafetensorsWriter.write(
                weights, to: folder.appendingPathComponent(weightsFile), dtype: .f32, metadata: ["format": "pt"])
            try AtomicFile.write(configuration, to: folder.appendingPathComponent(configurationFile))
        }
    }

    /// Reads the adapter in the folder `url` for `model`; its type comes from `peft_type`.
    /// - Throws: ``ModelFileError`` if a file is missing or unreadable or the safetensors file is
    ///   malformed; ``AdapterError/unknownType(file:peftType:)`` for a type not in `registry`;
    ///   ``AdapterError`` from the type if the configuration or a tensor does not fit `model`.
    public static func load(
        from url: URL, model: LlamaModel, registry: AdapterRegistry = .builtIn
    ) throws -> any Adapter {
        let configurationURL = url.appendingPathComponent(configurationFile)
        let data: Data
        do {
            data = try Data(contentsOf: configurationURL)
        } catch {
            throw ModelFileError.missingFile(path: configurationURL.path, reason: "an adapter folder needs \(configurationFile)")
        }
        let declared: String?
        do {
            declared = try JSONDecoder().decode(DeclaredType.self, from: data).peftType
        } catch {
            throw AdapterError.invalidConfiguration(file: configurationURL.path, key: "", reason: "not a JSON object: \(error.localizedDescription)")
        }
        guard let peftType = declared else {
            throw AdapterError.invalidConfiguration(file: configurationURL.path, key: "peft_type", reason: "missing")
        }
        guard let type = registry.type(for: peftType) else {
            throw AdapterError.unknownType(file: configurationURL.path, peftType: peftType)
        }
        let weights = try SafetensorsFile(contentsOf: url.appendingPathComponent(weightsFile))
        return try type.init(configuration: data, weights: weights, model: model)
    }
}
