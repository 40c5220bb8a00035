import Foundation
import Testing
import Transformer

/// Tokenizers built from GGUF metadata, compared with transformers' tokenizer loaded from the same
/// GGUF (`AutoTokenizer.from_pretrained(folder, gguf_file=…)`), on the fixtures written by
/// `Fixtures/gguf-tokenizers/make_gguf_tokenizer_fixtures.py`.
struct GGUFTokenizerTests {
    static let syntheticFixtures = ["gpt2-llama-bpe", "gpt2-qwen2", "gpt2-gpt-2", "llama-spm"]
    static let directory = Fixtures.root.appendingPathComponent("gguf-tokenizers")
    static let realModel = Fixtures.root.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent(".models/SmolLM2-135M-Instruct.Q4_1.gguf")

    struct Case: Decodable {
        let text: String
        let ids: [Int]
        let ids_with_special_tokens: [Int]
        let decoded: String
        /// For SmolLM2, where transformers departs from the model's own tokenizer.json pipeline
        /// (and llama.cpp): that pipeline's ids.
        let reference_ids: [Int]?

        /// The ids expected without and with special tokens: the reference's when there is one.
        var expected: (ids: [Int], withSpecialTokens: [Int]) {
            guard let reference_ids else { return (ids, ids_with_special_tokens) }
            let extra = ids_with_special_tokens.count - ids.count
            let prefixLength = (0...max(extra, 0)).first {
                ids_with_special_tokens.dropFirst($0).starts(with: ids)
            } ?? 0
            return (reference_ids, Array(ids_with_special_tokens.prefix(prefixLength)) + reference_ids
                    + ids_with_special_tokens.dropFirst(prefixLength + ids.count))
        }
    }

    struct TypedValue: Decodable {
        let type: String
        let value: JSONAny
    }

    /// Any JSON value, to be turned into a ``GGUFValue`` by its declared type.
    enum JSONAny: Decodable {
        case string(String), bool(Bool), number(Double), array([JSONAny])

        init(from decoder: Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let value = try? container.decode(Bool.self) { self = .bool(value) }
            else if let value = try? container.decode(Double.self) { self = .number(value) }
            else if let value = try? container.decode(String.self) { self = .string(value) }
            else { self = .array(try container.decode([JSONAny].self)) }
        }

        func gguf(_ type: String) throws -> GGUFValue {
            switch (type, self) {
            case ("string", .string(let value)): return .string(value)
            case ("bool", .bool(let value)): return .bool(value)
            case ("uint32", .number(let value)): return .uint32(UInt32(value))
            case (_, .array(let elements)) where type.hasSuffix("[]"):
                return .array(try elements.map { try $0.gguf(String(type.dropLast(2))) })
            case ("int32", .number(let value)): return .int32(Int32(value))
            case ("float32", .number(let value)): return .float32(Float(value))
            default: throw TokenizerError.invalidValue(source: "fixture", key: type, reason: "unexpected value")
            }
        }
    }

    struct Fixture: Decodable {
        let metadata: [String: TypedValue]?
        let cases: [Case]
    }

    static func fixture(_ name: String) throws -> Fixture {
        try JSONDecoder().decode(Fixture.self, from: Data(contentsOf: directory.appendingPathComponent("\(name).json")))
    }

    static func metadata(_ name: String) throws -> [String: GGUFValue] {
        let typed = try #require(try fixture(name).metadata)
        return try typed.mapValues { try $0.value.gguf($0.type) }
    }

