import Autograd
import Foundation
import Tensor
import Transformer

/// The settings of a prompt-tuning adapter, read and written as PEFT's `PromptTuningConfig`.
public struct PromptTuningConfiguration: Codable, Sendable, Equatable {
    /// How the virtual token embeddings start (PEFT's `prompt_tuning_init`).
    public enum Initialization: Sendable, Equatable {
        /// `RANDOM`: `N(0, 1)`, as PEFT's `nn.Embedding`.
        case random
        /// `SAMPLE_VOCAB`: embeddings of tokens drawn uniformly from the vocabulary.
        case sampledVocabulary
        /// `TEXT`: embeddings of the tokens of a text (repeated or cut to the prompt length);
        /// the text and its token ids.
        case text(String, tokenIDs: [Int])
    }

    /// `num_virtual_tokens`.
    public var virtualTokens: Int
    /// `prompt_tuning_init` (and `prompt_tuning_init_text`).
    public var initialization: Initialization
    /// `base_model_name_or_path`, informational.
    public var baseModel: String?

    /// A prompt-tuning configuration.
    public init(virtualTokens: Int = 20, initialization: Initialization = .random, baseModel: String? = nil) {
        self.virtualTokens = virtualTokens
        self.initialization = initialization
        self.baseModel = baseModel
    }

    enum CodingKeys: String, CodingKey {
        case peftType = "peft_type", taskType = "task_type", virtualTokens = "num_virtual_tokens", tokenDimension = "token_dim"
        case submodules = "num_transformer_submodules", heads = "num_attention_heads", layers = "num_layers"
        case initialization = "prompt_tuning_init", initializationText = "prompt_tuning_init_text"
        case baseModel = "base_model_name_or_path", inferenceMode = "inference_mode"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        virtualTokens = try container.decode(Int.self, forKey: .virtualTokens)
        baseModel = try container.decodeIfPresent(String.self, forKey: .baseModel)
        switch try container.decodeIfPresent(String.self, forKey: .initialization) ?? "RANDOM" {
        case "SAMPLE_VOCAB": initialization = .sampledVocabulary
        case "TEXT": initialization = .text(try container.decodeIfPresent(String.self, forKey: .initializationText) ?? "", tokenIDs: [])
        default: initialization = .random
        }
        if let submodules = try container.decodeIfPresent(Int.self, forKey: .submodules), submodules != 1 {
            throw DecodingError.dataCorruptedError(forKey: .submodules, in: container, debugDescription: "must be 1 for a decoder-only model")
        }
    }

    /// Encodes PEFT's keys; the model's dimensions are filled in by the adapter.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(PromptTuningAdapter.peftType, forKey: .peftType)
        try container.encode("CAUSAL_LM", forKey: .taskType)
        try container.encode(virtualTokens, forKey: .virtualTokens)
        try container.encode(1, forKey: .submodules)
        try container.encode(baseModel, forKey: .baseModel)
        try container.encode(true, forKey: .inferenceMode)
        switch initialization {
        case .random: try container.encode("RANDOM", forKey: .initialization)
        case .sampledVocabulary: try container.encode("SAMPLE_VOCAB", forKey: .initialization)
        case .text: try container.encode("TEXT", forKey: .initialization)
        }
        if case let .text(text, _) = initialization {
            try container.encode(text, forKey: .initializationText)
        } else {
            try container.encodeNil(forKey: .initializationText)
        }
    }
}

/// Prompt tuning (Lester et al. 2021): `n` trainable embeddings in front of the input embeddings,
/// stored by PEFT as one tensor `prompt_embeddings: [n, hidden]`. Virtual tokens take RoPE positions
/// `0..<n`; the real tokens follow.
public final class PromptTuningAdapter: Adapter {
    public static let peftType = "PROMPT_TUNING"

    /// The settings.
    public let configuration: PromptTuningConfiguration
    /// `prompt_embeddings`, `[virtualTokens, hidden]`.
    public let embeddings: Variable
    public var isTraining = false
    private let dimensions: (hidden: Int, heads: Int, layers: Int)

