import Tensor

extension Variable {
    /// Mean softmax cross-entropy of `x · Wᵀ` against `targets`, computed in chunks of rows so that
    /// the logits (`[rows, out]`, 400 MB for 2,048 rows of a 49,152-token vocabulary) never exist
    /// whole: each chunk's logits, loss and logit gradient are computed and turned into the input's
    /// (and a trainable weight's) gradient before the next chunk, so the peak is one chunk's logits
    /// and their gradient.
    ///
    /// The value equals ``crossEntropy(logits:targets:)`` over ``linear(_:weight:bias:)`` up to
    /// rounding (the mean is taken over all counted rows, in row order).
    ///
    /// - Parameters:
    ///   - x: `[rows, in]`.
    ///   - weight: `[out, in]`, packed or not (see ``packForLinear(inputGradient:)``).
    ///   - targets: `rows` ids in `0..<out`, or ``CrossEntropy/ignoredTarget`` to skip a row.
    ///   - rowsPerChunk: rows per chunk (at least 1); memory is about `2 · rowsPerChunk · out` floats.
    /// - Returns: the mean loss over counted rows, a scalar (0 when every row is ignored).
    /// - Throws: ``TensorError`` for mismatched shapes or a target outside `0..<out`.
    ///
    /// The gradients are computed in the forward pass when a gradient will be wanted, and scaled by
    /// the loss's gradient in the backward pass.
    public static func linearCrossEntropy(
        _ x: Variable, weight: Variable, targets: [Int], rowsPerChunk: Int = 256
    ) throws -> Variable {
        guard x.value.rank == 2, weight.value.rank == 2, x.shape[1] == weight.shape[1], x.shape[0] == targets.count,
              rowsPerChunk > 0 else {
            throw TensorError.shapeMismatch(
                "linearCrossEntropy", "x \(x.shape), weight \(weight.shape), \(targets.count) targets, \(rowsPerChunk) rows per chunk")
        }
        let (rows, inFeatures, outFeatures) = (x.shape[0], x.shape[1], weight.shape[0])
        if let index = targets.firstIndex(where: { $0 != CrossEntropy.ignoredTarget && !(0..<outFeatures).contains($0) }) {
            throw TensorError.outOfRange("linearCrossEntropy", "target \(targets[index]) at row \(index) for \(outFeatures) outputs")
        }
        let counted = targets.count { $0 != CrossEntropy.ignoredTarget }
        let wantsGradient = GradientMode.isEnabled && (x.requiresGradient || weight.requiresGradient)
        let packed = weight.packedWeight
        var total = 0.0
        var inputGradient = wantsGradient && x.requiresGradient ? [Float]() : nil
        inputGradient?.reserveCapacity(rows * inFeatures)
        var weightGradient: Tensor?
        for start in stride(from: 0, to: rows, by: rowsPerChunk) {
            let end = min(start + rowsPerChunk, rows)
            let chunkTargets = Array(targets[start..<end])
            let chunkCounted = chunkTargets.count { $0 != CrossEntropy.ignoredTarget }
            let chunk = try x.value.slice(alongAxis: 0, start..<end)
            if chunkCounted == 0 {
                inputGradient?.append(contentsOf: repeatElement(0, count: (end - start) * inFeatures))
                continue
            }
            let logits = try packed.map { try Tensor.matmul(chunk, $0.transposed) }
                ?? Tensor.matmul(chunk, weight.value, transposeB: true)
            let (loss, _, gradient) = try CrossEntropy.forward(logits: logits, targets: chunkTargets, computeGradient: wantsGradient)
            total += Double(loss) * Double(chunkCounted)
            guard var gradient else { continue }
            // The chunk's gradient is of its own mean; the loss is the mean over every counted row.
            gradient = gradient * (Float(chunkCounted) / Float(counted))
            if inputGradient != nil {
                let dx = try packed?.direct.map { try Tensor.matmul(gradient, $0) } ?? Tensor.matmul(gradient, weight.value)
                inputGradient?.append(contentsOf: dx.scalars)
            }
            if weight.requiresGradient {
                if weightGradient == nil {
                    weightGradient = try Tensor.matmul(gradient, chunk, transposeA: true)
                } else {
                    try weightGradient?.addMatmul(gradient, chunk, transposeA: true)
                }
            }
        }
        let mean = counted == 0 ? 0 : Float(total / Double(counted))
        let dx = try inputGradient.map { try Tensor(shape: [rows, inFeatures], scalars: $0) }
        return operation(Tensor(scalar: mean), inputs: [x, weight]) { grad in
            let scale = grad.scalars[0]
            if let dx, x.requiresGradient { try x.accumulateGradient(scale == 1 ? dx : dx * scale) }
            if let weightGradient, weight.requiresGradient {
                try weight.accumulateGradient(scale == 1 ? weightGradient : weightGradient * scale)
            }
        }
    }
}
