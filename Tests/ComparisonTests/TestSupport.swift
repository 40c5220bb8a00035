import Foundation
import Testing
@testable import Comparison
import PEFT
import TaskSuite
import Transformer

/// A tiny random LLaMA over bytes: 2 layers of width 16, so that a run takes milliseconds.
func tinyModel(seed: UInt64 = 7) throws -> LlamaModel {
    let tokenizer = ByteTokenizer()
    let config = try LlamaConfig(
        vocabSize: tokenizer.vocabularySize, hiddenSize: 16, intermediateSize: 32, numHiddenLayers: 2,
        numAttentionHeads: 2, numKeyValueHeads: 1, rmsNormEps: 1e-5, ropeTheta: 10_000, maxPositionEmbeddings: 1024,
        bosTokenId: tokenizer.bosTokenID, eosTokenIds: tokenizer.eosTokenID.map { [$0] } ?? [])
    return try LlamaModel(randomWithConfig: config, seed: seed)
}

/// `tinyModel()` saved as a Hugging Face folder with the byte tokenizer's `tokenizer.json`.
func tinyBaseFolder(_ name: String = "base", seed: UInt64 = 7) throws -> URL {
    let root = temporaryFolder(name)
    try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
    let tokenizer = root.appendingPathComponent("byte-tokenizer.json")
    try ByteTokenizer().huggingFaceJSON().write(to: tokenizer)
    let folder = root.appendingPathComponent("model")
    try tinyModel(seed: seed).save(to: folder, tokenizer: tokenizer)
    return folder
}

func temporaryFolder(_ name: String) -> URL {
    FileManager.default.temporaryDirectory.appendingPathComponent("comparison-tests-\(name)-\(UUID().uuidString)")
}

/// A result of `key` with `seen` / `unseen` accuracy (fractions, out of 50 examples) for every task
/// of `tasks`.
func syntheticResult(
    _ key: RunKey, seen: Double, unseen: Double, tasks: [TaskKind] = TaskKind.allCases, dev: Int = 20,
    devLoss: Float? = 1, loss: Float? = 0.5, parameters: Int = 1_000
) -> RunResult {
    func scores(_ accuracy: Double) -> [String: Score] {
        Dictionary(uniqueKeysWithValues: tasks.map { ($0.rawValue, Score(correct: Int((accuracy * 50).rounded()), total: 50)) })
    }
    return RunResult(
        key: key, trainableParameters: key.method.isTrained ? parameters : 0, steps: key.method.isTrained ? 10 : 0,
        finalTrainLoss: key.method.isTrained ? loss : nil, dev: Score(correct: dev, total: 30),
        devLoss: key.method.isTrained ? devLoss : nil, bestStep: key.method.isTrained ? 10 : nil, testSeen: scores(seen), testUnseen: scores(unseen),
        trainTokens: key.method.isTrained ? 2_000 : 0, trainSeconds: key.method.isTrained ? 2 : 0, evaluationSeconds: 1)
}

/// A manifest for `settings` with made-up base descriptions (the renderers only read them).
func syntheticManifest(_ settings: ComparisonSettings) -> ComparisonManifest {
    let bases = settings.bases.enumerated().map { index, spec in
        BaseDescription(
            spec: spec, layers: 2 + index, hiddenSize: 64, intermediateSize: 128, attentionHeads: 4, keyValueHeads: 2,
            vocabularySize: 259, parameterCount: 100_000 * (index + 1), iaptParameters: 1_000, loraRank: 2,
            loraParameters: 1_024, maxNewTokens: 13, maxLength: 300)
    }
    return ComparisonManifest(settings: settings, bases: bases, command: "peft compare --seeds 3", sessionSeconds: [90, 30])
}
