/// Turns text into token ids and back.
///
/// Ids are indices into a model's embedding table: every id a tokenizer produces or accepts lies in
/// `0..<vocabularySize`. Implementations are immutable values that can be shared across tasks.
public protocol Tokenizer: Sendable {
    /// The number of ids: one more than the largest id the tokenizer knows, so an embedding table
    /// with this many rows can look up any id it produces.
    var vocabularySize: Int { get }
    /// The id of the beginning-of-sequence token, if the tokenizer has one.
    var bosTokenID: Int? { get }
    /// The id of the end-of-sequence token, if the tokenizer has one.
    var eosTokenID: Int? { get }
    /// The id of the padding token, if the tokenizer has one.
    var padTokenID: Int? { get }

    /// The ids of `text`.
    /// - Parameters:
    ///   - text: Any string; special tokens written literally in it (such as `<s>`) become their ids.
    ///   - addSpecialTokens: Whether to add the tokens the tokenizer puts around a sequence (for the
    ///     LLaMA families, a beginning-of-sequence token in front).
    func encode(_ text: String, addSpecialTokens: Bool) -> [Int]

    /// The text of `ids`.
    /// - Parameters:
    ///   - ids: Token ids, each in `0..<vocabularySize`.
    ///   - skipSpecialTokens: Whether to leave special tokens (such as `<s>`) out of the text.
    /// - Throws: ``TokenizerError/idOutOfRange(id:vocabularySize:)`` if an id names no token.
    func decode(_ ids: [Int], skipSpecialTokens: Bool) throws -> String

    /// The id of the token spelled exactly `token` (compared byte for byte, not up to Unicode
    /// equivalence), or `nil` if there is none.
    func id(forToken token: String) -> Int?
}
