import Foundation
import Testing
import Transformer

/// Compares `BPETokenizer` with the Hugging Face `tokenizers` library on the fixtures written by
/// `Fixtures/tokenizers/make_tokenizer_fixtures.py`: same ids, same decoded text, byte for byte.
struct TokenizerParityTests {
    static let fixtureNames = [
        "gpt2-bytelevel", "gpt2-prefix-space", "llama3", "llama2", "llama2-metaspace",
        "llama2-metaspace-split", "sentencepiece-unk",
    ]

    struct Case: Decodable {
        let text: String
        let ids: [Int]
        let ids_with_special_tokens: [Int]
        let decoded: String
        let decoded_skipping_special_tokens: String
    }

    struct PrefixDecodes: Decodable {
        let ids: [Int]
        let decoded_prefixes: [String]
    }

    struct Expectations: Decodable {
        let vocabulary_size: Int
        let cases: [Case]
        let prefix_decodes: [PrefixDecodes]
    }

    static func fixtureDirectory(_ name: String) -> URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Fixtures/tokenizers").appendingPathComponent(name)
    }

    static func load(_ name: String) throws -> (BPETokenizer, Expectations) {
        let directory = fixtureDirectory(name)
        let tokenizer = try BPETokenizer(contentsOf: directory.appendingPathComponent("tokenizer.json"))
        let expectedData = try Data(contentsOf: directory.appendingPathComponent("expected.json"))
        return (tokenizer, try JSONDecoder().decode(Expectations.self, from: expectedData))
    }

    /// Strings compared byte for byte: `==` on `String` would accept canonically equivalent text.
    static func sameBytes(_ lhs: String, _ rhs: String) -> Bool {
        lhs.utf8.elementsEqual(rhs.utf8)
    }

    @Test("encode gives the ids of tokenizers, with and without special tokens", arguments: fixtureNames)
    func encodeMatchesTokenizersLibrary(fixture: String) throws {
        let (tokenizer, expected) = try Self.load(fixture)
        for testCase in expected.cases {
            #expect(tokenizer.encode(testCase.text, addSpecialTokens: false) == testCase.ids,
                    "\(fixture): \(testCase.text.debugDescription)")
            #expect(tokenizer.encode(testCase.text, addSpecialTokens: true) == testCase.ids_with_special_tokens,
                    "\(fixture) with special tokens: \(testCase.text.debugDescription)")
        }
    }

    @Test("decode gives the text of tokenizers, keeping or skipping special tokens", arguments: fixtureNames)
    func decodeMatchesTokenizersLibrary(fixture: String) throws {
        let (tokenizer, expected) = try Self.load(fixture)
        for testCase in expected.cases {
            let ids = testCase.ids_with_special_tokens
            let decoded = try tokenizer.decode(ids, skipSpecialTokens: false)
            #expect(Self.sameBytes(decoded, testCase.decoded),
                    "\(fixture): \(ids) decoded to \(decoded.debugDescription), not \(testCase.decoded.debugDescription)")
            let skipping = try tokenizer.decode(ids, skipSpecialTokens: true)
            #expect(Self.sameBytes(skipping, testCase.decoded_skipping_special_tokens),
                    "\(fixture) skipping special tokens: \(ids) decoded to \(skipping.debugDescription)")
        }
    }

    @Test("decoding id prefixes that cut a character renders it as tokenizers does", arguments: fixtureNames)
    func prefixDecodesMatchTokenizersLibrary(fixture: String) throws {
        let (tokenizer, expected) = try Self.load(fixture)
        for entry in expected.prefix_decodes {
            for (length, expectedText) in zip(1..., entry.decoded_prefixes) {
                let decoded = try tokenizer.decode(Array(entry.ids.prefix(length)), skipSpecialTokens: false)
                #expect(Self.sameBytes(decoded, expectedText), "\(fixture): \(entry.ids.prefix(length))")
            }
        }
    }

    @Test("vocabulary size counts the model's tokens and the added ones", arguments: fixtureNames)
    func vocabularySizeMatchesTokenizersLibrary(fixture: String) throws {
        let (tokenizer, expected) = try Self.load(fixture)
        #expect(tokenizer.vocabularySize == expected.vocabulary_size)
    }

    @Test func llama2SpecialTokensAreInferred() throws {
        let (tokenizer, _) = try Self.load("llama2")
        #expect(tokenizer.bosTokenID == 1)
        #expect(tokenizer.eosTokenID == 2)
        #expect(tokenizer.padTokenID == nil)
        #expect(tokenizer.id(forToken: "<unk>") == 0)
        #expect(tokenizer.id(forToken: "<0x0A>") == 13)
    }

    @Test func llama3BeginningOfTextComesFromTheTemplate() throws {
        let (tokenizer, _) = try Self.load("llama3")
        let beginOfText = try #require(tokenizer.id(forToken: "<|begin_of_text|>"))
        #expect(tokenizer.bosTokenID == beginOfText)
        #expect(tokenizer.eosTokenID == tokenizer.id(forToken: "<|end_of_text|>"))
        #expect(tokenizer.encode("Hi", addSpecialTokens: true).first == beginOfText)
    }
}
