/// Finds added tokens in text as `tokenizers`' `find_matches` does: the leftmost match first,
/// the longest pattern among those starting there, then the token's `single_word`, `lstrip` and
/// `rstrip` rules. Matching runs over UTF-8 bytes with a table indexed by the first byte.
struct AddedTokenMatcher: Sendable {
    private struct Pattern: Sendable {
        let utf8: [UInt8]
        let id: Int
        let token: AddedToken
    }

    /// Patterns by their first byte, longest first (earlier tokens first among equals).
    private let patternsByFirstByte: [[Pattern]]
    private let isEmpty: Bool

    init(_ patterns: [(text: String, id: Int, token: AddedToken)]) {
        var patternsByFirstByte = [[Pattern]](repeating: [], count: 256)
        for (text, id, token) in patterns {
            let utf8 = Array(text.utf8)
            guard let first = utf8.first else { continue }
            patternsByFirstByte[Int(first)].append(Pattern(utf8: utf8, id: id, token: token))
        }
        self.patternsByFirstByte = patternsByFirstByte.map { patterns in
            patterns.enumerated().sorted { lhs, rhs in
                let (lhsLength, rhsLength) = (lhs.element.utf8.count, rhs.element.utf8.count)
                return lhsLength != rhsLength ? lhsLength > rhsLength : lhs.offset < rhs.offset
            }.map(\.element)
        }
        isEmpty = patterns.isEmpty
    }

    /// `piece` cut into added tokens and the non-empty text between them (nothing for empty text,
    /// which `tokenizers` drops before pre-tokenization).
    func split(_ piece: TextPiece) -> [EncodingSegment] {
        guard !isEmpty else { return piece.text.isEmpty ? [] : [.text(piece)] }
        let utf8 = Array(piece.text.utf8)
        var segments: [EncodingSegment] = []
        var textStart = 0
        var searchStart = 0
        func appendText(_ range: Range<Int>) {
            let text = String(decoding: utf8[range], as: UTF8.self)
            segments.append(.text(TextPiece(text, isAtStartOfInput: piece.isAtStartOfInput && range.lowerBound == 0)))
        }
        while let (match, pattern) = firstMatch(in: utf8, from: searchStart) {
            searchStart = match.upperBound
            var start = match.lowerBound
            var stop = match.upperBound
            if pattern.token.matchesWholeWordsOnly {
                let wordBefore = Self.scalar(endingAt: start, in: utf8).map { Self.isWordScalar($0.scalar) } ?? false
                let wordAfter = Self.scalar(startingAt: stop, in: utf8).map(Self.isWordScalar) ?? false
                if wordBefore || wordAfter { continue }
            }
            if pattern.token.stripsWhitespaceBefore {
                while start > textStart, let (scalar, scalarStart) = Self.scalar(endingAt: start, in: utf8),
                      scalar.properties.isWhitespace {
                    start = scalarStart
                }
            }
            if pattern.token.stripsWhitespaceAfter {
                while let scalar = Self.scalar(startingAt: stop, in: utf8), scalar.properties.isWhitespace {
                    stop += scalar.utf8.count
                }
            }
            if textStart < start { appendText(textStart..<start) }
            segments.append(.addedToken(id: pattern.id))
            textStart = stop
        }
        if textStart < utf8.count { appendText(textStart..<utf8.count) }
        return segments
    }

    /// The leftmost match at or after byte `start`, longest among those starting there. Matches
    /// of valid UTF-8 in valid UTF-8 always begin and end on scalar boundaries.
    private func firstMatch(in utf8: [UInt8], from start: Int) -> (Range<Int>, Pattern)? {
        var position = start
        while position < utf8.count {
            for pattern in patternsByFirstByte[Int(utf8[position])]
            where utf8[position...].starts(with: pattern.utf8) {
                return (position..<(position + pattern.utf8.count), pattern)
            }
            position += 1
        }
        return nil
    }

    /// The scalar whose UTF-8 begins at byte `offset`, or `nil` at the end.
    private static func scalar(startingAt offset: Int, in utf8: [UInt8]) -> Unicode.Scalar? {
        guard offset < utf8.count else { return nil }
        var bytes = utf8[offset...].makeIterator()
        var decoder = Unicode.UTF8()
        guard case .scalarValue(let scalar) = decoder.decode(&bytes) else { return nil }
        return scalar
    }

    /// The scalar whose UTF-8 ends at byte `offset`, and the byte where it begins; `nil` at 0.
    private static func scalar(endingAt offset: Int, in utf8: [UInt8]) -> (scalar: Unicode.Scalar, start: Int)? {
        guard offset > 0 else { return nil }
        var start = offset - 1
        while start > 0, utf8[start] & 0xC0 == 0x80 { start -= 1 }
        return scalar(startingAt: start, in: utf8).map { ($0, start) }
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
