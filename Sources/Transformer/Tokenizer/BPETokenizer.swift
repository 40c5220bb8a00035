import Foundation

/// A BPE tokenizer read from a Hugging Face `tokenizer.json`, giving the same ids as the
/// `tokenizers` library.
///
/// It covers the two BPE families LLaMA models use:
/// - byte-level BPE (GPT-2, LLaMA-3): `ByteLevel` and regex `Split` pre-tokenizers, the
///   `ByteLevel` decoder;
/// - SentencePiece-style BPE with byte fallback (LLaMA-2): the `Prepend` / `Replace` normalizers
///   or the `Metaspace` pre-tokenizer, `<0xNN>` byte tokens, the `Replace`, `ByteFallback`,
///   `Fuse`, `Strip` and `Metaspace` decoders.
///
/// Encoding runs the `tokenizers` pipeline: added tokens are cut out of the raw text, the rest is
/// normalized (and searched for normalized added tokens), pre-tokenized into words, merged word by
/// word, and the post-processor adds special tokens (the LLaMA `TemplateProcessing` puts the
/// beginning-of-sequence token in front).
///
/// `tokenizer.json` does not say which token begins or ends a sequence: that is in
/// `tokenizer_config.json`, which ``init(contentsOf:)`` reads when it lies beside the file (see
/// there). Without it, ``bosTokenID``, ``eosTokenID`` and ``padTokenID`` are inferred (see each)
/// and can be set. A tokenizer can also be built from a GGUF file's metadata:
/// ``init(ggufMetadata:source:)``.
public struct BPETokenizer: Tokenizer {
    public let vocabularySize: Int
    /// The beginning-of-sequence id: the first special token the post-processor puts in front of
    /// a sequence, else the first of `<s>`, `<|begin_of_text|>`, `<bos>` that exists.
    public var bosTokenID: Int?
    /// The end-of-sequence id: the first of `</s>`, `<|end_of_text|>`, `<|endoftext|>`, `<eos>`
    /// that exists. (LLaMA-3 chat models end turns with `<|eot_id|>`; set it if you need that.)
    public var eosTokenID: Int?
    /// The padding id: the first of `<pad>`, `<|pad|>`, `[PAD]` that exists.
    public var padTokenID: Int?
    /// The chat template the tokenizer's files give (`chat_template.jinja`, `tokenizer_config.json`'s
    /// `chat_template`, or GGUF's `tokenizer.chat_template`), if any.
    public var chatTemplate: ChatTemplate?

    private let model: BPEModel
    private let addedVocabulary: AddedVocabulary
    private let normalizer: Normalizer?
    private let preTokenizer: PreTokenizer?
    private var postProcessor: PostProcessor?
    private let decoder: TokenDecoder?

    /// Whether `encode(_:addSpecialTokens: true)` puts ``bosTokenID`` in front of the text: what the
    /// tokenizer's files say (`add_bos_token`, or the post-processor of `tokenizer.json`).
    public var addsBOS: Bool {
        guard let bosTokenID, let leading = postProcessor?.leadingSpecialTokenID else { return false }
        return leading == bosTokenID
    }

    /// Whether `encode(_:addSpecialTokens: true)` puts ``eosTokenID`` after the text.
    public var addsEOS: Bool {
        guard let eosTokenID, let trailing = postProcessor?.trailingSpecialTokenID else { return false }
        return trailing == eosTokenID
    }

    /// Reads a `tokenizer.json` file, and the files of a Hugging Face folder beside it:
    /// `tokenizer_config.json` (see ``init(data:configData:chatTemplate:source:)``) and
    /// `chat_template.jinja`, which takes precedence over the config's `chat_template`.
    /// - Throws: ``TokenizerError/unreadableFile(path:reason:)`` if a file cannot be read, and
    ///   otherwise what ``init(data:configData:chatTemplate:source:)`` throws, naming the file's path.
    public init(contentsOf url: URL) throws {
        let folder = url.deletingLastPathComponent()
        let configURL = folder.appendingPathComponent("tokenizer_config.json")
        let templateURL = folder.appendingPathComponent("chat_template.jinja")
        let files = FileManager.default
        let data = try Self.read(url)
        let configData = files.fileExists(atPath: configURL.path) ? try Self.read(configURL) : nil
        let template = files.fileExists(atPath: templateURL.path)
            ? String(decoding: try Self.read(templateURL), as: UTF8.self) : nil
        try self.init(data: data, source: url.path)
        if let configData {
            try apply(TokenizerConfig(parsing: configData, source: configURL.path))
        }
        if let template { chatTemplate = ChatTemplate(template) }
    }

