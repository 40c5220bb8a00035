/// The `decoder` of a tokenizer definition: turns the tokens of ids back into text.
///
/// Each step maps a list of token strings to a new list (`tokenizers`' `decode_chain`); the text
/// is the final list joined.
indirect enum TokenDecoder: Sendable {
    /// Reads tokens spelled with ``ByteLevelAlphabet`` back into bytes, then UTF-8 (invalid
    /// sequences become U+FFFD).
    case byteLevel
    case metaspace(Metaspace)
    /// Replaces every match of a pattern in each token with `content`.
    case replace(TextPattern, content: String)
    /// Turns runs of `<0xNN>` tokens into the text their bytes spell, or one U+FFFD per byte if
    /// they are not valid UTF-8.
    case byteFallback
    /// Joins all tokens into one.
    case fuse
    /// Removes up to `start` leading and `stop` trailing `content` scalars from each token.
    case strip(content: Unicode.Scalar, start: Int, stop: Int)
    case sequence([TokenDecoder])

    /// Reads a decoder object.
    /// - Throws: ``TokenizerError/unsupportedComponent(source:key:type:)`` for a type not listed in
    ///   this enum, or ``TokenizerError`` naming the key of a missing or malformed field.
    init(parsing node: JSONNode) throws {
        let type = try node.typeName()
        switch type {
        case "ByteLevel": self = .byteLevel
        case "Metaspace": self = .metaspace(try Metaspace(parsing: node))
        case "Replace":
            self = .replace(try TextPattern(parsing: node.required("pattern")),
                            content: try node.required("content").string())
        case "ByteFallback": self = .byteFallback
        case "Fuse": self = .fuse
        case "Strip":
            self = .strip(content: try node.singleScalar("content"),
                          start: try node.required("start").nonNegativeInt(),
                          stop: try node.required("stop").nonNegativeInt())
        case "Sequence":
            self = .sequence(try node.required("decoders").elements().map(TokenDecoder.init(parsing:)))
        default:
            throw node.unsupported(type)
        }
    }

    /// The text of `tokens`.
    func decode(_ tokens: [String]) -> String {
        decodeChain(tokens).joined()
    }

    func decodeChain(_ tokens: [String]) -> [String] {
        switch self {
        case .byteLevel:
            var bytes: [UInt8] = []
            for token in tokens {
                bytes.append(contentsOf: ByteLevelAlphabet.bytes(of: token) ?? Array(token.utf8))
            }
            return [String(decoding: bytes, as: UTF8.self)]
        case .metaspace(let metaspace):
            return metaspace.decodeChain(tokens)
        case .replace(let pattern, let content):
            return tokens.map { pattern.replacingMatches(in: $0, with: content) }
        case .byteFallback:
            return Self.fusingByteTokens(tokens)
        case .fuse:
            return [tokens.joined()]
        case .strip(let content, let start, let stop):
            return tokens.map { token in
                let scalars = token.unicodeScalars
                var (first, end) = (scalars.startIndex, scalars.endIndex)
                var removed = 0
                while removed < start, first < end, scalars[first] == content {
                    scalars.formIndex(after: &first)
                    removed += 1
                }
                removed = 0
                while removed < stop, first < end, scalars[scalars.index(before: end)] == content {
                    scalars.formIndex(before: &end)
                    removed += 1
                }
                return String(scalars[first..<end])
            }
        case .sequence(let decoders):
            return decoders.reduce(tokens) { $1.decodeChain($0) }
        }
    }

    private static func fusingByteTokens(_ tokens: [String]) -> [String] {
        var result: [String] = []
        var pendingBytes: [UInt8] = []
        func flushPendingBytes() {
            guard !pendingBytes.isEmpty else { return }
            if let text = String(validating: pendingBytes, as: UTF8.self) {
                result.append(text)
            } else {
                result.append(contentsOf: repeatElement("\u{FFFD}", count: pendingBytes.count))
            }
            pendingBytes.removeAll()
        }
        for token in tokens {
            if let byte = byteFallbackValue(of: token) {
                pendingBytes.append(byte)
            } else {
                flushPendingBytes()
                result.append(token)
            }
        }
        flushPendingBytes()
        return result
    }

    /// The byte a `<0xNN>` token stands for (hex digits in either case), or `nil`.
    static func byteFallbackValue(of token: String) -> UInt8? {
        let utf8 = token.utf8
        guard utf8.count == 6, utf8.starts(with: "<0x".utf8), utf8.last == UInt8(ascii: ">") else { return nil }
        return UInt8(String(decoding: utf8.dropFirst(3).prefix(2), as: UTF8.self), radix: 16)
    }
}
