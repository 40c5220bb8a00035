import Foundation
import Testing
import Transformer

@Suite("LlamaConfig from and to config.json")
struct LlamaConfigTests {
    private func config(_ json: String, source: String = "test/config.json") throws -> LlamaConfig {
        try LlamaConfig(jsonData: Data(json.utf8), source: source)
    }

    private static let minimal = #"{"vocab_size":64,"hidden_size":32,"intermediate_size":64,"num_hidden_layers":2,"num_attention_heads":4"#

    @Test func transformers5ConfigWithRopeParameters() throws {
        let mha = try LlamaConfig(contentsOf: Fixtures.model("llama-mha-f32").appendingPathComponent("config.json"))
        #expect(mha.vocabSize == 96 && mha.hiddenSize == 32 && mha.intermediateSize == 64)
        #expect(mha.numHiddenLayers == 2 && mha.numAttentionHeads == 4 && mha.numKeyValueHeads == 4)
        #expect(mha.headDim == 8 && mha.ropeTheta == 10000 && mha.rmsNormEps == 1e-5)
        #expect(mha.maxPositionEmbeddings == 64 && !mha.tieWordEmbeddings)
        #expect(mha.bosTokenId == 1 && mha.eosTokenIds == [2] && mha.padTokenId == 0 && mha.dtype == "float32")
    }

    @Test func groupedQueryAttentionWithExplicitHeadDim() throws {
        let gqa = try LlamaConfig(contentsOf: Fixtures.model("llama-gqa-f32").appendingPathComponent("config.json"))
        #expect(gqa.numAttentionHeads == 4 && gqa.numKeyValueHeads == 2)
        #expect(gqa.headDim == 16, "head_dim given, not hidden / heads = 8")
        #expect(gqa.ropeTheta == 500_000 && gqa.rmsNormEps == 1e-6)
    }

    @Test func transformers4ConfigWithTopLevelRopeThetaAndNoHeadDim() throws {
        let tied = try LlamaConfig(contentsOf: Fixtures.model("llama-tied-oldrope-f32").appendingPathComponent("config.json"))
        #expect(tied.ropeTheta == 100_000)
        #expect(tied.headDim == 8)
        #expect(tied.tieWordEmbeddings)
        #expect(tied.dtype == "float32", "read from torch_dtype")
        let bf16 = try LlamaConfig(contentsOf: Fixtures.model("llama-bf16").appendingPathComponent("config.json"))
        #expect(bf16.dtype == "bfloat16")
    }

    @Test func missingOptionalKeysTakeTransformersDefaults() throws {
        let minimal = try config(Self.minimal + "}")
        #expect(minimal.numKeyValueHeads == 4 && minimal.headDim == 8)
        #expect(minimal.rmsNormEps == 1e-6 && minimal.ropeTheta == 10000 && minimal.maxPositionEmbeddings == 2048)
        #expect(!minimal.tieWordEmbeddings && minimal.eosTokenIds.isEmpty && minimal.bosTokenId == nil)
        #expect(minimal.dtype == nil)
    }

