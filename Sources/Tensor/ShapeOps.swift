/// Copying shape operations: permute, concatenate, slice, split, and embedding gather/scatter.
extension Tensor {
    /// The axes reordered: result dimension `i` is this tensor's dimension `axes[i]`.
    /// - Throws: ``TensorError/outOfRange(_:_:)`` unless `axes` is a permutation of `0..<rank`.
    public func permuted(_ axes: [Int]) throws -> Tensor {
        guard axes.sorted() == Array(0..<rank) else {
            throw TensorError.outOfRange("permuted", "\(axes) is not a permutation of the axes of \(shape)")
        }
        if axes == Array(0..<rank) { return self }
        let outShape = axes.map { shape[$0] }
        var inputStrides = [Int](repeating: 1, count: rank)
        for axis in stride(from: rank - 2, through: 0, by: -1) {
            inputStrides[axis] = inputStrides[axis + 1] * shape[axis + 1]
        }
        let strides = axes.map { inputStrides[$0] }
        return Tensor.uninitialized(outShape) { out in
            withUnsafeBufferPointer { input in
                var index = [Int](repeating: 0, count: rank)
                var offset = 0
                for flat in 0..<out.count {
                    out[flat] = input[offset]
                    var axis = rank - 1
                    while axis >= 0 {
                        index[axis] += 1
                        offset += strides[axis]
                        if index[axis] < outShape[axis] { break }
                        offset -= strides[axis] * outShape[axis]
                        index[axis] = 0
                        axis -= 1
                    }
                }
            }
        }
    }

    /// The last two axes swapped (a matrix transpose for rank 2).
    /// - Throws: ``TensorError/outOfRange(_:_:)`` for rank below 2.
    public func transposed() throws -> Tensor {
        guard rank >= 2 else { throw TensorError.outOfRange("transposed", "needs rank ≥ 2, got \(shape)") }
        return try permuted(Array(0..<(rank - 2)) + [rank - 1, rank - 2])
    }

    /// Joins tensors along `axis`; all other dimensions must agree.
    /// - Throws: ``TensorError/shapeMismatch(_:_:)`` if they do not, or if `tensors` is empty;
    ///   ``TensorError/outOfRange(_:_:)`` for an invalid axis.
    public static func concatenate(_ tensors: [Tensor], alongAxis axis: Int) throws -> Tensor {
        guard let first = tensors.first else {
            throw TensorError.shapeMismatch("concatenate", "no tensors to join")
        }
        let (resolved, outer, _, inner) = try first.axisSplit(axis, op: "concatenate")
        for tensor in tensors {
            var a = tensor.shape, b = first.shape
            guard a.count == b.count else {
                throw TensorError.shapeMismatch("concatenate", "\(tensor.shape) vs \(first.shape)")
            }
            a[resolved] = 0
            b[resolved] = 0
            guard a == b else {
                throw TensorError.shapeMismatch("concatenate", "\(tensor.shape) vs \(first.shape) along axis \(axis)")
            }
        }
        var outShape = first.shape
        outShape[resolved] = tensors.reduce(0) { $0 + $1.shape[resolved] }
        let outRow = outShape[resolved] * inner
        var result = [Float](repeating: 0, count: outShape.reduce(1, *))
        var columnOffset = 0
        for tensor in tensors {
            let block = tensor.shape[resolved] * inner
            tensor.withUnsafeBufferPointer { input in
                result.withUnsafeMutableBufferPointer { out in
                    for o in 0..<outer {
                        for j in 0..<block { out[o * outRow + columnOffset + j] = input[o * block + j] }
                    }
                }
            }
            columnOffset += block
        }
        return Tensor(uncheckedShape: outShape, scalars: result)
    }

