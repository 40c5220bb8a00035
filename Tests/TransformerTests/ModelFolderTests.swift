import Foundation
import Tensor
import Testing
import Transformer

@Suite("Hugging Face model folders")
struct ModelFolderTests {
    @Test(arguments: Fixtures.modelNames)
    func fixtureFoldersOpenWithEveryExpectedWeight(name: String) throws {
        let folder = try ModelFolder(Fixtures.model(name))
        let expected = folder.config.expectedWeightShapes
        #expect(expected.count == 2 + 9 * folder.config.numHiddenLayers + (folder.config.tieWordEmbeddings ? 0 : 1))
        let weights = try folder.loadWeights()
        #expect(Set(weights.keys) == Set(expected.keys))
        for (key, tensor) in weights { #expect(tensor.shape == expected[key], "\(key)") }
        #expect(folder.tokenizerURL == nil)
    }

    @Test func tiedCheckpointHasNoLMHeadAndShardedOneReadsThroughTheIndex() throws {
        let tied = try ModelFolder(Fixtures.model("llama-tied-oldrope-f32"))
        #expect(tied.config.tieWordEmbeddings)
        #expect(!tied.weights.contains(LlamaWeightNames.lmHead))
        #expect(tied.config.expectedWeightShapes[LlamaWeightNames.lmHead] == nil)
        let sharded = try ModelFolder(Fixtures.model("llama-sharded-f32"))
        #expect(sharded.weights.url.lastPathComponent == "model.safetensors.index.json")
        #expect(try sharded.tensor(named: LlamaWeightNames.layer(1).keyProjection).shape == [16, 32])
    }

    @Test func layerNamesAreTheHuggingFaceKeys() {
        let layer = LlamaWeightNames.layer(3)
        #expect(layer.queryProjection == "model.layers.3.self_attn.q_proj.weight")
        #expect(layer.outputProjection == "model.layers.3.self_attn.o_proj.weight")
        #expect(layer.gateProjection == "model.layers.3.mlp.gate_proj.weight")
        #expect(layer.downProjection == "model.layers.3.mlp.down_proj.weight")
        #expect(layer.inputNorm == "model.layers.3.input_layernorm.weight")
        #expect(layer.postAttentionNorm == "model.layers.3.post_attention_layernorm.weight")
    }

    @Test(arguments: [SafetensorsDType.f32, .bf16])
    func writtenFolderReadsBackWithTheSameConfigAndWeights(dtype: SafetensorsDType) throws {
        let source = try ModelFolder(Fixtures.model(dtype == .bf16 ? "llama-bf16" : "llama-gqa-f32"))
        let weights = try source.loadWeights()
        try withTemporaryFolder { folder in
            let tokenizer = folder.appendingPathComponent("source-tokenizer.json")
            try Data(#"{"model":{}}"#.utf8).write(to: tokenizer)
            let destination = folder.appendingPathComponent("nested/out")
            try ModelFolder.write(config: source.config, weights: weights, to: destination, dtype: dtype, tokenizer: tokenizer)
            let written = try ModelFolder(destination)
            #expect(written.config == source.config)
            #expect(try written.loadWeights() == weights, "bf16 weights are exact in bf16")
            #expect(written.tokenizerURL?.lastPathComponent == "tokenizer.json")
            #expect(try SafetensorsFile(contentsOf: destination.appendingPathComponent("model.safetensors")).metadata == ["format": "pt"])
            let entries = try FileManager.default.contentsOfDirectory(atPath: destination.deletingLastPathComponent().path)
            #expect(entries == ["out"], "no staging folder left behind")
        }
    }

    @Test func writingIntoAnExistingFolderReplacesItsFiles() throws {
        let source = try ModelFolder(Fixtures.model("llama-mha-f32"))
        var weights = try source.loadWeights()
        try withTemporaryFolder { folder in
            try ModelFolder.write(config: source.config, weights: weights, to: folder)
            weights[LlamaWeightNames.finalNorm] = try Tensor.ones([32])
            try ModelFolder.write(config: source.config, weights: weights, to: folder)
            #expect(try ModelFolder(folder).tensor(named: LlamaWeightNames.finalNorm) == Tensor.ones([32]))
            try ModelFolder.write(config: source.config, weights: weights, to: folder, dtype: .f16)
            #expect(try ModelFolder(folder).config.dtype == "float16", "config declares the stored dtype")
            let entries = try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
            #expect(entries == ["config.json", "model.safetensors"])
        }
    }

    @Test func writingRefusesWeightsThatDoNotFitAndWritesNothing() throws {
        let source = try ModelFolder(Fixtures.model("llama-tied-oldrope-f32"))
        let weights = try source.loadWeights()
        try withTemporaryFolder { folder in
            let destination = folder.appendingPathComponent("out")
            let path = destination.path
            var missing = weights
            missing[LlamaWeightNames.finalNorm] = nil
            #expect(throws: ModelFileError.missingTensor(path: path, key: LlamaWeightNames.finalNorm)) {
                try ModelFolder.write(config: source.config, weights: missing, to: destination)
            }
            var extra = weights
            extra[LlamaWeightNames.lmHead] = try Tensor.zeros([96, 32])
            #expect(throws: ModelFileError.unexpectedTensor(path: path, key: LlamaWeightNames.lmHead)) {
                try ModelFolder.write(config: source.config, weights: extra, to: destination)
            }
            var misshaped = weights
            misshaped[LlamaWeightNames.layer(0).upProjection] = try Tensor.zeros([64, 31])
            #expect(throws: ModelFileError.shapeMismatch(
                path: path, key: LlamaWeightNames.layer(0).upProjection, expected: [64, 32], actual: [64, 31])) {
                try ModelFolder.write(config: source.config, weights: misshaped, to: destination)
            }
            #expect(!FileManager.default.fileExists(atPath: path))
        }
    }

    @Test func openingReportsMissingFilesAndWeightsThatDoNotFitTheConfig() throws {
        try withTemporaryFolder { folder in
            #expect(throws: ModelFileError.missingFile(
                path: folder.appendingPathComponent("config.json").path, reason: "a model folder needs a config.json")) {
                try ModelFolder(folder)
            }
            let configURL = folder.appendingPathComponent("config.json")
            try FileManager.default.copyItem(at: Fixtures.model("llama-mha-f32").appendingPathComponent("config.json"), to: configURL)
            #expect {
                try ModelFolder(folder)
            } throws: { error in
                guard case .missingFile(let path, _) = error as? ModelFileError else { return false }
                return path.hasSuffix("model.safetensors")
            }
            try FileManager.default.copyItem(
                at: Fixtures.model("llama-mha-f32").appendingPathComponent("model.safetensors"),
                to: folder.appendingPathComponent("model.safetensors"))
            var config = try jsonObject(at: configURL)
            config["intermediate_size"] = 48
            try writeJSON(config, to: configURL)
            let weightsPath = folder.appendingPathComponent("model.safetensors").path
            #expect(throws: ModelFileError.shapeMismatch(
                path: weightsPath, key: "model.layers.0.mlp.down_proj.weight", expected: [32, 48], actual: [32, 64])) {
                try ModelFolder(folder)
            }
            config["intermediate_size"] = 64
            config["tie_word_embeddings"] = false
            config["num_hidden_layers"] = 3
            try writeJSON(config, to: configURL)
            #expect(throws: ModelFileError.missingTensor(path: weightsPath, key: "model.layers.2.input_layernorm.weight")) {
                try ModelFolder(folder)
            }
        }
    }
}
