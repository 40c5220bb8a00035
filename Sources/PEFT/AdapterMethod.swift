import Foundation
import Transformer

/// One way to create new adapters: a name (`peft train --method NAME`), the adapter type, and how
/// to make one from settings.
///
/// Settings are a JSON object of `adapter_config.json` keys (`{"r": 16, "target_modules":
/// ["q_proj", "v_proj"]}`), laid over the method's defaults, so every option an adapter's
/// configuration has can be set without the command line or the benchmarks knowing the type. A key
/// the configuration does not have is refused, naming it and the keys there are.
///
/// A new adapter type needs one method, made with ``init(name:adapterType:summary:defaults:make:)``
/// from its `Codable` configuration, and a registration (``AdapterRegistry/registering(_:)-(AdapterMethod)``).
public struct AdapterMethod: @unchecked Sendable {
    /// What a method's factory gets besides the configuration.
    public struct Context {
        /// The model the adapter is for.
        public let model: LlamaModel
        /// The model's tokenizer, for settings given as text (prompt tuning's initial text); `nil`
        /// when the caller has none.
        public let tokenizer: (any Tokenizer)?
        /// The seed of the adapter's random initial values.
        public let seed: UInt64
    }

    /// The method's name: lower case, as `--method` takes it.
    public let name: String
    /// The type of the adapters it makes (whose `peft_type` reads them back).
    public let adapterType: any Adapter.Type
    /// One line on what it is.
    public let summary: String
    /// The settings a new adapter takes when none are given: a JSON object of its configuration's
    /// keys with their default values.
    public let defaultSettings: Data
    private let make: (Data, Context) throws -> any Adapter

    /// A method whose adapters are made from a `Configuration` decoded from the settings laid over
    /// `defaults` (decoding checks that `peft_type` is `adapterType.peftType`).
    /// - Parameters:
    ///   - defaults: the configuration of an adapter made with no settings; its encoding lists the
    ///     keys settings may give, so it should encode every key (`null` for absent options).
    ///   - make: the adapter for a configuration and context.
    ///
    /// A `defaults` that does not encode as a JSON object leaves the method with no settings, and
    /// every ``makeAdapter(for:settings:tokenizer:seed:)`` throws naming what decoding misses.
    public init<Configuration: Codable>(
        name: String, adapterType: any Adapter.Type, summary: String, defaults: Configuration,
        make: @escaping (Configuration, Context) throws -> any Adapter
    ) {
        let encoded = try? ConfigurationCoding.encode(defaults)
        let object = encoded.flatMap { (try? JSONSerialization.jsonObject(with: $0)) as? [String: Any] }
        self.name = name
        self.adapterType = adapterType
        self.summary = summary
        defaultSettings = object == nil ? Data("{}".utf8) : encoded ?? Data("{}".utf8)
        settingKeys = (object ?? [:]).keys.filter { $0 != "peft_type" && $0 != "task_type" }.sorted()
        self.make = { settings, context in
            let configuration = try ConfigurationCoding.decode(
                Configuration.self, from: settings, expectedType: adapterType.peftType, file: "\(name) settings")
            return try make(configuration, context)
        }
    }

    /// The keys settings may give, sorted: those of ``defaultSettings`` but `peft_type` and `task_type`.
    public let settingKeys: [String]

    /// A new adapter for `model`.
    /// - Parameters:
    ///   - settings: a JSON object of configuration keys laid over ``defaultSettings``; `nil` for
    ///     the defaults.
    ///   - tokenizer: the model's tokenizer, needed by settings given as text.
    ///   - seed: the seed of the random initial values.
    /// - Throws: ``AdapterError/invalidConfiguration(file:key:reason:)`` for settings that are not
    ///   a JSON object, a key the configuration does not have, a value of the wrong type or out of
    ///   range; what the adapter's initialiser throws.
    public func makeAdapter(
        for model: LlamaModel, settings: Data? = nil, tokenizer: (any Tokenizer)? = nil, seed: UInt64 = 0
    ) throws -> any Adapter {
        try make(mergedSettings(settings), Context(model: model, tokenizer: tokenizer, seed: seed))
    }

    /// ``defaultSettings`` with `settings`' keys replaced.
    func mergedSettings(_ settings: Data?) throws -> Data {
        guard let settings else { return defaultSettings }
        let file = "\(name) settings"
        guard let given = (try? JSONSerialization.jsonObject(with: settings, options: [.fragmentsAllowed])) as? [String: Any] else {
            throw AdapterError.invalidConfiguration(file: file, key: "", reason: "settings must be a JSON object")
        }
        var merged = (try? JSONSerialization.jsonObject(with: defaultSettings)) as? [String: Any] ?? [:]
        let known = settingKeys
        for (key, value) in given {
            guard known.contains(key) else {
                throw AdapterError.invalidConfiguration(
                    file: file, key: key, reason: "not a setting of \(name) (its settings: \(known.joined(separator: ", ")))")
            }
            merged[key] = value
        }
        return try JSONSerialization.data(withJSONObject: merged, options: [.sortedKeys])
    }
}
