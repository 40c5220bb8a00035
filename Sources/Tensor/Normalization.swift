/// RMSNorm, as LLaMA uses it: `y = x / sqrt(mean(x²) + eps) ⊙ weight` over the last axis.
public enum RMSNorm {
    /// Normalises each row of `x: [..., d]` and scales by `weight: [d]`.
    ///
    /// - Returns: `output` shaped like `x`, and `inverseRMS: [rows]` (`1/sqrt(mean(x²)+eps)` per row),
    ///   which ``backward(input:weight:inverseRMS:outputGradient:)`` reuses.
    /// - Throws: ``TensorError/shapeMismatch(_:_:)`` if `weight` is not `[d]`.
    public static func forward(
        _ x: Tensor, weight: Tensor, epsilon: Float
    ) throws -> (output: Tensor, inverseRMS: Tensor) {
        let width = try checkShapes(x, weight, op: "RMSNorm.forward")
        let rows = width == 0 ? 0 : x.count / width
        var inverseRMS = [Float](repeating: 0, count: rows)
        let output = Tensor.uninitialized(x.shape) { out in
            x.withUnsafeBufferPointer { input in
                weight.withUnsafeBufferPointer { gamma in
                    inverseRMS.withUnsafeMutableBufferPointer { inv in
                        Parallel.forEach(rows, minimumChunk: max(1, 16_384 / max(width, 1))) { range in
                            for row in range {
                                let start = row * width
                                let squares = VectorMath.dot(input.baseAddress! + start, input.baseAddress! + start, count: width)
                                let scale = 1 / (squares / Float(width) + epsilon).squareRoot()
                                inv[row] = scale
                                for j in 0..<width { out[start + j] = input[start + j] * scale * gamma[j] }
                            }
                        }
                    }
                }
            }
        }
        return (output, Tensor(uncheckedShape: [rows], scalars: inverseRMS))
    }

    /// Gradients of ``forward(_:weight:epsilon:)`` with respect to its input and its weight.
    ///
    /// With `n = x·r` (`r` the row's inverse RMS): `dx = r·(g − n·mean(g ⊙ n))` where
    /// `g = dy ⊙ weight`, and `dweight = Σ_rows dy ⊙ n`.
    /// - Parameter weightGradient: compute `dweight` (`false` for a frozen weight: it is then `nil`).
    /// - Throws: ``TensorError/shapeMismatch(_:_:)`` if the shapes disagree.
    public static func backward(
        input x: Tensor, weight: Tensor, inverseRMS: Tensor, outputGradient dy: Tensor, weightGradient wanted: Bool = true
    ) throws -> (inputGradient: Tensor, weightGradient: Tensor?) {
        let width = try checkShapes(x, weight, op: "RMSNorm.backward")
        let rows = width == 0 ? 0 : x.count / width
        guard dy.shape == x.shape, inverseRMS.count == rows else {
            throw TensorError.shapeMismatch(
                "RMSNorm.backward", "x \(x.shape), dy \(dy.shape), inverseRMS \(inverseRMS.shape)")
        }
        // Rows in fixed blocks, each with its own partial weight gradient, summed in block order
        // afterwards: parallel, and the same result whatever the thread count.
        let blockRows = 32
        let blocks = (rows + blockRows - 1) / blockRows
        var partials = [Float](repeating: 0, count: wanted ? blocks * width : 0)
        let inputGradient = Tensor.uninitialized(x.shape) { dx in
            x.withUnsafeBufferPointer { input in
                dy.withUnsafeBufferPointer { grad in
                    weight.withUnsafeBufferPointer { gamma in
                        inverseRMS.withUnsafeBufferPointer { inv in
                            partials.withUnsafeMutableBufferPointer { partial in
                                Parallel.forEach(blocks, minimumChunk: max(1, 16_384 / max(width * blockRows, 1))) { blockRange in
                                    for block in blockRange {
                                        let dGamma = partial.baseAddress.map { $0 + block * width }
                                        for row in (block * blockRows)..<min(rows, (block + 1) * blockRows) {
                                            let start = row * width
                                            let r = inv[row]
                                            var dot = VectorMath.Vector()
                                            var j = 0
                                            while j + 8 <= width {
                                                let g = VectorMath.load(grad.baseAddress! + start + j)
                                                let normalized = VectorMath.load(input.baseAddress! + start + j) * r
                                                dot += g * VectorMath.load(gamma.baseAddress! + j) * normalized
                                                if wanted { VectorMath.store(VectorMath.load(dGamma! + j) + g * normalized, dGamma! + j) }
                                                j += 8
                                            }
                                            var dotTotal = dot.sum()
                                            while j < width {
                                                let normalized = input[start + j] * r
                                                dotTotal += grad[start + j] * gamma[j] * normalized
                                                if wanted { dGamma![j] += grad[start + j] * normalized }
                                                j += 1
                                            }
                                            let meanDot = dotTotal / Float(width)
                                            for j in 0..<width {
                                                let normalized = input[start + j] * r
                                                dx[start + j] = r * (grad[start + j] * gamma[j] - normalized * meanDot)
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        guard wanted else { return (inputGradient, nil) }
        var weightGradient = [Float](repeating: 0, count: width)
        for block in 0..<blocks {
            for j in 0..<width { weightGradient[j] += partials[block * width + j] }
        }
        return (inputGradient, Tensor(uncheckedShape: [width], scalars: weightGradient))
    }

    private static func checkShapes(_ x: Tensor, _ weight: Tensor, op: String) throws -> Int {
        guard let width = x.shape.last, weight.shape == [width] else {
            throw TensorError.shapeMismatch(op, "input \(x.shape) with weight \(weight.shape)")
        }
        return width
    }
}