    /// Checks `tokenizer` against transformers' ids (or the reference ids where a case has them)
    /// and decoded text. Cases whose ids name a token beyond the file's vocabulary are left out and
    /// counted: transformers adds GPT2Tokenizer's default `<|endoftext|>` to byte-level
    /// vocabularies that lack it.
    static func expectParity(_ tokenizer: BPETokenizer, _ cases: [Case], tokenCount: Int, label: String) throws -> Int {
        var skipped = 0
        for testCase in cases {
            if (testCase.ids_with_special_tokens + testCase.ids).contains(where: { $0 >= tokenCount }) {
                skipped += 1
                continue
            }
            let expected = testCase.expected
            #expect(tokenizer.encode(testCase.text, addSpecialTokens: false) == expected.ids,
                    "\(label): \(testCase.text.debugDescription)")
            #expect(tokenizer.encode(testCase.text, addSpecialTokens: true) == expected.withSpecialTokens,
                    "\(label) with special tokens: \(testCase.text.debugDescription)")
            let decoded = try tokenizer.decode(testCase.ids, skipSpecialTokens: false)
            #expect(decoded.utf8.elementsEqual(testCase.decoded.utf8),
                    "\(label): decoded \(decoded.debugDescription), not \(testCase.decoded.debugDescription)")
        }
        return skipped
    }

    @Test("ids and decoded text equal transformers' on synthetic gpt2 and llama vocabularies", arguments: syntheticFixtures)
    func syntheticParity(name: String) throws {
        let metadata = try Self.metadata(name)
        let tokenizer = try BPETokenizer(ggufMetadata: metadata, source: name)
        let tokenCount = try #require(metadata["tokenizer.ggml.tokens"]?.array?.count)
        let cases = try Self.fixture(name).cases
        let skipped = try Self.expectParity(tokenizer, cases, tokenCount: tokenCount, label: name)
        #expect(cases.count >= 30 && skipped <= 1, "\(name): \(skipped) of \(cases.count) cases name tokens transformers added")
    }

    @Test("The Hugging Face files written for a GGUF tokenizer read back to the same tokenizer", arguments: syntheticFixtures)
    func huggingFaceFiles(name: String) throws {
        let metadata = try Self.metadata(name)
        let original = try BPETokenizer(ggufMetadata: metadata, source: name)
        let files = try BPETokenizer.huggingFaceFiles(ggufMetadata: metadata, source: name)
        #expect(Set(files.keys) == ["tokenizer.json", "tokenizer_config.json"])
        let reread = try BPETokenizer(
            data: try #require(files["tokenizer.json"]), configData: files["tokenizer_config.json"], source: "\(name) files")
        #expect(reread.bosTokenID == original.bosTokenID && reread.eosTokenID == original.eosTokenID)
        #expect(reread.addsBOS == original.addsBOS && reread.addsEOS == original.addsEOS)
        #expect(reread.chatTemplate?.source == original.chatTemplate?.source)
        for testCase in try Self.fixture(name).cases {
            for special in [false, true] {
                #expect(reread.encode(testCase.text, addSpecialTokens: special) == original.encode(testCase.text, addSpecialTokens: special),
                        "\(name): \(testCase.text.debugDescription)")
            }
        }
    }

    @Test("The real SmolLM2-135M-Instruct tokenizer matches transformers and round-trips every string")
    func smolLM2Parity() throws {
        guard FileManager.default.fileExists(atPath: Self.realModel.path) else {
            print("skipped: \(Self.realModel.path) is absent (Scripts/fetch-smollm2 fetches it)")
            return
        }
        let file = try GGUFFile(contentsOf: Self.realModel)
        let tokenizer = try BPETokenizer(ggufMetadata: file.metadata, source: Self.realModel.path)
        let cases = try Self.fixture("smollm2-135m-instruct").cases
        #expect(try Self.expectParity(tokenizer, cases, tokenCount: 49152, label: "SmolLM2") == 0)
        for testCase in cases {
            let roundTrip = try tokenizer.decode(tokenizer.encode(testCase.text, addSpecialTokens: false), skipSpecialTokens: false)
            #expect(roundTrip.utf8.elementsEqual(testCase.text.utf8), "\(testCase.text.debugDescription)")
        }
        #expect(tokenizer.vocabularySize == 49152)
        #expect(tokenizer.bosTokenID == 1 && tokenizer.eosTokenID == 2 && tokenizer.padTokenID == 2)
        #expect(!tokenizer.addsBOS && !tokenizer.addsEOS)
        #expect(tokenizer.encode("<|im_start|>user\nHi<|im_end|>", addSpecialTokens: true) == [1, 4093, 198, 26843, 2])
        let rendered = try tokenizer.applyChatTemplate([ChatMessage(role: "user", content: "Hi")], addGenerationPrompt: true)
        #expect(rendered == "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n"
                + "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n")
    }

    @Test("Absent add_bos_token: BOS for LLaMA-3 pre-tokenizers and llama models (llama.cpp), none for others")
    func bosDefaults() throws {
        var llama3 = try Self.metadata("gpt2-llama-bpe")
        llama3["tokenizer.ggml.add_bos_token"] = nil
        #expect(try BPETokenizer(ggufMetadata: llama3, source: "llama3").addsBOS)
        llama3["tokenizer.ggml.add_bos_token"] = .bool(false)
        let withoutBOS = try BPETokenizer(ggufMetadata: llama3, source: "llama3")
        #expect(!withoutBOS.addsBOS && withoutBOS.bosTokenID == 0)
        #expect(withoutBOS.encode("Hi", addSpecialTokens: true) == withoutBOS.encode("Hi", addSpecialTokens: false))

        let sentencePiece = try BPETokenizer(ggufMetadata: Self.metadata("llama-spm"), source: "spm")
        #expect(sentencePiece.addsBOS && !sentencePiece.addsEOS)
        let qwen = try BPETokenizer(ggufMetadata: Self.metadata("gpt2-qwen2"), source: "qwen2")
        #expect(!qwen.addsBOS && qwen.bosTokenID == nil && qwen.eosTokenID == 2 && qwen.padTokenID == 0)
        let gpt2 = try BPETokenizer(ggufMetadata: Self.metadata("gpt2-gpt-2"), source: "gpt-2")
        #expect(!gpt2.addsBOS && gpt2.addsEOS)
    }

    @Test("add_space_prefix false: no ▁ is put in front of the text")
    func spacePrefix() throws {
        var metadata = try Self.metadata("llama-spm")
        let prefixed = try BPETokenizer(ggufMetadata: metadata, source: "spm")
        metadata["tokenizer.ggml.add_space_prefix"] = .bool(false)
        let bare = try BPETokenizer(ggufMetadata: metadata, source: "spm")
        #expect(prefixed.encode("Hello", addSpecialTokens: false) == prefixed.encode(" Hello", addSpecialTokens: false))
        #expect(bare.encode("Hello", addSpecialTokens: false) != prefixed.encode("Hello", addSpecialTokens: false))
        #expect(try bare.decode(bare.encode("Hello world", addSpecialTokens: false), skipSpecialTokens: false) == "Hello world")
    }

    @Test("Unsupported models and pre-tokenizers, and malformed metadata, are errors naming the key")
    func errors() throws {
        let metadata = try Self.metadata("gpt2-qwen2")
        func error(_ change: (inout [String: GGUFValue]) -> Void) -> TokenizerError? {
            var changed = metadata
            change(&changed)
            do {
                _ = try BPETokenizer(ggufMetadata: changed, source: "model.gguf")
                return nil
            } catch {
                return error as? TokenizerError
            }
        }
        #expect(error { $0["tokenizer.ggml.model"] = .string("bert") }
                == .unsupportedComponent(source: "model.gguf", key: "tokenizer.ggml.model", type: "bert"))
        #expect(error { $0["tokenizer.ggml.pre"] = .string("mystery") }
                == .unsupportedComponent(source: "model.gguf", key: "tokenizer.ggml.pre", type: "mystery"))
        #expect(error { $0["tokenizer.ggml.tokens"] = nil } == .missingKey(source: "model.gguf", key: "tokenizer.ggml.tokens"))
        #expect(error { $0["tokenizer.ggml.merges"] = nil } == .missingKey(source: "model.gguf", key: "tokenizer.ggml.merges"))
        guard case .invalidValue(_, "tokenizer.ggml.merges[0]", _)? = error({ $0["tokenizer.ggml.merges"] = .array([.string("a b c")]) })
        else { Issue.record("a three-part merge was accepted"); return }
        guard case .invalidValue(_, "tokenizer.ggml.merges[0]", _)? = error({ $0["tokenizer.ggml.merges"] = .array([.string("zz qq")]) })
        else { Issue.record("a merge of unknown tokens was accepted"); return }
        guard case .invalidValue(_, "tokenizer.ggml.eos_token_id", _)? = error({ $0["tokenizer.ggml.eos_token_id"] = .uint32(999_999) })
        else { Issue.record("an out-of-range id was accepted"); return }
        guard case .invalidValue(_, "tokenizer.ggml.token_type", _)? = error({ $0["tokenizer.ggml.token_type"] = .array([.int32(1)]) })
        else { Issue.record("token types of the wrong length were accepted"); return }
        guard case .invalidValue(_, "tokenizer.ggml.add_bos_token", _)? = error({ $0["tokenizer.ggml.add_bos_token"] = .bool(true) })
        else { Issue.record("add_bos_token without a BOS id was accepted"); return }
        guard case .invalidValue(_, "tokenizer.ggml.pre", _)? = error({ $0["tokenizer.ggml.pre"] = .uint32(1) })
        else { Issue.record("a numeric pre-tokenizer name was accepted"); return }
    }
}
