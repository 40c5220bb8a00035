/// An error from building, reading or applying an adapter: what is wrong and where.
public enum AdapterError: Error, Equatable, CustomStringConvertible {
    /// `adapter_config.json` is invalid; associated values: the file (or "configuration"), the key,
    /// and the reason.
    case invalidConfiguration(file: String, key: String, reason: String)
    /// A tensor is missing, misshaped or unexpected; associated values: the file, the key, the reason.
    case badTensor(file: String, key: String, reason: String)
    /// The `peft_type` names no adapter type in the registry; associated values: the file and type.
    case unknownType(file: String, peftType: String)
    /// No adapter method of this name is registered; associated values: the name and the known names.
    case unknownMethod(String, known: [String])
    /// The adapter does not fit the model or the request; the associated value says how.
    case mismatch(String)

    public var description: String {
        switch self {
        case let .invalidConfiguration(file, key, reason): return "\(file): '\(key)': \(reason)"
        case let .badTensor(file, key, reason): return "\(file): tensor '\(key)': \(reason)"
        case let .unknownType(file, peftType):
            return "\(file): peft_type '\(peftType)' is not a registered adapter type"
        case let .unknownMethod(name, known):
            return "'\(name)' is not a registered adapter method (known: \(known.joined(separator: ", ")))"
        case let .mismatch(detail): return detail
        }
    }
}
