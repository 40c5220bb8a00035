import Foundation

/// Softmax and log-softmax over the last axis, with their backward kernels.
///
/// Rows are independent. `-infinity` entries act as masked positions and get probability 0; a row
/// that is entirely `-infinity` gives all zeros (not NaN), so a fully padded row is harmless.
extension Tensor {
    /// `softmax(x)` along the last axis. Shape is unchanged.
    /// - Throws: ``TensorError/invalidShape(_:_:)`` for a scalar.
    public func softmax() throws -> Tensor {
        let width = try lastAxisWidth("softmax")
        guard count > 0 else { return self }
        var result = self
        result.withUnsafeMutableBufferPointer { values in
            Softmax.rowsInPlace(values.baseAddress!, rows: count / max(width, 1), width: width)
        }
        return result
    }

    /// `log(softmax(x))` along the last axis, computed stably. Shape is unchanged.
    /// - Throws: ``TensorError/invalidShape(_:_:)`` for a scalar.
    public func logSoftmax() throws -> Tensor {
        let width = try lastAxisWidth("logSoftmax")
        var result = self
        result.withUnsafeMutableBufferPointer { values in
            for row in 0..<(count / max(width, 1)) {
                let start = row * width
                let maximum = VectorMath.maximum(values.baseAddress! + start, count: width)
                if maximum == -.infinity { continue }
                let logTotal = maximum + logf(VectorMath.sumOfExp(values.baseAddress! + start, count: width, shift: maximum))
                for j in 0..<width { values[start + j] -= logTotal }
            }
        }
        return result
    }

    /// Gradient of softmax: `dx = y ⊙ (dy − Σ_j dy_j·y_j)` per row, given the forward output `y`.
    /// - Throws: ``TensorError/shapeMismatch(_:_:)`` unless `output` and `outputGradient` match.
    public static func softmaxBackward(output: Tensor, outputGradient: Tensor) throws -> Tensor {
        let width = try output.lastAxisWidth("softmaxBackward")
        guard output.shape == outputGradient.shape else {
            throw TensorError.shapeMismatch("softmaxBackward", "\(output.shape) vs \(outputGradient.shape)")
        }
        var result = outputGradient
        result.withUnsafeMutableBufferPointer { grad in
            output.withUnsafeBufferPointer { y in
                for row in 0..<(output.count / max(width, 1)) {
                    let start = row * width
                    var dot: Float = 0
                    for j in 0..<width { dot += grad[start + j] * y[start + j] }
                    for j in 0..<width { grad[start + j] = y[start + j] * (grad[start + j] - dot) }
                }
            }
        }
        return result
    }

    /// Gradient of log-softmax: `dx = dy − softmax(x)·Σ_j dy_j`, given the forward output `log y`.
    /// - Throws: ``TensorError/shapeMismatch(_:_:)`` unless `output` and `outputGradient` match.
    public static func logSoftmaxBackward(output: Tensor, outputGradient: Tensor) throws -> Tensor {
        let width = try output.lastAxisWidth("logSoftmaxBackward")
        guard output.shape == outputGradient.shape else {
            throw TensorError.shapeMismatch("logSoftmaxBackward", "\(output.shape) vs \(outputGradient.shape)")
        }
        var result = outputGradient
        result.withUnsafeMutableBufferPointer { grad in
            output.withUnsafeBufferPointer { logY in
                for row in 0..<(output.count / max(width, 1)) {
                    let start = row * width
                    var total: Float = 0
                    for j in 0..<width { total += grad[start + j] }
                    for j in 0..<width { grad[start + j] -= expf(logY[start + j]) * total }
                }
            }
        }
        return result
    }

    func lastAxisWidth(_ op: String) throws -> Int {
        guard let width = shape.last else { throw TensorError.invalidShape(op, "needs rank ≥ 1, got a scalar") }
        return width
    }
}

/// Raw-buffer softmax, shared by ``Tensor/softmax()`` and the fused attention kernels.
public enum Softmax {
    /// Replaces each of `rows` rows of `width` values, one every `stride` values (default: contiguous),
    /// by its softmax. Rows that are all `-infinity` become all zeros.
    @inlinable
    public static func rowsInPlace(_ values: UnsafeMutablePointer<Float>, rows: Int, width: Int, stride: Int? = nil) {
        for row in 0..<rows {
            let start = values + row * (stride ?? width)
            let maximum = VectorMath.maximum(start, count: width)
            if maximum == -.infinity {
                for j in 0..<width { start[j] = 0 }
                continue
            }
            VectorMath.scale(start, count: width, by: 1 / VectorMath.expInPlace(start, count: width, shift: maximum))
        }
    }
}
