import Tensor

/// Copying shape ops and the embedding lookup.
extension Variable {
    /// The axes reordered: result dimension `i` is dimension `axes[i]` of the input.
    /// - Throws: ``TensorError/outOfRange(_:_:)`` unless `axes` is a permutation.
    public func permuted(_ axes: [Int]) throws -> Variable {
        var inverse = [Int](repeating: 0, count: axes.count)
        for (position, axis) in axes.enumerated() where axis >= 0 && axis < axes.count { inverse[axis] = position }
        return Variable.operation(try value.permuted(axes), inputs: [self]) { grad in
            try self.accumulateGradient(grad.permuted(inverse))
        }
    }

    /// Joins variables along `axis`.
    /// - Throws: ``TensorError/shapeMismatch(_:_:)`` if the other dimensions differ.
    public static func concatenate(_ parts: [Variable], alongAxis axis: Int) throws -> Variable {
        let value = try Tensor.concatenate(parts.map(\.value), alongAxis: axis)
        let sizes = parts.map { $0.shape[axis < 0 ? axis + $0.shape.count : axis] }
        return operation(value, inputs: parts) { grad in
            for (part, piece) in zip(parts, try grad.split(alongAxis: axis, sizes: sizes)) where part.requiresGradient {
                try part.accumulateGradient(piece)
            }
        }
    }

    /// The elements whose index along `axis` lies in `range`.
    /// - Throws: ``TensorError/outOfRange(_:_:)`` if `range` is outside the dimension.
    public func slice(alongAxis axis: Int, _ range: Range<Int>) throws -> Variable {
        let shape = self.shape
        let resolved = axis < 0 ? axis + shape.count : axis
        return Variable.operation(try value.slice(alongAxis: axis, range), inputs: [self]) { grad in
            let length = shape[resolved]
            var pieces = [grad]
            var before = shape, after = shape
            before[resolved] = range.lowerBound
            after[resolved] = length - range.upperBound
            if range.lowerBound > 0 { pieces.insert(try Tensor.zeros(before), at: 0) }
            if range.upperBound < length { pieces.append(try Tensor.zeros(after)) }
            try self.accumulateGradient(Tensor.concatenate(pieces, alongAxis: resolved))
        }
    }

    /// Embedding lookup: rows `ids` of `table: [vocabulary, width]`, giving `[ids.count, width]`.
    /// The gradient scatters back into the rows used (repeated ids accumulate).
    /// - Throws: ``TensorError/outOfRange(_:_:)`` naming the first id outside the table.
    public static func embedding(_ table: Variable, ids: [Int]) throws -> Variable {
        let output = try table.value.gatherRows(ids)
        let rows = table.shape[0]
        return operation(output, inputs: [table]) { grad in
            try table.accumulateGradient(Tensor.scatterAddRows(grad, ids: ids, rows: rows))
        }
    }
}

extension Variable {
    /// The rows `indices` of this variable along its first axis: `[count, ...]` → `[indices.count, ...]`.
    /// The gradient scatters back (repeated indices accumulate).
    /// - Throws: ``TensorError/outOfRange(_:_:)`` for an index outside the first axis;
    ///   ``TensorError/invalidShape(_:_:)`` for a scalar.
    public func selectRows(_ indices: [Int]) throws -> Variable {
        guard let count = shape.first else { throw TensorError.invalidShape("selectRows", "needs rank ≥ 1, got a scalar") }
        let rest = Array(shape.dropFirst())
        let table = try reshaped([count, rest.reduce(1, *)])
        return try Variable.embedding(table, ids: indices).reshaped([indices.count] + rest)
    }

    /// Places the rows of this variable (`[indices.count, ...]`) at `indices` of a zero tensor with
    /// `count` rows: the inverse of ``selectRows(_:)``, used to merge the results of sub-batches.
    /// - Throws: ``TensorError`` if `indices` does not match the first axis or is outside `0..<count`.
    public func scatterRows(_ indices: [Int], count: Int) throws -> Variable {
        guard let rows = shape.first, rows == indices.count else {
            throw TensorError.shapeMismatch("scatterRows", "\(shape) for \(indices.count) indices")
        }
        let rest = Array(shape.dropFirst())
        let width = rest.reduce(1, *)
        let scattered = try Tensor.scatterAddRows(value.reshaped([rows, width]), ids: indices, rows: count)
        return Variable.operation(try scattered.reshaped([count] + rest), inputs: [self]) { grad in
            try self.accumulateGradient(grad.reshaped([count, width]).gatherRows(indices).reshaped(self.shape))
        }
    }

