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
/// `tokenizer.json` does not say which token begins or ends a sequence (that is in
/// `tokenizer_config.json`), so ``bosTokenID``, ``eosTokenID`` and ``padTokenID`` are inferred
/// (see each) and can be set.
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

    private let model: BPEModel
    private let addedVocabulary: AddedVocabulary
    private let normalizer: Normalizer?
    private let preTokenizer: PreTokenizer?
    private let postProcessor: PostProcessor?
    private let decoder: TokenDecoder?

    /// Reads a `tokenizer.json` file.
    /// - Throws: ``TokenizerError/unreadableFile(path:reason:)`` if the file cannot be read, and
    ///   otherwise what ``init(data:source:)`` throws, naming the file's path.
    public init(contentsOf url: URL) throws {
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw TokenizerError.unreadableFile(path: url.path, reason: error.localizedDescription)
        }
        try self.init(data: data, source: url.path)
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
        let root = JSONNode(value: try JSONValue.parse(Array(data), source: source), path: "", source: source)
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
