import Autograd
import Foundation
import Tensor
import Transformer

/// The settings of a prefix-tuning adapter, read and written as PEFT's `PrefixTuningConfig`
/// (without the reparametrisation: `prefix_projection` false).
public struct PrefixTuningConfiguration: Codable, Sendable, Equatable {
    /// `num_virtual_tokens`: keys and values per layer.
    public var virtualTokens: Int
    /// `base_model_name_or_path`, informational.
    public var baseModel: String?

    /// A prefix-tuning configuration.
    public init(virtualTokens: Int = 4, baseModel: String? = nil) {
        self.virtualTokens = virtualTokens
        self.baseModel = baseModel
    }

    enum CodingKeys: String, CodingKey {
        case peftType = "peft_type", taskType = "task_type", virtualTokens = "num_virtual_tokens"
        case baseModel = "base_model_name_or_path", prefixProjection = "prefix_projection"
        case submodules = "num_transformer_submodules", inferenceMode = "inference_mode"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        virtualTokens = try container.decodeIfPresent(Int.self, forKey: .virtualTokens) ?? 4
        baseModel = try container.decodeIfPresent(String.self, forKey: .baseModel)
        if try container.decodeIfPresent(Bool.self, forKey: .prefixProjection) == true {
            throw DecodingError.dataCorruptedError(
                forKey: .prefixProjection, in: container, debugDescription: "the reparametrised prefix (an MLP) is not supported")
        }
        if let submodules = try container.decodeIfPresent(Int.self, forKey: .submodules), submodules != 1 {
            throw DecodingError.dataCorruptedError(forKey: .submodules, in: container, debugDescription: "must be 1 for a decoder-only model")
        }
    }

    /// Encodes PEFT's keys; the model's dimensions are filled in by the adapter.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(PrefixTuningAdapter.peftType, forKey: .peftType)
        try container.encode("CAUSAL_LM", forKey: .taskType)
        try container.encode(virtualTokens, forKey: .virtualTokens)
        try container.encode(baseModel, forKey: .baseModel)
        try container.encode(false, forKey: .prefixProjection)
        try container.encode(1, forKey: .submodules)
        try container.encode(true, forKey: .inferenceMode)
    }
}

/// Prefix tuning (Li & Liang 2021) as PEFT stores it: every layer's `m` keys and values are learned
/// directly and prepended to that layer's attention, with no norm, projection or RoPE; real tokens
/// take positions from `m` on.
///
/// One tensor `prompt_embeddings: [m, layers · 2 · kvHeads · headDim]`: row `t` holds virtual token
/// `t`'s key of layer 0, its value of layer 0, its key of layer 1, and so on, each `kvHeads · headDim`
/// wide (PEFT sizes the prefix by the key/value heads of a grouped-query model). Initialised from
/// `N(0, 1)`, as PEFT's embedding.
public final class PrefixTuningAdapter: Adapter {
    public static let peftType = "PREFIX_TUNING"

    /// The settings.
    public let configuration: PrefixTuningConfiguration
    /// `prompt_embeddings`, `[virtualTokens, layers · 2 · kvHeads · headDim]`.
    public let embeddings: Variable
    public var isTraining = false
    private let dimensions: (layers: Int, keyValueHeads: Int, keyValueWidth: Int)

    /// A new adapter for `model` with keys and values drawn from `N(0, 1)`.
    /// - Throws: ``AdapterError/invalidConfiguration(file:key:reason:)`` for a non-positive length.
    public convenience init(model: LlamaModel, configuration: PrefixTuningConfiguration, seed: UInt64 = 0) throws {
        try self.init(model: model, configuration: configuration, parameters: .initializing(seed: seed))
    }

    public convenience init(configuration data: Data, weights: any TensorSource, model: LlamaModel) throws {
        let configuration = try ConfigurationCoding.decode(PrefixTuningConfiguration.self, from: data, expectedType: Self.peftType)
        try ConfigurationCoding.checkDimensions(
            in: data, layers: model.config.numHiddenLayers, tokenDimension: model.config.numKeyValueHeads * model.config.headDim,
            meaning: "key/value width (kvHeads · headDim)")
        try self.init(model: model, configuration: configuration, parameters: .reading(weights))
    }

    /// An adapter whose keys and values `parameters` makes or reads (a fresh builder).
    /// - Throws: ``AdapterError`` for invalid settings or a missing, misshaped or unexpected tensor.
    public init(model: LlamaModel, configuration: PrefixTuningConfiguration, parameters: ParameterBuilder) throws {
        try ConfigurationCoding.require(
            (1...model.config.maxPositionEmbeddings).contains(configuration.virtualTokens), "num_virtual_tokens",
            "must be in 1...\(model.config.maxPositionEmbeddings) (the model's context), got \(configuration.virtualTokens)")
        let (layers, heads) = (model.config.numHiddenLayers, model.config.numKeyValueHeads)
        let width = heads * model.config.headDim
        self.configuration = configuration
        embeddings = try parameters.parameter(
            "prompt_embeddings", shape: [configuration.virtualTokens, layers * 2 * width], initializer: .normal(std: 1))
        try parameters.finish()
        dimensions = (layers, heads, width)
    }

    public var namedParameters: [(name: String, variable: Variable)] { [("prompt_embeddings", embeddings)] }

    public func configurationData() throws -> Data {
        try ConfigurationCoding.encode(configuration, adding: [
            "num_layers": dimensions.layers, "token_dim": dimensions.keyValueWidth,
            "num_attention_heads": dimensions.keyValueHeads, "encoder_hidden_size": dimensions.keyValueWidth,
        ])
    }

    public var layerPrefixLength: Int { configuration.virtualTokens }

    public func layerPrefix(
        layer: Int, hiddenStates: Variable, normalizedHiddenStates: Variable, instructionMask: [Bool]
    ) throws -> PrefixVectors? {
        let (count, rows, width) = (configuration.virtualTokens, hiddenStates.shape[0], dimensions.keyValueWidth)
        let layerColumns = try embeddings.slice(alongAxis: 1, (2 * layer * width)..<((2 * layer + 2) * width))  // [m, 2w]
        let repeated = try Variable.embedding(layerColumns, ids: (0..<(rows * count)).map { $0 % count })
            .reshaped([rows, count, 2 * width])
        return .keysValues(keys: try repeated.slice(alongAxis: 2, 0..<width), values: try repeated.slice(alongAxis: 2, width..<(2 * width)))
    }
}

extension AdapterMethod {
    /// Prefix tuning (``PrefixTuningAdapter``), 4 keys and values per layer by default.
    public static let prefix = AdapterMethod(
        name: "prefix", adapterType: PrefixTuningAdapter.self, summary: "prefix tuning: learned keys and values at every layer",
        defaults: PrefixTuningConfiguration()
    ) { configuration, context in
        try PrefixTuningAdapter(model: context.model, configuration: configuration, seed: context.seed)
    }
}
