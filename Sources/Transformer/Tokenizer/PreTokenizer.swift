/// The `pre_tokenizer` of a tokenizer definition: splits normalized text into the words BPE
/// merges within, and may rewrite them (ByteLevel spells bytes; Metaspace marks spaces).
indirect enum PreTokenizer: Sendable {
    /// GPT-2 style: optionally a leading space, a split with ``gpt2Pattern`` (when `wordSplitter`
    /// is not `nil`), then bytes spelled with ``ByteLevelAlphabet``.
    case byteLevel(addPrefixSpace: Bool, wordSplitter: TextPattern?)
    case split(TextPattern, behavior: SplitDelimiterBehavior, invert: Bool)
    case metaspace(Metaspace)
    /// Splits on Unicode `White_Space`, dropping it.
    case whitespaceSplit
    /// Separates numeric scalars, each on its own (`individual`) or in runs.
    case digits(individual: Bool)
    case sequence([PreTokenizer])

    /// The regular expression of GPT-2's encoder.py, which `ByteLevel` splits with.
    static let gpt2Pattern =
        #"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"#

    /// Reads a pre-tokenizer object.
    /// - Throws: ``TokenizerError/unsupportedComponent(source:key:type:)`` for a type not listed in
    ///   this enum, or ``TokenizerError`` naming the key of a missing or malformed field.
    init(parsing node: JSONNode) throws {
        let type = try node.typeName()
        switch type {
        case "ByteLevel":
            let usesRegex = try node.bool("use_regex", default: true)
            self = .byteLevel(addPrefixSpace: try node.bool("add_prefix_space", default: true),
                              wordSplitter: usesRegex ? .regex(try TokenizerRegex(Self.gpt2Pattern, at: node)) : nil)
        case "Split":
            self = .split(try TextPattern(parsing: node.required("pattern")),
                          behavior: try SplitDelimiterBehavior(parsing: node.required("behavior")),
                          invert: try node.bool("invert", default: false))
        case "Metaspace":
            self = .metaspace(try Metaspace(parsing: node))
        case "WhitespaceSplit":
            self = .whitespaceSplit
        case "Digits":
            self = .digits(individual: try node.bool("individual_digits", default: false))
        case "Sequence":
            self = .sequence(try node.required("pretokenizers").elements().map(PreTokenizer.init(parsing:)))
        default:
            throw node.unsupported(type)
        }
    }

    /// The words of `pieces`, in order; none is empty.
    func preTokenize(_ pieces: [TextPiece]) -> [TextPiece] {
        switch self {
        case .byteLevel(let addPrefixSpace, let wordSplitter):
            return pieces.flatMap { piece -> [TextPiece] in
                var piece = piece
                if addPrefixSpace && piece.text.unicodeScalars.first != " " { piece.text = " " + piece.text }
                let words = wordSplitter?.split(piece, behavior: .isolated) ?? [piece]
                return words.map { TextPiece(ByteLevelAlphabet.encode($0.text), isAtStartOfInput: $0.isAtStartOfInput) }
            }
        case .split(let pattern, let behavior, let invert):
            return pieces.flatMap { pattern.split($0, behavior: behavior, invert: invert) }
        case .metaspace(let metaspace):
            return pieces.flatMap(metaspace.preTokenize)
        case .whitespaceSplit:
            return pieces.flatMap { TextPattern.whitespace.split($0, behavior: .removed) }
        case .digits(let individual):
            return pieces.flatMap { TextPattern.numeric.split($0, behavior: individual ? .isolated : .contiguous) }
        case .sequence(let preTokenizers):
            return preTokenizers.reduce(pieces) { $1.preTokenize($0) }
        }
    }
}

/// SentencePiece's word marking: spaces become a replacement scalar (`▁`, U+2581), optionally one
/// is put in front, and words may be split before each one.
struct Metaspace: Sendable {
    /// When a word-start marker is put in front of a piece that does not already begin with one.
    enum PrependScheme: Sendable {
        case always
        /// Only on the piece at the very start of the input.
        case first
        case never
    }

    let replacement: Unicode.Scalar
    let prependScheme: PrependScheme
    let splitsWords: Bool

    /// Reads `replacement`, `prepend_scheme` (or the older `add_prefix_space`) and `split`.
    init(parsing node: JSONNode) throws {
        replacement = try node.singleScalar("replacement")
        if let scheme = try node.optional("prepend_scheme") {
            switch try scheme.string() {
            case "always": prependScheme = .always
            case "first": prependScheme = .first
            case "never": prependScheme = .never
            case let other: throw scheme.invalid("unknown prepend scheme \(other)")
            }
        } else {
            prependScheme = try node.bool("add_prefix_space", default: true) ? .always : .never
        }
        splitsWords = try node.bool("split", default: true)
    }

    func preTokenize(_ piece: TextPiece) -> [TextPiece] {
        var piece = piece
        piece.text = TextPattern.scalar(" ").replacingMatches(in: piece.text, with: String(replacement))
        let prepends = switch prependScheme {
        case .always: true
        case .first: piece.isAtStartOfInput
        case .never: false
        }
        if prepends && piece.text.unicodeScalars.first != replacement {
            piece.text = String(replacement) + piece.text
        }
        return splitsWords ? TextPattern.scalar(replacement).split(piece, behavior: .mergedWithNext) : [piece]
    }

    /// The `Metaspace` decoder: the replacement scalar becomes a space, except in the first token
    /// when a marker was prepended on encoding, where it is dropped.
    func decodeChain(_ tokens: [String]) -> [String] {
        tokens.enumerated().map { index, token in
            var text = String.UnicodeScalarView()
            for scalar in token.unicodeScalars {
                if scalar != replacement {
                    text.append(scalar)
                } else if index > 0 || prependScheme == .never {
                    text.append(" ")
                }
            }
            return String(text)
        }
    }
}
