import Testing
import Transformer

struct ByteTokenizerTests {
    let tokenizer = ByteTokenizer()

    @Test(arguments: ["", "Hello, world!", "café e\u{301} 東京 👨‍👩‍👧 🇯🇵", "\0\t\n\r", String(repeating: "ab ", count: 500)])
    func anyStringRoundTrips(text: String) throws {
        let ids = tokenizer.encode(text, addSpecialTokens: true)
        #expect(ids.first == tokenizer.bosTokenID)
        #expect(ids.dropFirst() == ArraySlice(text.utf8.map(Int.init)))
        let decoded = try tokenizer.decode(ids, skipSpecialTokens: true)
        #expect(decoded.utf8.elementsEqual(text.utf8))
    }

    @Test func specialTokensFollowTheBytes() throws {
        #expect(tokenizer.vocabularySize == 259)
        #expect([tokenizer.bosTokenID, tokenizer.eosTokenID, tokenizer.padTokenID] == [256, 257, 258])
        #expect(try tokenizer.decode([256, 104, 105, 257, 258], skipSpecialTokens: false) == "<s>hi</s><pad>")
        #expect(tokenizer.id(forToken: "</s>") == 257)
        #expect(tokenizer.id(forToken: "a") == 97)
        #expect(tokenizer.id(forToken: "é") == nil)
    }

    @Test func specialTokenTextIsEncodedAsBytes() {
        #expect(tokenizer.encode("<s>", addSpecialTokens: false) == [60, 115, 62])
    }

    @Test func invalidUTF8DecodesToReplacementCharacters() throws {
        #expect(try tokenizer.decode([0xF0, 0x9F, 0x41], skipSpecialTokens: false) == "\u{FFFD}A")
    }

    @Test(arguments: [-1, 259, Int.max])
    func decodingAnOutOfRangeIDThrows(id: Int) {
        #expect(throws: TokenizerError.idOutOfRange(id: id, vocabularySize: 259)) {
            try tokenizer.decode([65, id], skipSpecialTokens: false)
        }
    }
}

@Suite("Byte tokenizer as tokenizer.json")
struct ByteTokenizerJSONTests {
    @Test("The exported tokenizer.json encodes and decodes like the byte tokenizer")
    func exportedJSONMatches() throws {
        let bytes = ByteTokenizer()
        let bpe = try BPETokenizer(data: bytes.huggingFaceJSON(), source: "byte tokenizer.json")
        for text in ["", "hello world", "  tabs\tand\nnewlines ", "wörld 👋🏽 日本語", "x = 42;"] {
            #expect(bpe.encode(text, addSpecialTokens: true) == bytes.encode(text, addSpecialTokens: true), "\(text)")
            #expect(bpe.encode(text, addSpecialTokens: false) == bytes.encode(text, addSpecialTokens: false), "\(text)")
            let ids = bytes.encode(text, addSpecialTokens: false)
            #expect(try bpe.decode(ids, skipSpecialTokens: true) == bytes.decode(ids, skipSpecialTokens: true))
        }
        #expect(bpe.bosTokenID == 256 && bpe.eosTokenID == 257)
    }
}

@Suite("Incremental decoding")
struct IncrementalDecoderTests {
    @Test("Text comes piece by piece, held back while a character's bytes are incomplete")
    func heldBackUntilWhole() {
        let tokenizer = ByteTokenizer()
        var decoder = IncrementalDecoder(tokenizer: tokenizer)
        let ids = tokenizer.encode("aé!", addSpecialTokens: false)  // "é" is two bytes, two tokens
        #expect(ids.count == 4)
        #expect(ids.map { decoder.append($0) } == ["a", nil, "é", "!"])
        #expect(decoder.append(tokenizer.eosTokenID ?? 257) == "", "a special token adds no text")
        #expect(decoder.text == "aé!" && decoder.tokens.count == 5)
        #expect(decoder.append(100_000) == nil, "an id outside the vocabulary does not decode")
    }
}
