/// An error from loading a tokenizer or from decoding ids: what went wrong and where.
///
/// `source` names where a tokenizer definition came from (a file path, or a caller's description
/// for in-memory data); `key` is the dotted JSON path inside it, such as `model.merges[12]`.
public enum TokenizerError: Error, Equatable, CustomStringConvertible {
    /// The file could not be read. Associated values: the path, and the reason.
    case unreadableFile(path: String, reason: String)
    /// The data is not valid JSON. Associated values: the source, the byte offset of the problem,
    /// and what is wrong there.
    case malformedJSON(source: String, offset: Int, reason: String)
    /// A required key is absent. Associated values: the source, and the key's path.
    case missingKey(source: String, key: String)
    /// A value has the wrong type or an unusable value. Associated values: the source, the key's
    /// path, and what is wrong with it.
    case invalidValue(source: String, key: String, reason: String)
    /// A component (`model`, `normalizer`, `pre_tokenizer`, `post_processor`, `decoder`) has a
    /// type this package does not implement. Associated values: the source, the key's path, and
    /// the type name found there.
    case unsupportedComponent(source: String, key: String, type: String)
    /// An id passed to `decode` names no token. Associated values: the id, and the vocabulary size.
    case idOutOfRange(id: Int, vocabularySize: Int)

    public var description: String {
        switch self {
        case let .unreadableFile(path, reason):
            return "cannot read tokenizer file \(path): \(reason)"
        case let .malformedJSON(source, offset, reason):
            return "\(source): malformed JSON at byte \(offset): \(reason)"
        case let .missingKey(source, key):
            return "\(source): missing key `\(key)`"
        case let .invalidValue(source, key, reason):
            return "\(source): invalid value at `\(key)`: \(reason)"
        case let .unsupportedComponent(source, key, type):
            return "\(source): unsupported type \"\(type)\" at `\(key)`"
        case let .idOutOfRange(id, vocabularySize):
            return "token id \(id) names no token (vocabulary size \(vocabularySize))"
        }
    }
}
