/// The `post_processor` of a tokenizer definition: puts special tokens around an encoded sequence.
/// Only single sequences are encoded here, so only the single-sequence forms are kept.
indirect enum PostProcessor: Sendable {
    /// Adds nothing to the ids (its job in `tokenizers` is adjusting offsets).
    case byteLevel
    /// `TemplateProcessing`'s `single` template: ids before and after the sequence.
    case template(prefix: [Int], suffix: [Int])
    /// `RobertaProcessing` and `BertProcessing`: `cls`, the sequence, `sep`.
    case classifierAndSeparator(cls: Int, sep: Int)
    case sequence([PostProcessor])

    /// Reads a post-processor object.
    /// - Throws: ``TokenizerError/unsupportedComponent(source:key:type:)`` for a type not listed in
    ///   this enum, or ``TokenizerError`` naming the key of a missing or malformed field (a template
    ///   naming a special token that `special_tokens` does not define, a template without `$A`).
    init(parsing node: JSONNode) throws {
        let type = try node.typeName()
        switch type {
        case "ByteLevel":
            self = .byteLevel
        case "TemplateProcessing":
            self = try Self.parseTemplate(node)
        case "RobertaProcessing", "BertProcessing":
            self = .classifierAndSeparator(cls: try Self.parseTokenAndID(node.required("cls")),
                                           sep: try Self.parseTokenAndID(node.required("sep")))
        case "Sequence":
            self = .sequence(try node.required("processors").elements().map(PostProcessor.init(parsing:)))
        default:
            throw node.unsupported(type)
        }
    }

    /// `ids` with the special tokens around them when `addSpecialTokens`, else `ids` unchanged.
    func process(_ ids: [Int], addSpecialTokens: Bool) -> [Int] {
        guard addSpecialTokens else { return ids }
        switch self {
        case .byteLevel: return ids
        case .template(let prefix, let suffix): return prefix + ids + suffix
        case .classifierAndSeparator(let cls, let sep): return [cls] + ids + [sep]
        case .sequence(let processors): return processors.reduce(ids) { $1.process($0, addSpecialTokens: true) }
        }
    }

    /// The first id this processor puts in front of a sequence, if any: the beginning-of-sequence
    /// token of the LLaMA templates.
    var leadingSpecialTokenID: Int? {
        switch self {
        case .byteLevel: return nil
        case .template(let prefix, _): return prefix.first
        case .classifierAndSeparator(let cls, _): return cls
        case .sequence(let processors): return processors.lazy.compactMap(\.leadingSpecialTokenID).first
        }
    }

    /// The last id this processor puts after a sequence, if any: the end-of-sequence token when
    /// a tokenizer appends one.
    var trailingSpecialTokenID: Int? {
        switch self {
        case .byteLevel: return nil
        case .template(_, let suffix): return suffix.last
        case .classifierAndSeparator(_, let sep): return sep
        case .sequence(let processors): return processors.reversed().lazy.compactMap(\.trailingSpecialTokenID).first
        }
    }

    /// Every id this processor can add.
    var addedIDs: [Int] {
        switch self {
        case .byteLevel: return []
        case .template(let prefix, let suffix): return prefix + suffix
        case .classifierAndSeparator(let cls, let sep): return [cls, sep]
        case .sequence(let processors): return processors.flatMap(\.addedIDs)
        }
    }

    /// Reads `["<s>", 1]`.
    private static func parseTokenAndID(_ node: JSONNode) throws -> Int {
        let pair = try node.elements()
        guard pair.count == 2 else { throw node.invalid("expected [token, id]") }
        return try pair[1].nonNegativeInt()
    }

    private static func parseTemplate(_ node: JSONNode) throws -> PostProcessor {
        var idsOfSpecialToken: [String: [Int]] = [:]
        for (name, entry) in try node.required("special_tokens").members() {
            idsOfSpecialToken[name] = try entry.required("ids").elements().map { try $0.nonNegativeInt() }
        }
        var prefix: [Int] = []
        var suffix: [Int] = []
        var hasSequence = false
        for piece in try node.required("single").elements() {
            if try piece.optional("Sequence") != nil {
                guard !hasSequence else { throw piece.invalid("a single-sequence template holds one sequence") }
                hasSequence = true
            } else if let special = try piece.optional("SpecialToken") {
                let nameNode = try special.required("id")
                let name = try nameNode.string()
                guard let ids = idsOfSpecialToken[name] else {
                    throw nameNode.invalid("special token \(name) is not defined in special_tokens")
                }
                if hasSequence { suffix += ids } else { prefix += ids }
            } else {
                throw piece.invalid("expected {\"Sequence\": …} or {\"SpecialToken\": …}")
            }
        }
        guard hasSequence else { throw node.invalid("the single template has no sequence ($A)") }
        return .template(prefix: prefix, suffix: suffix)
    }
}
