import Autograd
import Tensor

extension LlamaModel {
    /// Which positions the forward pass computes logits for.
    public enum LogitPositions: Sendable, Equatable {
        /// Every token slot: `[batch, length, vocab]` (scoring).
        case all
        /// The last slot of each row only: `[batch, 1, vocab]` (generation with left padding).
        case last
        /// The given token slots only, each `row · length + slot`, in the order given:
        /// `[count, vocab]`. Training asks for the slots that carry a loss, so the LM head (a fifth
        /// of a small model's work with a large vocabulary) runs on those alone.
        case slots([Int])
    }

    /// Runs the model over `batch`.
    ///
    /// - Parameters:
    ///   - batch: the tokens, their padding mask, positions and instruction mask.
    ///   - hooks: an adapter's changes to the computation (see ``ForwardHooks``); `nil` for the plain
    ///     backbone.
    ///   - cache: when given, keys and values are written to it and attention reads every cached
    ///     slot; the first pass over an empty cache (prefill) also stores the prefixes. Inference
    ///     only: no gradient flows through cached attention.
    ///   - logits: `.all` positions, the `.last` slot of each row, or the given `.slots`.
    /// - Returns: logits at the token slots (virtual tokens excluded), `[batch, length or 1, vocab]`,
    ///   or `[count, vocab]` for `.slots`.
    /// - Throws: ``ModelError/invalidInput(_:)`` for an empty batch, a token id outside the
    ///   vocabulary (naming row and slot), a logit slot outside the batch, or hooks whose prefixes
    ///   do not match what they declared;
    ///   ``TensorError`` from the kernels.
    public func callAsFunction(
        _ batch: TokenBatch, hooks: (any ForwardHooks)? = nil, cache: KVCache? = nil, logits: LogitPositions = .all
    ) throws -> Variable {
        try forward(batch, hooks: hooks, binding: cache.map { .shared($0) } ?? .none, logits: logits)
    }

    /// One decoding step for rows that each have their own cache (requests that joined a batch at
    /// different times, as a serving engine has them): row `r` appends `tokens[r]` to `caches[r]`
    /// and attends to everything in it. Prefixes are not requested (each cache holds its row's).
    ///
    /// - Parameters:
    ///   - tokens: one token per row.
    ///   - caches: one single-row cache per row, each already filled by a prefill.
    ///   - hooks: per-row adapter routing (``ForwardHooks``), for projection deltas such as LoRA's.
    /// - Returns: the logits of the next token, `[rows, vocab]`.
    /// - Throws: ``ModelError/invalidInput(_:)`` if counts differ, a cache is empty, holds more than one
    ///   row or is full, or a token is outside the vocabulary; whatever the hooks throw. When the step
    ///   throws, every cache is left as it was before it, so the rows can be stepped again.
    public func decodeStep(tokens: [Int], caches: [KVCache], hooks: (any ForwardHooks)? = nil) throws -> Tensor {
        guard tokens.count == caches.count, !caches.isEmpty, caches.allSatisfy({ $0.batch == 1 && $0.length > 0 }) else {
            throw ModelError.invalidInput("a decode step needs one token and one filled single-row cache per row")
        }
        let batch = try TokenBatch(
            tokens: tokens, batch: tokens.count, length: 1, mask: Array(repeating: true, count: tokens.count),
            positions: Array(repeating: 0, count: tokens.count))
        let before = caches.map { ($0.length, $0.nextPositions[0]) }
        do {
            return try GradientMode.withoutGradients {
                try forward(batch, hooks: hooks, binding: .perRow(caches), logits: .last).value.reshaped([tokens.count, config.vocabSize])
            }
        } catch {
            for (cache, (length, nextPosition)) in zip(caches, before) { cache.rollBack(to: length, nextPosition: nextPosition) }
            throw error
        }
    }

