import Foundation

/// A tokenizer whose tokens are the UTF-8 bytes of the text, for tiny models and tests.
///
/// Ids 0…255 are bytes; 256 is the beginning-of-sequence token `<s>`, 257 the end-of-sequence
/// token `</s>`, 258 the padding token `<pad>`. Any string round-trips through `encode` and
/// `decode`.
public struct ByteTokenizer: Tokenizer {
    /// 259: 256 bytes and three special tokens.
    public let vocabularySize = 259
    /// 256, spelled `<s>`.
    public let bosTokenID: Int? = 256
    /// 257, spelled `</s>`.
    public let eosTokenID: Int? = 257
    /// 258, spelled `<pad>`.
    public let padTokenID: Int? = 258

    private static let specialTokens = BPETrainer.specialTokens

    /// The tokenizer (it has no settings).
    public init() {}

    /// The UTF-8 bytes of `text`, after `<s>` when `addSpecialTokens`. Special tokens written in
    /// the text are encoded as their bytes, not as special ids.
    public func encode(_ text: String, addSpecialTokens: Bool) -> [Int] {
        var ids: [Int] = []
        ids.reserveCapacity(text.utf8.count + 1)
        if addSpecialTokens { ids.append(256) }
        ids.append(contentsOf: text.utf8.map(Int.init))
        return ids
    }

    /// The text of the bytes in `ids`, with special tokens spelled `<s>`, `</s>`, `<pad>` unless
    /// skipped. Byte sequences that are not valid UTF-8 become U+FFFD.
    /// - Throws: ``TokenizerError/idOutOfRange(id:vocabularySize:)`` for an id outside 0..<259.
    public func decode(_ ids: [Int], skipSpecialTokens: Bool) throws -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(ids.count)
        for id in ids {
            switch id {
            case 0..<256:
                bytes.append(UInt8(id))
            case 256..<vocabularySize:
                if !skipSpecialTokens { bytes.append(contentsOf: Self.specialTokens[id - 256].utf8) }
            default:
                throw TokenizerError.idOutOfRange(id: id, vocabularySize: vocabularySize)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// 256, 257, 258 for `<s>`, `</s>`, `<pad>`; the byte for a one-byte string (ASCII); else `nil`.
    public func id(forToken token: String) -> Int? {
        if let index = Self.specialTokens.firstIndex(where: { $0.utf8.elementsEqual(token.utf8) }) {
            return 256 + index
        }
        let utf8 = token.utf8
        return utf8.count == 1 ? utf8.first.map(Int.init) : nil
    }
}

extension ByteTokenizer {
    /// A `tokenizer.json` that Hugging Face `tokenizers` (and ``BPETokenizer``) read as this
    /// tokenizer: byte-level BPE with the 256 byte tokens at their byte values and no merges, the
    /// three special tokens at 256…258, and `<s>` added in front. The one difference: there, a
    /// literal `<s>` in the text becomes the special token, as added tokens always do.
    public func huggingFaceJSON() throws -> Data {
        try BPETrainer.tokenizerJSON(merges: [], usesWordSplitter: false)
    }
}
