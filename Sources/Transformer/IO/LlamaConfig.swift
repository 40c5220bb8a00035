import Foundation

/// The shape and constants of a LLaMA-family model, as in a Hugging Face `config.json`.
///
/// Reads both ways transformers has written RoPE's base: `rope_theta` at the top level (4.x) or
/// inside `rope_parameters` (5.x), with rope type `default` only. Optional keys take transformers'
/// defaults; unknown keys are ignored. Every value is validated, and errors name the file and key.
/// Encoding writes a `config.json` that transformers 4.x and 5.x both load (see ``encode(to:)``).
public struct LlamaConfig: Sendable, Equatable {
    /// `vocab_size`: the number of token ids.
    public internal(set) var vocabSize: Int
    /// `hidden_size`: the width of the residual stream.
    public internal(set) var hiddenSize: Int
    /// `intermediate_size`: the width of the SwiGLU feed-forward layer.
    public internal(set) var intermediateSize: Int
    /// `num_hidden_layers`: the number of decoder layers.
    public internal(set) var numHiddenLayers: Int
    /// `num_attention_heads`: the number of query heads.
    public internal(set) var numAttentionHeads: Int
    /// `num_key_value_heads`: the number of key/value heads (fewer than query heads for
    /// grouped-query attention); defaults to `numAttentionHeads`.
    public internal(set) var numKeyValueHeads: Int
    /// `head_dim`: the width of one head; defaults to `hiddenSize / numAttentionHeads`.
    public internal(set) var headDim: Int
    /// `rms_norm_eps`: the epsilon added to the mean square in RMSNorm; default 1e-6.
    public internal(set) var rmsNormEps: Double
    /// `rope_theta`: the RoPE base frequency; default 10000.
    public internal(set) var ropeTheta: Double
    /// `max_position_embeddings`: the longest sequence the model was trained for; default 2048.
    public internal(set) var maxPositionEmbeddings: Int
    /// `tie_word_embeddings`: whether the output projection reuses the token embedding (then the
    /// checkpoint has no `lm_head.weight`); default false.
    public internal(set) var tieWordEmbeddings: Bool
    /// `bos_token_id`, if any.
    public internal(set) var bosTokenId: Int?
    /// `eos_token_id`: one id or a list in the file; empty if absent or null.
    public internal(set) var eosTokenIds: [Int]
    /// `pad_token_id`, if any.
    public internal(set) var padTokenId: Int?
    /// `dtype` (or `torch_dtype` in 4.x files): the declared dtype of the weights, such as
    /// `"float32"` or `"bfloat16"`; informational, tensors are converted as stored.
    public internal(set) var dtype: String?

    /// The largest size accepted for any dimension (2³¹ − 1), so that products of two sizes fit `Int`.
    public static let maximumSize = Int(Int32.max)
    /// The most decoder layers accepted (the largest public models have about 130).
    public static let maximumLayerCount = 4096

    /// The only `model_type` read and written.
    public static let modelType = "llama"

    /// Creates a config and validates it as ``init(jsonData:source:)`` does.
    /// - Throws: ``ModelFileError/invalidConfig(path:key:reason:)`` with path `"LlamaConfig"`.
    public init(
        vocabSize: Int, hiddenSize: Int, intermediateSize: Int, numHiddenLayers: Int,
        numAttentionHeads: Int, numKeyValueHeads: Int? = nil, headDim: Int? = nil,
        rmsNormEps: Double = 1e-6, ropeTheta: Double = 10000, maxPositionEmbeddings: Int = 2048,
        tieWordEmbeddings: Bool = false, bosTokenId: Int? = nil, eosTokenIds: [Int] = [],
        padTokenId: Int? = nil, dtype: String? = nil
    ) throws {
        self.vocabSize = vocabSize
        self.hiddenSize = hiddenSize
        self.intermediateSize = intermediateSize
        self.numHiddenLayers = numHiddenLayers
        self.numAttentionHeads = numAttentionHeads
        self.numKeyValueHeads = numKeyValueHeads ?? numAttentionHeads
        self.headDim = headDim ?? (numAttentionHeads > 0 ? hiddenSize / numAttentionHeads : 0)
        self.rmsNormEps = rmsNormEps
        self.ropeTheta = ropeTheta
        self.maxPositionEmbeddings = maxPositionEmbeddings
        self.tieWordEmbeddings = tieWordEmbeddings
        self.bosTokenId = bosTokenId
        self.eosTokenIds = eosTokenIds
        self.padTokenId = padTokenId
        self.dtype = dtype
        try validate(source: "LlamaConfig", headDimGiven: headDim != nil)
    }

