import Tensor

/// Element-wise arithmetic with broadcasting, reductions and reshapes.
extension Variable {
    /// `lhs + rhs` with broadcasting; each gradient is summed back to its operand's shape.
    /// - Throws: ``TensorError/shapeMismatch(_:_:)`` if the shapes do not broadcast.
    public static func + (lhs: Variable, rhs: Variable) throws -> Variable {
        let value = try lhs.value + rhs.value
        return operation(value, inputs: [lhs, rhs]) { grad in
            if lhs.requiresGradient { try lhs.accumulateGradient(grad.summed(toShape: lhs.shape)) }
            if rhs.requiresGradient { try rhs.accumulateGradient(grad.summed(toShape: rhs.shape)) }
        }
    }

    /// `lhs − rhs` with broadcasting.
    /// - Throws: ``TensorError/shapeMismatch(_:_:)`` if the shapes do not broadcast.
    public static func - (lhs: Variable, rhs: Variable) throws -> Variable {
        let value = try lhs.value - rhs.value
        return operation(value, inputs: [lhs, rhs]) { grad in
            if lhs.requiresGradient { try lhs.accumulateGradient(grad.summed(toShape: lhs.shape)) }
            if rhs.requiresGradient { try rhs.accumulateGradient((-grad).summed(toShape: rhs.shape)) }
        }
    }

    /// `lhs ⊙ rhs` with broadcasting.
    /// - Throws: ``TensorError/shapeMismatch(_:_:)`` if the shapes do not broadcast.
    public static func * (lhs: Variable, rhs: Variable) throws -> Variable {
        let value = try lhs.value * rhs.value
        return operation(value, inputs: [lhs, rhs]) { grad in
            if lhs.requiresGradient { try lhs.accumulateGradient((grad * rhs.value).summed(toShape: lhs.shape)) }
            if rhs.requiresGradient { try rhs.accumulateGradient((grad * lhs.value).summed(toShape: rhs.shape)) }
        }
    }

    /// `lhs ⊘ rhs` with broadcasting.
    /// - Throws: ``TensorError/shapeMismatch(_:_:)`` if the shapes do not broadcast.
    public static func / (lhs: Variable, rhs: Variable) throws -> Variable {
        let value = try lhs.value / rhs.value
        return operation(value, inputs: [lhs, rhs]) { grad in
            if lhs.requiresGradient { try lhs.accumulateGradient((grad / rhs.value).summed(toShape: lhs.shape)) }
            if rhs.requiresGradient {
                // d(a/b)/db = −a/b² = −(a/b)/b
                let local = try (-value) / rhs.value
                try rhs.accumulateGradient((grad * local).summed(toShape: rhs.shape))
            }
        }
    }

    /// Every element multiplied by the constant `scale`.
    public static func * (lhs: Variable, scale: Float) -> Variable {
        operation(lhs.value * scale, inputs: [lhs]) { grad in try lhs.accumulateGradient(grad * scale) }
    }

    /// The sum of all elements, as a scalar (shape `[]`).
    public func sum() -> Variable {
        let shape = self.shape
        return Variable.operation(Tensor(scalar: value.sum()), inputs: [self]) { grad in
            try self.accumulateGradient(Tensor(repeating: grad.scalars[0], shape: shape))
        }
    }

    /// The mean of all elements, as a scalar (shape `[]`).
    public func mean() -> Variable {
        sum() * (1 / Float(max(value.count, 1)))
    }

    /// Sums along `axis` (negative counts from the end).
    /// - Throws: ``TensorError/outOfRange(_:_:)`` for an invalid axis.
    public func sum(alongAxis axis: Int, keepingDimension: Bool = false) throws -> Variable {
        let result = try value.sum(alongAxis: axis, keepingDimension: keepingDimension)
        let shape = self.shape
        let resolved = axis < 0 ? axis + shape.count : axis
        return Variable.operation(result, inputs: [self]) { grad in
            var kept = shape
            kept[resolved] = 1
            let expanded = try grad.reshaped(kept) + Tensor.zeros(shape)
            try self.accumulateGradient(expanded)
        }
    }

    /// The same elements under a new shape (one dimension may be `-1`).
    /// - Throws: ``TensorError/invalidShape(_:_:)`` if the element counts differ.
    public func reshaped(_ newShape: [Int]) throws -> Variable {
        let shape = self.shape
        return Variable.operation(try value.reshaped(newShape), inputs: [self]) { grad in
            try self.accumulateGradient(grad.reshaped(shape))
        }
    }
}
