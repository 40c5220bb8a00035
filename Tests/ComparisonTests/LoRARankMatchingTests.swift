import Foundation
import Testing
@testable import Comparison
import PEFT
import TaskSuite
import Transformer

@Suite struct LoRARankMatchingTests {
    private func count(_ rank: Int, _ model: LlamaModel) throws -> Int {
        try LoRAAdapter(model: model, configuration: LoRARankMatching.configuration(rank: rank)).trainableParameterCount
    }

    @Test func testPicksTheRankWhoseCountIsClosestToIAPTs() throws {
        let model = try tinyModel()
        let target = try IAPTAdapter(model: model, configuration: IAPTConfiguration()).trainableParameterCount
        let (rank, parameters) = try LoRARankMatching.closestRank(toParameterCount: target, model: model)
        #expect(parameters == (try count(rank, model)))
        for other in Set([max(1, rank - 1), rank + 1, rank + 2]) where other != rank {
            #expect(abs(parameters - target) <= abs(try count(other, model) - target), "rank \(other)")
        }
    }

    @Test func testRoundsToTheNearerRankAndStartsAtOne() throws {
        let model = try tinyModel()
        let step = try count(1, model)  // 2 layers × (q: 16 + 16, v: 16 + 8) = 112 per rank
        #expect(step == 112)
        #expect((try LoRARankMatching.closestRank(toParameterCount: 3 * step, model: model).rank) == 3)
        #expect((try LoRARankMatching.closestRank(toParameterCount: 3 * step + step / 2 - 1, model: model).rank) == 3)
        #expect((try LoRARankMatching.closestRank(toParameterCount: 3 * step + step / 2 + 1, model: model).rank) == 4)
        #expect((try LoRARankMatching.closestRank(toParameterCount: 3 * step + step / 2, model: model).rank) == 3, "a tie takes the smaller rank")
        #expect((try LoRARankMatching.closestRank(toParameterCount: 5, model: model).rank) == 1)
    }

    @Test func testLoRAUsesAlphaTwiceTheRankOnQueryAndValue() throws {
        let configuration = LoRARankMatching.configuration(rank: 6)
        #expect(configuration.alpha == 12)
        #expect(configuration.targetModules == [.query, .value])
        let adapter = try ComparisonMethod.lora.makeAdapter(for: tinyModel(), matchedRank: 6, seed: 0) as? LoRAAdapter
        #expect(adapter?.configuration.rank == 6)
    }

    @Test func testEachMethodBuildsItsAdapter() throws {
        let model = try tinyModel()
        #expect((try ComparisonMethod.base.makeAdapter(for: model, matchedRank: 1, seed: 0)) == nil)
        let prompt32 = try ComparisonMethod.prompt32.makeAdapter(for: model, matchedRank: 1, seed: 0)
        #expect(prompt32?.inputPrefixLength == 32)
        let mean = try ComparisonMethod.iaptMean.makeAdapter(for: model, matchedRank: 1, seed: 0) as? IAPTAdapter
        #expect(mean?.configuration.pooling == .mean)
        let gelu = try ComparisonMethod.iaptGELU.makeAdapter(for: model, matchedRank: 1, seed: 0) as? IAPTAdapter
        #expect(gelu?.configuration.activation == .gelu)
        #expect((try ComparisonMethod.pTuningV2.makeAdapter(for: model, matchedRank: 1, seed: 0)?.layerPrefixLength) == 4)
        let kv = try ComparisonMethod.iaptKV.makeAdapter(for: model, matchedRank: 1, seed: 0) as? IAPTAdapter
        #expect(kv?.configuration.generatorOutput == .keysValues)
        let normal = try ComparisonMethod.iaptNormal.makeAdapter(for: model, matchedRank: 1, seed: 0) as? IAPTAdapter
        #expect(normal?.configuration.upBiasInit == .normal)
        let b8 = try ComparisonMethod.iaptB8.makeAdapter(for: model, matchedRank: 1, seed: 0) as? IAPTAdapter
        #expect(b8?.configuration.bottleneck == 8)
        let raw = try ComparisonMethod.iaptRaw.makeAdapter(for: model, matchedRank: 1, seed: 0) as? IAPTAdapter
        #expect(raw?.configuration.generatorInput == .residual)
        let r8 = try ComparisonMethod.loraR8.makeAdapter(for: model, matchedRank: 3, seed: 0) as? LoRAAdapter
        #expect(r8?.configuration.rank == 8)
        #expect(r8?.configuration.alpha == 16)
        #expect(r8?.configuration.targetModules == [.query, .value])
        #expect((try ComparisonMethod.prefix.makeAdapter(for: model, matchedRank: 1, seed: 0)) is PrefixTuningAdapter)
        for method in ComparisonMethod.catalogue {
            #expect((try method.makeAdapter(for: model, matchedRank: 2, seed: 0) == nil) == (method == .base), "\(method)")
        }
    }
}

@Suite struct PromptFormatTests {
    /// The compact template's answer prefix gives the tokens the comparison trained on when it put the
    /// space into each answer itself.
    @Test func testTheCompactTemplateEncodesAsASpaceBeforeEachAnswer() throws {
        let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Examples/BundledBase")
        let tokenizer = try BPETokenizer(modelAt: folder)
        let compact = try InstructionEncoder(tokenizer: tokenizer, template: ComparisonSettings.template, maxLength: 512)
        var spaceless = PromptTemplate.compact
        spaceless.responsePrefix = ""
        let written = try InstructionEncoder(tokenizer: tokenizer, template: spaceless, maxLength: 512)
        let suite = try TaskSuite.generate(seed: 0, sizes: SplitSizes(train: 20, dev: 0, testSeen: 0, testUnseen: 20))
        for example in suite.examples {
            let instruction = ComparisonData.instruction(example)
            let spaced = InstructionExample(instruction: example.instruction, input: example.input, output: " " + example.output)
            #expect(try compact.encode(instruction) == written.encode(spaced), "\(example.output)")
        }
    }
}
