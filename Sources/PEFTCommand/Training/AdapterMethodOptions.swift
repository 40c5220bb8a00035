import ArgumentParser
import Foundation
import PEFT
import Transformer

/// How prompt tuning's virtual tokens start (`--prompt-init`).
enum PromptInitialization: String, ExpressibleByArgument, CaseIterable {
    case random, vocab, text

    /// The value of `prompt_tuning_init`.
    var configurationValue: String {
        switch self {
        case .random: return "RANDOM"
        case .vocab: return "SAMPLE_VOCAB"
        case .text: return "TEXT"
        }
    }
}

extension IAPTConfiguration.Pooling: ExpressibleByArgument {}
extension IAPTConfiguration.ActivationKind: ExpressibleByArgument {}

/// The adapter a command creates: a method of the registry and its settings.
///
/// The named options are shorthands for common `adapter_config.json` keys; `--set KEY=VALUE` gives
/// any key of the method's configuration. Settings the method does not have are refused before
/// any work, naming the option.
struct AdapterMethodOptions: ParsableArguments {
    /// The methods `--method` offers.
    static let registry = AdapterRegistry.builtIn

    @Option(help: ArgumentHelp(
        "Adapter method: \(registry.methodNames.joined(separator: ", ")).",
        discussion: registry.methodNames.compactMap { registry.method(named: $0) }.map { "\($0.name): \($0.summary)" }
            .joined(separator: "\n")))
    var method: String

    @Option(name: .customLong("set"), help: ArgumentHelp(
        "A setting of the method's configuration as KEY=VALUE, KEY an adapter_config.json key, VALUE JSON or else a string (repeatable).",
        valueName: "key=value"))
    var settings: [String] = []

    @Option(help: "Virtual tokens (num_virtual_tokens): IAPT's prompts per layer (4), prompt tuning's tokens (20), P-tuning v2's per layer (4).")
    var virtualTokens: Int?

    @Option(help: "IAPT: the generator's bottleneck width (32).")
    var bottleneck: Int?

    @Option(help: "IAPT: pooling (self_attention, mean, max, last_token).")
    var pooling: IAPTConfiguration.Pooling?

    @Option(help: "IAPT: activation (rational, gelu, relu).")
    var activation: IAPTConfiguration.ActivationKind?

    @Option(help: "LoRA: rank (8).")
    var rank: Int?

    @Option(help: "LoRA: alpha; the update is scaled by alpha / rank (16).")
    var alpha: Float?

    @Option(help: "LoRA: dropout on the adapter's input while training (0).")
    var loraDropout: Float?

    @Option(help: "LoRA: comma-separated target projections (q_proj,k_proj,v_proj,o_proj,gate_proj,up_proj,down_proj; default q_proj,v_proj).")
    var targetModules: String?

    @Flag(help: "LoRA: scale by alpha / sqrt(rank) (rsLoRA).")
    var rslora = false

    @Option(help: "LoRA: comma-separated layer indices to adapt (layers_to_transform; default: every layer).")
    var loraLayers: String?

    @Option(help: "Prompt tuning: initialisation (random, vocab, text).")
    var promptInit: PromptInitialization?

    @Option(help: "Prompt tuning: the text whose token embeddings start the prompt (with --prompt-init text).")
    var promptInitText: String?

    func validate() throws {
        guard let method = Self.registry.method(named: method) else {
            throw ValidationError("--method: '\(method)' is not one of \(Self.registry.methodNames.joined(separator: ", "))")
        }
        if promptInit == .text && promptInitText == nil { throw ValidationError("--prompt-init text needs --prompt-init-text") }
        let known = Set(method.settingKeys)
        for (option, key, _) in try givenSettings() where !known.contains(key) {
            throw ValidationError("\(option) (\(key)) is not a setting of \(method.name); its settings are \(method.settingKeys.joined(separator: ", "))")
        }
    }