    /// The mean next-token cross-entropy of the model over `batch` at the slots whose target is
    /// not ignored: the LM head and the loss run together in chunks of rows
    /// (``Variable/linearCrossEntropy(_:weight:targets:rowsPerChunk:)``), on the counted slots only,
    /// so neither the logits nor their gradient exist whole.
    ///
    /// - Parameters:
    ///   - batch: the tokens.
    ///   - hooks: an adapter's changes to the computation, or `nil`.
    ///   - targets: one per token slot, row-major `[batch · length]`: the id slot `t` should predict,
    ///     or ``CrossEntropy/ignoredTarget``.
    ///   - recomputingLayers: keep only each decoder layer's input for the backward pass and run the
    ///     layer again there (``Variable/recomputed(_:_:)``): activation memory falls from every
    ///     layer's intermediate values to one layer's, for about one more forward pass of time.
    ///     Hooks must compute the same values when a layer runs again (see that method).
    /// - Returns: a scalar (0 when every target is ignored).
    /// - Throws: ``ModelError/invalidInput(_:)`` if `targets` does not have one entry per slot, and
    ///   what ``callAsFunction(_:hooks:cache:logits:)`` throws; ``TensorError`` for a target outside
    ///   the vocabulary.
    public func loss(
        _ batch: TokenBatch, hooks: (any ForwardHooks)? = nil, targets: [Int], recomputingLayers: Bool = false
    ) throws -> Variable {
        guard targets.count == batch.batch * batch.length else {
            throw ModelError.invalidInput("\(targets.count) targets for a batch of \(batch.batch) × \(batch.length) slots")
        }
        let slots = targets.indices.filter { targets[$0] != CrossEntropy.ignoredTarget }
        let hidden = try finalHiddenStates(batch, hooks: hooks, binding: .none, recomputingLayers: recomputingLayers)
            .reshaped([batch.batch * batch.length, config.hiddenSize]).selectRows(slots)
        return try Variable.linearCrossEntropy(hidden, weight: lmHead, targets: slots.map { targets[$0] })
    }

    func forward(_ batch: TokenBatch, hooks: (any ForwardHooks)?, binding: CacheBinding, logits: LogitPositions) throws -> Variable {
        let (rows, length, width) = (batch.batch, batch.length, config.hiddenSize)
        if case .slots(let slots) = logits, let bad = slots.first(where: { !(0..<(rows * length)).contains($0) }) {
            throw ModelError.invalidInput("logit slot \(bad) is outside the batch's \(rows) × \(length) slots")
        }
        var output = try finalHiddenStates(batch, hooks: hooks, binding: binding)
        switch logits {
        case .all:
            break
        case .last:
            output = try output.slice(alongAxis: 1, (length - 1)..<length)
        case .slots(let slots):
            output = try output.reshaped([rows * length, width]).selectRows(slots)
        }
        return try Variable.linear(output, weight: lmHead)
    }

    /// The final norm's output at the token slots (virtual tokens excluded), `[batch, length, hidden]`.
    private func finalHiddenStates(
        _ batch: TokenBatch, hooks: (any ForwardHooks)?, binding: CacheBinding, recomputingLayers: Bool = false
    ) throws -> Variable {
        let (rows, length, width) = (batch.batch, batch.length, config.hiddenSize)
        let plan = try ForwardPlan(model: self, batch: batch, hooks: hooks, binding: binding)
        var hidden = try Variable.embedding(embedTokens, ids: plan.tokenIDs).reshaped([rows, length, width])
        if plan.inputSlots > 0 {
            guard let prefix = try hooks?.inputPrefix(context: plan.context), prefix.shape == [rows, plan.inputSlots, width] else {
                throw ModelError.invalidInput("hooks declared \(plan.inputSlots) input prefix slots but gave no [\(rows), \(plan.inputSlots), \(width)] prefix")
            }
            hidden = try Variable.concatenate([prefix, hidden], alongAxis: 1)
        }
        try binding.record(plan)
        for (index, layer) in layers.enumerated() {
            if recomputingLayers, case .none = binding {
                hidden = try Variable.recomputed(hidden) { [self] input in
                    try decoderLayer(index, layer, input, plan: plan, hooks: hooks, binding: .none)
                }
            } else {
                hidden = try decoderLayer(index, layer, hidden, plan: plan, hooks: hooks, binding: binding)
            }
        }
        var output = try Variable.rmsNorm(hidden, weight: finalNorm, epsilon: Float(config.rmsNormEps))
        if plan.inputSlots > 0 {
            output = try output.slice(alongAxis: 1, plan.inputSlots..<(plan.inputSlots + length))
        }
        return output
    }

