/// The text of tokens that arrive one at a time (streamed generation), piece by piece.
///
/// Each call decodes everything so far and gives the new text only once it is stable: when it
/// extends what was already given and does not end in an incomplete character (U+FFFD, a
/// multi-byte character whose bytes span tokens). Until then the text is held back, so the pieces
/// joined are always a prefix of the decoded whole.
public struct IncrementalDecoder {
    /// The tokenizer that decodes.
    public let tokenizer: any Tokenizer
    /// Every token appended so far.
    public private(set) var tokens: [Int] = []
    /// The text given out so far.
    public private(set) var text = ""

    /// A decoder with no tokens yet.
    public init(tokenizer: any Tokenizer) {
        self.tokenizer = tokenizer
    }

    /// Appends `token` and returns the new stable text (possibly empty, for a special token), or
    /// `nil` while the text is held back or the tokens do not decode.
    public mutating func append(_ token: Int) -> String? {
        tokens.append(token)
        guard let whole = try? tokenizer.decode(tokens, skipSpecialTokens: true),
              whole.hasPrefix(text), !whole.hasSuffix("\u{FFFD}") else { return nil }
        let piece = String(whole.dropFirst(text.count))
        text = whole
        return piece
    }
}
