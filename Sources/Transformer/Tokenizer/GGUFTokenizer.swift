import Foundation

extension BPETokenizer {
    /// The tokenizer of the model at `url`, either form ``ModelSource`` reads: a GGUF file's, from
    /// its metadata (``init(ggufContentsOf:)``), or a Hugging Face folder's `tokenizer.json`, with
    /// `tokenizer_config.json` and `chat_template.jinja` beside it (``init(contentsOf:)``).
    /// - Throws: ``TokenizerError/unreadableFile(path:reason:)`` for a folder without
    ///   `tokenizer.json`; what the initialiser for the form throws.
    public init(modelAt url: URL) throws {
        if ModelSource.isGGUF(url) {
            try self.init(ggufContentsOf: url)
        } else {
            try self.init(contentsOf: url.appendingPathComponent(ModelFolder.FileName.tokenizer))
        }
    }

    /// Reads the tokenizer of a GGUF file: ``init(ggufMetadata:source:)`` on its metadata.
    /// - Throws: what ``GGUFFile/init(contentsOf:)`` throws for a file it cannot read, else what
    ///   ``init(ggufMetadata:source:)`` throws, naming the file's path.
    public init(ggufContentsOf url: URL) throws {
        try self.init(ggufMetadata: try GGUFFile(contentsOf: url).metadata, source: url.path)
    }

    /// Builds the tokenizer a GGUF file's metadata describes, as transformers' GGUF loader builds
    /// it, with llama.cpp's pre-tokenizers and defaults.
    ///
    /// `tokenizer.ggml.model` says which kind:
    /// - `gpt2`: byte-level BPE from `tokenizer.ggml.tokens` and `tokenizer.ggml.merges` (`"a b"`
    ///   strings). `tokenizer.ggml.pre` names how text is split into words before merging, with
    ///   llama.cpp's regular expressions: `default` (also when absent), `llama3`/`llama-v3`/
    ///   `llama-bpe`/`falcon3`/… (LLaMA-3's split; whole-word vocabulary tokens skip merging),
    ///   `qwen2`/`deepseek-r1-qwen`, `smollm`/`starcoder`/`refact`/`command-r`/`codeshell`/
    ///   `exaone`/`minerva` (every digit alone, then GPT-2's split), `gpt-2` (or `gpt2`)/`phi-2`/
    ///   `mpt`/`olmo`/`jais` (GPT-2's split).
    /// - `llama`: SentencePiece-style BPE with `<0xNN>` byte fallback: merges from the file or, as
    ///   transformers does, derived from the vocabulary and `tokenizer.ggml.scores`; spaces are
    ///   written `▁`, with one put in front of the text unless `tokenizer.ggml.add_space_prefix` is
    ///   false.
    ///
    /// Tokens typed control (3) in `tokenizer.ggml.token_type`, and the BOS, EOS, unknown and padding
    /// tokens, become special tokens, user-defined ones (4) plain added tokens: written in the text
    /// they become their ids (`<|im_start|>` → 1 for SmolLM2). The ids of
    /// `tokenizer.ggml.bos_token_id`, `eos_token_id`, `padding_token_id` are ``bosTokenID``,
    /// ``eosTokenID``, ``padTokenID``; `tokenizer.ggml.chat_template` is ``chatTemplate``.
    ///
    /// `encode(_:addSpecialTokens: true)` adds BOS when `tokenizer.ggml.add_bos_token` is true, and
    /// EOS when `tokenizer.ggml.add_eos_token` is. When a flag is absent, llama.cpp's defaults hold:
    /// BOS for `llama` models and for the LLaMA-3 pre-tokenizers (when the file has a BOS id), no
    /// BOS otherwise, never EOS. (transformers adds no BOS for LLaMA-3 pre-tokenizers without the
    /// flag; files written by llama.cpp's converter carry the flag.)
    /// - Parameters:
    ///   - ggufMetadata: A GGUF file's metadata (``GGUFFile/metadata``); keys other than
    ///     `tokenizer.*` are ignored.
    ///   - source: What to call the metadata in error messages (the file's path).
    /// - Throws: ``TokenizerError/missingKey(source:key:)`` without `tokenizer.ggml.model`,
    ///   `tokenizer.ggml.tokens`, `tokenizer.ggml.merges` (for `gpt2`) or `tokenizer.ggml.scores`
    ///   (for `llama` without merges); ``TokenizerError/unsupportedComponent(source:key:type:)``
    ///   naming the key and the value for another tokenizer model (`bert`, `t5`, …) or an unknown
    ///   pre-tokenizer; ``TokenizerError/invalidValue(source:key:reason:)`` naming the key for a
    ///   value of the wrong type or length, a merge that is not two vocabulary tokens, a token id
    ///   out of range, or `add_bos_token`/`add_eos_token` set without the token's id.
    public init(ggufMetadata metadata: [String: GGUFValue], source: String) throws {
        try self.init(description: GGUFTokenizerReader(metadata: metadata, source: source).tokenizerDescription(), source: source)
    }