    private func decoderLayer(
        _ index: Int, _ layer: Layer, _ hidden: Variable, plan: ForwardPlan, hooks: (any ForwardHooks)?, binding: CacheBinding
    ) throws -> Variable {
        let (rows, sequence) = (plan.context.batch.batch, plan.sequenceLength)
        let (heads, keyValueHeads, headWidth) = (config.numAttentionHeads, config.numKeyValueHeads, config.headDim)
        let epsilon = Float(config.rmsNormEps)
        func project(_ input: Variable, _ projection: Projection) throws -> Variable {
            let output = try Variable.linear(input, weight: layer.weight(of: projection))
            guard let delta = try hooks?.projectionDelta(layer: index, projection: projection, input: input, context: plan.context) else {
                return output
            }
            return try output + delta
        }

        let normalized = try Variable.rmsNorm(hidden, weight: layer.inputNorm, epsilon: epsilon)
        let query = try Variable.rope(project(normalized, .query).reshaped([rows, sequence, heads, headWidth]),
                                      rotary: rotary, angles: plan.sequenceAngles)
        let key = try Variable.rope(project(normalized, .key).reshaped([rows, sequence, keyValueHeads, headWidth]),
                                    rotary: rotary, angles: plan.sequenceAngles)
        let value = try project(normalized, .value).reshaped([rows, sequence, keyValueHeads, headWidth])

        var prefixKey: Variable?, prefixValue: Variable?, prefixLengths: [Int]?
        if plan.layerSlots > 0 {
            let tokens = plan.inputSlots..<sequence
            let tokenHidden = plan.inputSlots > 0 ? try hidden.slice(alongAxis: 1, tokens) : hidden
            let tokenNormalized = plan.inputSlots > 0 ? try normalized.slice(alongAxis: 1, tokens) : normalized
            if let prefix = try hooks?.layerPrefix(
                layer: index, hiddenStates: tokenHidden, normalizedHiddenStates: tokenNormalized, context: plan.context) {
                let keyValueWidth = keyValueHeads * headWidth
                guard prefix.lengths.count == rows, prefix.keyValueRows.count == rows,
                      zip(prefix.lengths, plan.context.layerPrefixLengths).allSatisfy({ $0 >= 0 && $0 <= $1 }),
                      prefix.prompts.map({ $0.shape == [rows, plan.layerSlots, config.hiddenSize] }) ?? !prefix.keyValueRows.contains(false),
                      prefix.keys.map({ $0.shape == [rows, plan.layerSlots, keyValueWidth] }) ?? !prefix.keyValueRows.contains(true),
                      prefix.values?.shape == prefix.keys?.shape else {
                    throw ModelError.invalidInput(
                        "layer \(index): a prefix of prompts \(prefix.prompts?.shape ?? []), keys \(prefix.keys?.shape ?? []) and values \(prefix.values?.shape ?? []) with lengths \(prefix.lengths) does not fit the declared \(plan.context.layerPrefixLengths) in [\(rows), \(plan.layerSlots), \(config.hiddenSize) or \(keyValueWidth)]")
                }
                let shape = [rows, plan.layerSlots, keyValueHeads, headWidth]
                var keyParts: [(rows: [Int], value: Variable)] = [], valueParts: [(rows: [Int], value: Variable)] = []
                if let prompts = prefix.prompts {
                    let promptRows = (0..<rows).filter { !prefix.keyValueRows[$0] }
                    let selected = promptRows.count == rows ? prompts : try prompts.selectRows(promptRows)
                    let normalizedPrompts = try Variable.rmsNorm(selected, weight: layer.inputNorm, epsilon: epsilon)
                    let positions = plan.layerPrefixPositions(lengths: prefix.lengths)
                    keyParts.append((promptRows, try Variable.rope(
                        Variable.linear(normalizedPrompts, weight: layer.keyProjection)
                            .reshaped([promptRows.count, plan.layerSlots, keyValueHeads, headWidth]),
                        rotary: rotary, positions: promptRows.flatMap { positions[($0 * plan.layerSlots)..<(($0 + 1) * plan.layerSlots)] })))
                    valueParts.append((promptRows, try Variable.linear(normalizedPrompts, weight: layer.valueProjection)
                        .reshaped([promptRows.count, plan.layerSlots, keyValueHeads, headWidth])))
                }
                if let keys = prefix.keys, let values = prefix.values {
                    let keyValueRows = (0..<rows).filter { prefix.keyValueRows[$0] }
                    let everyRow = keyValueRows.count == rows
                    keyParts.append((keyValueRows, try (everyRow ? keys : keys.selectRows(keyValueRows))
                        .reshaped([keyValueRows.count, plan.layerSlots, keyValueHeads, headWidth])))
                    valueParts.append((keyValueRows, try (everyRow ? values : values.selectRows(keyValueRows))
                        .reshaped([keyValueRows.count, plan.layerSlots, keyValueHeads, headWidth])))
                }
                keyParts.removeAll { $0.rows.isEmpty }
                valueParts.removeAll { $0.rows.isEmpty }
                prefixKey = try Variable.assemblingRows(keyParts, shape: shape)
                prefixValue = try Variable.assemblingRows(valueParts, shape: shape)
                prefixLengths = prefix.lengths
            }
        }

        let attended: Variable
        switch binding {
        case let .shared(cache):
            try cache.writePrefix(layer: index, keys: prefixKey?.value, values: prefixValue?.value, lengths: prefixLengths, plan: plan)
            try cache.write(layer: index, keys: key.value, values: value.value, at: plan.sequenceStart)
            let (output, _) = try Attention.forward(
                query: query.value, key: cache.keys[index], value: cache.values[index],
                keyLength: plan.sequenceStart + sequence, keyMask: cache.masks[index], causal: true, saveProbabilities: false)
            attended = Variable(output)
        case let .perRow(caches):
            for (row, cache) in caches.enumerated() {
                let rowRange = row..<(row + 1)
                try cache.write(layer: index, keys: key.value.slice(alongAxis: 0, rowRange),
                                values: value.value.slice(alongAxis: 0, rowRange), at: plan.rowStarts[row])
            }
            attended = Variable(try Attention.forward(
                query: query.value, keys: caches.map { $0.keys[index] }, values: caches.map { $0.values[index] },
                keyLengths: caches.indices.map { plan.rowStarts[$0] + sequence }, keyMasks: caches.map { $0.masks[index] }))
        case .none:
            attended = try uncachedAttention()
        }
        func uncachedAttention() throws -> Variable {
            if let prefixKey, let prefixValue, let prefixLengths {
                return try Variable.attention(
                    query: query, key: Variable.concatenate([prefixKey, key], alongAxis: 1),
                    value: Variable.concatenate([prefixValue, value], alongAxis: 1),
                    keyMask: plan.keyMask(prefixLengths: prefixLengths))
            }
            return try Variable.attention(query: query, key: key, value: value, keyMask: plan.keyMask(prefixLengths: nil))
        }
        let attentionOutput = try project(attended.reshaped([rows, sequence, heads * headWidth]), .output)
        let afterAttention = try hidden + attentionOutput
        let normalizedAgain = try Variable.rmsNorm(afterAttention, weight: layer.postAttentionNorm, epsilon: epsilon)
        let gated = try Variable.swiGLU(gate: project(normalizedAgain, .gate), up: project(normalizedAgain, .up))
        return try afterAttention + project(gated, .down)
    }
}

