import Foundation
import Transformer

/// The settings of an IAPT adapter (`peft_type` `IAPT`), with the defaults of `IAPT.md`.
///
/// Options marked *choice* in the method's description (where the paper is silent) are here so
/// that an ablation can settle them.
public struct IAPTConfiguration: Codable, Sendable, Equatable {
    /// How a generator summarises the instruction's hidden states into `m` vectors.
    public enum Pooling: String, Codable, Sendable, CaseIterable {
        /// One learnable query per soft token, softmax over the instruction positions (the method).
        case selfAttention = "self_attention"
        /// The mean over instruction positions, the same for every soft token (ablation).
        case mean
        /// The per-channel maximum over instruction positions, the same for every soft token (ablation).
        case max
        /// The last instruction token's vector, the same for every soft token (ablation).
        case lastToken = "last_token"
    }

    /// The activation between the generator's down- and up-projection.
    public enum ActivationKind: String, Codable, Sendable, CaseIterable {
        /// A learned rational function per layer, initialised to fit GELU (the method).
        case rational
        /// Exact GELU (ablation).
        case gelu
        /// ReLU (ablation).
        case relu
    }

    /// What the generator reads (*choice*).
    public enum GeneratorInput: String, Codable, Sendable, CaseIterable {
        /// The residual stream after the layer's own (frozen) input RMSNorm.
        case normalized
        /// The raw residual stream entering the layer.
        case residual
    }

    /// What the generator's up-projection emits (*choice*).
    public enum GeneratorOutput: String, Codable, Sendable, CaseIterable {
        /// `m` prompt vectors `[m, hidden]` that enter through the layer's norm, key/value
        /// projections and RoPE (the method as `IAPT.md` describes it).
        case hidden
        /// The layer's `m` keys and values directly, `[m, 2 · kvHeads · headDim]`, used as they are
        /// (as prefix tuning's are).
        case keysValues = "kv"
    }

    /// How the up-projection's bias `b_up` starts (*choice*; `W_up` starts at zero either way).
    public enum UpBiasInit: String, Codable, Sendable, CaseIterable {
        /// Zero: the prompts start empty (`IAPT.md`'s choice).
        case zeros
        /// Drawn from `N(0, 1)`, as P-tuning v2's prompts (output `hidden`) or prefix tuning's keys
        /// and values (output `kv`) start: the instruction-aware part `W_up·Z` still starts at zero.
        case normal
    }

    /// `num_virtual_tokens`: prompt vectors per layer, `m` (default 4).
    public var virtualTokens: Int
    /// `bottleneck`: the generator's inner width, `r` (default 32).
    public var bottleneck: Int
    /// `pooling` (default self-attention).
    public var pooling: Pooling
    /// `activation` (default rational).
    public var activation: ActivationKind
    /// `rational_degrees`: numerator and denominator degrees `[p, q]` (default `[5, 4]`).
    public var rationalDegrees: [Int]
    /// `rational_init_interval`: where the initial rational fits GELU (default `[-4, 4]`).
    public var rationalInterval: [Double]
    /// `rational_lr_multiplier`: the rational coefficients' learning-rate multiplier (*choice*, 0.1).
    public var rationalLearningRateMultiplier: Float
    /// `generator_input` (*choice*, normalised).
    public var generatorInput: GeneratorInput
    /// `generator_output` (*choice*, hidden).
    public var generatorOutput: GeneratorOutput
    /// `up_bias_init` (*choice*, zeros).
    public var upBiasInit: UpBiasInit
    /// `layers`: the layers with a generator (`nil`: every layer).
    public var layers: [Int]?
    /// `base_model_name_or_path`, informational.
    public var baseModel: String?

    /// An IAPT configuration; every default is the method's.
    public init(
        virtualTokens: Int = 4, bottleneck: Int = 32, pooling: Pooling = .selfAttention, activation: ActivationKind = .rational,
        rationalDegrees: [Int] = [5, 4], rationalInterval: [Double] = [-4, 4], rationalLearningRateMultiplier: Float = 0.1,
        generatorInput: GeneratorInput = .normalized, generatorOutput: GeneratorOutput = .hidden, upBiasInit: UpBiasInit = .zeros,
        layers: [Int]? = nil, baseModel: String? = nil
    ) {
        self.virtualTokens = virtualTokens
        self.bottleneck = bottleneck
        self.pooling = pooling
        self.activation = activation
        self.rationalDegrees = rationalDegrees
        self.rationalInterval = rationalInterval
        self.rationalLearningRateMultiplier = rationalLearningRateMultiplier
        self.generatorInput = generatorInput
        self.generatorOutput = generatorOutput
        self.upBiasInit = upBiasInit
        self.layers = layers
        self.baseModel = baseModel
    }

