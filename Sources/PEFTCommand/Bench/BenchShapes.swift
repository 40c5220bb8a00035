import ArgumentParser
import Foundation
import Tensor
import Transformer

/// The model shapes shared with the PyTorch + PEFT scripts of `Benchmarks/` (`Benchmarks/shapes.json`),
/// so `peft bench` and those scripts measure the same work.
enum BenchShape: String, ExpressibleByArgument, CaseIterable {
    case small, base, smollm2

    /// The model config of this shape.
    func config() throws -> LlamaConfig {
        switch self {
        case .small:
            return try LlamaConfig(
                vocabSize: 2048, hiddenSize: 256, intermediateSize: 768, numHiddenLayers: 4, numAttentionHeads: 4,
                numKeyValueHeads: 4, rmsNormEps: 1e-5, ropeTheta: 10_000, maxPositionEmbeddings: 1024)
        case .base:
            return try LlamaConfig(
                vocabSize: 8192, hiddenSize: 512, intermediateSize: 1376, numHiddenLayers: 8, numAttentionHeads: 8,
                numKeyValueHeads: 8, rmsNormEps: 1e-5, ropeTheta: 10_000, maxPositionEmbeddings: 1024)
        case .smollm2:
            return try LlamaConfig(
                vocabSize: 49_152, hiddenSize: 576, intermediateSize: 1536, numHiddenLayers: 30, numAttentionHeads: 9,
                numKeyValueHeads: 3, rmsNormEps: 1e-5, ropeTheta: 100_000, maxPositionEmbeddings: 8192,
                tieWordEmbeddings: true)
        }
    }

    /// `rows × sequence` random token ids of `vocabularySize`, seeded, as one batch.
    static func randomBatch(rows: Int, sequence: Int, vocabularySize: Int, seed: UInt64 = 1) throws -> TokenBatch {
        var generator = SeededGenerator(seed: seed)
        return try TokenBatch(rows: (0..<rows).map { _ in
            (0..<sequence).map { _ in Int(generator.next() % UInt64(vocabularySize)) }
        })
    }

    /// The training batch of this shape: rows and sequence length.
    var batch: (rows: Int, sequence: Int) {
        switch self {
        case .small: return (8, 128)
        case .base: return (4, 256)
        case .smollm2: return (16, 128)
        }
    }
}

/// The model a benchmark runs: a shape of ``BenchShape`` with random weights, or a pretrained model
/// (a Hugging Face folder or a `.gguf` file) given by `--model`, as the scripts' `--model DIR`.
struct BenchModelOptions: ParsableArguments {
    @Option(help: "Model shape with random weights: small, base or smollm2 (Benchmarks/shapes.json).")
    var config: BenchShape?

    @Option(help: "A pretrained model instead of a shape: a Hugging Face folder or a .gguf file.")
    var model: String?

    func validate() throws {
        if config != nil && model != nil { throw ValidationError("give --config or --model, not both") }
    }

    /// What the figures are labelled with: the shape's name, or the model's file or folder name.
    func label(default shape: BenchShape) -> String {
        model.map { URL(fileURLWithPath: $0).deletingPathExtension().lastPathComponent } ?? (config ?? shape).rawValue
    }

    /// The model: pretrained from `--model`, else random weights of the shape (seed 0).
    /// - Throws: what loading the model throws.
    func load(default shape: BenchShape, trainable: Bool = false) throws -> LlamaModel {
        if let model { return try LlamaModel(contentsOf: URL(fileURLWithPath: model), trainable: trainable) }
        return try LlamaModel(randomWithConfig: (config ?? shape).config(), seed: 0, trainable: trainable)
    }

    /// The training batch: the shape's, or 16 × 128 for a pretrained model (as `Benchmarks/torch_train.py`).
    func batch(default shape: BenchShape) -> (rows: Int, sequence: Int) {
        model == nil ? (config ?? shape).batch : BenchShape.smollm2.batch
    }
}
