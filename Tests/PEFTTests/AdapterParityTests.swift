import Foundation
import Testing
import Tensor
import Autograd
import Transformer
import PEFT

/// The reference logits of `Fixtures/adapters/make_adapter_fixtures.py` (PEFT for LoRA and prompt
/// tuning; a PyTorch forward written from IAPT.md for IAPT and P-tuning v2).
struct AdapterExpectation: Decodable {
    struct Case: Codable {
        let tokens: [Int]
        let instruction_length: Int?
        let logits: [[Float]]
    }
    struct Run: Decodable {
        let adapter: String?
        let cases: [Case]
    }
    struct Prompts: Decodable {
        let adapter: String
        let tokens: [Int]
        let instruction_length: Int
        let prompts: [[[Float]]]
    }
    let runs: [String: Run]
    let generated_prompts: [String: Prompts]
}

let adapterFixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/adapters")

@Suite("Parity with PEFT and the PyTorch reference")
struct AdapterParityTests {
    let expectation = try! JSONDecoder().decode(
        AdapterExpectation.self, from: Data(contentsOf: adapterFixtures.appendingPathComponent("expected.json")))
    let base = try! LlamaModel(contentsOf: adapterFixtures.appendingPathComponent("base"))

    func logits(_ testCase: AdapterExpectation.Case, adapter: (any Adapter)?) throws -> Tensor {
        let batch = try TokenBatch(rows: [testCase.tokens], instructionLengths: testCase.instruction_length.map { [$0] })
        return try GradientMode.withoutGradients { try base(batch, adapter: adapter) }.value
    }

    @Test("Logits match the reference for every adapter kind and instruction length",
          arguments: ["base", "lora", "lora-rslora", "prompt", "prefix", "ptuning2", "iapt", "iapt-mean-gelu"])
    func logitsMatch(run name: String) throws {
        let run = try #require(expectation.runs[name])
        let adapter = try run.adapter.map { try AdapterFiles.load(from: adapterFixtures.appendingPathComponent($0), model: base) }
        for (index, testCase) in run.cases.enumerated() {
            let got = try logits(testCase, adapter: adapter).scalars
            let reference = testCase.logits.flatMap { $0 }
            #expect(got.count == reference.count)
            let worst = zip(got, reference).reduce(Float(0)) { max($0, abs($1.0 - $1.1)) }
            print("parity \(name) case \(index) (k = \(testCase.instruction_length ?? testCase.tokens.count)): max |Δlogit| = \(worst)")
            #expect(worst < 1e-4, "\(name) case \(index): \(worst)")
        }
    }

    @Test("IAPT's generated prompts match the reference layer by layer", arguments: ["iapt", "iapt-mean-gelu"])
    func promptsMatch(run name: String) throws {
        let reference = try #require(expectation.generated_prompts[name])
        let adapter = try AdapterFiles.load(from: adapterFixtures.appendingPathComponent(reference.adapter), model: base)
        let recorder = PromptRecorder(adapter)
        _ = try GradientMode.withoutGradients {
            try base(TokenBatch(rows: [reference.tokens], instructionLengths: [reference.instruction_length]), hooks: recorder)
        }
        #expect(recorder.recorded.count == reference.prompts.count)
        for (layer, (got, expected)) in zip(recorder.recorded, reference.prompts).enumerated() {
            let worst = zip(got.scalars, expected.flatMap { $0 }).reduce(Float(0)) { max($0, abs($1.0 - $1.1)) }
            #expect(worst < 1e-4, "\(name) layer \(layer): \(worst)")
        }
    }

    /// Adapters written by this package for PEFT to load (`check_swift_adapters.py` compares PEFT's
    /// logits with the ones recorded here). Set `PEFT_WRITE_SWIFT_ADAPTERS=1` to rewrite them.
    @Test("Adapters saved here still reproduce the logits recorded for PEFT's check", arguments: ["swift-lora", "swift-prompt"])
    func swiftWrittenAdapters(folder name: String) throws {
        let folder = adapterFixtures.appendingPathComponent(name)
        let cases = try #require(expectation.runs["base"]).cases
        if ProcessInfo.processInfo.environment["PEFT_WRITE_SWIFT_ADAPTERS"] == "1" {
            let adapter: any Adapter = name == "swift-lora"
                ? try LoRAAdapter(model: base, configuration: LoRAConfiguration(rank: 2, alpha: 6, targetModules: [.query, .value, .up]), seed: 5)
                : try PromptTuningAdapter(model: base, configuration: PromptTuningConfiguration(virtualTokens: 3), seed: 6)
            try perturb(adapter, seed: 7, scale: 0.2)
            try AdapterFiles.save(adapter, to: folder)
            let recorded = try cases.map { testCase in
                let values = try logits(testCase, adapter: adapter).scalars
                let width = base.config.vocabSize
                return AdapterExpectation.Case(
                    tokens: testCase.tokens, instruction_length: nil,
                    logits: (0..<testCase.tokens.count).map { Array(values[($0 * width)..<(($0 + 1) * width)]) })
            }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            try encoder.encode(["cases": recorded]).write(to: folder.appendingPathComponent("expected.json"))
        }
        struct Recorded: Decodable { let cases: [AdapterExpectation.Case] }
        let recorded = try JSONDecoder().decode(Recorded.self, from: Data(contentsOf: folder.appendingPathComponent("expected.json")))
        let adapter = try AdapterFiles.load(from: folder, model: base)
        // Within float rounding of the recorded values: kernels may change the order of additions
        // (bit-exact save → load is pinned by AdapterBehaviourTests, on one computation).
        for testCase in recorded.cases {
            let got = try logits(testCase, adapter: adapter).scalars
            let worst = zip(got, testCase.logits.flatMap { $0 }).reduce(Float(0)) { max($0, abs($1.0 - $1.1)) }
            #expect(worst < 1e-5, "\(name): \(worst)")
        }
    }
}
