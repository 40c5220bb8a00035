import Autograd
import Foundation
import Tensor
import Transformer

/// Routes each row of a batch to one adapter, or to none: the ``ForwardHooks`` the model sees.
///
/// Rows that share an adapter are gathered into one sub-batch, the adapter runs once on it, and
/// the sub-batches' results are assembled into the batch's in one step
/// (``Autograd/Variable/assemblingRows(_:shape:)``); rows routed to no adapter get nothing. When
/// one adapter serves every row, no gathering or assembling happens at all. Every hook takes this
/// one path in training, evaluation and multi-tenant serving; only the scheduling differs: with
/// gradients off and several adapters in the batch, their sub-batches run in parallel.
///
/// ``Transformer/LlamaModel/callAsFunction(_:adapter:logits:)`` and its relatives route every row
/// to one adapter without building a router by hand.
public final class AdapterRouter: ForwardHooks {
    /// The adapters that rows may use.
    public let adapters: [any Adapter]
    /// Per row, the index into ``adapters``, or `nil` for the plain backbone; `nil` as a whole when
    /// every row of any batch goes to the only adapter.
    public let assignment: [Int?]?
    /// Per adapter, the rows routed to it, in order (empty for unused adapters).
    private let rowsByAdapter: [[Int]]

    /// Routes row `r` to `adapters[assignment[r]]`, or to none where `assignment[r]` is `nil`.
    /// - Throws: ``AdapterError/mismatch(_:)`` for an index outside `adapters`.
    public init(adapters: [any Adapter], assignment: [Int?]) throws {
        if let bad = assignment.compactMap({ $0 }).first(where: { !adapters.indices.contains($0) }) {
            throw AdapterError.mismatch("row routed to adapter \(bad), but only \(adapters.count) adapters are given")
        }
        self.adapters = adapters
        self.assignment = assignment
        rowsByAdapter = adapters.indices.map { index in assignment.indices.filter { assignment[$0] == index } }
    }

    /// Routes every row of any batch to `adapter`.
    public init(_ adapter: any Adapter) {
        adapters = [adapter]
        assignment = nil
        rowsByAdapter = []
    }

    /// The adapters with rows in a batch of `rowCount` rows, each with its rows.
    private func groups(rowCount: Int) throws -> [(adapter: any Adapter, rows: [Int])] {
        guard let assignment else { return [(adapters[0], Array(0..<rowCount))] }
        guard rowCount == assignment.count else {
            throw AdapterError.mismatch("router for \(assignment.count) rows used with a batch of \(rowCount)")
        }
        return zip(adapters, rowsByAdapter).filter { !$0.1.isEmpty }.map { ($0, $1) }
    }

    public func inputPrefixLengths(for batch: TokenBatch) -> [Int] {
        guard let assignment else { return Array(repeating: adapters[0].inputPrefixLength, count: batch.batch) }
        return assignment.map { $0.map { adapters[$0].inputPrefixLength } ?? 0 }
    }

    public func layerPrefixLengths(for batch: TokenBatch) -> [Int] {
        guard let assignment else { return Array(repeating: adapters[0].layerPrefixLength, count: batch.batch) }
        return assignment.map { $0.map { adapters[$0].layerPrefixLength } ?? 0 }
    }

    public func inputPrefix(context: ForwardContext) throws -> Variable? {
        try prompts(slots: context.inputPrefixSlots, rowCount: context.batch.batch) { adapter, rows, _ in
            try adapter.inputPrefix(rows: rows.count)
        }?.prompts
    }

    public func layerPrefix(
        layer: Int, hiddenStates: Variable, normalizedHiddenStates: Variable, context: ForwardContext
    ) throws -> LayerPrefix? {
        let (rowCount, length, slots) = (context.batch.batch, context.batch.length, context.layerPrefixSlots)
        guard slots > 0 else { return nil }
        let parts = try run(groups(rowCount: rowCount), rowCount: rowCount) { adapter, rows, everyRow in
            try adapter.layerPrefix(
                layer: layer,
                hiddenStates: everyRow ? hiddenStates : hiddenStates.selectRows(rows),
                normalizedHiddenStates: everyRow ? normalizedHiddenStates : normalizedHiddenStates.selectRows(rows),
                instructionMask: everyRow
                    ? context.batch.instructionMask : rows.flatMap { context.batch.instructionMask[($0 * length)..<(($0 + 1) * length)] })
        }
        guard !parts.isEmpty else { return nil }
        var prompts: [(rows: [Int], value: Variable)] = [], keys: [(rows: [Int], value: Variable)] = []
        var values: [(rows: [Int], value: Variable)] = []
        var lengths = [Int](repeating: 0, count: rowCount), keyValueRows = [Bool](repeating: false, count: rowCount)
        for (rows, vectors) in parts {
            let first: Variable
            switch vectors {
            case .prompts(let vectors):
                prompts.append((rows, vectors))
                first = vectors
            case let .keysValues(k, v):
                guard k.shape == v.shape else {
                    throw AdapterError.mismatch("layer \(layer): an adapter gave keys \(k.shape) and values \(v.shape)")
                }
                keys.append((rows, k))
                values.append((rows, v))
                for row in rows { keyValueRows[row] = true }
                first = k
            }
            guard first.shape.count == 3, first.shape[0] == rows.count, first.shape[1] <= slots else {
                throw AdapterError.mismatch("layer \(layer): an adapter gave a prefix \(first.shape) for \(rows.count) rows and \(slots) slots")
            }
            for row in rows { lengths[row] = first.shape[1] }
        }
        func assembled(_ parts: [(rows: [Int], value: Variable)]) throws -> Variable? {
            guard let width = parts.first?.value.shape[2] else { return nil }
            return try Variable.assemblingRows(parts, shape: [rowCount, slots, width])
        }
        return LayerPrefix(
            prompts: try assembled(prompts), keys: try assembled(keys), values: try assembled(values),
            keyValueRows: keyValueRows, lengths: lengths)
    }

