import Foundation
import Testing
import Transformer
import PEFT

@Suite("Prompt templates and the instruction encoder")
struct InstructionEncodingTests {
    let tokenizer = ByteTokenizer()

    @Test("Alpaca renders the Input section only when there is an input")
    func alpaca() {
        let withInput = InstructionExample(instruction: "Add the numbers", input: "2 and 3", output: "5")
        #expect(PromptTemplate.alpaca.prompt(for: withInput)
                == "### Instruction:\nAdd the numbers\n\n### Input:\n2 and 3\n\n### Response:\n")
        #expect(PromptTemplate.alpaca.response(for: withInput) == "5")
        for input in [nil, "", "  \n"] {
            let example = InstructionExample(instruction: "Say hi", input: input, output: "hi")
            #expect(PromptTemplate.alpaca.prompt(for: example) == "### Instruction:\nSay hi\n\n### Response:\n")
        }
    }

    @Test("Plain puts instruction and input on lines; placeholders inside values stay as written")
    func plainAndPlaceholders() {
        #expect(PromptTemplate.plain.prompt(for: InstructionExample(instruction: "a", input: "b", output: "c")) == "a\nb\n")
        #expect(PromptTemplate.plain.prompt(for: InstructionExample(instruction: "a", output: "c")) == "a\n")
        let tricky = InstructionExample(instruction: "write {input} literally", input: "{instruction}", output: "")
        #expect(PromptTemplate.plain.prompt(for: tricky) == "write {input} literally\n{instruction}\n")
        let text = InstructionExample(text: "free text")
        #expect(PromptTemplate.alpaca.prompt(for: text) == "" && PromptTemplate.alpaca.response(for: text) == "free text")
    }

    @Test("Compact is one line and puts a space before an answer that has none")
    func compactTemplate() throws {
        let example = InstructionExample(instruction: "Classify.", input: "Great film.", output: "positive")
        #expect(PromptTemplate.compact.prompt(for: example) == "Classify. Great film. Answer:")
        #expect(PromptTemplate.compact.response(for: example) == " positive")
        #expect(PromptTemplate.compact.response(for: InstructionExample(instruction: "a", output: " spaced")) == " spaced")
        #expect(PromptTemplate.compact.prompt(for: InstructionExample(instruction: "Say hi.", output: "hi")) == "Say hi. Answer:")
        let decoded = try JSONDecoder().decode(PromptTemplate.self, from: JSONEncoder().encode(PromptTemplate.compact))
        #expect(decoded == .compact)
        let old = try JSONDecoder().decode(PromptTemplate.self, from: Data(#"{"withInput": "{instruction}", "withoutInput": "{instruction}"}"#.utf8))
        #expect(old.responsePrefix == "", "files written before the prefix existed read as none")
    }

    @Test("The prompt (with BOS) comes first and promptLength counts it; the response ends with EOS")
    func promptResponseSplit() throws {
        let encoder = try InstructionEncoder(tokenizer: tokenizer, template: .plain, maxLength: 32)
        let encoded = try encoder.encode(InstructionExample(instruction: "hi", input: "x", output: "ok"))
        let prompt: [Int] = "hi\nx\n".utf8.map(Int.init), response: [Int] = "ok".utf8.map(Int.init)
        #expect(encoded.tokens == [256] + prompt + response + [257])
        #expect(encoded.promptLength == 6)
        #expect(encoded.responseLength == 3)
        #expect(!encoded.isTruncated)

        let bare = try InstructionEncoder(tokenizer: tokenizer, template: .plain, maxLength: 32, addBOS: false, appendEOS: false)
        let plain = try bare.encode(InstructionExample(instruction: "hi", output: "ok"))
        #expect(plain.tokens == Array("hi\nok".utf8).map(Int.init) && plain.promptLength == 3)
    }

    @Test("A plain-text example is all response: promptLength is 1 with BOS, 0 without")
    func textExamples() throws {
        let example = InstructionExample(text: "abc")
        let withBOS = try InstructionEncoder(tokenizer: tokenizer).encode(example)
        #expect(withBOS.tokens == [256, 97, 98, 99, 257] && withBOS.promptLength == 1)
        let withoutBOS = try InstructionEncoder(tokenizer: tokenizer, addBOS: false).encode(example)
        #expect(withoutBOS.tokens == [97, 98, 99, 257] && withoutBOS.promptLength == 0)
    }

    @Test("Too long: the prompt is kept whole and the response cut at its end; a prompt with no room left is an error")
    func truncation() throws {
        let encoder = try InstructionEncoder(tokenizer: tokenizer, template: .plain, maxLength: 8)
        let cut = try encoder.encode(InstructionExample(instruction: "abc", output: "123456"))
        #expect(cut.tokens == [256, 97, 98, 99, 10, 49, 50, 51])
        #expect(cut.promptLength == 5 && cut.isTruncated)

        let tooLong = InstructionExample(instruction: "abcdefg", output: "1", origin: "train.jsonl:4")
        #expect(throws: InstructionDataError.promptTooLong(example: "train.jsonl:4", promptTokens: 9, maxLength: 8)) {
            try encoder.encode([InstructionExample(instruction: "a", output: "b"), tooLong])
        }
        #expect(throws: InstructionDataError.promptTooLong(example: "example 1", promptTokens: 9, maxLength: 8)) {
            try encoder.encode([InstructionExample(instruction: "a", output: "b"), InstructionExample(instruction: "abcdefg", output: "1")])
        }
    }

    @Test("Settings the tokenizer cannot support are rejected")
    func invalidSettings() {
        #expect(throws: InstructionDataError.self) { try InstructionEncoder(tokenizer: tokenizer, maxLength: 1) }
        #expect(throws: InstructionDataError.self) { try InstructionEncoder(tokenizer: NoSpecialTokens(), addBOS: true, appendEOS: false) }
        #expect(throws: InstructionDataError.self) { try InstructionEncoder(tokenizer: NoSpecialTokens(), addBOS: false, appendEOS: true) }
    }

    @Test("By default BOS is added exactly when the tokenizer's files say so; an explicit choice overrides")
    func bosAsTheTokenizerSays() throws {
        let example = InstructionExample(instruction: "hi", output: "ok")
        let noBOS = try InstructionEncoder(tokenizer: NoSpecialTokens(), template: .plain, appendEOS: false).encode(example)
        #expect(noBOS.tokens == Array("hi\nok".utf8).map(Int.init) && noBOS.promptLength == 3)

        let unused = BOSNotAdded()
        #expect(!unused.addsBOS && unused.bosTokenID == 256)
        let asFilesSay = try InstructionEncoder(tokenizer: unused, template: .plain, appendEOS: false).encode(example)
        #expect(asFilesSay.tokens.first == 104 && asFilesSay.promptLength == 3)
        let forced = try InstructionEncoder(tokenizer: unused, template: .plain, addBOS: true, appendEOS: false).encode(example)
        #expect(forced.tokens.first == 256 && forced.promptLength == 4)

        #expect(tokenizer.addsBOS)
        let byteDefault = try InstructionEncoder(tokenizer: tokenizer, template: .plain).encode(example)
        #expect(byteDefault.tokens.first == 256)
    }
}

/// Bytes with a BOS id that encoding never adds (like SmolLM2, whose files say add_bos_token false).
private struct BOSNotAdded: Tokenizer {
    let vocabularySize = 258
    let bosTokenID: Int? = 256, eosTokenID: Int? = 257, padTokenID: Int? = nil
    func encode(_ text: String, addSpecialTokens: Bool) -> [Int] { text.utf8.map(Int.init) }
    func decode(_ ids: [Int], skipSpecialTokens: Bool) throws -> String { String(decoding: ids.map(UInt8.init), as: UTF8.self) }
    func id(forToken token: String) -> Int? { nil }
}

/// Bytes without BOS, EOS or padding.
private struct NoSpecialTokens: Tokenizer {
    let vocabularySize = 256
    let bosTokenID: Int? = nil, eosTokenID: Int? = nil, padTokenID: Int? = nil
    func encode(_ text: String, addSpecialTokens: Bool) -> [Int] { text.utf8.map(Int.init) }
    func decode(_ ids: [Int], skipSpecialTokens: Bool) throws -> String { String(decoding: ids.map(UInt8.init), as: UTF8.self) }
    func id(forToken token: String) -> Int? { nil }
}
