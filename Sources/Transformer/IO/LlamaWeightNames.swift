/// The Hugging Face checkpoint key names of a LLaMA model's weights (`LlamaForCausalLM`).
///
/// Linear weights are stored PyTorch-style as `[out, in]`.
public enum LlamaWeightNames {
    /// `model.embed_tokens.weight`, shape `[vocab, hidden]`.
    public static let embedTokens = "model.embed_tokens.weight"
    /// `model.norm.weight`, the final RMSNorm, shape `[hidden]`.
    public static let finalNorm = "model.norm.weight"
    /// `lm_head.weight`, shape `[vocab, hidden]`; absent when embeddings are tied.
    public static let lmHead = "lm_head.weight"

    /// The names of decoder layer `index`'s weights.
    public static func layer(_ index: Int) -> Layer { Layer(index: index) }

    /// The weight names of one decoder layer, `model.layers.{index}.…`.
    public struct Layer: Sendable, Equatable {
        /// The layer's index, from 0.
        public let index: Int

        private var prefix: String { "model.layers.\(index)." }
        /// `self_attn.q_proj.weight`, shape `[heads × headDim, hidden]`.
        public var queryProjection: String { prefix + "self_attn.q_proj.weight" }
        /// `self_attn.k_proj.weight`, shape `[kvHeads × headDim, hidden]`.
        public var keyProjection: String { prefix + "self_attn.k_proj.weight" }
        /// `self_attn.v_proj.weight`, shape `[kvHeads × headDim, hidden]`.
        public var valueProjection: String { prefix + "self_attn.v_proj.weight" }
        /// `self_attn.o_proj.weight`, shape `[hidden, heads × headDim]`.
        public var outputProjection: String { prefix + "self_attn.o_proj.weight" }
        /// `mlp.gate_proj.weight`, shape `[intermediate, hidden]`.
        public var gateProjection: String { prefix + "mlp.gate_proj.weight" }
        /// `mlp.up_proj.weight`, shape `[intermediate, hidden]`.
        public var upProjection: String { prefix + "mlp.up_proj.weight" }
        /// `mlp.down_proj.weight`, shape `[hidden, intermediate]`.
        public var downProjection: String { prefix + "mlp.down_proj.weight" }
        /// `input_layernorm.weight`, the RMSNorm before attention, shape `[hidden]`.
        public var inputNorm: String { prefix + "input_layernorm.weight" }
        /// `post_attention_layernorm.weight`, the RMSNorm before the MLP, shape `[hidden]`.
        public var postAttentionNorm: String { prefix + "post_attention_layernorm.weight" }
    }
}

extension LlamaConfig {
    /// Every weight the model reads, by Hugging Face key, with the shape this config implies;
    /// `lm_head.weight` only when embeddings are not tied.
    public var expectedWeightShapes: [String: [Int]] {
        let attentionWidth = numAttentionHeads * headDim
        let keyValueWidth = numKeyValueHeads * headDim
        var shapes = [
            LlamaWeightNames.embedTokens: [vocabSize, hiddenSize],
            LlamaWeightNames.finalNorm: [hiddenSize],
        ]
        if !tieWordEmbeddings { shapes[LlamaWeightNames.lmHead] = [vocabSize, hiddenSize] }
        for index in 0..<numHiddenLayers {
            let layer = LlamaWeightNames.layer(index)
            shapes[layer.queryProjection] = [attentionWidth, hiddenSize]
            shapes[layer.keyProjection] = [keyValueWidth, hiddenSize]
            shapes[layer.valueProjection] = [keyValueWidth, hiddenSize]
            shapes[layer.outputProjection] = [hiddenSize, attentionWidth]
            shapes[layer.gateProjection] = [intermediateSize, hiddenSize]
            shapes[layer.upProjection] = [intermediateSize, hiddenSize]
            shapes[layer.downProjection] = [hiddenSize, intermediateSize]
            shapes[layer.inputNorm] = [hiddenSize]
            shapes[layer.postAttentionNorm] = [hiddenSize]
        }
        return shapes
    }
}
