import Tensor

/// Keys and values of past positions for every layer, preallocated for `capacity` slots per row
/// and written in place, so decoding one token costs no copy of the past.
///
/// Slot layout of a row: the layer prefix (if any), then the input prefix and the tokens in order.
/// Padding slots and unused prefix slots are masked. The cache is inference-only: no gradient
/// flows through attention over cached keys.
public final class KVCache {
    /// Rows in the batch.
    public let batch: Int
    /// Slots per row.
    public let capacity: Int
    /// Key/value heads and their width.
    public let keyValueHeads: Int, headDimension: Int
    /// Per layer, `[batch, capacity, keyValueHeads, headDimension]`.
    var keys: [Tensor], values: [Tensor]
    /// Per layer, `batch · capacity` validity flags (layers may differ in their prefix slots).
    var masks: [[Bool]]
    /// Slots filled so far (the same for every row).
    public internal(set) var length = 0
    /// Per row, the RoPE position the next token takes.
    public internal(set) var nextPositions: [Int]

    /// The bytes of a cache's keys and values for `batch` rows of `capacity` slots under `config`
    /// (float32), or `nil` if the count overflows.
    public static func bytes(config: LlamaConfig, batch: Int, capacity: Int) -> Int? {
        SystemMemory.product(config.numHiddenLayers, 2, batch, capacity, config.numKeyValueHeads, config.headDim, MemoryLayout<Float>.size)
    }

    /// An empty cache for `batch` rows of up to `capacity` slots.
    /// - Throws: ``ModelError/invalidInput(_:)`` if `batch` or `capacity` is not positive, or the
    ///   cache would take more than ``SystemMemory/budgetBytes`` (the estimate is in the message).
    public init(config: LlamaConfig, batch: Int, capacity: Int) throws {
        guard batch > 0, capacity > 0 else {
            throw ModelError.invalidInput("a KV cache needs positive batch and capacity, got \(batch) and \(capacity)")
        }
        let bytes = Self.bytes(config: config, batch: batch, capacity: capacity)
        guard let bytes, bytes <= SystemMemory.budgetBytes else {
            throw ModelError.invalidInput(
                "a KV cache of \(batch) row\(batch == 1 ? "" : "s") × \(capacity) slots needs \(SystemMemory.describe(bytes)), more than the "
                + "\(SystemMemory.describe(SystemMemory.budgetBytes)) (3/4 of this machine's \(SystemMemory.describe(SystemMemory.physicalBytes))) it may take")
        }
        self.batch = batch
        self.capacity = capacity
        keyValueHeads = config.numKeyValueHeads
        headDimension = config.headDim
        let layer = try Tensor.zeros([batch, capacity, keyValueHeads, headDimension])
        keys = Array(repeating: layer, count: config.numHiddenLayers)
        values = keys
        masks = Array(repeating: Array(repeating: false, count: batch * capacity), count: config.numHiddenLayers)
        nextPositions = Array(repeating: 0, count: batch)
    }

    /// Empties the cache for reuse with the same batch size and capacity (no reallocation).
    public func reset() {
        length = 0
        for layer in masks.indices { for index in masks[layer].indices { masks[layer][index] = false } }
        for index in nextPositions.indices { nextPositions[index] = 0 }
    }

    /// Writes `newKeys`, `newValues` (`[batch, count, keyValueHeads, headDimension]`) of layer
    /// `layer` into slots `start ..< start + count`.
    func write(layer: Int, keys newKeys: Tensor, values newValues: Tensor, at start: Int) throws {
        let count = newKeys.shape[1]
        guard start + count <= capacity else {
            throw ModelError.invalidInput("KV cache of \(capacity) slots is full (needs \(start + count))")
        }
        let rowWidth = keyValueHeads * headDimension
        for (source, isKey) in [(newKeys, true), (newValues, false)] {
            source.withUnsafeBufferPointer { input in
                let copy: (UnsafeMutableBufferPointer<Float>) -> Void = { cache in
                    for row in 0..<self.batch {
                        let from = row * count * rowWidth
                        let to = (row * self.capacity + start) * rowWidth
                        for i in 0..<(count * rowWidth) { cache[to + i] = input[from + i] }
                    }
                }
                if isKey { keys[layer].withUnsafeMutableBufferPointer(copy) } else { values[layer].withUnsafeMutableBufferPointer(copy) }
            }
        }
    }
}

extension KVCache {
    /// Copies row `row` of this cache — every filled slot of every layer, its masks and its next
    /// position — into the single-row cache `target`, replacing what it held. A batch prefilled
    /// together can so continue as independent rows.
    /// - Throws: ``ModelError/invalidInput(_:)`` if `target` is not a single-row cache of the same
    ///   shape with room for ``length`` slots, or `row` is out of range.
    public func copyRow(_ row: Int, into target: KVCache) throws {
        guard (0..<batch).contains(row), target.batch == 1, target.capacity >= length,
              target.keyValueHeads == keyValueHeads, target.headDimension == headDimension, target.keys.count == keys.count else {
            throw ModelError.invalidInput(
                "cannot copy row \(row) of a \(batch)-row cache of \(length) filled slots into a \(target.batch)-row cache of \(target.capacity)")
        }
        let slotWidth = keyValueHeads * headDimension
        for layer in keys.indices {
            for (source, isKey) in [(keys[layer], true), (values[layer], false)] {
                source.withUnsafeBufferPointer { input in
                    let copy: (UnsafeMutableBufferPointer<Float>) -> Void = { output in
                        let from = row * self.capacity * slotWidth
                        for i in 0..<(self.length * slotWidth) { output[i] = input[from + i] }
                    }
                    if isKey { target.keys[layer].withUnsafeMutableBufferPointer(copy) } else { target.values[layer].withUnsafeMutableBufferPointer(copy) }
                }
            }
            for slot in 0..<target.capacity {
                target.masks[layer][slot] = slot < length && masks[layer][row * capacity + slot]
            }
        }
        target.length = length
        target.nextPositions[0] = nextPositions[row]
    }
}
