/// An error from a tensor operation: what went wrong and in which operation.
public enum TensorError: Error, Equatable, CustomStringConvertible {
    /// A shape is malformed (negative dimension, wrong element count, overflow).
    /// Associated values: the operation, and what is wrong.
    case invalidShape(String, String)
    /// Two or more operands have shapes that do not fit together.
    /// Associated values: the operation, and the shapes involved.
    case shapeMismatch(String, String)
    /// An argument is outside its valid range (an axis, an index, a token id, a degree).
    /// Associated values: the operation, and what is out of range.
    case outOfRange(String, String)
    /// A LAPACK routine reported failure. Associated values: the routine, and its `info` code.
    case lapackFailure(String, Int)

    public var description: String {
        switch self {
        case let .invalidShape(op, detail): return "\(op): invalid shape: \(detail)"
        case let .shapeMismatch(op, detail): return "\(op): shape mismatch: \(detail)"
        case let .outOfRange(op, detail): return "\(op): out of range: \(detail)"
        case let .lapackFailure(routine, info): return "\(routine) failed with info = \(info)"
        }
    }
}