    /// One tensor of `shape` (`[count, length, rest…]`) assembled from parts shaped
    /// `[rows.count, length_k, rest…]` with `length_k ≤ length`: row `i` of a part lands at row
    /// `rows[i]`, right-aligned on the second axis (its positions `length − length_k..<length`);
    /// every element no part covers is zero. For rank-2 shapes a part's rows must be whole.
    ///
    /// This is how sub-batches' results join into the batch's (each adapter's rows, its prompts
    /// right-aligned before the real tokens), written in place, with no zero tensor per part. A
    /// single part covering every row in order with `shape` itself is returned as it is.
    /// - Throws: ``TensorError`` if a part's rows do not match its first axis, a row is outside
    ///   `0..<count` or in two parts, or a part's shape does not fit `shape`.
    public static func assemblingRows(_ parts: [(rows: [Int], value: Variable)], shape: [Int]) throws -> Variable {
        guard shape.count >= 2, let count = shape.first else {
            throw TensorError.invalidShape("assemblingRows", "needs rank ≥ 2, got \(shape)")
        }
        let width = shape.dropFirst().reduce(1, *)
        var covered = [Bool](repeating: false, count: count)
        for (rows, part) in parts {
            let partShape = part.shape
            guard partShape.count == shape.count, partShape[0] == rows.count, partShape[1] <= shape[1],
                  Array(partShape.dropFirst(2)) == Array(shape.dropFirst(2)) else {
                throw TensorError.shapeMismatch("assemblingRows", "part \(partShape) for \(rows.count) rows of \(shape)")
            }
            for row in rows {
                guard (0..<count).contains(row), !covered[row] else {
                    throw TensorError.outOfRange("assemblingRows", "row \(row) is outside 0..<\(count) or in two parts")
                }
                covered[row] = true
            }
        }
        if parts.count == 1, parts[0].value.shape == shape, parts[0].rows == Array(0..<count) { return parts[0].value }
        var output = try Tensor.zeros(shape)
        output.withUnsafeMutableBufferPointer { out in
            for (rows, part) in parts {
                let partWidth = part.value.count / max(rows.count, 1)
                part.value.withUnsafeBufferPointer { values in
                    for (index, row) in rows.enumerated() {
                        let target = out.baseAddress! + row * width + width - partWidth
                        target.update(from: values.baseAddress! + index * partWidth, count: partWidth)
                    }
                }
            }
        }
        return Variable.operation(output, inputs: parts.map(\.value)) { grad in
            try grad.withUnsafeBufferPointer { gradient in
                for (rows, part) in parts where part.requiresGradient {
                    let partWidth = part.value.count / max(rows.count, 1)
                    var slice = [Float](repeating: 0, count: part.value.count)
                    for (index, row) in rows.enumerated() {
                        let source = gradient.baseAddress! + row * width + width - partWidth
                        slice.withUnsafeMutableBufferPointer { $0.baseAddress!.advanced(by: index * partWidth).update(from: source, count: partWidth) }
                    }
                    try part.accumulateGradient(Tensor(shape: part.shape, scalars: slice))
                }
            }
        }
    }

    /// Inverted dropout: each element is zeroed with probability `probability` and the survivors
    /// are scaled by `1 / (1 − probability)`, with draws from `generator`. The identity when
    /// `probability` is 0.
    /// - Throws: ``TensorError/outOfRange(_:_:)`` unless `probability` is in `[0, 1)`.
    public func dropout(probability: Float, generator: inout SeededGenerator) throws -> Variable {
        guard probability >= 0, probability < 1 else {
            throw TensorError.outOfRange("dropout", "probability \(probability) is not in [0, 1)")
        }
        guard probability > 0 else { return self }
        let keep = 1 - probability
        var mask = try Tensor.zeros(shape)
        mask.withUnsafeMutableBufferPointer { m in
            for i in 0..<m.count { m[i] = generator.nextUnitFloat() < keep ? 1 / keep : 0 }
        }
        let output = try value * mask
        return Variable.operation(output, inputs: [self]) { grad in try self.accumulateGradient(grad * mask) }
    }
}
