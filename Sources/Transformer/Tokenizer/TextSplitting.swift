import Foundation

/// A regular expression from a tokenizer definition, compiled with ICU.
///
/// `tokenizers` uses Oniguruma; for the constructs tokenizer patterns use (`\p{L}`, `\p{N}`,
/// `\s`, `(?i:…)`, `(?!…)`, classes and counted repetition) ICU matches the same text. Like
/// Oniguruma's default Ruby syntax, `^` and `$` match at line breaks.
struct TokenizerRegex: Sendable {
    let expression: NSRegularExpression

    /// - Throws: ``TokenizerError/invalidValue(source:key:reason:)`` at `node` if the pattern does
    ///   not compile.
    init(_ pattern: String, at node: JSONNode) throws {
        do {
            expression = try NSRegularExpression(pattern: pattern, options: [.anchorsMatchLines])
        } catch {
            throw node.invalid("regular expression \(pattern) does not compile: \(error)")
        }
    }

    /// Compiles one of this package's own patterns.
    /// - Throws: ``TokenizerError/invalidValue(source:key:reason:)`` if it does not compile.
    init(trusted pattern: String) throws {
        do {
            expression = try NSRegularExpression(pattern: pattern, options: [.anchorsMatchLines])
        } catch {
            throw TokenizerError.invalidValue(source: "built-in pattern", key: pattern, reason: "does not compile: \(error)")
        }
    }

    /// The ranges of the non-overlapping matches in `text`, left to right.
    ///
    /// ICU reports UTF-16 offsets. They are turned into indices with one forward walk over the
    /// UTF-16 view, not with `Range(_:in:)`, which gives `nil` for a range that ends inside a
    /// grapheme cluster (as `\p{L}+` does before a combining accent).
    func matches(in text: String) -> [Range<String.Index>] {
        let utf16 = text.utf16
        var cursor = (index: utf16.startIndex, offset: 0)
        func index(atOffset offset: Int) -> String.Index {
            cursor = (utf16.index(cursor.index, offsetBy: offset - cursor.offset), offset)
            return cursor.index
        }
        return expression.matches(in: text, range: NSRange(location: 0, length: utf16.count)).map { match in
            let lowerBound = index(atOffset: match.range.location)
            return lowerBound..<index(atOffset: match.range.location + match.range.length)
        }
    }
}

/// What a split or a replacement looks for in the text.
enum TextPattern: Sendable {
    /// Each match of a regular expression.
    case regex(TokenizerRegex)
    /// Each occurrence of a literal string, left to right, not overlapping.
    case literal(String)
    /// Each occurrence of one scalar, one match per scalar.
    case scalar(Unicode.Scalar)
    /// Each Unicode `White_Space` scalar, one match per scalar.
    case whitespace
    /// Each scalar in a number category (Nd, Nl, No), one match per scalar.
    case numeric

    /// Reads `{"Regex": …}` or `{"String": …}`.
    init(parsing node: JSONNode) throws {
        if let regex = try node.optional("Regex") {
            self = .regex(try TokenizerRegex(try regex.string(), at: regex))
        } else if let literal = try node.optional("String") {
            self = .literal(try literal.string())
        } else {
            throw node.invalid("expected {\"Regex\": …} or {\"String\": …}")
        }
    }

    /// The ranges of the matches in `text`, left to right, not overlapping.
    func matchRanges(in text: String) -> [Range<String.Index>] {
        switch self {
        case .regex(let regex): return regex.matches(in: text)
        case .literal(let literal): return Self.literalMatches(of: literal, in: text)
        case .scalar(let target): return Self.scalarMatches(in: text) { $0 == target }
        case .whitespace: return Self.scalarMatches(in: text) { $0.properties.isWhitespace }
        case .numeric: return Self.scalarMatches(in: text) { $0.properties.numericType != nil }
        }
    }

    private static func scalarMatches(
        in text: String, where isMatch: (Unicode.Scalar) -> Bool
    ) -> [Range<String.Index>] {
        let scalars = text.unicodeScalars
        return scalars.indices.filter { isMatch(scalars[$0]) }.map { $0..<scalars.index(after: $0) }
    }