    /// Reads the contents of `tokenizer.json` and `tokenizer_config.json`.
    ///
    /// From the config: `bos_token`, `eos_token`, `pad_token` (a string or an object with
    /// `content`; `null` for none) set ``bosTokenID``, ``eosTokenID``, ``padTokenID``; when
    /// `add_bos_token` or `add_eos_token` is present, encoding with special tokens puts exactly
    /// BOS in front (if `add_bos_token` is true) and EOS after (if `add_eos_token` is true), as
    /// transformers does, instead of what `tokenizer.json`'s post-processor says; `chat_template`
    /// (a string, or a list of `{"name", "template"}` of which `default` is taken) becomes
    /// ``chatTemplate``, unless `chatTemplate` is given.
    /// - Parameters:
    ///   - data: `tokenizer.json`, UTF-8 JSON.
    ///   - configData: `tokenizer_config.json`, if there is one.
    ///   - chatTemplate: a Jinja chat template (the contents of `chat_template.jinja`), if any.
    ///   - source: What to call the data in error messages.
    /// - Throws: what ``init(data:source:)`` throws; for the config,
    ///   ``TokenizerError/malformedJSON(source:offset:reason:)``, or
    ///   ``TokenizerError/invalidValue(source:key:reason:)`` naming `<source> (tokenizer_config.json)`
    ///   and the key of a malformed value, a special token that is not in the vocabulary, or
    ///   `add_bos_token`/`add_eos_token` set without the token.
    public init(data: Data, configData: Data?, chatTemplate: String? = nil, source: String = "tokenizer.json data") throws {
        try self.init(data: data, source: source)
        if let configData {
            try apply(TokenizerConfig(parsing: configData, source: "\(source) (tokenizer_config.json)"))
        }
        if let chatTemplate { self.chatTemplate = ChatTemplate(chatTemplate) }
    }

    private static func read(_ url: URL) throws -> Data {
        do {
            return try Data(contentsOf: url)
        } catch {
            throw TokenizerError.unreadableFile(path: url.path, reason: error.localizedDescription)
        }
    }

    /// Reads the contents of a `tokenizer.json` file.
    /// - Parameters:
    ///   - data: UTF-8 JSON.
    ///   - source: What to call the data in error messages (a file path, or a description).
    /// - Throws: ``TokenizerError/malformedJSON(source:offset:reason:)`` for invalid JSON;
    ///   ``TokenizerError/missingKey(source:key:)`` if `model` (or a required field of a component)
    ///   is absent; ``TokenizerError/unsupportedComponent(source:key:type:)`` for a model,
    ///   normalizer, pre-tokenizer, post-processor or decoder type this package does not implement;
    ///   ``TokenizerError/invalidValue(source:key:reason:)`` for a malformed field (a merge of
    ///   tokens not in the vocabulary, a regex that does not compile, a post-processor adding an
    ///   id that names no token, …).
    public init(data: Data, source: String = "tokenizer.json data") throws {
        try self.init(parsing: JSONNode(value: try JSONValue.parse(Array(data), source: source), path: "", source: source))
    }

    /// Reads a parsed `tokenizer.json` document (also one built from GGUF metadata).
    init(parsing root: JSONNode) throws {
        let source = root.source
        model = try BPEModel(parsing: root.required("model"))
        normalizer = try root.optional("normalizer").map(Normalizer.init(parsing:))
        preTokenizer = try root.optional("pre_tokenizer").map(PreTokenizer.init(parsing:))
        postProcessor = try root.optional("post_processor").map(PostProcessor.init(parsing:))
        decoder = try root.optional("decoder").map(TokenDecoder.init(parsing:))
        addedVocabulary = try AddedVocabulary(parsing: root.optional("added_tokens"), model: model, normalizer: normalizer)
        for id in postProcessor?.addedIDs ?? []
        where addedVocabulary.tokensByID[id] == nil && model.tokensByID[id] == nil {
            throw TokenizerError.invalidValue(source: source, key: "post_processor", reason: "id \(id) names no token")
        }
        let largestID = max(model.tokensByID.keys.max() ?? -1, addedVocabulary.tokensByID.keys.max() ?? -1)
        vocabularySize = largestID + 1
        bosTokenID = postProcessor?.leadingSpecialTokenID ?? firstExistingID(of: ["<s>", "<|begin_of_text|>", "<bos>"])
        eosTokenID = firstExistingID(of: ["</s>", "<|end_of_text|>", "<|endoftext|>", "<eos>"])
        padTokenID = firstExistingID(of: ["<pad>", "<|pad|>", "[PAD]"])
    }

