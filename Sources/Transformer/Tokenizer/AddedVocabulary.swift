/// A token from `added_tokens` in tokenizer.json: matched in the text before pre-tokenization,
/// so it is never split by BPE.
struct AddedToken: Sendable {
    let content: String
    /// Whether `decode` leaves it out when skipping special tokens.
    let isSpecial: Bool
    /// `single_word`: matches only when not preceded or followed by a word character.
    let matchesWholeWordsOnly: Bool
    /// `lstrip`: swallows the whitespace before it.
    let stripsWhitespaceBefore: Bool
    /// `rstrip`: swallows the whitespace after it.
    let stripsWhitespaceAfter: Bool
    /// `normalized`: matched in normalized text (against its normalized content) instead of in
    /// the raw input.
    let matchesNormalizedText: Bool
}

/// A piece of input on its way through encoding: an added token already found, or text.
enum EncodingSegment: Sendable {
    case addedToken(id: Int)
    case text(TextPiece)
}

/// The added tokens of a tokenizer and the two matchers `tokenizers` runs: one over the raw input
/// (tokens with `normalized: false`), one over normalized text.
struct AddedVocabulary: Sendable {
    /// The token of each added id.
    let tokensByID: [Int: AddedToken]
    let idsByContent: [ExactString: Int]
    /// What `decode` hands the decoder for each added id: the normalized content for tokens
    /// matched in normalized text (so the decoder can undo the normalizer), else the content.
    let decodingSpellingsByID: [Int: String]
    /// The contents of special tokens; `decode` skips a token spelled like one of these.
    let specialContents: Set<ExactString>
    let rawTextMatcher: AddedTokenMatcher
    let normalizedTextMatcher: AddedTokenMatcher

    /// Reads the `added_tokens` array (absent means none).
    ///
    /// Ids are assigned as `tokenizers` assigns them, ignoring each entry's `id` field: a token in
    /// the model's vocabulary keeps its id there; the others get ids counting up from the number
    /// of vocabulary entries, in order. (For a consistent file, these are the ids it lists.)
    /// Empty tokens are ignored; a later entry with the same content replaces an earlier one.
    /// - Throws: ``TokenizerError/invalidValue(source:key:reason:)`` for a malformed entry.
    init(parsing node: JSONNode?, model: BPEModel, normalizer: Normalizer?) throws {
        var tokensByID: [Int: AddedToken] = [:]
        var idsByContent: [ExactString: Int] = [:]
        var orderedIDs: [Int] = []
        var nextID = model.idsByToken.count
        for entry in try node?.elements() ?? [] {
            let content = try entry.required("content").string()
            guard !content.isEmpty else { continue }
            let isSpecial = try entry.bool("special", default: false)
            let token = AddedToken(
                content: content,
                isSpecial: isSpecial,
                matchesWholeWordsOnly: try entry.bool("single_word", default: false),
                stripsWhitespaceBefore: try entry.bool("lstrip", default: false),
                stripsWhitespaceAfter: try entry.bool("rstrip", default: false),
                matchesNormalizedText: try entry.bool("normalized", default: !isSpecial))
            let key = ExactString(content)
            let id: Int
            if let existing = idsByContent[key] ?? model.idsByToken[key] {
                id = existing
            } else {
                id = nextID
                nextID += 1
            }
            if tokensByID[id] == nil { orderedIDs.append(id) }
            tokensByID[id] = token
            idsByContent[key] = id
        }
        var decodingSpellingsByID: [Int: String] = [:]
        var matchPatterns: [(text: String, id: Int, token: AddedToken)] = []
        for id in orderedIDs {
            guard let token = tokensByID[id] else { continue }
            let pattern = token.matchesNormalizedText ? normalizer?.normalize(token.content) ?? token.content : token.content
            decodingSpellingsByID[id] = pattern
            matchPatterns.append((pattern, id, token))
        }
        // `tokenizers` matches special tokens before the others when both match equally long.
        let matchOrder = matchPatterns.filter(\.token.isSpecial) + matchPatterns.filter { !$0.token.isSpecial }
        rawTextMatcher = AddedTokenMatcher(matchOrder.filter { !$0.token.matchesNormalizedText })
        normalizedTextMatcher = AddedTokenMatcher(matchOrder.filter(\.token.matchesNormalizedText))
        self.tokensByID = tokensByID
        self.idsByContent = idsByContent
        self.decodingSpellingsByID = decodingSpellingsByID
        specialContents = Set(tokensByID.values.filter(\.isSpecial).map { ExactString($0.content) })
    }
}
