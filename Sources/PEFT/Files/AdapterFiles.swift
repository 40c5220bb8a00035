import Foundation
import Transformer

/// The adapter types this package can read and create: by `peft_type` for
/// ``AdapterFiles/load(from:model:registry:)``, and by method name (``AdapterMethod``) for
/// `peft train --method`, the benchmarks and ``makeAdapter(method:for:settings:tokenizer:seed:)``.
///
/// The built-in registry knows LoRA, prompt tuning, P-tuning v2, prefix tuning and IAPT. An adapter type defined
/// elsewhere joins with ``registering(_:)-(AdapterMethod)`` (to be created and read) or
/// ``registering(_:)-(any Adapter.Type)`` (to be read only); nothing in this package changes.
public struct AdapterRegistry: @unchecked Sendable {
    private let types: [String: any Adapter.Type]
    private let methodsByName: [String: AdapterMethod]

    /// A registry of exactly `types` (read only) and `methods` (read and created).
    public init(types: [any Adapter.Type] = [], methods: [AdapterMethod] = []) {
        self.types = Dictionary((types + methods.map(\.adapterType)).map { ($0.peftType, $0) }, uniquingKeysWith: { _, last in last })
        methodsByName = Dictionary(methods.map { ($0.name, $0) }, uniquingKeysWith: { _, last in last })
    }

    /// The adapter types and methods of this package.
    public static let builtIn = AdapterRegistry(methods: [.lora, .prompt, .pTuningV2, .prefix, .iapt])

    /// This registry plus `type`, readable from its folders (replacing a type with the same `peftType`).
    public func registering(_ type: any Adapter.Type) -> AdapterRegistry {
        AdapterRegistry(types: Array(types.values) + [type], methods: Array(methodsByName.values))
    }

    /// This registry plus `method` and its adapter type (replacing those with the same names).
    public func registering(_ method: AdapterMethod) -> AdapterRegistry {
        AdapterRegistry(types: Array(types.values), methods: Array(methodsByName.values) + [method])
    }

    /// The type registered for `peftType`.
    public func type(for peftType: String) -> (any Adapter.Type)? { types[peftType] }

    /// The registered `peft_type` names, sorted.
    public var peftTypes: [String] { types.keys.sorted() }

    /// The method called `name`.
    public func method(named name: String) -> AdapterMethod? { methodsByName[name] }

    /// The registered method names, sorted.
    public var methodNames: [String] { methodsByName.keys.sorted() }

    /// A new adapter of the method `name` for `model` (see ``AdapterMethod/makeAdapter(for:settings:tokenizer:seed:)``).
    /// - Throws: ``AdapterError/unknownMethod(_:known:)`` for a name not registered; what the
    ///   method throws.
    public func makeAdapter(
        method name: String, for model: LlamaModel, settings: Data? = nil, tokenizer: (any Tokenizer)? = nil, seed: UInt64 = 0
    ) throws -> any Adapter {
        guard let method = methodsByName[name] else { throw AdapterError.unknownMethod(name, known: methodNames) }
        return try method.makeAdapter(for: model, settings: settings, tokenizer: tokenizer, seed: seed)
    }
}

/// Adapter folders in PEFT's layout: `adapter_config.json` and `adapter_model.safetensors`.
public enum AdapterFiles {
    /// `adapter_config.json`.
    public static let configurationFile = "adapter_config.json"
    /// `adapter_model.safetensors`.
    public static let weightsFile = "adapter_model.safetensors"

    /// Writes `adapter` to the folder `url`, atomically (``AtomicFolder``): a process killed at any
    /// moment leaves the old adapter or the new one, never one file of each; other files in an
    /// existing folder (`checkpoints/`, `training_report.json`, a README) stay.
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