    enum CodingKeys: String, CodingKey {
        case peftType = "peft_type", taskType = "task_type", virtualTokens = "num_virtual_tokens", bottleneck, pooling
        case activation, rationalDegrees = "rational_degrees", rationalInterval = "rational_init_interval"
        case rationalLearningRateMultiplier = "rational_lr_multiplier", generatorInput = "generator_input", layers
        case generatorOutput = "generator_output", upBiasInit = "up_bias_init"
        case baseModel = "base_model_name_or_path"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let defaults = IAPTConfiguration()
        virtualTokens = try container.decodeIfPresent(Int.self, forKey: .virtualTokens) ?? defaults.virtualTokens
        bottleneck = try container.decodeIfPresent(Int.self, forKey: .bottleneck) ?? defaults.bottleneck
        pooling = try container.decodeIfPresent(Pooling.self, forKey: .pooling) ?? defaults.pooling
        activation = try container.decodeIfPresent(ActivationKind.self, forKey: .activation) ?? defaults.activation
        rationalDegrees = try container.decodeIfPresent([Int].self, forKey: .rationalDegrees) ?? defaults.rationalDegrees
        rationalInterval = try container.decodeIfPresent([Double].self, forKey: .rationalInterval) ?? defaults.rationalInterval
        rationalLearningRateMultiplier = try container.decodeIfPresent(Float.self, forKey: .rationalLearningRateMultiplier)
            ?? defaults.rationalLearningRateMultiplier
        generatorInput = try container.decodeIfPresent(GeneratorInput.self, forKey: .generatorInput) ?? defaults.generatorInput
        generatorOutput = try container.decodeIfPresent(GeneratorOutput.self, forKey: .generatorOutput) ?? defaults.generatorOutput
        upBiasInit = try container.decodeIfPresent(UpBiasInit.self, forKey: .upBiasInit) ?? defaults.upBiasInit
        layers = try container.decodeIfPresent([Int].self, forKey: .layers)
        baseModel = try container.decodeIfPresent(String.self, forKey: .baseModel)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(IAPTAdapter.peftType, forKey: .peftType)
        try container.encode("CAUSAL_LM", forKey: .taskType)
        try container.encode(virtualTokens, forKey: .virtualTokens)
        try container.encode(bottleneck, forKey: .bottleneck)
        try container.encode(pooling, forKey: .pooling)
        try container.encode(activation, forKey: .activation)
        try container.encode(rationalDegrees, forKey: .rationalDegrees)
        try container.encode(rationalInterval, forKey: .rationalInterval)
        try container.encode(rationalLearningRateMultiplier, forKey: .rationalLearningRateMultiplier)
        try container.encode(generatorInput, forKey: .generatorInput)
        try container.encode(generatorOutput, forKey: .generatorOutput)
        try container.encode(upBiasInit, forKey: .upBiasInit)
        try container.encode(layers, forKey: .layers)
        try container.encode(baseModel, forKey: .baseModel)
    }

    /// Checks the values against `model`.
    /// - Throws: ``AdapterError/invalidConfiguration(file:key:reason:)`` naming the key.
    func validate(for model: LlamaModel) throws {
        let layerCount = model.config.numHiddenLayers
        let context = model.config.maxPositionEmbeddings, width = model.config.hiddenSize
        try ConfigurationCoding.require(
            (1...context).contains(virtualTokens), "num_virtual_tokens",
            "must be in 1...\(context) (the model's context), got \(virtualTokens)")
        try ConfigurationCoding.require(
            (1...16 * width).contains(bottleneck), "bottleneck", "must be in 1...\(16 * width) (16 × the model's width), got \(bottleneck)")
        try ConfigurationCoding.require(
            rationalDegrees.count == 2 && rationalDegrees.allSatisfy { (1...16).contains($0) }, "rational_degrees",
            "must be [p, q] with p, q in 1...16, got \(rationalDegrees)")
        try ConfigurationCoding.require(
            rationalLearningRateMultiplier.isFinite && rationalLearningRateMultiplier >= 0, "rational_lr_multiplier",
            "must be a finite number ≥ 0, got \(rationalLearningRateMultiplier)")
        try ConfigurationCoding.require(
            rationalInterval.count == 2 && rationalInterval.allSatisfy(\.isFinite) && rationalInterval[0] < rationalInterval[1], "rational_init_interval",
            "must be [low, high] with low < high, got \(rationalInterval)")
        try ConfigurationCoding.require(
            (layers ?? []).allSatisfy { (0..<layerCount).contains($0) } && layers.map { !$0.isEmpty } ?? true, "layers",
            "must be null or a non-empty list of layers in 0..<\(layerCount), got \(layers ?? [])")
    }
}
