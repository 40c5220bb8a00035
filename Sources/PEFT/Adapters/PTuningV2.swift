import Autograd
import Foundation
import Tensor
import Transformer

/// The settings of a P-tuning v2 adapter (`peft_type` `P_TUNING_V2`).
public struct PTuningV2Configuration: Codable, Sendable, Equatable {
    /// `num_virtual_tokens`: prompt vectors per layer.
    public var virtualTokens: Int
    /// `base_model_name_or_path`, informational.
    public var baseModel: String?

    /// A P-tuning v2 configuration.
    public init(virtualTokens: Int = 4, baseModel: String? = nil) {
        self.virtualTokens = virtualTokens
        self.baseModel = baseModel
    }

    enum CodingKeys: String, CodingKey {
        case peftType = "peft_type", taskType = "task_type", virtualTokens = "num_virtual_tokens"
        case baseModel = "base_model_name_or_path", layers = "num_layers", tokenDimension = "token_dim"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        virtualTokens = try container.decode(Int.self, forKey: .virtualTokens)
        baseModel = try container.decodeIfPresent(String.self, forKey: .baseModel)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(PTuningV2Adapter.peftType, forKey: .peftType)
        try container.encode("CAUSAL_LM", forKey: .taskType)
        try container.encode(virtualTokens, forKey: .virtualTokens)
        try container.encode(baseModel, forKey: .baseModel)
    }
}

/// P-tuning v2 / deep prompt tuning (Liu et al. 2022): static trainable prompt vectors `P_l`
/// (`n × hidden`) at every layer, entering as a key/value prefix through the layer's input RMSNorm
/// and key/value projections, exactly as IAPT's generated prompts do. IAPT without the generator.
///
/// Stored as one tensor `prompt_embeddings: [layers · n, hidden]`, row `l·n + i` being prompt `i` of
/// layer `l`.
public final class PTuningV2Adapter: Adapter {
    public static let peftType = "P_TUNING_V2"

    /// The settings.
    public let configuration: PTuningV2Configuration
    /// `prompt_embeddings`, `[layers · virtualTokens, hidden]`.
    public let embeddings: Variable
    public var isTraining = false
    private let dimensions: (hidden: Int, layers: Int)

    /// A new adapter for `model` with prompts drawn from `N(0, 1)`.
    /// - Throws: ``AdapterError/invalidConfiguration(file:key:reason:)`` for a non-positive length.
    public convenience init(model: LlamaModel, configuration: PTuningV2Configuration, seed: UInt64 = 0) throws {
        try self.init(model: model, configuration: configuration, parameters: .initializing(seed: seed))
    }

    public convenience init(configuration data: Data, weights: any TensorSource, model: LlamaModel) throws {
        let configuration = try ConfigurationCoding.decode(PTuningV2Configuration.self, from: data, expectedType: Self.peftType)
        try ConfigurationCoding.checkDimensions(in: data, layers: model.config.numHiddenLayers, tokenDimension: model.config.hiddenSize)
        try self.init(model: model, configuration: configuration, parameters: .reading(weights))
    }

    /// An adapter whose prompts `parameters` makes or reads (a fresh builder).
    /// - Throws: ``AdapterError`` for invalid settings or a missing, misshaped or unexpected tensor.
    public init(model: LlamaModel, configuration: PTuningV2Configuration, parameters: ParameterBuilder) throws {
        try ConfigurationCoding.require(
            (1...model.config.maxPositionEmbeddings).contains(configuration.virtualTokens), "num_virtual_tokens",
            "must be in 1...\(model.config.maxPositionEmbeddings) (the model's context), got \(configuration.virtualTokens)")
        let (hidden, layers) = (model.config.hiddenSize, model.config.numHiddenLayers)
        self.configuration = configuration
        embeddings = try parameters.parameter(
            "prompt_embeddings", shape: [layers * configuration.virtualTokens, hidden], initializer: .normal(std: 1))
        try parameters.finish()
        dimensions = (hidden, layers)
    }

    public var namedParameters: [(name: String, variable: Variable)] { [("prompt_embeddings", embeddings)] }

    public func configurationData() throws -> Data {
        try ConfigurationCoding.encode(configuration, adding: ["num_layers": dimensions.layers, "token_dim": dimensions.hidden])
    }

    public var layerPrefixLength: Int { configuration.virtualTokens }

    public func layerPrefix(
        layer: Int, hiddenStates: Variable, normalizedHiddenStates: Variable, instructionMask: [Bool]
    ) throws -> PrefixVectors? {
        let (count, rows) = (configuration.virtualTokens, hiddenStates.shape[0])
        let ids = (0..<(rows * count)).map { layer * count + $0 % count }
        return .prompts(try Variable.embedding(embeddings, ids: ids).reshaped([rows, count, dimensions.hidden]))
    }
}

extension AdapterMethod {
    /// P-tuning v2 (``PTuningV2Adapter``), 4 prompt vectors per layer by default.
    public static let pTuningV2 = AdapterMethod(
        name: "ptuning2", adapterType: PTuningV2Adapter.self, summary: "P-tuning v2: static prompts at every layer",
        defaults: PTuningV2Configuration()
    ) { configuration, context in
        try PTuningV2Adapter(model: context.model, configuration: configuration, seed: context.seed)
    }
}
