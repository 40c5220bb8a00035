import Foundation

/// The `normalizer` of a tokenizer definition: rewrites text before it is split into words.
indirect enum Normalizer: Sendable {
    case sequence([Normalizer])
    /// Puts a string in front of non-empty text (LLaMA-2's `Prepend("▁")`).
    case prepend(String)
    /// Replaces every match of a pattern with `content`.
    case replace(TextPattern, content: String)
    case nfc, nfd, nfkc, nfkd
    case lowercase
    /// Removes Unicode `White_Space` at the start and/or the end.
    case strip(left: Bool, right: Bool)

    /// Reads a normalizer object.
    /// - Throws: ``TokenizerError/unsupportedComponent(source:key:type:)`` for a type not listed in
    ///   this enum, or ``TokenizerError`` naming the key of a missing or malformed field.
    init(parsing node: JSONNode) throws {
        let type = try node.typeName()
        switch type {
        case "Sequence":
            self = .sequence(try node.required("normalizers").elements().map(Normalizer.init(parsing:)))
        case "Prepend":
            self = .prepend(try node.required("prepend").string())
        case "Replace":
            self = .replace(try TextPattern(parsing: node.required("pattern")),
                            content: try node.required("content").string())
        case "NFC": self = .nfc
        case "NFD": self = .nfd
        case "NFKC": self = .nfkc
        case "NFKD": self = .nfkd
        case "Lowercase": self = .lowercase
        case "Strip":
            self = .strip(left: try node.bool("strip_left", default: true),
                          right: try node.bool("strip_right", default: true))
        default:
            throw node.unsupported(type)
        }
    }

    func normalize(_ text: String) -> String {
        switch self {
        case .sequence(let normalizers):
            return normalizers.reduce(text) { $1.normalize($0) }
        case .prepend(let prefix):
            return text.isEmpty ? text : prefix + text
        case .replace(let pattern, let content):
            return pattern.replacingMatches(in: text, with: content)
        case .nfc: return text.precomposedStringWithCanonicalMapping
        case .nfd: return text.decomposedStringWithCanonicalMapping
        case .nfkc: return text.precomposedStringWithCompatibilityMapping
        case .nfkd: return text.decomposedStringWithCompatibilityMapping
        case .lowercase: return text.lowercased()
        case .strip(let left, let right):
            var scalars = Substring(text).unicodeScalars
            if left { scalars = scalars.drop(while: \.properties.isWhitespace) }
            if right {
                while let last = scalars.last, last.properties.isWhitespace { scalars.removeLast() }
            }
            return String(scalars)
        }
    }
}

extension TextPattern {
    /// `text` with every match of this pattern replaced by `content`.
    func replacingMatches(in text: String, with content: String) -> String {
        let matches = matchRanges(in: text)
        guard !matches.isEmpty else { return text }
        var utf8: [UInt8] = []
        utf8.reserveCapacity(text.utf8.count)
        var copiedUpTo = text.startIndex
        for match in matches {
            utf8.append(contentsOf: text.utf8[copiedUpTo..<match.lowerBound])
            utf8.append(contentsOf: content.utf8)
            copiedUpTo = match.upperBound
        }
        utf8.append(contentsOf: text.utf8[copiedUpTo...])
        return String(decoding: utf8, as: UTF8.self)
    }
}