    @Test func unknownKeysAndNullsAreTolerated() throws {
        let tolerant = try config(Self.minimal + #","future_key":{"x":[1,2]},"head_dim":null,"pad_token_id":null,"rope_scaling":null,"rope_parameters":{"rope_type":"default","rope_theta":5e5,"extra":1},"eos_token_id":[2,7]}"#)
        #expect(tolerant.headDim == 8 && tolerant.padTokenId == nil && tolerant.ropeTheta == 500_000)
        #expect(tolerant.eosTokenIds == [2, 7])
        let agreeing = try config(Self.minimal + #","rope_theta":5e5,"rope_parameters":{"rope_theta":500000}}"#)
        #expect(agreeing.ropeTheta == 500_000)
        #expect(try config(Self.minimal + #","eos_token_id":null}"#).eosTokenIds.isEmpty)
    }

    /// Invalid configs, each with the key the error must name.
    static let invalid: [(json: String, key: String)] = [
        (#"{"hidden_size":32,"intermediate_size":64,"num_hidden_layers":2,"num_attention_heads":4}"#, "vocab_size"),
        (minimal.replacingOccurrences(of: #""vocab_size":64"#, with: #""vocab_size":"64""#) + "}", "vocab_size"),
        (minimal.replacingOccurrences(of: #""hidden_size":32"#, with: #""hidden_size":0"#) + "}", "hidden_size"),
        (minimal.replacingOccurrences(of: #""num_attention_heads":4"#, with: #""num_attention_heads":5"#) + "}", "num_attention_heads"),
        (minimal + #","num_key_value_heads":3}"#, "num_key_value_heads"),
        (minimal + #","num_key_value_heads":0}"#, "num_key_value_heads"),
        (minimal + #","head_dim":7}"#, "head_dim"),
        (minimal + #","head_dim":4294967296}"#, "head_dim"),
        (minimal.replacingOccurrences(of: #""vocab_size":64"#, with: #""vocab_size":9223372036854775807"#) + "}", "vocab_size"),
        (minimal.replacingOccurrences(of: #""num_hidden_layers":2"#, with: #""num_hidden_layers":1000000"#) + "}", "num_hidden_layers"),
        (minimal.replacingOccurrences(of: #""num_hidden_layers":2"#, with: #""num_hidden_layers":-1"#) + "}", "num_hidden_layers"),
        (minimal + #","rms_norm_eps":-1e-6}"#, "rms_norm_eps"),
        (minimal + #","rope_theta":0}"#, "rope_theta"),
        (minimal + #","rope_theta":"big"}"#, "rope_theta"),
        (minimal + #","rope_theta":10000,"rope_parameters":{"rope_theta":500000,"rope_type":"default"}}"#, "rope_parameters.rope_theta"),
        (minimal + #","rope_parameters":{"rope_theta":500000,"rope_type":"llama3","factor":8}}"#, "rope_parameters.rope_type"),
        (minimal + #","rope_parameters":[1]}"#, "rope_parameters"),
        (minimal + #","rope_scaling":{"type":"linear","factor":2}}"#, "rope_scaling.rope_type"),
        (minimal + #","hidden_act":"gelu"}"#, "hidden_act"),
        (minimal + #","attention_bias":true}"#, "attention_bias"),
        (minimal + #","mlp_bias":true}"#, "mlp_bias"),
        (minimal + #","model_type":"gpt2"}"#, "model_type"),
        (minimal + #","eos_token_id":"</s>"}"#, "eos_token_id"),
        (minimal + #","tie_word_embeddings":"yes"}"#, "tie_word_embeddings"),
        ("[1, 2]", "(root)"),
        ("not json", "(root)"),
    ]

    @Test func invalidValuesThrowNamingFileAndKey() {
        for (json, key) in Self.invalid {
            do {
                _ = try config(json)
                Issue.record("accepted: \(json)")
            } catch let ModelFileError.invalidConfig(path, errorKey, _) {
                #expect(path == "test/config.json")
                #expect(errorKey == key, "\(json)")
            } catch {
                Issue.record("\(json): unexpected \(error)")
            }
        }
    }

    @Test func memberwiseInitValidates() throws {
        #expect(throws: ModelFileError.self) {
            try LlamaConfig(vocabSize: 10, hiddenSize: 30, intermediateSize: 8, numHiddenLayers: 1, numAttentionHeads: 4)
        }
        let config = try LlamaConfig(
            vocabSize: 10, hiddenSize: 30, intermediateSize: 8, numHiddenLayers: 1, numAttentionHeads: 4,
            numKeyValueHeads: 2, headDim: 6)
        #expect(config.headDim == 6 && config.numKeyValueHeads == 2)
    }

    @Test func encodingWritesBothRopeStylesAndRoundTrips() throws {
        let original = try LlamaConfig(
            vocabSize: 100, hiddenSize: 48, intermediateSize: 96, numHiddenLayers: 3, numAttentionHeads: 6,
            numKeyValueHeads: 2, headDim: 16, rmsNormEps: 1e-5, ropeTheta: 500_000, maxPositionEmbeddings: 512,
            tieWordEmbeddings: true, bosTokenId: 1, eosTokenIds: [2, 3], padTokenId: 0, dtype: "bfloat16")
        let data = try original.jsonData()
        #expect(try LlamaConfig(jsonData: data) == original)
        let object = try #require(JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(object["rope_theta"] as? Double == 500_000)
        let rope = try #require(object["rope_parameters"] as? [String: Any])
        #expect(rope["rope_theta"] as? Double == 500_000 && rope["rope_type"] as? String == "default")
        #expect(object["architectures"] as? [String] == ["LlamaForCausalLM"])
        #expect(object["model_type"] as? String == "llama" && object["hidden_act"] as? String == "silu")
        #expect(object["eos_token_id"] as? [Int] == [2, 3])
        #expect(object["dtype"] as? String == "bfloat16" && object["torch_dtype"] as? String == "bfloat16")
        for name in Fixtures.modelNames {
            let url = Fixtures.model(name).appendingPathComponent("config.json")
            let fixture = try LlamaConfig(contentsOf: url)
            #expect(try LlamaConfig(jsonData: fixture.jsonData()) == fixture, "\(name)")
        }
    }

    @Test func unreadableFileIsNamed() throws {
        let url = URL(fileURLWithPath: "/nonexistent/config.json")
        #expect {
            try LlamaConfig(contentsOf: url)
        } throws: { error in
            guard case .unreadable(let path, _) = error as? ModelFileError else { return false }
            return path == url.path
        }
    }
}
