import Autograd
import Foundation
import Tensor
import Transformer

/// Routes each row of a batch to one adapter, or to none: the ``ForwardHooks`` the model sees.
///
/// Rows that share an adapter are gathered into one sub-batch, the adapter runs once on it, and
/// its results are scattered back into the full batch; rows routed to no adapter get nothing.
/// When one adapter serves every row in order (training, single-tenant use), no gathering or
/// scattering happens at all. This is the only path adapters run on, so training, evaluation and
/// multi-tenant serving compute exactly the same thing.
public final class AdapterRouter: ForwardHooks {
    /// The adapters that rows may use.
    public let adapters: [any Adapter]
    /// Per row, the index into ``adapters``, or `nil` for the plain backbone.
    public let assignment: [Int?]
    /// Per adapter, the rows routed to it, in order (empty for unused adapters).
    private let rowsByAdapter: [[Int]]

    /// Routes row `r` to `adapters[assignment[r]]`, or to none where `assignment[r]` is `nil`.
    /// - Throws: ``AdapterError/mismatch(_:)`` for an index outside `adapters`.
    public convenience init(adapters: [any Adapter], assignment: [Int?]) throws {
        if let bad = assignment.compactMap({ $0 }).first(where: { !adapters.indices.contains($0) }) {
            throw AdapterError.mismatch("row routed to adapter \(bad), but only \(adapters.count) adapters are given")
        }
        self.init(validated: adapters, assignment: assignment)
    }

    /// Routes all `rows` rows to `adapter`.
    public convenience init(_ adapter: any Adapter, rows: Int) {
        self.init(validated: [adapter], assignment: Array(repeating: 0, count: rows))
    }

    private init(validated adapters: [any Adapter], assignment: [Int?]) {
        self.adapters = adapters
        self.assignment = assignment
        rowsByAdapter = adapters.indices.map { index in assignment.indices.filter { assignment[$0] == index } }
    }

    private func checkRows(_ batch: TokenBatch) throws {
        guard batch.batch == assignment.count else {
            throw AdapterError.mismatch("router for \(assignment.count) rows used with a batch of \(batch.batch)")
        }
    }

    public func inputPrefixLengths(for batch: TokenBatch) -> [Int] {
        assignment.map { $0.map { adapters[$0].inputPrefixLength } ?? 0 }
    }

    public func layerPrefixLengths(for batch: TokenBatch) -> [Int] {
        assignment.map { $0.map { adapters[$0].layerPrefixLength } ?? 0 }
    }

    public func inputPrefix(context: ForwardContext) throws -> Variable? {
        try checkRows(context.batch)
        return try combine(slots: context.inputPrefixSlots, rows: context.batch.batch) { adapter, rows in
            try adapter.inputPrefix(rows: rows.count)
        }?.prompts
    }

    public func layerPrefix(
        layer: Int, hiddenStates: Variable, normalizedHiddenStates: Variable, context: ForwardContext
    ) throws -> LayerPrefix? {
        try checkRows(context.batch)
        let length = context.batch.length
        return try combine(slots: context.layerPrefixSlots, rows: context.batch.batch) { adapter, rows in
            let everyRow = rows.count == context.batch.batch
            return try adapter.layerPrefix(
                layer: layer,
                hiddenStates: everyRow ? hiddenStates : hiddenStates.selectRows(rows),
                normalizedHiddenStates: everyRow ? normalizedHiddenStates : normalizedHiddenStates.selectRows(rows),
                instructionMask: rows.flatMap { context.batch.instructionMask[($0 * length)..<(($0 + 1) * length)] })
        }.map { LayerPrefix(prompts: $0.prompts, lengths: $0.lengths) }
    }

