/// A dense, row-major, contiguous n-dimensional array of `Float` (32-bit).
///
/// `Tensor` is a value type: copies share storage until one of them is mutated (copy-on-write,
/// inherited from `Array`). Every operation that depends on shapes validates them and throws a
/// ``TensorError`` naming the operation and the shapes, so malformed input never traps.
///
/// A scalar has shape `[]` and one element. A dimension of size 0 is allowed (an empty tensor).
public struct Tensor: Sendable, Equatable {
    /// The size of each dimension, outermost first.
    public private(set) var shape: [Int]
    /// The elements in row-major order; `scalars.count == shape.reduce(1, *)`.
    public private(set) var scalars: [Float]

    /// Creates a tensor from its elements in row-major order.
    /// - Throws: ``TensorError/invalidShape(_:_:)`` if a dimension is negative or the element count
    ///   does not equal the product of `shape`.
    public init(shape: [Int], scalars: [Float]) throws {
        let count = try Tensor.elementCount(shape, op: "Tensor(shape:scalars:)")
        guard count == scalars.count else {
            throw TensorError.invalidShape(
                "Tensor(shape:scalars:)", "shape \(shape) holds \(count) elements, got \(scalars.count)")
        }
        self.shape = shape
        self.scalars = scalars
    }

    /// Creates a tensor without validation; for kernels that have already checked the shape.
    init(uncheckedShape shape: [Int], scalars: [Float]) {
        self.shape = shape
        self.scalars = scalars
    }

    /// A tensor of the given shape with every element equal to `value`.
    /// - Throws: ``TensorError/invalidShape(_:_:)`` if a dimension is negative.
    public init(repeating value: Float, shape: [Int]) throws {
        let count = try Tensor.elementCount(shape, op: "Tensor(repeating:shape:)")
        self.init(uncheckedShape: shape, scalars: [Float](repeating: value, count: count))
    }

    /// A tensor of zeros. - Throws: ``TensorError/invalidShape(_:_:)`` if a dimension is negative.
    public static func zeros(_ shape: [Int]) throws -> Tensor { try Tensor(repeating: 0, shape: shape) }

    /// A tensor of ones. - Throws: ``TensorError/invalidShape(_:_:)`` if a dimension is negative.
    public static func ones(_ shape: [Int]) throws -> Tensor { try Tensor(repeating: 1, shape: shape) }

    /// A scalar (shape `[]`).
    public init(scalar: Float) { self.init(uncheckedShape: [], scalars: [scalar]) }

    /// A 1-D tensor holding `values`.
    public init(_ values: [Float]) { self.init(uncheckedShape: [values.count], scalars: values) }

    /// A 2-D tensor from rows of equal length.
    /// - Throws: ``TensorError/invalidShape(_:_:)`` if the rows differ in length.
    public init(rows: [[Float]]) throws {
        let columns = rows.first?.count ?? 0
        guard rows.allSatisfy({ $0.count == columns }) else {
            throw TensorError.invalidShape("Tensor(rows:)", "rows have different lengths")
        }
        self.init(uncheckedShape: [rows.count, columns], scalars: rows.flatMap { $0 })
    }

    /// Creates a tensor of `shape` whose storage is filled by `initializer`, which must write every
    /// element of the buffer it receives (used by kernels to skip zero-filling).
    static func uninitialized(
        _ shape: [Int], _ initializer: (UnsafeMutableBufferPointer<Float>) throws -> Void
    ) rethrows -> Tensor {
        let count = shape.reduce(1, *)
        let scalars = try [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
            try initializer(buffer)
            initialized = count
        }
        return Tensor(uncheckedShape: shape, scalars: scalars)
    }

    /// Storage for `count` floats whose values are left unset, for kernels that write every
    /// element before anything reads it but not in one pass (``uninitialized(_:_:)`` is the form
    /// for one initializer).
    static func unsetStorage(_ count: Int) -> [Float] {
        [Float](unsafeUninitializedCapacity: count) { _, initialized in initialized = count }
    }

    /// The number of elements.
    public var count: Int { scalars.count }
    /// The number of dimensions.
    public var rank: Int { shape.count }
    /// The value of a one-element tensor, or `nil` if it has more or fewer elements.
    public var scalar: Float? { scalars.count == 1 ? scalars[0] : nil }

    /// Calls `body` with the elements in row-major order.
    public func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
        try scalars.withUnsafeBufferPointer(body)
    }

    /// Calls `body` with mutable access to the elements; the shape cannot change.
    public mutating func withUnsafeMutableBufferPointer<R>(
        _ body: (UnsafeMutableBufferPointer<Float>) throws -> R
    ) rethrows -> R {
        try scalars.withUnsafeMutableBufferPointer { try body($0) }
    }

    /// The same elements under a new shape with the same element count. One dimension may be `-1`,
    /// meaning "whatever is left".
    /// - Throws: ``TensorError/invalidShape(_:_:)`` if the counts differ or more than one `-1` is given.
    public func reshaped(_ newShape: [Int]) throws -> Tensor {
        var resolved = newShape
        let wildcard = newShape.indices.filter { newShape[$0] == -1 }
        guard wildcard.count <= 1 else {
            throw TensorError.invalidShape("reshaped", "more than one -1 in \(newShape)")
        }
        if let index = wildcard.first {
            let known = newShape.enumerated().filter { $0.offset != index }.map(\.element)
            let product = try Tensor.elementCount(known, op: "reshaped")
            guard product > 0, count % product == 0 else {
                throw TensorError.invalidShape("reshaped", "cannot infer -1 in \(newShape) for \(count) elements")
            }
            resolved[index] = count / product
        }
        guard try Tensor.elementCount(resolved, op: "reshaped") == count else {
            throw TensorError.invalidShape("reshaped", "shape \(shape) cannot become \(newShape)")
        }
        return Tensor(uncheckedShape: resolved, scalars: scalars)
    }

    /// The product of the dimensions, validated.
    static func elementCount(_ shape: [Int], op: String) throws -> Int {
        var count = 1
        for dimension in shape {
            guard dimension >= 0 else {
                throw TensorError.invalidShape(op, "negative dimension in \(shape)")
            }
            let (product, overflow) = count.multipliedReportingOverflow(by: dimension)
            guard !overflow else { throw TensorError.invalidShape(op, "shape \(shape) overflows Int") }
            count = product
        }
        return count
    }
}

extension Tensor: CustomStringConvertible {
    /// The shape and up to eight leading elements.
    public var description: String {
        let head = scalars.prefix(8).map { "\($0)" }.joined(separator: ", ")
        return "Tensor(shape: \(shape), [\(head)\(count > 8 ? ", …" : "")])"
    }
}