    private static func literalMatches(of literal: String, in text: String) -> [Range<String.Index>] {
        let needle = Array(literal.unicodeScalars)
        guard let first = needle.first else { return [] }
        let scalars = text.unicodeScalars
        var ranges: [Range<String.Index>] = []
        var index = scalars.startIndex
        while index < scalars.endIndex {
            if scalars[index] == first, scalars[index...].starts(with: needle) {
                let end = scalars.index(index, offsetBy: needle.count)
                ranges.append(index..<end)
                index = end
            } else {
                scalars.formIndex(after: &index)
            }
        }
        return ranges
    }

    /// Splits `piece` around the matches of this pattern (or, with `invert`, around what lies
    /// between them), as `tokenizers`' `NormalizedString::split` does. Empty pieces are dropped.
    func split(_ piece: TextPiece, behavior: SplitDelimiterBehavior, invert: Bool = false) -> [TextPiece] {
        let text = piece.text
        var spans: [(range: Range<String.Index>, isMatch: Bool)] = []
        var previousEnd = text.startIndex
        for match in matchRanges(in: text) {
            if previousEnd < match.lowerBound { spans.append((previousEnd..<match.lowerBound, invert)) }
            spans.append((match, !invert))
            previousEnd = match.upperBound
        }
        if previousEnd < text.endIndex { spans.append((previousEnd..<text.endIndex, invert)) }
        return behavior.pieces(from: spans).filter { !$0.isEmpty }.map { range in
            TextPiece(String(text[range]),
                      isAtStartOfInput: piece.isAtStartOfInput && range.lowerBound == text.startIndex)
        }
    }
}

/// A stretch of text on its way through normalization and pre-tokenization.
struct TextPiece: Sendable {
    var text: String
    /// Whether the piece begins where the input text began (what `tokenizers` checks as
    /// `offsets_original().0 == 0`, for `Metaspace`'s `prepend_scheme: first`).
    var isAtStartOfInput: Bool

    init(_ text: String, isAtStartOfInput: Bool) {
        self.text = text
        self.isAtStartOfInput = isAtStartOfInput
    }
}

/// What a split does with the delimiters it finds (`tokenizers`' `SplitDelimiterBehavior`).
enum SplitDelimiterBehavior: Sendable {
    case removed, isolated, mergedWithPrevious, mergedWithNext, contiguous

    /// Reads `Removed`, `Isolated`, `MergedWithPrevious`, `MergedWithNext` or `Contiguous`.
    init(parsing node: JSONNode) throws {
        switch try node.string() {
        case "Removed": self = .removed
        case "Isolated": self = .isolated
        case "MergedWithPrevious": self = .mergedWithPrevious
        case "MergedWithNext": self = .mergedWithNext
        case "Contiguous": self = .contiguous
        case let other: throw node.invalid("unknown split behavior \(other)")
        }
    }

    /// The ranges to keep, given spans that cover the text and say which are delimiters.
    func pieces(from spans: [(range: Range<String.Index>, isMatch: Bool)]) -> [Range<String.Index>] {
        switch self {
        case .removed:
            return spans.filter { !$0.isMatch }.map(\.range)
        case .isolated:
            return spans.map(\.range)
        case .contiguous:
            return Self.merging(spans) { isMatch, previousWasMatch in isMatch == previousWasMatch }
        case .mergedWithPrevious:
            return Self.merging(spans) { isMatch, previousWasMatch in isMatch && !previousWasMatch }
        case .mergedWithNext:
            let reversed = spans.reversed().map { (range: $0.range, isMatch: $0.isMatch) }
            var pieces: [Range<String.Index>] = []
            var previousWasMatch = false
            for span in reversed {
                if span.isMatch && !previousWasMatch, let last = pieces.last {
                    pieces[pieces.count - 1] = span.range.lowerBound..<last.upperBound
                } else {
                    pieces.append(span.range)
                }
                previousWasMatch = span.isMatch
            }
            return pieces.reversed()
        }
    }

    /// Appends each span to the previous piece when `joinsPrevious(isMatch, previousWasMatch)`.
    private static func merging(
        _ spans: [(range: Range<String.Index>, isMatch: Bool)],
        joinsPrevious: (Bool, Bool) -> Bool
    ) -> [Range<String.Index>] {
        var pieces: [Range<String.Index>] = []
        var previousWasMatch = false
        for span in spans {
            if joinsPrevious(span.isMatch, previousWasMatch), let last = pieces.last {
                pieces[pieces.count - 1] = last.lowerBound..<span.range.upperBound
            } else {
                pieces.append(span.range)
            }
            previousWasMatch = span.isMatch
        }
        return pieces
    }
}