    /// The tokenizer `description` spells out; `source` names it in errors.
    init(description: GGUFTokenizerDescription, source: String) throws {
        try self.init(parsing: JSONNode(value: description.json, path: "", source: source))
        bosTokenID = description.bosTokenID
        eosTokenID = description.eosTokenID
        padTokenID = description.padTokenID
        try setAddedSpecialTokens(
            addsBOS: description.addsBOS, addsEOS: description.addsEOS, source: source,
            bosKey: "tokenizer.ggml.add_bos_token", eosKey: "tokenizer.ggml.add_eos_token")
        chatTemplate = description.chatTemplate.map(ChatTemplate.init)
    }
}

extension BPETokenizer {
    /// The Hugging Face tokenizer files of a GGUF file's tokenizer, by file name: `tokenizer.json`
    /// (the document ``init(ggufMetadata:source:)`` reads) and `tokenizer_config.json` (BOS, EOS
    /// and padding tokens, `add_bos_token`, `add_eos_token` and the chat template), so that a model
    /// folder written from a GGUF file (`peft merge`) carries its tokenizer; transformers and
    /// ``init(contentsOf:)`` read them back to the same ids.
    /// - Throws: what ``init(ggufMetadata:source:)`` throws.
    public static func huggingFaceFiles(ggufMetadata metadata: [String: GGUFValue], source: String) throws -> [String: Data] {
        let description = try GGUFTokenizerReader(metadata: metadata, source: source).tokenizerDescription()
        let tokenizer = try BPETokenizer(description: description, source: source)
        func token(_ id: Int?) -> JSONValue {
            guard let id, let text = try? tokenizer.decode([id], skipSpecialTokens: false) else { return .null }
            return .string(text)
        }
        var config: [(key: String, value: JSONValue)] = [
            ("add_bos_token", .bool(description.addsBOS)), ("add_eos_token", .bool(description.addsEOS)),
            ("bos_token", token(description.bosTokenID)), ("eos_token", token(description.eosTokenID)),
            ("pad_token", token(description.padTokenID)), ("tokenizer_class", .string("PreTrainedTokenizerFast")),
        ]
        if let template = description.chatTemplate { config.append(("chat_template", .string(template))) }
        // What the `tokenizers` library requires of a whole file beyond what this package reads:
        // the top-level fields, and BOS/EOS put around a sequence as the flags say.
        func special(_ id: Int?, added: Bool) -> [JSONValue] {
            guard added, let id, case .string(let content) = token(id) else { return [] }
            return [.object([("SpecialToken", .object([("id", .string(content)), ("type_id", .number(0))]))])]
        }
        var specials: [(key: String, value: JSONValue)] = []
        for (id, added) in [(description.bosTokenID, description.addsBOS), (description.eosTokenID, description.addsEOS)] {
            guard added, let id, case .string(let content) = token(id), !specials.contains(where: { $0.key == content }) else { continue }
            specials.append((content, .object([("id", .string(content)), ("ids", .array([.number(Double(id))])),
                                               ("tokens", .array([.string(content)]))])))
        }
        func sequence(_ name: String) -> JSONValue { .object([("Sequence", .object([("id", .string(name)), ("type_id", .number(0))]))]) }
        let bos = special(description.bosTokenID, added: description.addsBOS)
        let eos = special(description.eosTokenID, added: description.addsEOS)
        let postProcessor = JSONValue.object([
            ("type", .string("TemplateProcessing")), ("single", .array(bos + [sequence("A")] + eos)),
            ("pair", .array(bos + [sequence("A")] + eos + bos + [sequence("B")] + eos)), ("special_tokens", .object(specials)),
        ])
        guard case .object(let members) = description.json else {
            throw TokenizerError.invalidValue(source: source, key: "tokenizer", reason: "no tokenizer document")
        }
        var document: [(key: String, value: JSONValue)] = [("version", .string("1.0")), ("truncation", .null), ("padding", .null)]
        for key in ["added_tokens", "normalizer", "pre_tokenizer"] {
            document.append((key, members.first { $0.key == key }?.value ?? .null))
        }
        document.append(("post_processor", postProcessor))
        for key in ["decoder", "model"] { document.append((key, members.first { $0.key == key }?.value ?? .null)) }
        return [
            "tokenizer.json": Data(JSONValue.object(document).serialized().utf8),
            "tokenizer_config.json": Data(JSONValue.object(config).serialized().utf8),
        ]
    }
}

