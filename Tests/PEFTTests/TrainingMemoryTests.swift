import Foundation
import PEFT
import Tensor
import Testing
import Transformer

@Suite("Training memory settings change memory, not results")
struct TrainingMemoryTests {
    /// The weights and losses of a short run of `adapter` made by `make`, with `memory`.
    func run(
        memory: TrainingMemory, accumulation: Int = 1, make: (LlamaModel) throws -> any Adapter
    ) throws -> ([String: [Float]], [Float]) {
        let model = try byteBackbone()
        let adapter = try make(model)
        try perturb(adapter, seed: 8, scale: 0.1)
        let options = TrainingOptions(
            epochs: 2, batchSize: 2, gradientAccumulationSteps: accumulation, learningRate: 1e-2, warmupFraction: 0, seed: 3)
        let report = try Trainer(model: model, adapter: adapter, options: options, memory: memory)
            .train(on: try byteEncoder().encode(animalSounds))
        return (snapshot(adapter), report.history.map(\.loss))
    }

    @Test("Recomputed activations and packed copies give the run of the fastest setting",
          arguments: ["iapt", "lora-dropout", "prompt", "ptuning2"])
    func leanEqualsFastest(method: String) throws {
        let make: (LlamaModel) throws -> any Adapter = { model in
            switch method {
            case "iapt": return try smallIAPT(model)
            case "lora-dropout":
                return try LoRAAdapter(model: model, configuration: LoRAConfiguration(
                    rank: 4, alpha: 8, dropout: 0.2, targetModules: [.query, .value, .down]), seed: 3)
            case "prompt": return try PromptTuningAdapter(model: model, configuration: PromptTuningConfiguration(virtualTokens: 3))
            default: return try PTuningV2Adapter(model: model, configuration: PTuningV2Configuration(virtualTokens: 2))
            }
        }
        let (fastest, fastestLosses) = try run(memory: .fastest, accumulation: 2, make: make)
        let others = [
            TrainingMemory.lean, TrainingMemory(recomputesActivations: false, packing: .forwardAndBackward),
            TrainingMemory(recomputesActivations: true, packing: .forward),
        ]
        for memory in others {
            let (lean, leanLosses) = try run(memory: memory, accumulation: 2, make: make)
            let difference = largestDifference(fastest, lean)
            #expect(difference < 1e-5, "\(method), \(memory): largest weight difference \(difference)")
            #expect(zip(fastestLosses, leanLosses).allSatisfy { abs($0 - $1) < 1e-5 }, "\(fastestLosses) vs \(leanLosses)")
        }
    }
}
