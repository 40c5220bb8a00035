import ArgumentParser
import Tensor
import Transformer

/// The model shapes shared with the PyTorch + PEFT reference scripts (`shared/anchors/configs.json`),
/// so `peft bench` and the anchors measure the same work.
enum BenchShape: String, ExpressibleByArgument, CaseIterable {
    case small, base

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
        }
    }

    /// The training batch of this shape: rows and sequence length.
    var batch: (rows: Int, sequence: Int) {
        switch self {
        case .small: return (8, 128)
        case .base: return (4, 256)
        }
    }

    /// Random token ids of this shape's batch (seed 1), row-major, and the batch made of them.
    func randomBatch(vocabulary: Int) throws -> (tokens: [Int], batch: TokenBatch) {
        let (rows, sequence) = batch
        var generator = SeededGenerator(seed: 1)
        let tokens = (0..<(rows * sequence)).map { _ in Int(generator.next() % UInt64(vocabulary)) }
        return (tokens, try TokenBatch(rows: (0..<rows).map { Array(tokens[($0 * sequence)..<(($0 + 1) * sequence)]) }))
    }
}
