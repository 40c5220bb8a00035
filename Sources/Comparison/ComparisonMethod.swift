import PEFT
import Transformer

/// The methods compared: the rows of every table, in this order.
public enum ComparisonMethod: String, Codable, CaseIterable, Sendable {
    /// No adapter: the frozen base model as it is, the floor.
    case base
    /// Prompt tuning with 4 virtual tokens at the input.
    case prompt4 = "prompt-4"
    /// Prompt tuning with 32 virtual tokens at the input.
    case prompt32 = "prompt-32"
    /// P-tuning v2: 4 static prompt vectors per layer (a key/value prefix).
    case pTuningV2 = "p-tuning-v2"
    /// IAPT with the defaults of `IAPT.md`: 4 tokens per layer, self-attention pooling, rational activation.
    case iapt
    /// IAPT with mean pooling instead of self-attention pooling (ablation).
    case iaptMean = "iapt-mean"
    /// IAPT with a fixed GELU instead of the rational activation (ablation).
    case iaptGELU = "iapt-gelu"
    /// LoRA on `q_proj` and `v_proj` at the rank whose parameter count is closest to ``iapt``'s,
    /// alpha = 2 · rank.
    case lora

    /// Whether the method trains an adapter (every method but ``base``).
    public var isTrained: Bool { self != .base }

    /// The IAPT configuration of the IAPT rows (``iapt`` and its ablations); `nil` for the others.
    public var iaptConfiguration: IAPTConfiguration? {
        switch self {
        case .iapt: return IAPTConfiguration()
        case .iaptMean: return IAPTConfiguration(pooling: .mean)
        case .iaptGELU: return IAPTConfiguration(activation: .gelu)
        default: return nil
        }
    }

    /// A freshly initialised adapter of this method for `model`, or `nil` for ``base``.
    /// - Parameters:
    ///   - loraRank: the LoRA rank to use (see ``LoRARankMatching``); read only by ``lora``.
    ///   - seed: seeds the adapter's initialisation.
    /// - Throws: ``AdapterError`` if the adapter does not fit `model`; ``RationalActivationError`` if
    ///   IAPT's GELU fit fails.
    public func makeAdapter(for model: LlamaModel, loraRank: Int, seed: UInt64) throws -> (any Adapter)? {
        switch self {
        case .base: return nil
        case .prompt4, .prompt32:
            return try PromptTuningAdapter(
                model: model, configuration: PromptTuningConfiguration(virtualTokens: self == .prompt4 ? 4 : 32), seed: seed)
        case .pTuningV2:
            return try PTuningV2Adapter(model: model, configuration: PTuningV2Configuration(virtualTokens: 4), seed: seed)
        case .iapt, .iaptMean, .iaptGELU:
            return try IAPTAdapter(model: model, configuration: iaptConfiguration ?? IAPTConfiguration(), seed: seed)
        case .lora:
            return try LoRAAdapter(model: model, configuration: LoRARankMatching.configuration(rank: loraRank), seed: seed)
        }
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