/// The tokenizer a GGUF file describes, as a `tokenizer.json` document and the settings that live
/// outside it.
struct GGUFTokenizerDescription {
    var json: JSONValue
    var bosTokenID: Int?
    var eosTokenID: Int?
    var padTokenID: Int?
    var addsBOS: Bool
    var addsEOS: Bool
    var chatTemplate: String?
}

/// Reads `tokenizer.*` metadata, checking each value and naming its key when it is wrong.
struct GGUFTokenizerReader {
    let metadata: [String: GGUFValue]
    let source: String

    /// llama.cpp's token types (`llama_token_type`).
    private enum TokenType {
        static let control = 3
        static let userDefined = 4
    }

    /// How a byte-level vocabulary splits text into words: llama.cpp's regular expressions for the
    /// `tokenizer.ggml.pre` names it knows, applied one after the other.
    private struct WordSplit {
        let patterns: [String]
        /// Whether a word that is a vocabulary token is taken whole, without merging.
        var ignoresMerges = false
        /// Whether BOS is added when the file has no `add_bos_token`.
        var addsBOSByDefault = false
    }

    private static let gpt2Pattern = #"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)"#
    private static let llama3Pattern =
        #"(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}"#
        + #"| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#
    private static let qwen2Pattern =
        #"(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}"#
        + #"| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#