    /// Reads and validates a `config.json`.
    /// - Throws: ``ModelFileError/unreadable(path:reason:)`` if the file cannot be read;
    ///   ``ModelFileError/invalidConfig(path:key:reason:)`` as for ``init(jsonData:source:)``.
    public init(contentsOf url: URL) throws {
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw ModelFileError.unreadable(path: url.path, reason: error.localizedDescription)
        }
        try self.init(jsonData: data, source: url.path)
    }

    /// Decodes and validates the JSON of a `config.json`; `source` names it in errors.
    /// - Throws: ``ModelFileError/invalidConfig(path:key:reason:)`` naming the key when the text is
    ///   not a JSON object; a required size (`vocab_size`, `hidden_size`, `intermediate_size`,
    ///   `num_hidden_layers`, `num_attention_heads`) is missing; a value has the wrong type, is not
    ///   positive, or is larger than ``maximumSize`` (``maximumLayerCount`` for layers); heads do not divide `hidden_size` (without `head_dim`), key/value heads do not
    ///   divide heads, `head_dim` is odd; `rope_theta` is given twice with different values; a rope
    ///   type other than `default` is asked for; `hidden_act` is not `silu`; `attention_bias` or
    ///   `mlp_bias` is true; `model_type` is not `llama`.
    public init(jsonData: Data, source: String = "config.json") throws {
        let decoder = JSONDecoder()
        decoder.userInfo[Self.sourceKey] = source
        do {
            self = try decoder.decode(LlamaConfig.self, from: jsonData)
        } catch let error as ModelFileError {
            throw error
        } catch {
            throw ModelFileError.invalidConfig(path: source, key: "(root)", reason: "not a JSON object")
        }
    }

    /// The config as pretty-printed JSON with sorted keys, as ``encode(to:)`` writes it.
    public func jsonData() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(self)
    }

    /// Writes the config as JSON to `url`, atomically.
    /// - Throws: ``ModelFileError/unwritable(path:reason:)``.
    public func write(to url: URL) throws {
        try AtomicFile.write(jsonData(), to: url)
    }

    /// The `userInfo` key under which a decoder carries the file name used in errors.
    static let sourceKey = CodingUserInfoKey(rawValue: "LlamaConfig.source")!

    /// This config with `dtype` set to the name transformers gives `storage` (`float32`,
    /// `float16`, `bfloat16`), as declared in a folder whose weights are stored that way.
    func declaring(storage: SafetensorsDType) -> LlamaConfig {
        var copy = self
        switch storage {
        case .f16: copy.dtype = "float16"
        case .bf16: copy.dtype = "bfloat16"
        default: copy.dtype = "float32"
        }
        return copy
    }

    /// Checks every size and ratio; `headDimGiven` says whether `head_dim` was set explicitly.
    func validate(source: String, headDimGiven: Bool) throws {
        func fail(_ key: String, _ reason: String) -> ModelFileError {
            .invalidConfig(path: source, key: key, reason: reason)
        }
        let sizes: [(String, Int)] = [
            ("vocab_size", vocabSize), ("hidden_size", hiddenSize), ("intermediate_size", intermediateSize),
            ("num_hidden_layers", numHiddenLayers), ("num_attention_heads", numAttentionHeads),
            ("num_key_value_heads", numKeyValueHeads), ("max_position_embeddings", maxPositionEmbeddings),
        ]
        for (key, value) in sizes where value <= 0 || value > Self.maximumSize {
            throw fail(key, "must be positive and at most \(Self.maximumSize), got \(value)")
        }
        guard numHiddenLayers <= Self.maximumLayerCount else {
            throw fail("num_hidden_layers", "\(numHiddenLayers) is more than \(Self.maximumLayerCount)")
        }
        if !headDimGiven, hiddenSize % numAttentionHeads != 0 {
            throw fail("num_attention_heads", "\(numAttentionHeads) heads do not divide hidden_size \(hiddenSize)")
        }
        guard headDim > 0, headDim <= Self.maximumSize, headDim % 2 == 0 else {
            throw fail("head_dim", "must be positive and even (RoPE rotates pairs), got \(headDim)")
        }
        guard numAttentionHeads % numKeyValueHeads == 0 else {
            throw fail("num_key_value_heads", "\(numKeyValueHeads) key/value heads do not divide \(numAttentionHeads) attention heads")
        }
        guard rmsNormEps > 0, rmsNormEps.isFinite else { throw fail("rms_norm_eps", "must be positive, got \(rmsNormEps)") }
        guard ropeTheta > 0, ropeTheta.isFinite else { throw fail("rope_theta", "must be positive, got \(ropeTheta)") }
    }
}
