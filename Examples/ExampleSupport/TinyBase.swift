import Autograd
import Foundation
import Tensor
import Transformer

/// A tiny LLaMA-shaped base model for the examples, pre-trained by this package's own code on the
/// toy world's plain text in a few seconds, and cached on disk so later examples reuse it.
public enum TinyBase {
    /// The model's shape: byte-level vocabulary, 3 layers, width 96, grouped-query attention.
    public static func config() throws -> LlamaConfig {
        let tokenizer = ByteTokenizer()
        return try LlamaConfig(
            vocabSize: tokenizer.vocabularySize, hiddenSize: 96, intermediateSize: 256, numHiddenLayers: 3,
            numAttentionHeads: 4, numKeyValueHeads: 2, rmsNormEps: 1e-5, ropeTheta: 10_000, maxPositionEmbeddings: 512,
            bosTokenId: tokenizer.bosTokenID, eosTokenIds: tokenizer.eosTokenID.map { [$0] } ?? [])
    }

    /// Where the pre-trained model is cached (a Hugging Face folder).
    public static let cacheFolder = FileManager.default.temporaryDirectory.appendingPathComponent("swift-peft-examples/tiny-base-v1")

    /// The cached base model, pre-training it first if there is none (about 15 s in a release build).
    /// - Parameter log: receives one line per progress report.
    public static func load(log: (String) -> Void = { print($0) }) throws -> LlamaModel {
        if let model = try? LlamaModel(contentsOf: cacheFolder) { return model }
        log("Pre-training the tiny base model on the toy world's plain text (cached in \(cacheFolder.path))…")
        let model = try pretrain(log: log)
        let parent = cacheFolder.deletingLastPathComponent()
        try FileManager.default.createDirectory(at: parent, withIntermediateDirectories: true)
        let tokenizer = parent.appendingPathComponent("byte-tokenizer.json")
        try ByteTokenizer().huggingFaceJSON().write(to: tokenizer, options: .atomic)
        try model.save(to: cacheFolder, tokenizer: tokenizer)
        return try LlamaModel(contentsOf: cacheFolder)
    }

    /// Next-token pre-training of every weight with AdamW on the world's plain text.
    public static func pretrain(steps: Int = 400, batchSize: Int = 16, log: (String) -> Void) throws -> LlamaModel {
        let model = try LlamaModel(randomWithConfig: config(), seed: 42, trainable: true)
        let tokenizer = ByteTokenizer()
        let lines = ToyWorld().pretrainingText().map { tokenizer.encode($0, addSpecialTokens: true) + [tokenizer.eosTokenID ?? 0] }
        let optimizer = AdamW(parameters: model.namedParameters.map(\.variable), learningRate: 3e-3, weightDecay: 0.01)
        let schedule = LearningRateSchedule(peak: 3e-3, totalSteps: steps, warmupSteps: steps / 20, decay: .cosine)
        var generator = SeededGenerator(seed: 9)
        let start = Date()
        for step in 0..<steps {
            let rows = (0..<batchSize).map { _ in lines[Int(generator.next() % UInt64(lines.count))] }
            let batch = try TokenBatch(rows: rows, padding: .right)
            var targets = [Int](repeating: CrossEntropy.ignoredTarget, count: batch.batch * batch.length)
            for row in 0..<batch.batch {
                for slot in 0..<(batch.length - 1) where batch.mask[row * batch.length + slot + 1] {
                    targets[row * batch.length + slot] = batch.tokens[row * batch.length + slot + 1]
                }
            }
            optimizer.learningRate = schedule.learningRate(atStep: step)
            optimizer.zeroGradients()
            let logits = try model(batch).reshaped([-1, model.config.vocabSize])
            let loss = try Variable.crossEntropy(logits: logits, targets: targets)
            try loss.backward()
            GradientClipping.clipGlobalNorm(optimizer.parameters, maxNorm: 1)
            try optimizer.step()
            if step % 100 == 0 || step == steps - 1 {
                log(String(format: "  pre-training step %4d/%d  loss %.3f  (%.0f s)", step + 1, steps, loss.value.scalars[0], Date().timeIntervalSince(start)))
            }
        }
        return model
    }
}