/// The slot layout of one forward pass: token ids made safe, prefix widths, RoPE positions, masks,
/// and where the pass writes into a cache.
struct ForwardPlan {
    let context: ForwardContext
    /// Token ids with padding slots replaced by 0, `[batch · length]`.
    let tokenIDs: [Int]
    let inputSlots: Int, layerSlots: Int
    /// Input-prefix slots plus token slots.
    let sequenceLength: Int
    /// RoPE positions of the sequence slots, `[batch · sequenceLength]`, and their angles.
    let sequencePositions: [Int]
    let sequenceAngles: RotaryEmbedding.Angles
    /// Validity of the sequence slots, `[batch · sequenceLength]`.
    let sequenceMask: [Bool]
    /// With a shared cache, the first slot this pass writes (its layer prefix), and the first of
    /// its sequence.
    let cacheStart: Int, sequenceStart: Int
    /// With a cache per row, the slot each row's token goes to.
    let rowStarts: [Int]

    init(model: LlamaModel, batch: TokenBatch, hooks: (any ForwardHooks)?, binding: CacheBinding) throws {
        let cache: KVCache?
        var rowCaches: [KVCache]?
        switch binding {
        case .none: cache = nil
        case let .shared(shared): cache = shared
        case let .perRow(caches): (cache, rowCaches) = (nil, caches)
        }
        let (rows, length, vocabulary) = (batch.batch, batch.length, model.config.vocabSize)
        guard length > 0 else { throw ModelError.invalidInput("a forward pass needs at least one token slot") }
        if let bad = batch.tokens.indices.first(where: { batch.mask[$0] && !(0..<vocabulary).contains(batch.tokens[$0]) }) {
            throw ModelError.invalidInput(
                "token id \(batch.tokens[bad]) at row \(bad / length), slot \(bad % length) is outside the vocabulary of \(vocabulary)")
        }
        if let cache, cache.batch != rows {
            throw ModelError.invalidInput("KV cache for \(cache.batch) rows used with a batch of \(rows)")
        }
        let decoding = (cache?.length ?? 0) > 0 || rowCaches != nil
        let none = [Int](repeating: 0, count: rows)
        let inputLengths = decoding ? none : hooks?.inputPrefixLengths(for: batch) ?? none
        let layerLengths = decoding ? none : hooks?.layerPrefixLengths(for: batch) ?? none
        guard inputLengths.count == rows, layerLengths.count == rows,
              (inputLengths + layerLengths).allSatisfy({ $0 >= 0 }) else {
            throw ModelError.invalidInput("hooks gave prefix lengths \(inputLengths), \(layerLengths) for \(rows) rows")
        }
        context = ForwardContext(batch: batch, inputPrefixLengths: inputLengths, layerPrefixLengths: layerLengths, isDecoding: decoding)
        tokenIDs = zip(batch.tokens, batch.mask).map { $1 ? $0 : 0 }
        inputSlots = context.inputPrefixSlots
        layerSlots = context.layerPrefixSlots
        sequenceLength = inputSlots + length

        var sequencePositions: [Int] = [], sequenceMask: [Bool] = []
        for row in 0..<rows {
            let base = decoding ? (rowCaches?[row].nextPositions[0] ?? cache?.nextPositions[row] ?? 0) : layerLengths[row] + inputLengths[row]
            let inputOffset = inputSlots - inputLengths[row]
            sequenceMask += (0..<inputSlots).map { $0 >= inputOffset } + batch.mask[(row * length)..<((row + 1) * length)]
            sequencePositions += (0..<inputSlots).map { layerLengths[row] + max(0, $0 - inputOffset) }
            sequencePositions += batch.positions[(row * length)..<((row + 1) * length)].map { base + $0 }
        }
        self.sequencePositions = sequencePositions
        sequenceAngles = try model.rotary.angles(for: sequencePositions)
        self.sequenceMask = sequenceMask
        cacheStart = cache?.length ?? 0
        sequenceStart = cacheStart + layerSlots
        rowStarts = rowCaches?.map(\.length) ?? []
    }

