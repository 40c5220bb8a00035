import Foundation
import Tensor
import Transformer
import PEFT

/// A tiny random backbone over ``ByteTokenizer``'s 259 ids.
func byteBackbone(seed: UInt64 = 7) throws -> LlamaModel {
    let config = try LlamaConfig(
        vocabSize: ByteTokenizer().vocabularySize, hiddenSize: 32, intermediateSize: 64, numHiddenLayers: 2,
        numAttentionHeads: 4, numKeyValueHeads: 2, rmsNormEps: 1e-5, ropeTheta: 10_000)
    return try LlamaModel(randomWithConfig: config, seed: seed, initializerRange: 0.5)
}

/// Byte-level encoding with the plain template, BOS and EOS.
func byteEncoder(maxLength: Int = 64) throws -> InstructionEncoder {
    try InstructionEncoder(tokenizer: ByteTokenizer(), template: .plain, maxLength: maxLength)
}

/// Animals and their sounds.
let animalPairs = [("cat", "meow"), ("dog", "woof"), ("cow", "moo"), ("owl", "hoot"), ("duck", "quack"), ("bee", "buzz")]

/// A small memorisation task: an animal and its sound.
let animalSounds = animalPairs.map { InstructionExample(instruction: $0.0, output: $0.1) }

/// An IAPT adapter small enough for quick training.
func smallIAPT(_ model: LlamaModel, seed: UInt64 = 3) throws -> IAPTAdapter {
    try IAPTAdapter(model: model, configuration: IAPTConfiguration(virtualTokens: 4, bottleneck: 16), seed: seed)
}

/// A LoRA adapter on every projection, which memorises ``animalSounds`` quickly.
func memorisingLoRA(_ model: LlamaModel, seed: UInt64 = 3) throws -> LoRAAdapter {
    try LoRAAdapter(model: model, configuration: LoRAConfiguration(rank: 8, alpha: 16, targetModules: Projection.allCases), seed: seed)
}

/// Every parameter's values by name, for exact comparisons.
func snapshot(_ adapter: any Adapter) -> [String: [Float]] {
    adapter.weights.mapValues(\.scalars)
}

/// The largest absolute difference between two snapshots of the same adapter (infinity when their
/// names or sizes differ).
func largestDifference(_ a: [String: [Float]], _ b: [String: [Float]]) -> Float {
    guard Set(a.keys) == Set(b.keys) else { return .infinity }
    return a.reduce(0) { worst, entry in
        guard let other = b[entry.key], other.count == entry.value.count else { return .infinity }
        return zip(entry.value, other).reduce(worst) { max($0, abs($1.0 - $1.1)) }
    }
}
