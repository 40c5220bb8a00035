/// Element-wise arithmetic with NumPy broadcasting, and unary maps.
///
/// Broadcasting aligns shapes at their last dimension; a dimension of size 1 (or a missing leading
/// dimension) stretches to match the other operand. `[4, 3] + [3]` and `[4, 1] * [1, 5]` work;
/// `[4, 3] + [4]` throws.
extension Tensor {
    /// The shape two operands broadcast to.
    /// - Throws: ``TensorError/shapeMismatch(_:_:)`` if a pair of dimensions differs and neither is 1.
    public static func broadcastShape(_ a: [Int], _ b: [Int], op: String = "broadcast") throws -> [Int] {
        let rank = max(a.count, b.count)
        var result = [Int](repeating: 1, count: rank)
        for axis in 0..<rank {
            let da = axis < rank - a.count ? 1 : a[axis - (rank - a.count)]
            let db = axis < rank - b.count ? 1 : b[axis - (rank - b.count)]
            guard da == db || da == 1 || db == 1 else {
                throw TensorError.shapeMismatch(op, "\(a) and \(b) do not broadcast")
            }
            result[axis] = da == 1 ? db : da
        }
        return result
    }

    /// Row-major strides of `shape` as seen from `outShape`, with 0 on broadcast dimensions.
    static func broadcastStrides(_ shape: [Int], in outShape: [Int]) -> [Int] {
        var strides = [Int](repeating: 0, count: outShape.count)
        var step = 1
        for axis in stride(from: shape.count - 1, through: 0, by: -1) {
            let outAxis = axis + outShape.count - shape.count
            strides[outAxis] = shape[axis] == 1 ? 0 : step
            step *= shape[axis]
        }
        return strides
    }

    /// Applies `f` to broadcast pairs of elements. Fast paths for equal shapes and for an operand
    /// that repeats along leading dimensions (a bias); an odometer walk otherwise.
    @inline(__always)
    static func broadcastBinary(
        _ a: Tensor, _ b: Tensor, op: String, _ f: (Float, Float) -> Float
    ) throws -> Tensor {
        if a.shape == b.shape {
            return Tensor.uninitialized(a.shape) { out in
                a.withUnsafeBufferPointer { pa in
                    b.withUnsafeBufferPointer { pb in
                        for i in 0..<out.count { out[i] = f(pa[i], pb[i]) }
                    }
                }
            }
        }
        let outShape = try broadcastShape(a.shape, b.shape, op: op)
        let outCount = outShape.reduce(1, *)
        if outCount == 0 { return Tensor(uncheckedShape: outShape, scalars: []) }
        if outShape == a.shape, isTrailing(b.shape, of: a.shape) {
            let period = b.count
            return Tensor.uninitialized(outShape) { out in
                a.withUnsafeBufferPointer { pa in
                    b.withUnsafeBufferPointer { pb in
                        for start in stride(from: 0, to: outCount, by: period) {
                            for j in 0..<period { out[start + j] = f(pa[start + j], pb[j]) }
                        }
                    }
                }
            }
        }
        if outShape == b.shape, isTrailing(a.shape, of: b.shape) {
            let period = a.count
            return Tensor.uninitialized(outShape) { out in
                a.withUnsafeBufferPointer { pa in
                    b.withUnsafeBufferPointer { pb in
                        for start in stride(from: 0, to: outCount, by: period) {
                            for j in 0..<period { out[start + j] = f(pa[j], pb[start + j]) }
                        }
                    }
                }
            }
        }
        let stridesA = broadcastStrides(a.shape, in: outShape)
        let stridesB = broadcastStrides(b.shape, in: outShape)
        return Tensor.uninitialized(outShape) { out in
            a.withUnsafeBufferPointer { pa in
                b.withUnsafeBufferPointer { pb in
                    var index = [Int](repeating: 0, count: outShape.count)
                    var offsetA = 0, offsetB = 0
                    for flat in 0..<outCount {
                        out[flat] = f(pa[offsetA], pb[offsetB])
                        var axis = outShape.count - 1
                        while axis >= 0 {
                            index[axis] += 1
                            offsetA += stridesA[axis]
                            offsetB += stridesB[axis]
                            if index[axis] < outShape[axis] { break }
                            offsetA -= stridesA[axis] * outShape[axis]
                            offsetB -= stridesB[axis] * outShape[axis]
                            index[axis] = 0
                            axis -= 1
                        }
                    }
                }
            }
        }
    }

