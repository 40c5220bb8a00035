import Foundation
import Tensor
import Autograd
import Transformer
import PEFT

/// A tiny random backbone with grouped-query attention.
func tinyBackbone(seed: UInt64 = 11) throws -> LlamaModel {
    let config = try LlamaConfig(
        vocabSize: 40, hiddenSize: 24, intermediateSize: 48, numHiddenLayers: 2, numAttentionHeads: 4,
        numKeyValueHeads: 2, rmsNormEps: 1e-5, ropeTheta: 10_000)
    return try LlamaModel(randomWithConfig: config, seed: seed, initializerRange: 0.3)
}

/// One adapter of each built-in kind, with non-trivial parameters (so that they change outputs).
func everyAdapter(for model: LlamaModel) throws -> [(name: String, adapter: any Adapter)] {
    let adapters: [(String, any Adapter)] = [
        ("LoRA", try LoRAAdapter(model: model, configuration: LoRAConfiguration(rank: 4, alpha: 8, targetModules: [.query, .value, .down]), seed: 1)),
        ("prompt tuning", try PromptTuningAdapter(model: model, configuration: PromptTuningConfiguration(virtualTokens: 3), seed: 2)),
        ("P-tuning v2", try PTuningV2Adapter(model: model, configuration: PTuningV2Configuration(virtualTokens: 2), seed: 3)),
        ("IAPT", try IAPTAdapter(model: model, configuration: IAPTConfiguration(virtualTokens: 4, bottleneck: 6), seed: 4)),
        ("prefix tuning", try PrefixTuningAdapter(model: model, configuration: PrefixTuningConfiguration(virtualTokens: 3), seed: 5)),
        ("IAPT emitting keys and values", try IAPTAdapter(
            model: model, configuration: IAPTConfiguration(virtualTokens: 2, bottleneck: 5, generatorOutput: .keysValues), seed: 6)),
    ]
    for (_, adapter) in adapters { try perturb(adapter, seed: 99) }
    return adapters
}

/// Adds noise to every parameter (zero-initialised ones like LoRA's `B` included).
func perturb(_ adapter: any Adapter, seed: UInt64, scale: Float = 0.3) throws {
    var generator = SeededGenerator(seed: seed)
    for (_, parameter) in adapter.namedParameters {
        try parameter.value.addScaled(Tensor.normal(parameter.shape, std: scale, generator: &generator))
    }
}

/// Logits `[rows, length, vocab]` of `batch` with every row routed to `adapter` (or none).
func logits(_ model: LlamaModel, _ batch: TokenBatch, adapter: (any Adapter)?) throws -> Tensor {
    try GradientMode.withoutGradients {
        try model(batch, adapter: adapter).value
    }
}

/// The mean and the (population) variance of `values`.
func moments(_ values: [Float]) -> (mean: Float, variance: Float) {
    let mean = values.reduce(0, +) / Float(values.count)
    return (mean, values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Float(values.count))
}

func maxDifference(_ a: Tensor, _ b: Tensor) -> Float {
    guard a.shape == b.shape else { return .infinity }
    return zip(a.scalars, b.scalars).reduce(0) { max($0, abs($1.0 - $1.1)) }
}

func temporaryFolder(_ name: String) -> URL {
    FileManager.default.temporaryDirectory.appendingPathComponent("peft-tests-\(name)-\(UUID().uuidString)")
}