    /// Every setting given, with the option that gave it: the shorthands first, then `--set`.
    private func givenSettings() throws -> [(option: String, key: String, value: Any)] {
        var given: [(String, String, Any)] = []
        func add(_ option: String, _ key: String, _ value: Any?) {
            if let value { given.append((option, key, value)) }
        }
        add("--virtual-tokens", "num_virtual_tokens", virtualTokens)
        add("--bottleneck", "bottleneck", bottleneck)
        add("--pooling", "pooling", pooling?.rawValue)
        add("--activation", "activation", activation?.rawValue)
        add("--rank", "r", rank)
        add("--alpha", "lora_alpha", alpha.map { Double($0) })
        add("--lora-dropout", "lora_dropout", loraDropout.map { Double($0) })
        add("--target-modules", "target_modules", try targetModules.map { list in
            try list.split(separator: ",").map { name -> String in
                let name = name.trimmingCharacters(in: .whitespaces)
                guard Projection(rawValue: name) != nil else {
                    throw ValidationError("--target-modules: '\(name)' is not one of \(Projection.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                return name
            }
        })
        add("--rslora", "use_rslora", rslora ? true : nil)
        add("--lora-layers", "layers_to_transform", try loraLayers.map { try parseTokenList($0, option: "--lora-layers") })
        add("--prompt-init", "prompt_tuning_init", promptInit?.configurationValue)
        add("--prompt-init-text", "prompt_tuning_init_text", promptInitText)
        for (key, value) in try parseSettings(settings) { given.append(("--set \(key)", key, value)) }
        return given
    }

    /// A new adapter of the chosen method for `model`.
    /// - Throws: ``ValidationError`` for a setting the method does not have; ``AdapterError`` for a
    ///   value the configuration refuses.
    /// - Throws: `ValidationError` naming the option (`--virtual-tokens (num_virtual_tokens): …`) for
    ///   a setting the adapter refuses; other errors of the registry and the adapter.
    func makeAdapter(for model: LlamaModel, tokenizer: any Tokenizer, seed: UInt64) throws -> any Adapter {
        let given = try givenSettings()
        let settings = try settingsData(given.map { ($0.key, $0.value) })
        do {
            return try Self.registry.makeAdapter(method: method, for: model, settings: settings, tokenizer: tokenizer, seed: seed)
        } catch let AdapterError.invalidConfiguration(_, key, reason) where !key.isEmpty {
            let option = given.last { $0.key == key }?.option ?? "--set"
            throw ValidationError("\(option) (\(key)): \(reason)")
        }
    }
}

/// `--set KEY=VALUE` entries as keys and JSON values (a VALUE that is not JSON is a string).
/// - Throws: ``ValidationError`` for an entry with no `=` or an empty key.
func parseSettings(_ entries: [String]) throws -> [(key: String, value: Any)] {
    try entries.map { entry in
        guard let equals = entry.firstIndex(of: "="), equals != entry.startIndex else {
            throw ValidationError("--set '\(entry)': expected KEY=VALUE")
        }
        let (key, text) = (String(entry[..<equals]), String(entry[entry.index(after: equals)...]))
        return (key, (try? JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])) ?? text)
    }
}

/// Settings as the JSON object ``AdapterMethod/makeAdapter(for:settings:tokenizer:seed:)`` takes,
/// later entries replacing earlier ones.
/// - Throws: ``ValidationError`` if a value cannot be written as JSON.
func settingsData(_ settings: [(key: String, value: Any)]) throws -> Data {
    var object: [String: Any] = [:]
    for (key, value) in settings { object[key] = value }
    guard JSONSerialization.isValidJSONObject(object) else { throw ValidationError("settings cannot be written as JSON") }
    return try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
}

/// Checks a benchmark's `--method`, an adapter method or `baseline` (the run with no adapter), and
/// its `--set` settings, which only adapter methods take.
/// - Throws: ``ValidationError`` naming the unknown method or setting.
func validateBenchMethod(_ method: String, settings: [String], baseline: String) throws {
    let registry = AdapterMethodOptions.registry
    guard method != baseline else {
        guard settings.isEmpty else { throw ValidationError("--set applies to adapter methods, not to \(baseline)") }
        return
    }
    guard let adapterMethod = registry.method(named: method) else {
        throw ValidationError("--method: '\(method)' is not \(baseline) or one of \(registry.methodNames.joined(separator: ", "))")
    }
    for (key, _) in try parseSettings(settings) where !adapterMethod.settingKeys.contains(key) {
        throw ValidationError("--set \(key): not a setting of \(method); its settings are \(adapterMethod.settingKeys.joined(separator: ", "))")
    }
}
