import Autograd
import Tensor

/// Settings of one generation call.
public struct GenerationOptions: Sendable {
    /// The most tokens generated per row (the stop token, when hit, counts as one).
    public var maxNewTokens: Int
    /// How each token is chosen.
    public var sampling: Sampling
    /// Seeds sampling; the same seed, prompts and settings give the same tokens.
    public var seed: UInt64
    /// Tokens that end a row (included in its output), typically the tokenizer's EOS.
    public var stopTokens: Set<Int>
    /// Whether to decode with a KV cache (default) or recompute the whole sequence at every step,
    /// which gives the same tokens more slowly; kept as a reference for tests.
    public var usesKVCache: Bool

    /// Options; the defaults decode 32 tokens greedily with a KV cache and no stop token.
    public init(
        maxNewTokens: Int = 32, sampling: Sampling = .greedy, seed: UInt64 = 0, stopTokens: Set<Int> = [],
        usesKVCache: Bool = true
    ) {
        self.maxNewTokens = maxNewTokens
        self.sampling = sampling
        self.seed = seed
        self.stopTokens = stopTokens
        self.usesKVCache = usesKVCache
    }
}

extension LlamaModel {
    /// Continues each prompt, in one batch.
    ///
    /// Prompts of different lengths are left-padded so all rows decode in step; the KV cache is
    /// sized for the longest prompt, the prefixes and `maxNewTokens`. With hooks, prefixes (prompt
    /// tuning, P-tuning v2, IAPT's generated prompts) are computed once, at prefill.
    ///
    /// - Parameters:
    ///   - prompts: token ids per row; each must be non-empty.
    ///   - instructionLengths: per row, how many leading prompt tokens are the instruction (what
    ///     IAPT's generators read); `nil` means the whole prompt.
    ///   - onToken: called for every generated token as `(row, token)`, in order; return `false` to
    ///     stop the whole generation early.
    /// - Returns: the generated tokens per row (not the prompt).
    /// - Throws: ``ModelError/invalidInput(_:)`` for an empty prompt, a token outside the vocabulary,
    ///   invalid sampling settings, `maxNewTokens` beyond the room the model's context
    ///   (`maxPositionEmbeddings`) leaves after the longest prompt and its input prefix, or a KV cache
    ///   larger than ``SystemMemory/budgetBytes``.
    public func generate(
        prompts: [[Int]], options: GenerationOptions = GenerationOptions(), hooks: (any ForwardHooks)? = nil,
        instructionLengths: [Int]? = nil, onToken: ((_ row: Int, _ token: Int) -> Bool)? = nil
    ) throws -> [[Int]] {
        guard !prompts.isEmpty, prompts.allSatisfy({ !$0.isEmpty }) else {
            throw ModelError.invalidInput("generation needs at least one prompt, and no empty prompt")
        }
        guard options.maxNewTokens >= 0 else { throw ModelError.invalidInput("maxNewTokens must be ≥ 0") }
        var sampler = try Sampler(options.sampling, seed: options.seed)
        return try GradientMode.withoutGradients {
            let rows = prompts.count
            let promptBatch = try TokenBatch(rows: prompts, padding: .left, instructionLengths: instructionLengths)
            var generated = [[Int]](repeating: [], count: rows)
            var active = [Bool](repeating: true, count: rows)
            guard options.maxNewTokens > 0 else { return generated }
            let used = promptBatch.length + (hooks?.inputPrefixLengths(for: promptBatch).max() ?? 0)
            let room = config.maxPositionEmbeddings - used
            guard options.maxNewTokens <= room else {
                throw ModelError.invalidInput(room <= 0
                    ? "the prompt of \(used) positions fills the model's context of \(config.maxPositionEmbeddings)"
                    : "maxNewTokens is \(options.maxNewTokens), more than the \(room) the model's context of \(config.maxPositionEmbeddings) positions leaves after a prompt of \(used)")
            }

            let cache = options.usesKVCache ? try makeCache(for: promptBatch, hooks: hooks, newTokens: options.maxNewTokens) : nil
            var logits = try self(promptBatch, hooks: hooks, cache: cache, logits: .last).value
            let vocabulary = config.vocabSize
            for step in 0..<options.maxNewTokens {
                var next = [Int](repeating: 0, count: rows)
                for row in 0..<rows where active[row] {
                    let token = sampler.next(logits.scalars[(row * vocabulary)..<((row + 1) * vocabulary)])
                    next[row] = token
                    generated[row].append(token)
                    if let onToken, !onToken(row, token) { return generated }
                    if options.stopTokens.contains(token) { active[row] = false }
                }
                guard step + 1 < options.maxNewTokens, active.contains(true) else { break }
                if let cache {
                    let stepBatch = try TokenBatch(
                        tokens: next, batch: rows, length: 1, mask: active, positions: [Int](repeating: 0, count: rows))
                    logits = try self(stepBatch, hooks: hooks, cache: cache, logits: .last).value
                } else {
                    let sequences = zip(prompts, generated).map { $0 + $1 }
                    let fullBatch = try TokenBatch(rows: sequences, padding: .left, instructionLengths: instructionLengths ?? prompts.map(\.count))
                    logits = try self(fullBatch, hooks: hooks, logits: .last).value
                }
            }
            return generated
        }
    }

    /// A cache large enough for `batch`, its prefixes under `hooks`, and `newTokens` more slots.
    func makeCache(for batch: TokenBatch, hooks: (any ForwardHooks)?, newTokens: Int) throws -> KVCache {
        let layerSlots = hooks?.layerPrefixLengths(for: batch).max() ?? 0
        let inputSlots = hooks?.inputPrefixLengths(for: batch).max() ?? 0
        return try KVCache(config: config, batch: batch.batch, capacity: layerSlots + inputSlots + batch.length + newTokens)
    }
}