    private static func wordSplit(named name: String) -> WordSplit? {
        switch name {
        case "default":
            return WordSplit(patterns: [#"[\p{P}\$\+<=>\^~\|]+"#, gpt2Pattern, #"\p{N}+"#, "[0-9][0-9][0-9]"])
        case "llama3", "llama-v3", "llama-bpe", "falcon3", "falcon-h1", "pixtral", "midm-2.0", "lfm2", "jina-v5-nano":
            return WordSplit(patterns: [llama3Pattern], ignoresMerges: true, addsBOSByDefault: true)
        case "qwen2", "deepseek-r1-qwen":
            return WordSplit(patterns: [qwen2Pattern])
        case "smollm", "starcoder", "refact", "command-r", "codeshell", "exaone", "minerva":
            return WordSplit(patterns: [#"\p{N}"#, gpt2Pattern])
        case "gpt-2", "gpt2", "phi-2", "mpt", "olmo", "jais":
            return WordSplit(patterns: [gpt2Pattern])
        default:
            return nil
        }
    }

    func tokenizerDescription() throws -> GGUFTokenizerDescription {
        let modelKey = "tokenizer.ggml.model"
        let model = try requiredString(modelKey)
        let tokens = try requiredStrings("tokenizer.ggml.tokens")
        let tokenTypes = try optionalInts("tokenizer.ggml.token_type", count: tokens.count)
        let bosTokenID = try optionalTokenID("tokenizer.ggml.bos_token_id", tokenCount: tokens.count)
        let eosTokenID = try optionalTokenID("tokenizer.ggml.eos_token_id", tokenCount: tokens.count)
        let unknownTokenID = try optionalTokenID("tokenizer.ggml.unknown_token_id", tokenCount: tokens.count)
        let padTokenID = try optionalTokenID("tokenizer.ggml.padding_token_id", tokenCount: tokens.count)
        let addsBOSFlag = try optionalBool("tokenizer.ggml.add_bos_token")
        let addsEOS = try optionalBool("tokenizer.ggml.add_eos_token") ?? false

        var description: GGUFTokenizerDescription
        let vocabulary: [String]
        switch model {
        case "gpt2":
            let preKey = "tokenizer.ggml.pre"
            let preName = try optionalString(preKey) ?? "default"
            guard let split = Self.wordSplit(named: preName) else {
                throw TokenizerError.unsupportedComponent(source: source, key: preKey, type: preName)
            }
            // transformers respells tokens that are not written in the byte alphabet.
            vocabulary = tokens.map { ByteLevelAlphabet.bytes(of: $0) == nil ? ByteLevelAlphabet.encode($0) : $0 }
            let merges = try requiredStrings("tokenizer.ggml.merges")
            try checkMerges(merges, vocabulary: vocabulary)
            description = GGUFTokenizerDescription(
                json: byteLevelDocument(vocabulary: vocabulary, merges: merges, split: split),
                addsBOS: addsBOSFlag ?? (split.addsBOSByDefault && bosTokenID != nil), addsEOS: addsEOS)
        case "llama":
            vocabulary = tokens
            let merges: [JSONValue]
            if metadata["tokenizer.ggml.merges"] != nil {
                let strings = try requiredStrings("tokenizer.ggml.merges")
                try checkMerges(strings, vocabulary: vocabulary)
                merges = strings.map(JSONValue.string)
            } else {
                let scores = try requiredDoubles("tokenizer.ggml.scores", count: tokens.count)
                merges = SentencePieceMerges.derived(tokens: tokens, scores: scores).map { .array([.string($0.0), .string($0.1)]) }
            }
            let addsSpacePrefix = try optionalBool("tokenizer.ggml.add_space_prefix") ?? true
            description = GGUFTokenizerDescription(
                json: sentencePieceDocument(vocabulary: vocabulary, merges: merges, addsSpacePrefix: addsSpacePrefix),
                addsBOS: addsBOSFlag ?? (bosTokenID != nil), addsEOS: addsEOS)
        default:
            throw TokenizerError.unsupportedComponent(source: source, key: modelKey, type: model)
        }
        description.bosTokenID = bosTokenID
        description.eosTokenID = eosTokenID
        description.padTokenID = padTokenID
        description.chatTemplate = try optionalString("tokenizer.chat_template")
        let specialIDs = Set([bosTokenID, eosTokenID, unknownTokenID, padTokenID].compactMap { $0 })
        let added = addedTokens(vocabulary: vocabulary, original: tokens, types: tokenTypes, specialIDs: specialIDs)
        description.json = withMember("added_tokens", .array(added), in: description.json)
        return description
    }

    // MARK: The tokenizer.json document

    private func byteLevelDocument(vocabulary: [String], merges: [String], split: WordSplit) -> JSONValue {
        let splits: [JSONValue] = split.patterns.map { pattern in
            .object([("type", .string("Split")), ("pattern", .object([("Regex", .string(pattern))])),
                     ("behavior", .string("Isolated")), ("invert", .bool(false))])
        }
        let byteLevel = JSONValue.object([("type", .string("ByteLevel")), ("add_prefix_space", .bool(false)),
                                          ("trim_offsets", .bool(true)), ("use_regex", .bool(false))])
        return .object([
            ("model", .object([
                ("type", .string("BPE")), ("dropout", .null), ("unk_token", .null), ("continuing_subword_prefix", .null),
                ("end_of_word_suffix", .null), ("fuse_unk", .bool(false)), ("byte_fallback", .bool(false)),
                ("ignore_merges", .bool(split.ignoresMerges)), ("vocab", vocabularyObject(vocabulary)),
                ("merges", .array(merges.map(JSONValue.string))),
            ])),
            ("pre_tokenizer", .object([("type", .string("Sequence")), ("pretokenizers", .array(splits + [byteLevel]))])),
            ("decoder", .object([("type", .string("ByteLevel")), ("add_prefix_space", .bool(true)),
                                 ("trim_offsets", .bool(true)), ("use_regex", .bool(true))])),
        ])
    }

    /// transformers' `LlamaTokenizer`: fused unknown tokens, byte fallback, `Metaspace` with
    /// `prepend_scheme` `first` and no split, and the decoder that undoes it.
    private func sentencePieceDocument(vocabulary: [String], merges: [JSONValue], addsSpacePrefix: Bool) -> JSONValue {
        func replace(_ pattern: String, _ content: String) -> JSONValue {
            .object([("type", .string("Replace")), ("pattern", .object([("String", .string(pattern))])),
                     ("content", .string(content))])
        }
        var decoders = [replace("▁", " "), .object([("type", .string("ByteFallback"))]), .object([("type", .string("Fuse"))])]
        if addsSpacePrefix {
            decoders.append(.object([("type", .string("Strip")), ("content", .string(" ")), ("start", .number(1)),
                                     ("stop", .number(0))]))
        }
        return .object([
            ("model", .object([
                ("type", .string("BPE")), ("dropout", .null), ("unk_token", .null), ("continuing_subword_prefix", .null),
                ("end_of_word_suffix", .null), ("fuse_unk", .bool(true)), ("byte_fallback", .bool(true)),
                ("ignore_merges", .bool(false)), ("vocab", vocabularyObject(vocabulary)), ("merges", .array(merges)),
            ])),
            ("pre_tokenizer", .object([
                ("type", .string("Metaspace")), ("replacement", .string("▁")),
                ("prepend_scheme", .string(addsSpacePrefix ? "first" : "never")), ("split", .bool(false)),
            ])),
            ("decoder", .object([("type", .string("Sequence")), ("decoders", .array(decoders))])),
        ])
    }

    private func vocabularyObject(_ vocabulary: [String]) -> JSONValue {
        .object(vocabulary.enumerated().map { ($1, .number(Double($0))) })
    }

    /// Control tokens and the named special tokens as special added tokens, user-defined ones as
    /// plain added tokens, all matched in the raw text. As in transformers, in a byte-level
    /// vocabulary a token not written in the byte alphabet is left out (llama.cpp mislabels some).
    private func addedTokens(vocabulary: [String], original: [String], types: [Int]?, specialIDs: Set<Int>) -> [JSONValue] {
        var added: [JSONValue] = []
        for (id, token) in vocabulary.enumerated() where token.utf8.elementsEqual(original[id].utf8) {
            let type = types?[id]
            let isSpecial = type == TokenType.control || specialIDs.contains(id)
            guard isSpecial || type == TokenType.userDefined else { continue }
            added.append(.object([
                ("id", .number(Double(id))), ("content", .string(token)), ("special", .bool(isSpecial)),
                ("normalized", .bool(false)), ("single_word", .bool(false)), ("lstrip", .bool(false)), ("rstrip", .bool(false)),
            ]))
        }
        return added
    }

    private func withMember(_ key: String, _ value: JSONValue, in document: JSONValue) -> JSONValue {
        guard case .object(let members) = document else { return document }
        return .object(members + [(key, value)])
    }

    // MARK: Checked reads

    /// Checks that every merge is two vocabulary tokens whose concatenation is one, naming the
    /// merge's index otherwise.
    private func checkMerges(_ merges: [String], vocabulary: [String]) throws {
        let known = Set(vocabulary.map(ExactString.init))
        for (index, merge) in merges.enumerated() {
            let parts = merge.unicodeScalars.split(separator: " ", omittingEmptySubsequences: false).map { String($0) }
            guard parts.count == 2 else {
                throw invalid("tokenizer.ggml.merges[\(index)]", "a merge is two tokens separated by a space, not \(merge.debugDescription)")
            }
            for token in [parts[0], parts[1], parts[0] + parts[1]] where !known.contains(ExactString(token)) {
                throw invalid("tokenizer.ggml.merges[\(index)]", "\(token.debugDescription) is not in tokenizer.ggml.tokens")
            }
        }
    }

    private func invalid(_ key: String, _ reason: String) -> TokenizerError {
        .invalidValue(source: source, key: key, reason: reason)
    }

    private func requiredString(_ key: String) throws -> String {
        guard let value = try optionalString(key) else { throw TokenizerError.missingKey(source: source, key: key) }
        return value
    }

    private func optionalString(_ key: String) throws -> String? {
        guard let value = metadata[key] else { return nil }
        guard let string = value.string else { throw invalid(key, "expected a string") }
        return string
    }

    private func optionalBool(_ key: String) throws -> Bool? {
        guard let value = metadata[key] else { return nil }
        guard let bool = value.bool else { throw invalid(key, "expected a boolean") }
        return bool
    }

    private func requiredStrings(_ key: String) throws -> [String] {
        guard let value = metadata[key] else { throw TokenizerError.missingKey(source: source, key: key) }
        guard let strings = value.strings else { throw invalid(key, "expected an array of strings") }
        return strings
    }

    private func optionalInts(_ key: String, count: Int) throws -> [Int]? {
        guard let value = metadata[key] else { return nil }
        guard let ints = value.ints else { throw invalid(key, "expected an array of integers") }
        guard ints.count == count else { throw invalid(key, "has \(ints.count) entries for \(count) tokens") }
        return ints
    }

    private func requiredDoubles(_ key: String, count: Int) throws -> [Double] {
        guard let value = metadata[key] else { throw TokenizerError.missingKey(source: source, key: key) }
        guard let doubles = value.doubles else { throw invalid(key, "expected an array of numbers") }
        guard doubles.count == count else { throw invalid(key, "has \(doubles.count) entries for \(count) tokens") }
        return doubles
    }

    private func optionalTokenID(_ key: String, tokenCount: Int) throws -> Int? {
        guard let value = metadata[key] else { return nil }
        guard let id = value.int else { throw invalid(key, "expected an integer") }
        guard (0..<tokenCount).contains(id) else { throw invalid(key, "id \(id) names no token (\(tokenCount) tokens)") }
        return id
    }
}

/// The merges a SentencePiece vocabulary implies, as transformers' `generate_merges` derives them.
enum SentencePieceMerges {
    /// Every split of every token into two vocabulary tokens, best first: by the token's score
    /// (higher first), then the longer left part, then the longer right part; ties keep the order
    /// of the vocabulary and, within one token, of the parts' ids.
    static func derived(tokens: [String], scores: [Double]) -> [(String, String)] {
        var idsByToken: [ExactString: Int] = [:]
        for (id, token) in tokens.enumerated() { idsByToken[ExactString(token)] = id }
        var scoreByToken: [ExactString: Double] = [:]
        var order: [ExactString] = []
        for (token, score) in zip(tokens, scores) {
            let key = ExactString(token)
            if scoreByToken.updateValue(score, forKey: key) == nil { order.append(key) }
        }
        var candidates: [(left: String, right: String, leftLength: Int, rightLength: Int, score: Double)] = []
        for key in order {
            let scalars = Array(key.string.unicodeScalars)
            guard scalars.count > 1, let score = scoreByToken[key] else { continue }
            var local: [(left: String, right: String, leftID: Int, rightID: Int, leftLength: Int)] = []
            for cut in 1..<scalars.count {
                var left = String.UnicodeScalarView()
                left.append(contentsOf: scalars[..<cut])
                var right = String.UnicodeScalarView()
                right.append(contentsOf: scalars[cut...])
                let (leftText, rightText) = (String(left), String(right))
                if let leftID = idsByToken[ExactString(leftText)], let rightID = idsByToken[ExactString(rightText)] {
                    local.append((leftText, rightText, leftID, rightID, cut))
                }
            }
            local.sort { ($0.leftID, $0.rightID) < ($1.leftID, $1.rightID) }
            candidates += local.map { ($0.left, $0.right, $0.leftLength, scalars.count - $0.leftLength, score) }
        }
        // A stable sort, descending: Python's `sorted(..., reverse=True)` keeps equal keys in order.
        let ranked = candidates.enumerated().sorted { lhs, rhs in
            let (a, b) = (lhs.element, rhs.element)
            if a.score != b.score { return a.score > b.score }
            if a.leftLength != b.leftLength { return a.leftLength > b.leftLength }
            if a.rightLength != b.rightLength { return a.rightLength > b.rightLength }
            return lhs.offset < rhs.offset
        }
        return ranked.map { ($0.element.left, $0.element.right) }
    }
}
