/// Turns text into token ids and back.
///
/// Ids are indices into a model's embedding table: every id a tokenizer produces or accepts lies in
/// `0..<vocabularySize`. Implementations are `Sendable` values: encoding and decoding do not
/// mutate them, so one tokenizer can serve many tasks at once.
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

    /// Whether `encode(_:addSpecialTokens: true)` puts ``bosTokenID`` in front of the text, as the
    /// model's tokenizer files say. The default: whether encoding an empty text with special
    /// tokens gives ``bosTokenID`` first.
    var addsBOS: Bool { get }
    /// Whether `encode(_:addSpecialTokens: true)` puts ``eosTokenID`` after the text. The default:
    /// whether encoding an empty text with special tokens gives ``eosTokenID`` last, after BOS
    /// if BOS is added.
    var addsEOS: Bool { get }
    /// The model's chat template, if its files give one. The default: `nil`.
    var chatTemplate: ChatTemplate? { get }

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

extension Tokenizer {
    public var addsBOS: Bool {
        guard let bosTokenID else { return false }
        return encode("", addSpecialTokens: true).first == bosTokenID
    }

    public var addsEOS: Bool {
        guard let eosTokenID else { return false }
        let added = encode("", addSpecialTokens: true)
        return added.count > (addsBOS ? 1 : 0) && added.last == eosTokenID
    }

    public var chatTemplate: ChatTemplate? { nil }
}
