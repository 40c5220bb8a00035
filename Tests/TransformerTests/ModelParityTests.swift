import Foundation
import Testing
import Tensor
import Autograd
import Transformer

@Suite("Parity with transformers' LlamaForCausalLM")
struct ModelParityTests {
    @Test("Logits and greedy continuations match the PyTorch reference", arguments: Fixtures.modelNames)
    func parity(fixture: String) throws {
        let folder = Fixtures.model(fixture)
        let expected = try JSONDecoder().decode(ReferenceFixtureTests.Expected.self, from: Data(contentsOf: folder.appendingPathComponent("expected.json")))
        let model = try LlamaModel(contentsOf: folder)
        for testCase in expected.cases {
            let (rows, length) = (testCase.input_ids.count, testCase.input_ids[0].count)
            let mask = testCase.attention_mask.flatMap { $0.map { $0 == 1 } }
            let batch = try TokenBatch(
                tokens: testCase.input_ids.flatMap { $0 }, batch: rows, length: length, mask: mask,
                positions: testCase.position_ids.flatMap { $0 })
            let logits = try GradientMode.withoutGradients { try model(batch) }.value
            let reference = testCase.logits.flatMap { $0 }
            let vocabulary = model.config.vocabSize
            var worst: Float = 0
            for slot in 0..<(rows * length) where mask[slot] {  // padding slots' logits are meaningless
                let row = try #require(reference[slot])
                for j in 0..<vocabulary { worst = max(worst, abs(logits.scalars[slot * vocabulary + j] - row[j])) }
            }
            print("parity \(fixture) \(testCase.name): max |Δlogit| = \(worst)")
            #expect(worst < 1e-4, "\(fixture) \(testCase.name): max |Δlogit| = \(worst)")
        }
        let continuation = try model.generate(
            prompts: [expected.greedy.prompt_ids], options: GenerationOptions(maxNewTokens: expected.greedy.max_new_tokens))
        #expect(continuation[0] == expected.greedy.new_token_ids)
    }

    @Test("A saved model loads back with identical weights and logits")
    func saveLoadRoundTrip() throws {
        let model = try tinyModel(tied: true)
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("peft-roundtrip-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        try model.save(to: folder)
        let loaded = try LlamaModel(contentsOf: folder)
        #expect(loaded.weights == model.weights)
        let batch = try TokenBatch(rows: [[1, 2, 3]])
        #expect(try loaded(batch).value == model(batch).value)
    }

    @Test("A weight of the wrong shape is reported by key")
    func badWeightNamed() throws {
        let model = try tinyModel()
        var weights = model.weights
        weights["model.layers.1.mlp.up_proj.weight"] = try Tensor.zeros([3, 3])
        #expect(throws: ModelError.badWeight("model.layers.1.mlp.up_proj.weight", "shape [3, 3], expected [64, 32]")) {
            try LlamaModel(config: model.config, weights: { weights[$0] })
        }
        weights["model.layers.1.mlp.up_proj.weight"] = nil
        #expect(throws: ModelError.badWeight("model.layers.1.mlp.up_proj.weight", "missing")) {
            try LlamaModel(config: model.config, weights: { weights[$0] })
        }
    }
}