    /// Validity of the layer prefix slots, `[batch · layerSlots]`: row `r`'s last `lengths[r]`.
    func layerPrefixMask(lengths: [Int]) -> [Bool] {
        lengths.flatMap { length in (0..<layerSlots).map { $0 >= layerSlots - length } }
    }

    /// RoPE positions of the layer prefix slots: `0..<lengths[r]` on row `r`'s used slots.
    func layerPrefixPositions(lengths: [Int]) -> [Int] {
        lengths.flatMap { length in (0..<layerSlots).map { max(0, $0 - (layerSlots - length)) } }
    }

    /// The mask over `[layer prefix; sequence]` keys (no prefix part when `prefixLengths` is nil),
    /// or `nil` when every key is valid.
    func keyMask(prefixLengths: [Int]?) -> [Bool]? {
        let rows = context.batch.batch
        let prefixMask = prefixLengths.map(layerPrefixMask(lengths:))
        let width = prefixLengths == nil ? 0 : layerSlots
        var mask: [Bool] = []
        mask.reserveCapacity(rows * (width + sequenceLength))
        for row in 0..<rows {
            if let prefixMask { mask += prefixMask[(row * width)..<((row + 1) * width)] }
            mask += sequenceMask[(row * sequenceLength)..<((row + 1) * sequenceLength)]
        }
        return mask.allSatisfy { $0 } ? nil : mask
    }
}