    /// The elements whose index along `axis` lies in `range`.
    /// - Throws: ``TensorError/outOfRange(_:_:)`` for an invalid axis or a range outside the dimension.
    public func slice(alongAxis axis: Int, _ range: Range<Int>) throws -> Tensor {
        let (resolved, outer, length, inner) = try axisSplit(axis, op: "slice")
        guard range.lowerBound >= 0, range.upperBound <= length else {
            throw TensorError.outOfRange("slice", "\(range) on axis \(axis) of size \(length)")
        }
        var outShape = shape
        outShape[resolved] = range.count
        let block = range.count * inner
        return Tensor.uninitialized(outShape) { out in
            withUnsafeBufferPointer { input in
                for o in 0..<outer {
                    let source = (o * length + range.lowerBound) * inner
                    for j in 0..<block { out[o * block + j] = input[source + j] }
                }
            }
        }
    }

    /// Splits along `axis` into consecutive pieces of the given sizes.
    /// - Throws: ``TensorError/shapeMismatch(_:_:)`` if the sizes do not add up to the dimension.
    public func split(alongAxis axis: Int, sizes: [Int]) throws -> [Tensor] {
        let (resolved, _, length, _) = try axisSplit(axis, op: "split")
        guard sizes.allSatisfy({ $0 >= 0 }), sizes.reduce(0, +) == length else {
            throw TensorError.shapeMismatch("split", "sizes \(sizes) for axis \(resolved) of size \(length)")
        }
        var start = 0
        return try sizes.map { size in
            defer { start += size }
            return try slice(alongAxis: resolved, start..<(start + size))
        }
    }

    /// Rows of a `[vocabulary, width]` table picked by `ids`: the result is `[ids.count, width]`.
    /// - Throws: ``TensorError/outOfRange(_:_:)`` naming the first id outside `0..<vocabulary`;
    ///   ``TensorError/invalidShape(_:_:)`` if the table is not 2-D.
    public func gatherRows(_ ids: [Int]) throws -> Tensor {
        guard rank == 2 else { throw TensorError.invalidShape("gatherRows", "table must be 2-D, got \(shape)") }
        let (rows, width) = (shape[0], shape[1])
        if let index = ids.firstIndex(where: { $0 < 0 || $0 >= rows }) {
            throw TensorError.outOfRange("gatherRows", "id \(ids[index]) at position \(index) for a table of \(rows) rows")
        }
        return Tensor.uninitialized([ids.count, width]) { out in
            guard width > 0 else { return }
            withUnsafeBufferPointer { table in
                for (row, id) in ids.enumerated() {
                    (out.baseAddress! + row * width).update(from: table.baseAddress! + id * width, count: width)
                }
            }
        }
    }

    /// The gradient of ``gatherRows(_:)``: a `[rows, width]` table of zeros with row `i` of
    /// `gradient` added to row `ids[i]` (repeated ids accumulate).
    /// - Throws: ``TensorError/shapeMismatch(_:_:)`` if `gradient` is not `[ids.count, width]`;
    ///   ``TensorError/outOfRange(_:_:)`` for an id outside `0..<rows`.
    public static func scatterAddRows(_ gradient: Tensor, ids: [Int], rows: Int) throws -> Tensor {
        guard gradient.rank == 2, gradient.shape[0] == ids.count else {
            throw TensorError.shapeMismatch("scatterAddRows", "gradient \(gradient.shape) for \(ids.count) ids")
        }
        if let bad = ids.first(where: { $0 < 0 || $0 >= rows }) {
            throw TensorError.outOfRange("scatterAddRows", "id \(bad) for \(rows) rows")
        }
        let width = gradient.shape[1]
        var result = [Float](repeating: 0, count: rows * width)
        gradient.withUnsafeBufferPointer { grad in
            result.withUnsafeMutableBufferPointer { out in
                for (row, id) in ids.enumerated() {
                    for j in 0..<width { out[id * width + j] += grad[row * width + j] }
                }
            }
        }
        return Tensor(uncheckedShape: [rows, width], scalars: result)
    }
}
