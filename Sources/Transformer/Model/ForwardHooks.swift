import Autograd

/// A linear projection inside a decoder layer, by its Hugging Face module name.
public enum Projection: String, CaseIterable, Sendable, Codable {
    case query = "q_proj", key = "k_proj", value = "v_proj", output = "o_proj"
    case gate = "gate_proj", up = "up_proj", down = "down_proj"

    /// The module path inside the model, e.g. `model.layers.3.self_attn.q_proj`.
    public func modulePath(layer: Int) -> String {
        switch self {
        case .query, .key, .value, .output: return "model.layers.\(layer).self_attn.\(rawValue)"
        case .gate, .up, .down: return "model.layers.\(layer).mlp.\(rawValue)"
        }
    }
}

/// What one forward pass looks like, as the model shows it to ``ForwardHooks``.
public struct ForwardContext: Sendable {
    /// The tokens of this pass (for cached decoding, only the new ones).
    public let batch: TokenBatch
    /// Per row, the number of virtual tokens in front of the input embeddings.
    public let inputPrefixLengths: [Int]
    /// Per row, the number of key/value prefix slots in front of every layer's keys.
    public let layerPrefixLengths: [Int]
    /// Whether this pass extends a KV cache that already holds earlier tokens (decoding); prefixes
    /// are not requested then, since the cache holds them.
    public let isDecoding: Bool

    /// The widest input prefix in the batch (the input-prefix slots of every row).
    public var inputPrefixSlots: Int { inputPrefixLengths.max() ?? 0 }
    /// The widest layer prefix in the batch (the layer-prefix slots of every row).
    public var layerPrefixSlots: Int { layerPrefixLengths.max() ?? 0 }
}

/// One layer's key/value prefix for a set of rows, in one of two forms.
public enum PrefixVectors {
    /// Prompt vectors `[rows, m, hidden]` that enter through the layer's input RMSNorm, its key and
    /// value projections, and RoPE at positions `0..<m` (P-tuning v2, IAPT).
    case prompts(Variable)
    /// Keys and values `[rows, m, kvHeads · headDim]` each, used as they are: no norm, projection or
    /// RoPE (PEFT's prefix tuning, which hands them to the model as past keys and values).
    case keysValues(keys: Variable, values: Variable)
}

/// One layer's key/value prefix for the whole batch.
///
/// Prefix tensors have `slots` (the batch's widest prefix) on their second axis; row `r`'s `m_r`
/// vectors are right-aligned (slots `slots − m_r ..< slots`) and the slots in front of them are
/// masked out, so rows with different adapters, or none, share one batch. Each row's prefix is in
/// one of the two forms of ``PrefixVectors``: rows in ``keyValueRows`` take theirs from ``keys`` and
/// ``values``, the others from ``prompts``.
public struct LayerPrefix {
    /// `[batch, slots, hidden]` prompt vectors, or `nil` when every row gives keys and values.
    public let prompts: Variable?
    /// `[batch, slots, kvHeads · headDim]` keys and values, or `nil` when every row gives prompts.
    public let keys: Variable?, values: Variable?
    /// Per row, whether its prefix is in ``keys`` and ``values`` rather than ``prompts``.
    public let keyValueRows: [Bool]
    /// Per row, how many of the slots hold its prefix at this layer (at most what
    /// ``ForwardHooks/layerPrefixLengths(for:)`` declared); the others are masked.
    public let lengths: [Int]

    /// Prompt vectors for every row, with their per-row lengths.
    public init(prompts: Variable, lengths: [Int]) {
        self.init(prompts: prompts, keys: nil, values: nil, keyValueRows: lengths.map { _ in false }, lengths: lengths)
    }

    /// Keys and values for every row, with their per-row lengths.
    public init(keys: Variable, values: Variable, lengths: [Int]) {
        self.init(prompts: nil, keys: keys, values: values, keyValueRows: lengths.map { _ in true }, lengths: lengths)
    }

    /// Prompt vectors for some rows and keys and values for the others (`keyValueRows`).
    public init(prompts: Variable?, keys: Variable?, values: Variable?, keyValueRows: [Bool], lengths: [Int]) {
        self.prompts = prompts
        self.keys = keys
        self.values = values
        self.keyValueRows = keyValueRows
        self.lengths = lengths
    }
}

/// The points where an adapter changes the model's computation. The model calls them; adapters
/// (in the `PEFT` module, or a user's own) implement them. Every method has a default that
/// changes nothing, so an adapter implements only what it needs.
///
/// Three kinds of change cover LoRA, prompt tuning, P-tuning v2 and IAPT:
/// - a **projection delta** added to a linear layer's output (LoRA, IA³, …);
/// - **virtual input tokens** prepended to the token embeddings (prompt tuning);
/// - a **key/value prefix** at every layer that every token attends to: prompt vectors `P` that
///   enter through the layer's input RMSNorm and its key and value projections, with RoPE positions
///   `0..<m` (P-tuning v2; IAPT computes `P` from the layer's hidden states), or keys and values
///   given directly (prefix tuning). Real tokens take positions from `m` on either way.
///
/// Prefix tensors are `[batch, slots, hidden]` where `slots` is the batch's widest prefix; row `r`'s
/// `m_r` vectors are right-aligned (slots `slots − m_r ..< slots`) and the slots in front of them
/// are masked out, so rows with different adapters, or none, share one batch.
public protocol ForwardHooks: AnyObject {
    /// Per row, the number of virtual tokens prepended to the input embeddings (default: none).
    func inputPrefixLengths(for batch: TokenBatch) -> [Int]
    /// Per row, the number of key/value prefix vectors at every layer (default: none).
    func layerPrefixLengths(for batch: TokenBatch) -> [Int]
    /// The virtual token embeddings, `[batch, context.inputPrefixSlots, hidden]`.
    func inputPrefix(context: ForwardContext) throws -> Variable?
    /// The key/value prefix of layer `layer` (``LayerPrefix``, `context.layerPrefixSlots` slots),
    /// or `nil` when no row has a prefix at this layer.
    ///
    /// - Parameters:
    ///   - hiddenStates: the residual stream entering the layer at the token slots,
    ///     `[batch, length, hidden]`.
    ///   - normalizedHiddenStates: the same after the layer's input RMSNorm.
    ///   - context: which slots are real tokens and which belong to the instruction
    ///     (`context.batch.instructionMask`).
    func layerPrefix(
        layer: Int, hiddenStates: Variable, normalizedHiddenStates: Variable, context: ForwardContext
    ) throws -> LayerPrefix?
    /// A change added to the output of `projection` in layer `layer`, shaped like that output
    /// (`[batch, sequence, out]`), computed from the projection's `input` (`[batch, sequence, in]`).
    func projectionDelta(
        layer: Int, projection: Projection, input: Variable, context: ForwardContext
    ) throws -> Variable?
}

extension ForwardHooks {
    public func inputPrefixLengths(for batch: TokenBatch) -> [Int] { Array(repeating: 0, count: batch.batch) }
    public func layerPrefixLengths(for batch: TokenBatch) -> [Int] { Array(repeating: 0, count: batch.batch) }
    public func inputPrefix(context: ForwardContext) throws -> Variable? { nil }
    public func layerPrefix(
        layer: Int, hiddenStates: Variable, normalizedHiddenStates: Variable, context: ForwardContext
    ) throws -> LayerPrefix? { nil }
    public func projectionDelta(
        layer: Int, projection: Projection, input: Variable, context: ForwardContext
    ) throws -> Variable? { nil }
}
