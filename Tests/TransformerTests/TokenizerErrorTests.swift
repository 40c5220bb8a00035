import Foundation
import Testing
import Transformer

/// Malformed tokenizer definitions and bad ids throw errors that say what and where.
struct TokenizerErrorTests {
    static let minimalModel = #"{"type": "BPE", "vocab": {"a": 0, "b": 1, "ab": 2}, "merges": ["a b"]}"#

    static func tokenizer(_ json: String) throws -> BPETokenizer {
        try BPETokenizer(data: Data(json.utf8), source: "test.json")
    }

    @Test func truncatedJSONThrowsWithTheOffset() throws {
        let url = TokenizerParityTests.fixtureDirectory("llama2").appendingPathComponent("tokenizer.json")
        let truncated = try Data(contentsOf: url).prefix(2000)
        #expect {
            try BPETokenizer(data: truncated, source: "truncated.json")
        } throws: { error in
            guard case .malformedJSON(source: "truncated.json", offset: 2000, _)? = error as? TokenizerError else {
                return false
            }
            return true
        }
    }

    @Test(arguments: ["", "{", #"{"model": }"#, #"{"model": {"type": "BPE"}} x"#, #"{"a": "\ud800"}"#,
                      String(repeating: "[", count: 100_000)])
    func invalidJSONThrows(json: String) {
        #expect {
            try Self.tokenizer(json)
        } throws: { error in
            guard case .malformedJSON(source: "test.json", _, _)? = error as? TokenizerError else { return false }
            return true
        }
    }

    @Test func missingModelThrows() {
        #expect(throws: TokenizerError.missingKey(source: "test.json", key: "model")) {
            try Self.tokenizer(#"{"version": "1.0", "added_tokens": [], "model": null}"#)
        }
    }

    @Test func unknownPreTokenizerTypeThrowsNamingIt() {
        let json = #"{"model": \#(Self.minimalModel), "pre_tokenizer": {"type": "Punctuation"}}"#
        let expected = TokenizerError.unsupportedComponent(source: "test.json", key: "pre_tokenizer", type: "Punctuation")
        #expect(throws: expected) { try Self.tokenizer(json) }
        #expect(expected.description == #"test.json: unsupported type "Punctuation" at `pre_tokenizer`"#)
    }

    @Test func unknownComponentInsideASequenceThrowsWithItsPath() {
        let json = #"""
            {"model": \#(Self.minimalModel), "decoder": {"type": "Sequence",
             "decoders": [{"type": "ByteFallback"}, {"type": "CTC"}]}}
            """#
        #expect(throws: TokenizerError.unsupportedComponent(source: "test.json", key: "decoder.decoders[1]", type: "CTC")) {
            try Self.tokenizer(json)
        }
    }

    @Test func nonBPEModelThrows() {
        #expect(throws: TokenizerError.unsupportedComponent(source: "test.json", key: "model", type: "Unigram")) {
            try Self.tokenizer(#"{"model": {"type": "Unigram", "vocab": []}}"#)
        }
    }

    @Test func mergeOfAnUnknownTokenThrows() {
        let json = #"{"model": {"type": "BPE", "vocab": {"a": 0, "b": 1}, "merges": [["a", "b"]]}}"#
        #expect(throws: TokenizerError.invalidValue(source: "test.json", key: "model.merges[0]",
                                                    reason: "token ab is not in model.vocab")) {
            try Self.tokenizer(json)
        }
    }

    @Test func templateAddingAnUnknownIDThrows() {
        let json = #"""
            {"model": \#(Self.minimalModel), "post_processor": {"type": "TemplateProcessing",
             "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
             "special_tokens": {"<s>": {"id": "<s>", "ids": [99], "tokens": ["<s>"]}}}}
            """#
        #expect(throws: TokenizerError.invalidValue(source: "test.json", key: "post_processor",
                                                    reason: "id 99 names no token")) {
            try Self.tokenizer(json)
        }
    }

    @Test func wrongValueTypeThrowsWithTheKey() {
        let json = #"{"model": {"type": "BPE", "vocab": {"a": "zero"}, "merges": []}}"#
        #expect {
            try Self.tokenizer(json)
        } throws: { error in
            guard case .invalidValue(source: "test.json", key: "model.vocab.a", _)? = error as? TokenizerError else {
                return false
            }
            return true
        }
    }

    @Test func unreadableFileThrowsWithThePath() {
        let url = URL(fileURLWithPath: "/nonexistent/tokenizer.json")
        #expect {
            try BPETokenizer(contentsOf: url)
        } throws: { error in
            guard case .unreadableFile(path: "/nonexistent/tokenizer.json", _)? = error as? TokenizerError else {
                return false
            }
            return true
        }
    }

    @Test(arguments: [-1, 3, 1 << 40])
    func decodingAnOutOfRangeIDThrows(id: Int) throws {
        let tokenizer = try Self.tokenizer(#"{"model": \#(Self.minimalModel)}"#)
        #expect(tokenizer.vocabularySize == 3)
        #expect(throws: TokenizerError.idOutOfRange(id: id, vocabularySize: 3)) {
            try tokenizer.decode([0, id], skipSpecialTokens: false)
        }
    }
}
