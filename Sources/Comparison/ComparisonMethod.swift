import Foundation
import PEFT
import Transformer

/// A row of the comparison's tables: a name, and the adapter method and settings it trains (or no
/// adapter, for ``base``).
///
/// Rows are made through the adapter registry (``AdapterRegistry/builtIn``), as `peft train
/// --method NAME --set KEY=VALUE` makes adapters: ``adapterMethod`` is the registry's name and
/// ``settings`` a JSON object of `adapter_config.json` keys laid over that method's defaults. A row is
/// stored in run files by its name alone, so the names of ``catalogue`` never change meaning.
public struct ComparisonMethod: RawRepresentable, Hashable, Codable, Sendable, CustomStringConvertible {
    /// How a row's LoRA rank is chosen on each base.
    public enum Rank: Hashable, Sendable {
        /// The rank whose trainable-parameter count is closest to ``ComparisonMethod/iapt``'s on the
        /// base (see ``LoRARankMatching``).
        case matchingIAPT
        /// This rank on every base.
        case fixed(Int)
    }

    /// The row's name in tables, file names and `--methods` (lower case, digits and `-`).
    public let rawValue: String
    /// The registry name of the adapter method trained (`iapt`, `lora`, …); `nil` for ``base``.
    public let adapterMethod: String?
    /// The settings laid over the method's defaults, as a JSON object's text (sorted keys).
    public let settings: String
    /// For LoRA rows: how the rank is chosen (it also sets alpha = 2 · rank); `nil` for the others.
    public let loraRank: Rank?
    /// One line on what the row is, for the report.
    public let summary: String

    /// A row; see each property for its meaning.
    /// - Parameter settings: adapter_config keys and their values (JSON-encodable: numbers, strings,
    ///   Booleans, arrays).
    public init(name: String, adapterMethod: String?, settings: [String: Any] = [:], loraRank: Rank? = nil, summary: String) {
        rawValue = name
        self.adapterMethod = adapterMethod
        let data = (try? JSONSerialization.data(withJSONObject: settings, options: [.sortedKeys])) ?? Data("{}".utf8)
        self.settings = String(decoding: data, as: UTF8.self)
        self.loraRank = loraRank
        self.summary = summary
    }

    /// The row of ``catalogue`` called `rawValue`, or `nil` if there is none.
    public init?(rawValue: String) {
        guard let found = Self.catalogue.first(where: { $0.rawValue == rawValue }) else { return nil }
        self = found
    }

