import Foundation

/// Softmax cross-entropy over a vocabulary, with ignored positions, as a fused kernel pair.
public enum CrossEntropy {
    /// The target value that marks a position to ignore (PyTorch's default `ignore_index`).
    public static let ignoredTarget = -100

    /// The mean of `−log softmax(logits[i])[targets[i]]` over positions whose target is not
    /// ``ignoredTarget`` and, when asked for, its gradient with respect to `logits`, computed in the
    /// same pass over each row while the row is in cache (the backward pass then only scales it).
    ///
    /// - Parameters:
    ///   - logits: `[rows, vocabulary]`.
    ///   - targets: `rows` ids in `0..<vocabulary`, or ``ignoredTarget``.
    ///   - computeGradient: also return `(softmax(logits[i]) − onehot(targets[i])) / counted` for
    ///     counted rows, 0 for ignored ones: the gradient of the mean loss, `[rows, vocabulary]`.
    /// - Returns: the loss (0 when every position is ignored), the count of counted positions, and
    ///   the gradient when `computeGradient`.
    /// - Throws: ``TensorError/shapeMismatch(_:_:)`` if the sizes disagree;
    ///   ``TensorError/outOfRange(_:_:)`` naming the first target outside the vocabulary.
    public static func forward(
        logits: Tensor, targets: [Int], computeGradient: Bool = false
    ) throws -> (loss: Float, counted: Int, gradient: Tensor?) {
        guard logits.rank == 2, logits.shape[0] == targets.count else {
            throw TensorError.shapeMismatch("CrossEntropy", "logits \(logits.shape) for \(targets.count) targets")
        }
        let vocabulary = logits.shape[1]
        if let index = targets.firstIndex(where: { $0 != ignoredTarget && ($0 < 0 || $0 >= vocabulary) }) {
            throw TensorError.outOfRange("CrossEntropy", "target \(targets[index]) at row \(index) for vocabulary \(vocabulary)")
        }
        let counted = targets.count { $0 != ignoredTarget }
        var logSumExp = [Float](repeating: 0, count: targets.count)
        var gradient = computeGradient ? Tensor.unsetStorage(logits.count) : []
        logits.withUnsafeBufferPointer { values in
        logSumExp.withUnsafeMutableBufferPointer { lse in
        gradient.withUnsafeMutableBufferPointer { gradient in
            Parallel.forEach(targets.count, minimumChunk: max(1, 65_536 / max(vocabulary, 1))) { rows in
                for row in rows {
                    let start = values.baseAddress! + row * vocabulary
                    let rowGradient = computeGradient ? gradient.baseAddress! + row * vocabulary : nil
                    let target = targets[row]
                    guard target != ignoredTarget else {
                        rowGradient?.initialize(repeating: 0, count: vocabulary)
                        continue
                    }
                    let maximum = VectorMath.maximum(start, count: vocabulary)
                    // With a gradient, e^(x − max) goes to its row on the way and is scaled to
                    // softmax / counted once the sum is known.
                    let sum = SIMDKernels.expSum(start, count: vocabulary, shift: maximum, into: rowGradient)
                    lse[row] = maximum + logf(sum)
                    if let rowGradient {
                        VectorMath.scale(rowGradient, count: vocabulary, by: 1 / (sum * Float(counted)))
                        rowGradient[target] -= 1 / Float(counted)
                    }
                }
            }
        }}}
        // The mean in Double, in row order, so the loss does not depend on how rows were split.
        var total = 0.0
        logits.withUnsafeBufferPointer { values in
            for (row, target) in targets.enumerated() where target != ignoredTarget {
                total += Double(logSumExp[row] - values[row * vocabulary + target])
            }
        }
        return (counted == 0 ? 0 : Float(total / Double(counted)), counted,
                computeGradient ? Tensor(uncheckedShape: logits.shape, scalars: gradient) : nil)
    }
}
