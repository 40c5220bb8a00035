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
