import Foundation

/// Softmax cross-entropy over a vocabulary, with ignored positions, as a fused kernel pair.
public enum CrossEntropy {
    /// The target value that marks a position to ignore (PyTorch's default `ignore_index`).
    public static let ignoredTarget = -100

    /// The mean of `−log softmax(logits[i])[targets[i]]` over positions whose target is not
    /// ``ignoredTarget``, and the per-row log-sum-exp that the backward pass reuses.
    ///
    /// - Parameters:
    ///   - logits: `[rows, vocabulary]`.
    ///   - targets: `rows` ids in `0..<vocabulary`, or ``ignoredTarget``.
    /// - Returns: the loss (0 when every position is ignored), the count of counted positions, and
    ///   `logSumExp: [rows]`.
    /// - Throws: ``TensorError/shapeMismatch(_:_:)`` if the sizes disagree;
    ///   ``TensorError/outOfRange(_:_:)`` naming the first target outside the vocabulary.
    public static func forward(
        logits: Tensor, targets: [Int]
    ) throws -> (loss: Float, counted: Int, logSumExp: [Float]) {
        guard logits.rank == 2, logits.shape[0] == targets.count else {
            throw TensorError.shapeMismatch("CrossEntropy", "logits \(logits.shape) for \(targets.count) targets")
        }
        let vocabulary = logits.shape[1]
        if let index = targets.firstIndex(where: { $0 != ignoredTarget && ($0 < 0 || $0 >= vocabulary) }) {
            throw TensorError.outOfRange("CrossEntropy", "target \(targets[index]) at row \(index) for vocabulary \(vocabulary)")
        }
        var logSumExp = [Float](repeating: 0, count: targets.count)
        logits.withUnsafeBufferPointer { values in
            logSumExp.withUnsafeMutableBufferPointer { lse in
                Parallel.forEach(targets.count, minimumChunk: max(1, 65_536 / max(vocabulary, 1))) { rows in
                    for row in rows where targets[row] != ignoredTarget {
                        let start = values.baseAddress! + row * vocabulary
                        let maximum = VectorMath.maximum(start, count: vocabulary)
                        lse[row] = maximum + logf(VectorMath.sumOfExp(start, count: vocabulary, shift: maximum))
                    }
                }
            }
        }
        // The mean in Double, in row order, so the loss does not depend on how rows were split.
        var total = 0.0
        var counted = 0
        logits.withUnsafeBufferPointer { values in
            for (row, target) in targets.enumerated() where target != ignoredTarget {
                total += Double(logSumExp[row] - values[row * vocabulary + target])
                counted += 1
            }
        }
        return (counted == 0 ? 0 : Float(total / Double(counted)), counted, logSumExp)
    }

    /// The gradient of the mean loss with respect to `logits`, scaled by `lossGradient`:
    /// `(softmax(logits[i]) − onehot(targets[i])) · lossGradient / counted` on counted rows, 0 elsewhere.
    /// - Throws: ``TensorError/shapeMismatch(_:_:)`` if the sizes disagree.
    public static func backward(
        logits: Tensor, targets: [Int], logSumExp: [Float], counted: Int, lossGradient: Float
    ) throws -> Tensor {
        guard logits.rank == 2, logits.shape[0] == targets.count, logSumExp.count == targets.count else {
            throw TensorError.shapeMismatch("CrossEntropy.backward", "logits \(logits.shape) for \(targets.count) targets")
        }
        let vocabulary = logits.shape[1]
        let scale = counted == 0 ? 0 : lossGradient / Float(counted)
        return Tensor.uninitialized(logits.shape) { out in
            logits.withUnsafeBufferPointer { values in
                Parallel.forEach(targets.count, minimumChunk: max(1, 65_536 / max(vocabulary, 1))) { rows in
                    for row in rows {
                        let start = row * vocabulary
                        let target = targets[row]
                        guard target != ignoredTarget else {
                            for j in 0..<vocabulary { out[start + j] = 0 }
                            continue
                        }
                        _ = SIMDKernels.expSum(
                            values.baseAddress! + start, count: vocabulary, shift: logSumExp[row],
                            into: out.baseAddress! + start, scale: scale)
                        out[start + target] -= scale
                    }
                }
            }
        }
    }
}