    /// Decodes a row from its name.
    /// - Throws: `DecodingError.dataCorrupted` for a name that is not in ``catalogue``.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let name = try container.decode(String.self)
        guard let found = Self(rawValue: name) else {
            throw DecodingError.dataCorruptedError(
                in: container, debugDescription: "'\(name)' is not a method of the comparison (\(Self.names))")
        }
        self = found
    }

    /// Encodes the row as its name.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }

    public static func == (left: Self, right: Self) -> Bool { left.rawValue == right.rawValue }
    public func hash(into hasher: inout Hasher) { hasher.combine(rawValue) }
    public var description: String { rawValue }

    /// Whether the row trains an adapter (every row but ``base``).
    public var isTrained: Bool { adapterMethod != nil }

    /// The settings for `model`'s base, with a LoRA row's rank filled in.
    /// - Parameter matchedRank: the rank matching IAPT's parameter count on this base.
    public func settings(matchedRank: Int) -> Data {
        var object = (try? JSONSerialization.jsonObject(with: Data(settings.utf8))) as? [String: Any] ?? [:]
        if let loraRank {
            let rank: Int
            switch loraRank {
            case .matchingIAPT: rank = matchedRank
            case .fixed(let fixed): rank = fixed
            }
            object["r"] = rank
            object["lora_alpha"] = 2 * rank
        }
        return (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
    }

    /// A freshly initialised adapter of this row for `model`, or `nil` for ``base``.
    /// - Parameters:
    ///   - matchedRank: the LoRA rank matching IAPT's count on this base (see ``LoRARankMatching``);
    ///     read only by rows with ``loraRank`` ``Rank/matchingIAPT``.
    ///   - seed: seeds the adapter's initialisation.
    /// - Throws: ``AdapterError`` if the method is not registered, a setting is refused or the adapter
    ///   does not fit `model`; ``RationalActivationError`` if IAPT's GELU fit fails.
    public func makeAdapter(for model: LlamaModel, matchedRank: Int, seed: UInt64) throws -> (any Adapter)? {
        guard let adapterMethod else { return nil }
        return try AdapterRegistry.builtIn.makeAdapter(
            method: adapterMethod, for: model, settings: settings(matchedRank: matchedRank), seed: seed)
    }

    // MARK: The catalogue

    /// No adapter: the frozen base model as it is, the floor.
    public static let base = ComparisonMethod(name: "base", adapterMethod: nil, summary: "no adapter: the frozen base model, the floor")
    /// Prompt tuning with 4 virtual tokens at the input, random initialisation.
    public static let prompt4 = prompt(4)
    /// Prompt tuning with 32 virtual tokens at the input, random initialisation.
    public static let prompt32 = prompt(32)
    /// P-tuning v2 as `IAPT.md` specifies it: 4 static prompt vectors per layer, through each layer's
    /// norm and key/value projections.
    public static let pTuningV2 = ComparisonMethod(
        name: "p-tuning-v2", adapterMethod: "ptuning2", settings: ["num_virtual_tokens": 4],
        summary: "4 static prompt vectors per layer, through the layer's norm, key/value projections and RoPE")
    /// PEFT's prefix tuning without its reparametrisation: 4 learned keys and values per layer.
    public static let prefix = ComparisonMethod(
        name: "prefix", adapterMethod: "prefix", settings: ["num_virtual_tokens": 4],
        summary: "PEFT's prefix tuning, no reparametrisation: 4 learned keys and values per layer, used as they are")
    /// IAPT with the defaults of `IAPT.md`: 4 tokens per layer, bottleneck 32, self-attention
    /// pooling, rational activation, normalised generator input, hidden-state output.
    public static let iapt = ComparisonMethod(
        name: "iapt", adapterMethod: "iapt",
        summary: "IAPT as `IAPT.md` gives it: 4 tokens per layer, bottleneck 32, self-attention pooling, rational activation")
    /// IAPT whose up-projection emits each layer's keys and values directly.
    public static let iaptKV = iaptVariant("iapt-kv", ["generator_output": "kv"], "IAPT whose generator emits each layer's keys and values directly")
    /// IAPT whose prompts start from `N(0, 1)` (`up_bias_init` `normal`) instead of zero, so that the
    /// layer's norm does not amplify their first updates.
    public static let iaptNormal = iaptVariant(
        "iapt-normal", ["up_bias_init": "normal"], "IAPT whose prompts start from N(0, 1) (`b_up`), not zero")
    /// IAPT reading the raw residual stream instead of the normalised one.
    public static let iaptRaw = iaptVariant("iapt-raw", ["generator_input": "residual"], "IAPT reading the raw residual stream, not the normalised one")
    /// IAPT with bottleneck 8.
    public static let iaptB8 = iaptVariant("iapt-b8", ["bottleneck": 8], "IAPT with bottleneck 8")
    /// IAPT with bottleneck 128.
    public static let iaptB128 = iaptVariant("iapt-b128", ["bottleneck": 128], "IAPT with bottleneck 128")
    /// IAPT with mean pooling instead of self-attention pooling (ablation).
    public static let iaptMean = iaptVariant("iapt-mean", ["pooling": "mean"], "IAPT with mean pooling (ablation)")
    /// IAPT with a fixed GELU instead of the rational activation (ablation).
    public static let iaptGELU = iaptVariant("iapt-gelu", ["activation": "gelu"], "IAPT with a fixed GELU instead of the rational (ablation)")
    /// LoRA on `q_proj` and `v_proj` at the rank whose parameter count is closest to ``iapt``'s,
    /// alpha = 2 · rank.
    public static let lora = ComparisonMethod(
        name: "lora", adapterMethod: "lora", settings: loraSettings, loraRank: .matchingIAPT,
        summary: "LoRA on `q_proj`, `v_proj` at the rank whose parameter count is closest to `iapt`'s, alpha = 2 · rank")
    /// LoRA on `q_proj` and `v_proj` at rank 8, alpha 16 (a common default).
    public static let loraR8 = ComparisonMethod(
        name: "lora-r8", adapterMethod: "lora", settings: loraSettings, loraRank: .fixed(8),
        summary: "LoRA on `q_proj`, `v_proj` at rank 8, alpha 16")

    /// Every row, in table order: the floor, the earlier prompt methods, IAPT and its variants, LoRA.
    public static let catalogue: [ComparisonMethod] = [
        base, prompt4, prompt32, pTuningV2, prefix, iapt, iaptKV, iaptNormal, iaptRaw, iaptB8, iaptB128, iaptMean, iaptGELU, lora, loraR8,
    ]
    /// The catalogue, for code written against the enumeration this type replaced.
    public static var allCases: [ComparisonMethod] { catalogue }

    /// The rows' names, comma-separated.
    public static var names: String { catalogue.map(\.rawValue).joined(separator: ", ") }

    private static var loraSettings: [String: Any] { ["lora_dropout": 0, "target_modules": ["q_proj", "v_proj"]] }

    private static func prompt(_ tokens: Int) -> ComparisonMethod {
        ComparisonMethod(
            name: "prompt-\(tokens)", adapterMethod: "prompt", settings: ["num_virtual_tokens": tokens, "prompt_tuning_init": "RANDOM"],
            summary: "prompt tuning with \(tokens) virtual tokens at the input (random initialisation)")
    }

    private static func iaptVariant(_ name: String, _ settings: [String: Any], _ summary: String) -> ComparisonMethod {
        ComparisonMethod(name: name, adapterMethod: "iapt", settings: settings, summary: summary)
    }
}

/// Chooses the LoRA rank whose trainable-parameter count is closest to a target (IAPT's), by
/// building the adapters and counting their parameters.
public enum LoRARankMatching {
    /// The LoRA configuration of the comparison at `rank`: `q_proj` and `v_proj` of every layer,
    /// alpha = 2 · rank (so the update's scale alpha / rank is 2 at every rank), no dropout.
    public static func configuration(rank: Int) -> LoRAConfiguration {
        LoRAConfiguration(rank: rank, alpha: Float(2 * rank), dropout: 0, targetModules: [.query, .value])
    }

    /// The rank (≥ 1) whose adapter's trainable-parameter count is closest to `target`, and that count.
    ///
    /// A LoRA adapter's count grows by the same amount with each rank (`Σ (in + out)` over the adapted
    /// projections), so the rank-1 adapter gives the step; the two ranks around `target / step` are
    /// then built and counted, and the closer wins (the smaller on a tie).
    /// - Throws: ``AdapterError`` if the LoRA adapter does not fit `model`.
    public static func closestRank(toParameterCount target: Int, model: LlamaModel) throws -> (rank: Int, parameterCount: Int) {
        func count(_ rank: Int) throws -> Int {
            try LoRAAdapter(model: model, configuration: configuration(rank: rank)).trainableParameterCount
        }
        let step = try count(1)
        let lower = max(1, target / max(step, 1))
        let (below, above) = (try count(lower), try count(lower + 1))
        return abs(above - target) < abs(below - target) ? (lower + 1, above) : (lower, below)
    }
}