/// Where a forward pass keeps keys and values.
enum CacheBinding {
    /// Nowhere: attention over this pass's own keys (training, scoring).
    case none
    /// One cache for the whole batch (generation with left padding).
    case shared(KVCache)
    /// One single-row cache per row (serving: rows at different lengths).
    case perRow([KVCache])

    /// Records in the cache(s) the slots the pass is about to write.
    func record(_ plan: ForwardPlan) throws {
        switch self {
        case .none: return
        case let .shared(cache): try cache.record(plan)
        case let .perRow(caches):
            for (row, cache) in caches.enumerated() {
                guard cache.length < cache.capacity else {
                    throw ModelError.invalidInput("the KV cache of row \(row) is full (\(cache.capacity) slots)")
                }
                for layer in cache.masks.indices { cache.masks[layer][cache.length] = true }
                cache.nextPositions[0] = plan.sequencePositions[row] + 1
                cache.length += 1
            }
        }
    }
}

extension KVCache {
    /// Forgets the slots past `length` (their masks), as if the passes that filled them had not run;
    /// the single row's next position becomes `nextPosition`.
    func rollBack(to length: Int, nextPosition: Int) {
        guard self.length > length else { return }
        for layer in masks.indices {
            for slot in length..<self.length { masks[layer][slot] = false }
        }
        self.length = length
        nextPositions[0] = nextPosition
    }

    /// Records the slots a forward pass is about to write: the validity of its sequence slots in
    /// every layer, the new fill level, and each row's next position. Called before the layers
    /// run, since attention reads the masks. After a forward pass throws, ``reset()`` the cache.
    /// - Throws: ``ModelError/invalidInput(_:)`` if the pass does not fit in the remaining capacity.
    func record(_ plan: ForwardPlan) throws {
        let rows = plan.context.batch.batch
        let sequence = plan.sequenceLength
        guard plan.sequenceStart + sequence <= capacity else {
            throw ModelError.invalidInput(
                "KV cache of \(capacity) slots cannot hold \(plan.sequenceStart + sequence) (\(length) already filled)")
        }
        for row in 0..<rows {
            var last = -1
            for slot in 0..<sequence {
                let valid = plan.sequenceMask[row * sequence + slot]
                for layer in masks.indices { masks[layer][row * capacity + plan.sequenceStart + slot] = valid }
                if valid { last = max(last, plan.sequencePositions[row * sequence + slot]) }
            }
            if last >= 0 { nextPositions[row] = last + 1 }
        }
        length = plan.sequenceStart + sequence
    }

    /// Writes layer `layer`'s prefix keys and values (`[batch, layerSlots, kvHeads, headDim]`) into
    /// the prefix slots of the pass and marks the used ones valid; with no prefix at this layer,
    /// marks the slots invalid.
    func writePrefix(layer: Int, keys: Tensor?, values: Tensor?, lengths: [Int]?, plan: ForwardPlan) throws {
        guard plan.layerSlots > 0 else { return }
        let slotMask = lengths.map(plan.layerPrefixMask(lengths:))
        for row in 0..<batch {
            for slot in 0..<plan.layerSlots {
                masks[layer][row * capacity + plan.cacheStart + slot] = slotMask?[row * plan.layerSlots + slot] ?? false
            }
        }
        if let keys, let values { try write(layer: layer, keys: keys, values: values, at: plan.cacheStart) }
    }
}