    private func firstExistingID(of tokens: [String]) -> Int? {
        tokens.lazy.compactMap(id(forToken:)).first
    }

    /// Makes encoding with special tokens add exactly ``bosTokenID`` in front when `addsBOS` and
    /// ``eosTokenID`` after when `addsEOS` (transformers' `update_post_processor`).
    /// - Throws: ``TokenizerError/invalidValue(source:key:reason:)`` naming `bosKey` or `eosKey`
    ///   when a token is asked for that the tokenizer does not have.
    mutating func setAddedSpecialTokens(addsBOS: Bool, addsEOS: Bool, source: String, bosKey: String, eosKey: String) throws {
        if addsBOS && bosTokenID == nil {
            throw TokenizerError.invalidValue(source: source, key: bosKey, reason: "BOS is to be added, but there is no BOS token")
        }
        if addsEOS && eosTokenID == nil {
            throw TokenizerError.invalidValue(source: source, key: eosKey, reason: "EOS is to be added, but there is no EOS token")
        }
        postProcessor = .template(prefix: addsBOS ? bosTokenID.map { [$0] } ?? [] : [],
                                  suffix: addsEOS ? eosTokenID.map { [$0] } ?? [] : [])
    }

    /// Applies what `tokenizer_config.json` says (see ``init(data:configData:chatTemplate:source:)``).
    private mutating func apply(_ config: TokenizerConfig) throws {
        func tokenID(_ setting: TokenizerConfig.SpecialToken, current: Int?) throws -> Int? {
            switch setting {
            case .unspecified: return current
            case .none: return nil
            case .token(let token, let key):
                guard let id = id(forToken: token) else {
                    throw TokenizerError.invalidValue(source: config.source, key: key, reason: "\(token) is not a token of the tokenizer")
                }
                return id
            }
        }
        bosTokenID = try tokenID(config.bosToken, current: bosTokenID)
        eosTokenID = try tokenID(config.eosToken, current: eosTokenID)
        padTokenID = try tokenID(config.padToken, current: padTokenID)
        if config.addsBOS != nil || config.addsEOS != nil {
            try setAddedSpecialTokens(addsBOS: config.addsBOS ?? false, addsEOS: config.addsEOS ?? false,
                                      source: config.source, bosKey: "add_bos_token", eosKey: "add_eos_token")
        }
        if let template = config.chatTemplate { chatTemplate = ChatTemplate(template) }
    }

    public func encode(_ text: String, addSpecialTokens: Bool) -> [Int] {
        var ids: [Int] = []
        for segment in addedVocabulary.rawTextMatcher.split(TextPiece(text, isAtStartOfInput: true)) {
            switch segment {
            case .addedToken(let id):
                ids.append(id)
            case .text(var piece):
                if let normalizer { piece.text = normalizer.normalize(piece.text) }
                for normalizedSegment in addedVocabulary.normalizedTextMatcher.split(piece) {
                    switch normalizedSegment {
                    case .addedToken(let id):
                        ids.append(id)
                    case .text(let normalizedPiece):
                        let words = preTokenizer?.preTokenize([normalizedPiece]) ?? [normalizedPiece]
                        for word in words { model.appendTokens(of: word.text, to: &ids) }
                    }
                }
            }
        }
        return postProcessor?.process(ids, addSpecialTokens: addSpecialTokens) ?? ids
    }

    public func decode(_ ids: [Int], skipSpecialTokens: Bool) throws -> String {
        var tokens: [String] = []
        tokens.reserveCapacity(ids.count)
        for id in ids {
            guard let token = addedVocabulary.decodingSpellingsByID[id] ?? model.tokensByID[id] else {
                throw TokenizerError.idOutOfRange(id: id, vocabularySize: vocabularySize)
            }
            if skipSpecialTokens && addedVocabulary.specialContents.contains(ExactString(token)) { continue }
            tokens.append(token)
        }
        return decoder?.decode(tokens) ?? tokens.joined(separator: " ")
    }

    public func id(forToken token: String) -> Int? {
        addedVocabulary.idsByContent[ExactString(token)] ?? model.idsByToken[ExactString(token)]
    }
}
