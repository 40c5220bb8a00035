import Foundation
import Testing
import Transformer

/// `tokenizer_config.json` and `chat_template.jinja` beside `tokenizer.json`.
struct TokenizerConfigTests {
    /// A LLaMA-2 style `tokenizer.json` whose post-processor puts `<s>` (id 1) in front.
    static let tokenizerJSON = Fixtures.root.appendingPathComponent("tokenizers/llama2/tokenizer.json")

    /// The tokenizer of a folder holding the LLaMA-2 `tokenizer.json` and the given files.
    static func tokenizer(config: [String: Any]?, template: String? = nil) throws -> BPETokenizer {
        try withTemporaryFolder { folder in
            let url = folder.appendingPathComponent("tokenizer.json")
            try FileManager.default.copyItem(at: tokenizerJSON, to: url)
            if let config { try writeJSON(config, to: folder.appendingPathComponent("tokenizer_config.json")) }
            if let template { try Data(template.utf8).write(to: folder.appendingPathComponent("chat_template.jinja")) }
            return try BPETokenizer(contentsOf: url)
        }
    }

    @Test("Without a config, BOS is what tokenizer.json's post-processor adds")
    func withoutConfig() throws {
        let tokenizer = try Self.tokenizer(config: nil)
        #expect(tokenizer.addsBOS && !tokenizer.addsEOS && tokenizer.bosTokenID == 1 && tokenizer.chatTemplate == nil)
    }

    @Test("add_bos_token false means no BOS; add_eos_token true appends EOS")
    func flags() throws {
        let tokenizer = try Self.tokenizer(config: ["add_bos_token": false, "add_eos_token": true])
        #expect(!tokenizer.addsBOS && tokenizer.addsEOS && tokenizer.bosTokenID == 1)
        let ids = tokenizer.encode("Hello", addSpecialTokens: true)
        #expect(ids == tokenizer.encode("Hello", addSpecialTokens: false) + [2])
    }

    @Test("Special tokens given as strings, content objects or null set the ids")
    func specialTokens() throws {
        let tokenizer = try Self.tokenizer(config: [
            "bos_token": ["content": "</s>", "lstrip": false], "eos_token": "<s>", "pad_token": NSNull(),
        ])
        #expect(tokenizer.bosTokenID == 2 && tokenizer.eosTokenID == 1 && tokenizer.padTokenID == nil)
    }

    @Test("chat_template: a string, the default of a list, or chat_template.jinja, which wins")
    func chatTemplates() throws {
        let plain = try Self.tokenizer(config: ["chat_template": "{{ bos_token }}plain"])
        #expect(try plain.applyChatTemplate([], addGenerationPrompt: false) == "<s>plain")
        let named = try Self.tokenizer(config: ["chat_template": [
            ["name": "tool_use", "template": "tools"], ["name": "default", "template": "default"],
        ]])
        #expect(named.chatTemplate?.source == "default")
        let file = try Self.tokenizer(config: ["chat_template": "config"], template: "file")
        #expect(file.chatTemplate?.source == "file")
    }

    @Test("A special token that is not in the vocabulary, or a malformed value, names the key")
    func errors() throws {
        #expect {
            try Self.tokenizer(config: ["bos_token": "<nothing>"])
        } throws: { error in
            guard case .invalidValue(_, "bos_token", _)? = error as? TokenizerError else { return false }
            return true
        }
        #expect {
            try Self.tokenizer(config: ["add_bos_token": "yes"])
        } throws: { error in
            guard case .invalidValue(_, "add_bos_token", _)? = error as? TokenizerError else { return false }
            return true
        }
        #expect {
            try Self.tokenizer(config: ["chat_template": [["name": "other", "template": "x"]]])
        } throws: { error in
            guard case .invalidValue(_, "chat_template", _)? = error as? TokenizerError else { return false }
            return true
        }
    }
}
