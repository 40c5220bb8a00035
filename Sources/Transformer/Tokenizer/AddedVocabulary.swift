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

/// Finds added tokens in text: leftmost match first, longest pattern among those starting there,
/// then the token's `single_word`, `lstrip` and `rstrip` rules, as `tokenizers`' `find_matches`.
struct AddedTokenMatcher: Sendable {
    private struct Pattern: Sendable {
        let scalars: [Unicode.Scalar]
        let id: Int
        let token: AddedToken
    }

    /// Patterns by their first scalar, longest first (earlier tokens first among equals).
    private let patternsByFirstScalar: [Unicode.Scalar: [Pattern]]

    init(_ patterns: [(text: String, id: Int, token: AddedToken)]) {
        var patternsByFirstScalar: [Unicode.Scalar: [Pattern]] = [:]
        for (text, id, token) in patterns {
            let scalars = Array(text.unicodeScalars)
            guard let first = scalars.first else { continue }
            patternsByFirstScalar[first, default: []].append(Pattern(scalars: scalars, id: id, token: token))
        }
        self.patternsByFirstScalar = patternsByFirstScalar.mapValues { patterns in
            patterns.enumerated().sorted { lhs, rhs in
                let (lhsLength, rhsLength) = (lhs.element.scalars.count, rhs.element.scalars.count)
                return lhsLength != rhsLength ? lhsLength > rhsLength : lhs.offset < rhs.offset
            }.map(\.element)
        }
    }

    /// `piece` cut into added tokens and the non-empty text between them.
    func split(_ piece: TextPiece) -> [EncodingSegment] {
        guard !patternsByFirstScalar.isEmpty else { return [.text(piece)] }
        let scalars = Array(piece.text.unicodeScalars)
        var segments: [EncodingSegment] = []
        var textStart = 0
        var searchStart = 0
        func appendText(_ range: Range<Int>) {
            guard !range.isEmpty else { return }
            let text = String(String.UnicodeScalarView(scalars[range]))
            segments.append(.text(TextPiece(text, isAtStartOfInput: piece.isAtStartOfInput && range.lowerBound == 0)))
        }
        while let (match, pattern) = firstMatch(in: scalars, from: searchStart) {
            let token = pattern.token
            searchStart = match.upperBound
            var start = match.lowerBound
            var stop = match.upperBound
            if token.matchesWholeWordsOnly {
                let wordBefore = start > 0 && Self.isWordScalar(scalars[start - 1])
                let wordAfter = stop < scalars.count && Self.isWordScalar(scalars[stop])
                if wordBefore || wordAfter { continue }
            }
            if token.stripsWhitespaceBefore {
                while start > textStart, scalars[start - 1].properties.isWhitespace { start -= 1 }
            }
            if token.stripsWhitespaceAfter {
                while stop < scalars.count, scalars[stop].properties.isWhitespace { stop += 1 }
            }
            if textStart < start { appendText(textStart..<start) }
            segments.append(.addedToken(id: pattern.id))
            textStart = stop
        }
        if textStart < scalars.count { appendText(textStart..<scalars.count) }
        return segments
    }

    /// The leftmost match at or after `start`, longest among those starting there.
    private func firstMatch(in scalars: [Unicode.Scalar], from start: Int) -> (Range<Int>, Pattern)? {
        var position = start
        while position < scalars.count {
            for pattern in patternsByFirstScalar[scalars[position]] ?? []
            where scalars[position...].starts(with: pattern.scalars) {
                return (position..<(position + pattern.scalars.count), pattern)
            }
            position += 1
        }
        return nil
    }

    /// Whether `scalar` is a word character as the regex `\w` sees it in `tokenizers`.
    private static func isWordScalar(_ scalar: Unicode.Scalar) -> Bool {
        let properties = scalar.properties
        switch properties.generalCategory {
        case .nonspacingMark, .spacingMark, .enclosingMark, .decimalNumber, .connectorPunctuation: return true
        default: return properties.isAlphabetic || properties.isJoinControl
        }
    }
}