    /// A new adapter for `model`, initialised as `configuration` says.
    /// - Throws: ``AdapterError/invalidConfiguration(file:key:reason:)`` for a non-positive length, or
    ///   a text initialisation with no tokens or a token outside the vocabulary.
    public convenience init(model: LlamaModel, configuration: PromptTuningConfiguration, seed: UInt64 = 0) throws {
        try self.init(model: model, configuration: configuration, parameters: .initializing(seed: seed))
    }

    public convenience init(configuration data: Data, weights: any TensorSource, model: LlamaModel) throws {
        let configuration = try ConfigurationCoding.decode(PromptTuningConfiguration.self, from: data, expectedType: Self.peftType)
        try ConfigurationCoding.checkDimensions(in: data, layers: model.config.numHiddenLayers, tokenDimension: model.config.hiddenSize)
        try self.init(model: model, configuration: configuration, parameters: .reading(weights))
    }

    /// An adapter whose embeddings `parameters` makes or reads (a fresh builder).
    /// - Throws: ``AdapterError`` for invalid settings or a missing, misshaped or unexpected tensor.
    public init(model: LlamaModel, configuration: PromptTuningConfiguration, parameters: ParameterBuilder) throws {
        let (count, hidden, vocabulary) = (configuration.virtualTokens, model.config.hiddenSize, model.config.vocabSize)
        try ConfigurationCoding.require(
            (1...model.config.maxPositionEmbeddings).contains(count), "num_virtual_tokens",
            "must be in 1...\(model.config.maxPositionEmbeddings) (the model's context), got \(count)")
        let initializer: ParameterInitializer
        switch configuration.initialization {
        case .random:
            initializer = .normal(std: 1)
        case .sampledVocabulary:
            initializer = .custom { _, generator in
                try model.embedTokens.value.gatherRows((0..<count).map { _ in Int(generator.next() % UInt64(vocabulary)) })
            }
        case let .text(_, tokenIDs):
            try ConfigurationCoding.require(
                parameters.isReading || (!tokenIDs.isEmpty && tokenIDs.allSatisfy { (0..<vocabulary).contains($0) }),
                "prompt_tuning_init_text", "needs token ids in 0..<\(vocabulary), got \(tokenIDs)")
            initializer = .custom { _, _ in try model.embedTokens.value.gatherRows((0..<count).map { tokenIDs[$0 % tokenIDs.count] }) }
        }
        self.configuration = configuration
        embeddings = try parameters.parameter("prompt_embeddings", shape: [count, hidden], initializer: initializer)
        try parameters.finish()
        dimensions = (hidden, model.config.numAttentionHeads, model.config.numHiddenLayers)
    }

    public var namedParameters: [(name: String, variable: Variable)] { [("prompt_embeddings", embeddings)] }

    public func configurationData() throws -> Data {
        try ConfigurationCoding.encode(configuration, adding: ["token_dim": dimensions.hidden, "num_attention_heads": dimensions.heads, "num_layers": dimensions.layers])
    }

    public var inputPrefixLength: Int { configuration.virtualTokens }

    public func inputPrefix(rows: Int) throws -> Variable? {
        let count = configuration.virtualTokens
        let ids = (0..<(rows * count)).map { $0 % count }
        return try Variable.embedding(embeddings, ids: ids).reshaped([rows, count, dimensions.hidden])
    }
}

extension AdapterMethod {
    /// Prompt tuning (``PromptTuningAdapter``), 20 virtual tokens by default; a `TEXT`
    /// initialisation is tokenised with the context's tokenizer.
    public static let prompt = AdapterMethod(
        name: "prompt", adapterType: PromptTuningAdapter.self, summary: "prompt tuning: virtual tokens in front of the input",
        defaults: PromptTuningConfiguration()
    ) { configuration, context in
        var configuration = configuration
        if case let .text(text, ids) = configuration.initialization, ids.isEmpty {
            guard let tokenizer = context.tokenizer else {
                throw AdapterError.invalidConfiguration(
                    file: "prompt settings", key: "prompt_tuning_init_text", reason: "a text initialisation needs the model's tokenizer")
            }
            configuration.initialization = .text(text, tokenIDs: tokenizer.encode(text, addSpecialTokens: false))
        }
        return try PromptTuningAdapter(model: context.model, configuration: configuration, seed: context.seed)
    }
}
