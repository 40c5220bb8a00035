import Foundation
import Tensor

/// A LLaMA model stored as a GGUF file: its ``LlamaConfig`` read from the `llama.*` metadata, and
/// its weights under Hugging Face key names, dequantised to `Float` on request.
///
/// Opening checks that `general.architecture` is `llama`, reads the config (see
/// ``init(file:)``), and checks that every weight the config implies is stored with that shape
/// and a type that dequantises; tensor data is read only when asked for.
///
/// llama.cpp's converter stores the rows of each head of `attn_q` and `attn_k` interleaved for its
/// RoPE (`convert_hf_to_gguf.py`, `LlamaModel.permute`); ``tensor(named:)`` undoes that as
/// transformers' GGUF loader does, so the weights are exactly the Hugging Face model's.
public struct GGUFCheckpoint: Sendable {
    /// The file.
    public let file: GGUFFile
    /// The model's config, validated.
    public let config: LlamaConfig
    /// The GGUF tensor name of every weight the config implies, by Hugging Face key.
    public let ggufNames: [String: String]

    /// The file's URL.
    public var url: URL { file.url }

    /// Opens and validates the GGUF file at `url` as a LLaMA model.
    /// - Throws: what ``GGUFFile/init(contentsOf:)`` and ``init(file:)`` throw.
    public init(contentsOf url: URL) throws {
        try self.init(file: GGUFFile(contentsOf: url))
    }

    /// Reads the config of an opened GGUF file and checks its weights against it.
    ///
    /// Config keys: `llama.block_count`, `llama.embedding_length`, `llama.feed_forward_length`,
    /// `llama.attention.head_count` and `llama.attention.layer_norm_rms_epsilon` are required;
    /// `llama.attention.head_count_kv` (default: head count), `llama.attention.key_length` (head
    /// width; default: embedding length / heads), `llama.rope.freq_base` (default 10000),
    /// `llama.context_length` (default 2048), `llama.vocab_size` (default: the length of
    /// `tokenizer.ggml.tokens`, else the rows of `token_embd.weight`) and the token ids
    /// `tokenizer.ggml.bos_token_id`, `eos_token_id`, `padding_token_id` are optional. Embeddings
    /// are tied when there is no `output.weight`.
    /// - Throws: ``GGUFError/unsupportedModel(path:key:reason:)`` naming the key if
    ///   `general.architecture` is not `llama`, a required key is missing, a value is not an
    ///   integer (or number) or out of range, heads do not divide the width, value and key head
    ///   widths differ, RoPE is partial or scaled (`llama.rope.scaling.type` other than `none`, a
    ///   scaling factor other than 1, or a `rope_freqs.weight` tensor), or the model is a mixture
    ///   of experts; ``GGUFError/missingTensor(path:tensor:)``,
    ///   ``GGUFError/invalidTensor(path:tensor:reason:)`` (wrong shape) or
    ///   ``GGUFError/unsupportedType(path:tensor:type:)`` for the first weight (in Hugging Face key
    ///   order) that is absent, misshaped or not dequantisable.
    public init(file: GGUFFile) throws {
        let reader = GGUFConfigReader(file: file)
        let config = try reader.config()
        var names: [String: String] = [
            LlamaWeightNames.embedTokens: "token_embd.weight",
            LlamaWeightNames.finalNorm: "output_norm.weight",
        ]
        if !config.tieWordEmbeddings { names[LlamaWeightNames.lmHead] = "output.weight" }
        for index in 0..<config.numHiddenLayers {
            let layer = LlamaWeightNames.layer(index)
            let block = "blk.\(index)."
            names[layer.queryProjection] = block + "attn_q.weight"
            names[layer.keyProjection] = block + "attn_k.weight"
            names[layer.valueProjection] = block + "attn_v.weight"
            names[layer.outputProjection] = block + "attn_output.weight"
            names[layer.gateProjection] = block + "ffn_gate.weight"
            names[layer.upProjection] = block + "ffn_up.weight"
            names[layer.downProjection] = block + "ffn_down.weight"
            names[layer.inputNorm] = block + "attn_norm.weight"
            names[layer.postAttentionNorm] = block + "ffn_norm.weight"
        }
        let path = file.url.path
        for (name, expected) in config.expectedWeightShapes.sorted(by: { $0.key < $1.key }) {
            guard let ggufName = names[name], let info = file.info(ggufName) else {
                throw GGUFError.missingTensor(path: path, tensor: names[name] ?? name)
            }
            guard info.shape == expected else {
                throw GGUFError.invalidTensor(
                    path: path, tensor: ggufName, reason: "has shape \(info.shape), the metadata implies \(expected)")
            }
            guard info.type.isDequantizable else {
                throw GGUFError.unsupportedType(path: path, tensor: ggufName, type: info.type.name)
            }
        }
        self.file = file
        self.config = config
        self.ggufNames = names
    }

    /// The weight with Hugging Face key `name` (for example `model.layers.0.self_attn.q_proj.weight`),
    /// dequantised to `Float` in PyTorch's `[out, in]` layout; the rows of `q_proj` and `k_proj`
    /// are put back in Hugging Face order (see the type's description).
    /// - Throws: ``GGUFError/missingTensor(path:tensor:)`` if `name` is not a weight of the model.
    public func tensor(named name: String) throws -> Tensor {
        guard let ggufName = ggufNames[name] else { throw GGUFError.missingTensor(path: url.path, tensor: name) }
        let heads: Int
        if ggufName.hasSuffix(".attn_q.weight") {
            heads = config.numAttentionHeads
        } else if ggufName.hasSuffix(".attn_k.weight") {
            heads = config.numKeyValueHeads
        } else {
            return try file.tensor(named: ggufName)
        }
        let headDim = config.headDim
        // The permutation must cover the rows exactly; `init(file:)` has checked the shape.
        guard let info = file.info(ggufName), info.shape.count == 2, info.shape[0] == heads * headDim else {
            throw GGUFError.invalidTensor(path: url.path, tensor: ggufName, reason: "does not have \(heads * headDim) rows")
        }
        return try file.tensor(named: ggufName) { row in Self.huggingFaceRow(ofStored: row, headDim: headDim) }
    }

    /// Where stored row `row` of a permuted `attn_q` / `attn_k` weight belongs in Hugging Face
    /// order: llama.cpp stores each head's rows `[d/2 pairs, 2]` (first and second half of the
    /// head interleaved); transformers' `reverse_permute_weights` reshapes them to
    /// `[heads, d/2, 2, in]` and swaps the middle axes back to `[heads, 2, d/2, in]`.
    static func huggingFaceRow(ofStored row: Int, headDim: Int) -> Int {
        let (head, within) = row.quotientAndRemainder(dividingBy: headDim)
        let (pair, half) = within.quotientAndRemainder(dividingBy: 2)
        return head * headDim + half * (headDim / 2) + pair
    }
}
