/// Reads a ``LlamaConfig`` from a GGUF file's `llama.*` and `tokenizer.ggml.*` metadata (see
/// ``GGUFCheckpoint/init(file:)`` for the keys); every error names the GGUF key.
struct GGUFConfigReader {
    let file: GGUFFile
    private var path: String { file.url.path }

    /// The GGUF key each of ``LlamaConfig``'s validated `config.json` keys comes from, to name it
    /// when ``LlamaConfig`` refuses a value.
    private static let keyForConfigKey = [
        "vocab_size": "llama.vocab_size", "hidden_size": "llama.embedding_length",
        "intermediate_size": "llama.feed_forward_length", "num_hidden_layers": "llama.block_count",
        "num_attention_heads": "llama.attention.head_count", "num_key_value_heads": "llama.attention.head_count_kv",
        "max_position_embeddings": "llama.context_length", "head_dim": "llama.attention.key_length",
        "rms_norm_eps": "llama.attention.layer_norm_rms_epsilon", "rope_theta": "llama.rope.freq_base",
    ]

    init(file: GGUFFile) { self.file = file }

    private func fail(_ key: String, _ reason: String) -> GGUFError {
        .unsupportedModel(path: path, key: key, reason: reason)
    }

    /// The integer at `key`, or `nil` if absent.
    private func integer(_ key: String) throws -> Int? {
        guard let value = file.metadata[key] else { return nil }
        guard let integer = value.int else { throw fail(key, "must be an integer, got \(value.summary)") }
        return integer
    }

    private func requiredInteger(_ key: String) throws -> Int {
        guard let value = try integer(key) else { throw fail(key, "missing") }
        return value
    }

    /// The number at `key` (float or integer), or `nil` if absent.
    private func number(_ key: String) throws -> Double? {
        guard let value = file.metadata[key] else { return nil }
        guard let number = value.double else { throw fail(key, "must be a number, got \(value.summary)") }
        return number
    }

    func config() throws -> LlamaConfig {
        let architectureKey = "general.architecture"
        guard let architecture = file.metadata[architectureKey] else { throw fail(architectureKey, "missing") }
        guard architecture.string == "llama" else {
            throw fail(architectureKey, "architecture \(architecture.summary) is not supported (only \"llama\")")
        }
        if let experts = try integer("llama.expert_count"), experts > 0 {
            throw fail("llama.expert_count", "mixture-of-experts models (\(experts) experts) are not supported")
        }
        try checkRotaryIsPlain()

        let hiddenSize = try requiredInteger("llama.embedding_length")
        let heads = try requiredInteger("llama.attention.head_count")
        let keyLength = try integer("llama.attention.key_length")
        if let valueLength = try integer("llama.attention.value_length"), valueLength != keyLength ?? valueLength {
            throw fail("llama.attention.value_length", "\(valueLength) differs from the key length \(keyLength ?? 0)")
        }
        if let keyLength, let rotated = try integer("llama.rope.dimension_count"), rotated != keyLength {
            throw fail("llama.rope.dimension_count", "partial RoPE (\(rotated) of \(keyLength) dimensions) is not supported")
        }
        guard let epsilon = try number("llama.attention.layer_norm_rms_epsilon") else {
            throw fail("llama.attention.layer_norm_rms_epsilon", "missing")
        }
        let eos = try integer("tokenizer.ggml.eos_token_id")
        do {
            let config = try LlamaConfig(
                vocabSize: try vocabularySize(), hiddenSize: hiddenSize,
                intermediateSize: try requiredInteger("llama.feed_forward_length"),
                numHiddenLayers: try requiredInteger("llama.block_count"), numAttentionHeads: heads,
                numKeyValueHeads: try integer("llama.attention.head_count_kv"), headDim: keyLength,
                rmsNormEps: epsilon, ropeTheta: try number("llama.rope.freq_base") ?? 10000,
                maxPositionEmbeddings: try integer("llama.context_length") ?? 2048,
                tieWordEmbeddings: file.info("output.weight") == nil,
                bosTokenId: try integer("tokenizer.ggml.bos_token_id"), eosTokenIds: eos.map { [$0] } ?? [],
                padTokenId: try integer("tokenizer.ggml.padding_token_id"))
            if keyLength == nil, let rotated = try integer("llama.rope.dimension_count"), rotated != config.headDim {
                throw fail("llama.rope.dimension_count", "partial RoPE (\(rotated) of \(config.headDim) dimensions) is not supported")
            }
            return config
        } catch let ModelFileError.invalidConfig(_, key, reason) {
            throw fail(Self.keyForConfigKey[key] ?? key, reason)
        }
    }

    /// `llama.vocab_size`, else the number of `tokenizer.ggml.tokens`, else the rows of
    /// `token_embd.weight`.
    private func vocabularySize() throws -> Int {
        if let size = try integer("llama.vocab_size") { return size }
        if let tokens = file.metadata["tokenizer.ggml.tokens"]?.array { return tokens.count }
        guard let embedding = file.info("token_embd.weight"), embedding.shape.count == 2 else {
            throw fail("llama.vocab_size", "missing, and there is neither tokenizer.ggml.tokens nor a 2-D token_embd.weight")
        }
        return embedding.shape[0]
    }

    /// Refuses RoPE scaling of any kind: a scaling type other than `none`, a factor other than 1,
    /// or llama 3's frequency factors (a `rope_freqs.weight` tensor).
    private func checkRotaryIsPlain() throws {
        let typeKey = "llama.rope.scaling.type"
        if let type = file.metadata[typeKey], type.string != "none" {
            throw fail(typeKey, "RoPE scaling \(type.summary) is not supported (only none)")
        }
        let factorKey = "llama.rope.scaling.factor"
        if file.metadata[typeKey] == nil, let factor = try number(factorKey), factor != 1, factor != 0 {
            throw fail(factorKey, "RoPE scaling by \(factor) is not supported")
        }
        if file.info("rope_freqs.weight") != nil {
            throw fail("rope_freqs.weight", "RoPE frequency factors (llama 3 scaling) are not supported")
        }
    }
}
