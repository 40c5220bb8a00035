import Foundation
import Testing
import Transformer

/// Behaviour the trained fixtures do not reach, on hand-written definitions. Expected ids were
/// taken from Hugging Face `tokenizers` 0.23.3 on the same JSON.
struct BPETokenizerTests {
    static func tokenizer(_ json: String) throws -> BPETokenizer {
        try BPETokenizer(data: Data(json.utf8), source: "test.json")
    }

    /// Strip + Lowercase normalizers, WhitespaceSplit + Digits pre-tokenizers, a subword prefix,
    /// a word suffix and an unknown token.
    static let wordPieceLikeJSON = #"""
        {"normalizer": {"type": "Sequence", "normalizers": [
            {"type": "Strip", "strip_left": true, "strip_right": true}, {"type": "Lowercase"}]},
         "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
            {"type": "WhitespaceSplit"}, {"type": "Digits", "individual_digits": true}]},
         "model": {"type": "BPE", "dropout": null, "unk_token": "[UNK]", "continuing_subword_prefix": "##",
            "end_of_word_suffix": "</w>", "fuse_unk": false, "byte_fallback": false, "ignore_merges": false,
            "vocab": {"[UNK]": 0, "h": 1, "##e": 2, "##l": 3, "##o</w>": 4, "he": 5, "##lo</w>": 6, "hel": 7,
                      "1": 8, "2": 9, "3": 10, "x</w>": 11, "1</w>": 12, "2</w>": 13, "3</w>": 14},
            "merges": [["h", "##e"], ["##l", "##o</w>"], ["he", "##l"]]}}
        """#

    @Test func subwordPrefixAndWordSuffixMatchTokenizersLibrary() throws {
        let tokenizer = try Self.tokenizer(Self.wordPieceLikeJSON)
        #expect(tokenizer.encode("  HELLO  hello x 123 hq ", addSpecialTokens: true) == [7, 6, 7, 6, 11, 12, 13, 14, 1, 0])
        #expect(tokenizer.encode("heLLo", addSpecialTokens: false) == [7, 6])
        #expect(tokenizer.encode("   ", addSpecialTokens: false) == [])
        #expect(try tokenizer.decode([7, 6, 0], skipSpecialTokens: false) == "hel ##lo</w> [UNK]")
    }

    @Test func emptyTextGivesNoTokensEvenWhenMetaspacePrepends() throws {
        let tokenizer = try Self.tokenizer(#"""
            {"pre_tokenizer": {"type": "Metaspace", "replacement": "▁", "prepend_scheme": "always", "split": true},
             "decoder": {"type": "Metaspace", "replacement": "▁", "prepend_scheme": "always", "split": true},
             "model": {"type": "BPE", "vocab": {"▁": 0, "a": 1, "▁a": 2}, "merges": ["▁ a"]}}
            """#)
        #expect(tokenizer.encode("", addSpecialTokens: true) == [])
        #expect(tokenizer.encode("a a", addSpecialTokens: false) == [2, 2])
        #expect(tokenizer.encode(" a", addSpecialTokens: false) == [2])
        #expect(try tokenizer.decode([2, 2], skipSpecialTokens: false) == "a a")
    }

    @Test func canonicallyEquivalentTokensKeepTheirOwnIDs() throws {
        let tokenizer = try Self.tokenizer(#"""
            {"model": {"type": "BPE", "vocab": {"é": 0, "e": 1, "\u0301": 2, "e\u0301": 3}, "merges": ["e \u0301"]}}
            """#)
        #expect(tokenizer.encode("\u{E9}", addSpecialTokens: false) == [0])
        #expect(tokenizer.encode("e\u{301}", addSpecialTokens: false) == [3])
        #expect(tokenizer.id(forToken: "e\u{301}") == 3)
        #expect(try tokenizer.decode([3], skipSpecialTokens: false).unicodeScalars.count == 2)
    }

    @Test func addedTokenIDsAreAssignedAsTokenizersAssignsThem() throws {
        let tokenizer = try Self.tokenizer(#"""
            {"added_tokens": [
                {"id": 10, "content": "<x>", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true},
                {"id": 3, "content": "<y>", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true},
                {"id": 0, "content": "b", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true}],
             "model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "c": 2}, "merges": []}}
            """#)
        #expect(tokenizer.encode("<x>a<y>b", addSpecialTokens: false) == [3, 0, 4, 1])
        #expect(try tokenizer.decode([0, 1, 3, 4], skipSpecialTokens: true) == "a")
        #expect(tokenizer.vocabularySize == 5)
    }
}
