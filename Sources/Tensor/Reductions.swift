extension Tensor {
    /// Validates `axis` (negative counts from the end) and splits the shape around it into
    /// `(outer, length, inner)` element counts.
    func axisSplit(_ axis: Int, op: String) throws -> (axis: Int, outer: Int, length: Int, inner: Int) {
        let resolved = axis < 0 ? axis + rank : axis
        guard resolved >= 0, resolved < rank else {
            throw TensorError.outOfRange(op, "axis \(axis) for shape \(shape)")
        }
        let outer = shape[..<resolved].reduce(1, *)
        let inner = shape[(resolved + 1)...].reduce(1, *)
        return (resolved, outer, shape[resolved], inner)
    }

    /// The sum of all elements, accumulated in `Double`.
    public func sum() -> Float {
        withUnsafeBufferPointer { values in
            var total = 0.0
            for value in values { total += Double(value) }
            return Float(total)
        }
    }

    /// The mean of all elements (`nan` for an empty tensor).
    public func mean() -> Float { sum() / Float(count) }

    /// Sums along `axis` (negative counts from the end).
    /// - Parameter keepingDimension: keep `axis` with size 1 instead of removing it.
    /// - Throws: ``TensorError/outOfRange(_:_:)`` for an invalid axis.
    public func sum(alongAxis axis: Int, keepingDimension: Bool = false) throws -> Tensor {
        let (resolved, outer, length, inner) = try axisSplit(axis, op: "sum(alongAxis:)")
        var result = [Float](repeating: 0, count: outer * inner)
        withUnsafeBufferPointer { input in
            result.withUnsafeMutableBufferPointer { out in
                for o in 0..<outer {
                    for l in 0..<length {
                        let base = (o * length + l) * inner
                        for i in 0..<inner { out[o * inner + i] += input[base + i] }
                    }
                }
            }
        }
        var newShape = shape
        if keepingDimension { newShape[resolved] = 1 } else { newShape.remove(at: resolved) }
        return Tensor(uncheckedShape: newShape, scalars: result)
    }

    /// The index of the largest element of each row along the last axis (the first on ties),
    /// e.g. greedy token choice from logits `[rows, vocabulary]`.
    /// - Throws: ``TensorError/invalidShape(_:_:)`` for a scalar or an empty last axis.
    public func argmaxAlongLastAxis() throws -> [Int] {
        guard let width = shape.last, width > 0 else {
            throw TensorError.invalidShape("argmaxAlongLastAxis", "needs a non-empty last axis, got \(shape)")
        }
        return withUnsafeBufferPointer { values in
            (0..<(count / width)).map { row in
                var best = 0
                for j in 1..<width where values[row * width + j] > values[row * width + best] { best = j }
                return best
            }
        }
    }
}