    public func projectionDelta(
        layer: Int, projection: Projection, input: Variable, context: ForwardContext
    ) throws -> Variable? {
        let rowCount = context.batch.batch
        let parts = try run(groups(rowCount: rowCount), rowCount: rowCount) { adapter, rows, everyRow in
            try adapter.projectionDelta(layer: layer, projection: projection, input: everyRow ? input : input.selectRows(rows))
        }
        guard let first = parts.first?.value else { return nil }
        guard first.shape.count >= 2 else {
            throw AdapterError.mismatch("layer \(layer) \(projection.rawValue): a delta of shape \(first.shape) has no rows")
        }
        let shape = [rowCount] + first.shape.dropFirst()
        guard parts.allSatisfy({ Array($0.value.shape.dropFirst()) == Array(shape.dropFirst()) }) else {
            throw AdapterError.mismatch("layer \(layer) \(projection.rawValue): deltas of different shapes in one batch")
        }
        return try Variable.assemblingRows(parts, shape: shape)
    }

    /// Runs `produce` for each adapter's rows and assembles the prompts `[rows_k, m_k, hidden]`
    /// right-aligned into `[batch, slots, hidden]`, with the per-row lengths; `nil` when there are
    /// no slots or no adapter produced anything.
    private func prompts(
        slots: Int, rowCount: Int, _ produce: (any Adapter, [Int], Bool) throws -> Variable?
    ) throws -> (prompts: Variable, lengths: [Int])? {
        guard slots > 0 else { return nil }
        let parts = try run(groups(rowCount: rowCount), rowCount: rowCount, produce)
        guard let first = parts.first?.value else { return nil }
        var lengths = [Int](repeating: 0, count: rowCount)
        for (rows, prompts) in parts {
            guard prompts.shape.count == 3, prompts.shape[0] == rows.count, prompts.shape[1] <= slots,
                  prompts.shape[2] == first.shape.last else {
                throw AdapterError.mismatch("an adapter gave prompts \(prompts.shape) for \(rows.count) rows and \(slots) slots")
            }
            for row in rows { lengths[row] = prompts.shape[1] }
        }
        return (try Variable.assemblingRows(parts, shape: [rowCount, slots, first.shape[2]]), lengths)
    }

    /// `body` for each group, with whether the group is every row of the `rowCount` in order;
    /// groups run in parallel when there are several and no graph is being recorded. The groups
    /// that gave a result, in order.
    private func run<Output>(
        _ groups: [(adapter: any Adapter, rows: [Int])], rowCount: Int, _ body: (any Adapter, [Int], Bool) throws -> Output?
    ) throws -> [(rows: [Int], value: Output)] {
        func result(_ group: (adapter: any Adapter, rows: [Int])) throws -> Output? {
            // A group's rows are distinct, ascending indices below `rowCount`: all of them when as many.
            try body(group.adapter, group.rows, groups.count == 1 && group.rows.count == rowCount)
        }
        guard groups.count > 1, !GradientMode.isEnabled else {
            return try groups.compactMap { group in try result(group).map { (group.rows, $0) } }
        }
        var results = [Result<Output?, any Error>](repeating: .success(nil), count: groups.count)
        results.withUnsafeMutableBufferPointer { slots in
            let slots = UncheckedSendable(slots)
            Parallel.forEach(groups.count) { range in
                for index in range {
                    slots.value[index] = Result { try GradientMode.withoutGradients { try result(groups[index]) } }
                }
            }
        }
        return try zip(groups, results).compactMap { group, outcome in try outcome.get().map { (group.rows, $0) } }
    }
}