    public func projectionDelta(
        layer: Int, projection: Projection, input: Variable, context: ForwardContext
    ) throws -> Variable? {
        let rowCount = context.batch.batch
        if !GradientMode.isEnabled, rowsByAdapter.filter({ !$0.isEmpty }).count > 1 {
            return try accumulatedDelta(layer: layer, projection: projection, input: input, rowCount: rowCount)
        }
        var total: Variable?
        for (index, rows) in rowsByAdapter.enumerated() where !rows.isEmpty {
            let everyRow = rows.count == rowCount
            guard let delta = try adapters[index].projectionDelta(
                layer: layer, projection: projection, input: everyRow ? input : input.selectRows(rows)) else { continue }
            let placed = everyRow ? delta : try delta.scatterRows(rows, count: rowCount)
            total = try total.map { try $0 + placed } ?? placed
        }
        return total
    }

    /// Inference with several adapters in the batch (serving): each adapter's delta for its rows is
    /// added in place into one output, with no per-adapter zero tensors or graph. Low-rank adapters
    /// (``Adapter/lowRankUpdate(layer:projection:)``) run as two grouped products per adapter —
    /// its rows gathered, `(x·Aᵀ)·Bᵀ`, scattered back — in parallel across adapters, the CPU form
    /// of Punica's grouped low-rank kernels; other adapters go through their own hook.
    private func accumulatedDelta(layer: Int, projection: Projection, input: Variable, rowCount: Int) throws -> Variable? {
        let x = input.value
        var output: Tensor?
        var lowRank: [(rows: [Int], update: LowRankUpdate)] = []
        for (index, rows) in rowsByAdapter.enumerated() where !rows.isEmpty {
            if let update = adapters[index].lowRankUpdate(layer: layer, projection: projection) {
                lowRank.append((rows, update))
                continue
            }
            guard let delta = try adapters[index].projectionDelta(
                layer: layer, projection: projection, input: input.selectRows(rows))?.value else { continue }
            if output == nil { output = try Tensor.zeros([rowCount] + Array(delta.shape.dropFirst())) }
            guard output?.count == delta.count / max(rows.count, 1) * rowCount else {
                throw AdapterError.mismatch("layer \(layer) \(projection.rawValue): deltas of different shapes in one batch")
            }
            output?.withUnsafeMutableBufferPointer { out in
                Self.addRows(rows, of: delta, into: out.baseAddress!)
            }
        }
        guard !lowRank.isEmpty else { return output.map { Variable($0) } }
        let inWidth = x.shape.last ?? 0
        let (perRow, outWidth) = (x.count / max(rowCount, 1), lowRank[0].update.b.shape[0])
        guard x.rank >= 2, lowRank.allSatisfy({ $0.update.a.shape[1] == inWidth && $0.update.b.shape[0] == outWidth }) else {
            throw AdapterError.mismatch("low-rank updates of layer \(layer) \(projection.rawValue) do not fit an input of \(x.shape)")
        }
        let tokens = perRow / max(inWidth, 1)
        if output == nil { output = try Tensor.zeros(Array(x.shape.dropLast()) + [outWidth]) }
        guard output?.count == rowCount * tokens * outWidth else {
            throw AdapterError.mismatch("layer \(layer) \(projection.rawValue): deltas of different widths in one batch")
        }
        // Each group writes only its own rows of the output, so groups run in parallel.
        var failure: (any Error)?
        let lock = NSLock()
        output?.withUnsafeMutableBufferPointer { out in
            let out = UncheckedSendable(out)
            Parallel.forEach(lowRank.count) { groups in
                do {
                    for (rows, update) in lowRank[groups] {
                        let gathered = try x.reshaped([rowCount, perRow]).gatherRows(rows).reshaped([rows.count * tokens, inWidth])
                        let hidden = try Tensor.matmul(gathered, update.a, transposeB: true) * update.scale
                        Self.addRows(rows, of: try Tensor.matmul(hidden, update.b, transposeB: true), into: out.value.baseAddress!)
                    }
                } catch {
                    lock.withLock { failure = error }
                }
            }
        }
        if let failure { throw failure }
        return output.map { Variable($0) }
    }

