/// An error from building or running a model: what is wrong, and with which input.
public enum ModelError: Error, Equatable, CustomStringConvertible {
    /// A weight is missing or misshaped; associated values: the key, and what is wrong.
    case badWeight(String, String)
    /// An input (tokens, batch, options) is invalid; the associated value says how.
    case invalidInput(String)
    /// A configuration value is unsupported or inconsistent; the associated value says which.
    case invalidConfiguration(String)

    public var description: String {
        switch self {
        case let .badWeight(key, detail): return "weight '\(key)': \(detail)"
        case let .invalidInput(detail): return "invalid input: \(detail)"
        case let .invalidConfiguration(detail): return "invalid configuration: \(detail)"
        }
    }
}
