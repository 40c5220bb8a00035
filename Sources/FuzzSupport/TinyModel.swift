import Autograd
import Foundation
import PEFT
import Tensor
import Transformer

/// The tiny random LLaMA model the targets load adapters into, serve and write companion files
/// from: vocabulary 259 (``ByteTokenizer``'s), width 16, 2 layers, 4 query and 2 key/value heads,
/// 64 positions. The same seed gives the same weights on every machine, so the committed corpus
/// (adapters made for it, its config and sharded index) keeps matching it.
enum TinyModel {
    /// The model's config.
    static func config() throws -> LlamaConfig {
        try LlamaConfig(
            vocabSize: 259, hiddenSize: 16, intermediateSize: 32, numHiddenLayers: 2, numAttentionHeads: 4,
            numKeyValueHeads: 2, rmsNormEps: 1e-5, maxPositionEmbeddings: 64, bosTokenId: 256, eosTokenIds: [257],
            padTokenId: 258)
    }

    /// A fresh copy of the model (each executor owns one; it takes a millisecond).
    static func make() throws -> LlamaModel {
        try LlamaModel(randomWithConfig: config(), seed: 7, initializerRange: 0.2)
    }

    /// The weights split over two shards by name, as ``shardNames`` lists them.
    static func shards(of model: LlamaModel) -> [[String: Tensor]] {
        let names = model.weights.keys.sorted()
        let half = names.count / 2
        return [names[..<half], names[half...]].map { part in
            Dictionary(uniqueKeysWithValues: part.map { ($0, model.weights[$0]!) })
        }
    }

    /// The shard file names of ``shards(of:)``.
    static let shardNames = ["model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"]

    /// A short forward pass of `model` with `adapter` (when given), whose first rows' leading tokens
    /// are the instruction (IAPT reads them): exercises what a loader let through.
    static func exercise(_ model: LlamaModel, adapter: (any Adapter)? = nil) throws {
        let vocabulary = model.config.vocabSize
        let rows = [[256, 72, 105, 33], [256, 10]].map { row in row.map { $0 % vocabulary } }
        let batch = try TokenBatch(rows: rows, padding: .right, instructionLengths: [3, 2])
        _ = try GradientMode.withoutGradients { try model(batch, adapter: adapter) }
    }
}

/// Writes `bytes` to `url`, replacing what was there (one fixed path per worker and target).
func writeInput(_ bytes: [UInt8], to url: URL) throws {
    try Data(bytes).write(to: url)
}