    /// Adds row `i` of `delta` (`[rows.count, …]`) to row `rows[i]` of `output`.
    private static func addRows(_ rows: [Int], of delta: Tensor, into output: UnsafeMutablePointer<Float>) {
        let rowWidth = delta.count / max(rows.count, 1)
        delta.withUnsafeBufferPointer { values in
            for (position, row) in rows.enumerated() {
                let target = output + row * rowWidth
                for i in 0..<rowWidth { target[i] += values[position * rowWidth + i] }
            }
        }
    }

    /// Runs `produce` for each adapter's rows, left-pads each result `[rows_k, m_k, hidden]` to
    /// `slots` (so prompts are right-aligned) and assembles `[batch, slots, hidden]` with the
    /// per-row lengths; `nil` if no adapter produced anything.
    private func combine(
        slots: Int, rows rowCount: Int, _ produce: (any Adapter, [Int]) throws -> Variable?
    ) throws -> (prompts: Variable, lengths: [Int])? {
        guard slots > 0 else { return nil }
        if !GradientMode.isEnabled, rowsByAdapter.filter({ !$0.isEmpty }).count > 1 {
            return try combineInPlace(slots: slots, rows: rowCount, produce)
        }
        var total: Variable?
        var lengths = [Int](repeating: 0, count: rowCount)
        for (index, rows) in rowsByAdapter.enumerated() where !rows.isEmpty {
            guard let prompts = try produce(adapters[index], rows) else { continue }
            guard prompts.value.rank == 3, prompts.shape[0] == rows.count, prompts.shape[1] <= slots else {
                throw AdapterError.mismatch(
                    "\(type(of: adapters[index]).peftType) adapter gave prompts \(prompts.shape) for \(rows.count) rows and \(slots) slots")
            }
            let length = prompts.shape[1]
            var padded = prompts
            if length < slots {
                let padding = Variable(try Tensor.zeros([rows.count, slots - length, prompts.shape[2]]))
                padded = try Variable.concatenate([padding, prompts], alongAxis: 1)
            }
            let placed = rows.count == rowCount ? padded : try padded.scatterRows(rows, count: rowCount)
            total = try total.map { try $0 + placed } ?? placed
            for row in rows { lengths[row] = length }
        }
        return total.map { ($0, lengths) }
    }

    /// ``combine(slots:rows:_:)`` for inference with several adapters: each adapter's prompts are
    /// written in place into one `[batch, slots, hidden]` tensor (right-aligned), with no graph.
    private func combineInPlace(
        slots: Int, rows rowCount: Int, _ produce: (any Adapter, [Int]) throws -> Variable?
    ) throws -> (prompts: Variable, lengths: [Int])? {
        var output: Tensor?
        var lengths = [Int](repeating: 0, count: rowCount)
        for (index, rows) in rowsByAdapter.enumerated() where !rows.isEmpty {
            guard let prompts = try produce(adapters[index], rows)?.value else { continue }
            guard prompts.rank == 3, prompts.shape[0] == rows.count, prompts.shape[1] <= slots else {
                throw AdapterError.mismatch(
                    "\(type(of: adapters[index]).peftType) adapter gave prompts \(prompts.shape) for \(rows.count) rows and \(slots) slots")
            }
            let (length, width) = (prompts.shape[1], prompts.shape[2])
            if output == nil { output = try Tensor.zeros([rowCount, slots, width]) }
            output?.withUnsafeMutableBufferPointer { out in
                prompts.withUnsafeBufferPointer { values in
                    for (position, row) in rows.enumerated() {
                        let target = (row * slots + slots - length) * width
                        for i in 0..<(length * width) { out[target + i] = values[position * length * width + i] }
                    }
                }
            }
            for row in rows { lengths[row] = length }
        }
        return output.map { (Variable($0), lengths) }
    }
}