    /// Whether `inner` equals the trailing dimensions of `outer` (ignoring leading 1s of `inner`).
    static func isTrailing(_ inner: [Int], of outer: [Int]) -> Bool {
        let trimmed = Array(inner.drop(while: { $0 == 1 }))
        return trimmed.count <= outer.count && Array(outer.suffix(trimmed.count)) == trimmed
    }

    /// Element-wise sum with broadcasting. - Throws: ``TensorError/shapeMismatch(_:_:)``.
    public static func + (lhs: Tensor, rhs: Tensor) throws -> Tensor {
        try broadcastBinary(lhs, rhs, op: "+") { $0 + $1 }
    }

    /// Element-wise difference with broadcasting. - Throws: ``TensorError/shapeMismatch(_:_:)``.
    public static func - (lhs: Tensor, rhs: Tensor) throws -> Tensor {
        try broadcastBinary(lhs, rhs, op: "-") { $0 - $1 }
    }

    /// Element-wise product with broadcasting. - Throws: ``TensorError/shapeMismatch(_:_:)``.
    public static func * (lhs: Tensor, rhs: Tensor) throws -> Tensor {
        try broadcastBinary(lhs, rhs, op: "*") { $0 * $1 }
    }

    /// Element-wise quotient with broadcasting. - Throws: ``TensorError/shapeMismatch(_:_:)``.
    public static func / (lhs: Tensor, rhs: Tensor) throws -> Tensor {
        try broadcastBinary(lhs, rhs, op: "/") { $0 / $1 }
    }

    /// Every element multiplied by `scale`.
    public static func * (lhs: Tensor, scale: Float) -> Tensor { lhs.map { $0 * scale } }

    /// Every element plus `offset`.
    public static func + (lhs: Tensor, offset: Float) -> Tensor { lhs.map { $0 + offset } }

    /// Every element negated.
    public static prefix func - (operand: Tensor) -> Tensor { operand.map { -$0 } }

    /// A tensor of the same shape with `transform` applied to every element.
    public func map(_ transform: (Float) -> Float) -> Tensor {
        Tensor.uninitialized(shape) { out in
            withUnsafeBufferPointer { input in
                for i in 0..<out.count { out[i] = transform(input[i]) }
            }
        }
    }

    /// Adds `scale · other` to this tensor in place: the accumulation step of gradients.
    /// - Throws: ``TensorError/shapeMismatch(_:_:)`` unless the shapes are equal.
    public mutating func addScaled(_ other: Tensor, by scale: Float = 1) throws {
        guard shape == other.shape else {
            throw TensorError.shapeMismatch("addScaled", "\(shape) += \(other.shape)")
        }
        withUnsafeMutableBufferPointer { out in
            other.withUnsafeBufferPointer { input in
                for i in 0..<out.count { out[i] += scale * input[i] }
            }
        }
    }

    /// Sums a broadcast result back to `targetShape`: the gradient of broadcasting an operand of
    /// that shape up to this tensor's shape.
    /// - Throws: ``TensorError/shapeMismatch(_:_:)`` if `targetShape` does not broadcast to `shape`.
    public func summed(toShape targetShape: [Int]) throws -> Tensor {
        if targetShape == shape { return self }
        guard try Tensor.broadcastShape(targetShape, shape, op: "summed(toShape:)") == shape else {
            throw TensorError.shapeMismatch("summed(toShape:)", "\(targetShape) does not broadcast to \(shape)")
        }
        let targetCount = targetShape.reduce(1, *)
        var result = [Float](repeating: 0, count: targetCount)
        guard count > 0 else { return Tensor(uncheckedShape: targetShape, scalars: result) }
        if Tensor.isTrailing(targetShape, of: shape) {
            withUnsafeBufferPointer { input in
                result.withUnsafeMutableBufferPointer { out in
                    for start in stride(from: 0, to: count, by: max(targetCount, 1)) {
                        for j in 0..<targetCount { out[j] += input[start + j] }
                    }
                }
            }
            return Tensor(uncheckedShape: targetShape, scalars: result)
        }
        let strides = Tensor.broadcastStrides(targetShape, in: shape)
        withUnsafeBufferPointer { input in
            result.withUnsafeMutableBufferPointer { out in
                var index = [Int](repeating: 0, count: shape.count)
                var offset = 0
                for flat in 0..<count {
                    out[offset] += input[flat]
                    var axis = shape.count - 1
                    while axis >= 0 {
                        index[axis] += 1
                        offset += strides[axis]
                        if index[axis] < shape[axis] { break }
                        offset -= strides[axis] * shape[axis]
                        index[axis] = 0
                        axis -= 1
                    }
                }
            }
        }
        return Tensor(uncheckedShape: targetShape, scalars: result)
    }
}
