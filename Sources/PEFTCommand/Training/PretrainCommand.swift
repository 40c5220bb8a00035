import ArgumentParser
import BasePretraining
import Foundation
import PEFT
import ProgressDisplay
import TaskSuite
import Transformer

/// `peft pretrain`: makes a base model from nothing — a byte-level BPE tokenizer learned from the task
/// suite's plain-text world, then a LLaMA-shaped model pre-trained on the same text — and writes both
/// as a Hugging Face folder. The bundled base model in `Examples/BundledBase` is its output.
struct PretrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pretrain",
        abstract: "Learn a tokenizer and pre-train a small LLaMA-shaped base model on the task suite's plain text.",
        discussion: """
            Writes config.json, model.safetensors, tokenizer.json, tokenizer_config.json and pretraining.json \
            (every setting, the losses and the wall time) into --output. The same command with --size large \
            makes the larger base model of the comparison.
            """)

    /// The model shapes the command knows.
    enum Size: String, ExpressibleByArgument, CaseIterable {
        /// Width 256, 4 layers (`peft bench`'s `small` shape): about 4.2 M parameters with a 2,048-token vocabulary.
        case bundled
        /// Width 384, 6 layers: about 12 M parameters, three times the bundled model.
        case large

        func config(vocabularySize: Int) throws -> LlamaConfig {
            let (hidden, intermediate, layers, heads): (Int, Int, Int, Int) =
                switch self {
                case .bundled: (256, 768, 4, 4)
                case .large: (384, 1024, 6, 6)
                }
            return try LlamaConfig(
                vocabSize: vocabularySize, hiddenSize: hidden, intermediateSize: intermediate, numHiddenLayers: layers,
                numAttentionHeads: heads, numKeyValueHeads: heads, rmsNormEps: 1e-5, ropeTheta: 10_000,
                maxPositionEmbeddings: 512, bosTokenId: 256, eosTokenIds: [257], padTokenId: 258)
        }
    }

    @Option(help: "The folder to write the model into (replaced atomically).")
    var output: String

    @Option(help: "The model shape: \(Size.allCases.map(\.rawValue).joined(separator: " or ")).")
    var size: Size = .bundled

    @Option(help: "The tokenizer's vocabulary size, bytes and special tokens included.")
    var vocabulary = 2048

    @Option(help: "Plain-text documents generated for pre-training.")
    var documents = 60_000

    @Option(help: "How many of those documents the tokenizer learns from.")
    var tokenizerDocuments = 20_000

    @Option(help: "Optimizer steps.")
    var steps = 1000

    @Option(help: "Windows per step.")
    var batchSize = 16

    @Option(help: "Tokens per window.")
    var sequenceLength = 128

    @Option(help: "Peak learning rate (warm-up 5 %, cosine decay to zero).")
    var learningRate: Float = 3e-3

    @Option(help: "Seed of the text, the initial weights and the window order.")
    var seed: UInt64 = 0

    @Option(help: "Weight dtype on disk: bf16, f16 or f32.")
    var dtype = "bf16"

    func validate() throws {
        guard vocabulary >= 259 else { throw ValidationError("--vocabulary must be at least 259 (256 bytes and 3 special tokens)") }
        guard documents > 0, tokenizerDocuments > 0, steps > 0, batchSize > 0, sequenceLength > 1 else {
            throw ValidationError("--documents, --tokenizer-documents, --steps, --batch-size must be positive and --sequence-length above 1")
        }
        guard ["bf16", "f16", "f32"].contains(dtype.lowercased()) else { throw ValidationError("--dtype must be bf16, f16 or f32") }
    }

    func run() throws {
        let start = Date()
        let text = try TaskSuite.pretrainingText(seed: seed, count: documents)
        let heldOutText = try TaskSuite.pretrainingText(seed: seed &+ 1_000, count: 400)
        let textBytes = text.reduce(0) { $0 + $1.utf8.count }
        log("Generated \(documents) documents (\(textBytes) bytes).")

        let tokenizerStart = Date()
        let tokenizerJSON = try BPETrainer(vocabularySize: vocabulary).tokenizerJSON(learnedFrom: Array(text.prefix(tokenizerDocuments)))
        let tokenizer = try BPETokenizer(data: tokenizerJSON, source: "the learned tokenizer")
        let tokenizerSeconds = Date().timeIntervalSince(tokenizerStart)
        let encoded = text.map { tokenizer.encode($0, addSpecialTokens: true) }
        let endToken = tokenizer.eosTokenID ?? 257
        let stream = Pretraining.packedStream(encoded, endToken: endToken)
        let heldOut = Pretraining.packedStream(heldOutText.map { tokenizer.encode($0, addSpecialTokens: true) }, endToken: endToken)
        let bytesPerToken = Double(textBytes) / Double(encoded.reduce(0) { $0 + $1.count - 1 })
        log(String(format: "Learned a %d-token tokenizer in %.1f s: %.2f bytes per token; the stream has %d tokens.",
                   tokenizer.vocabularySize, tokenizerSeconds, bytesPerToken, stream.count))

        let config = try size.config(vocabularySize: tokenizer.vocabularySize)
        let model = try LlamaModel(randomWithConfig: config, seed: seed, trainable: true)
        let options = PretrainingOptions(
            steps: steps, batchSize: batchSize, sequenceLength: sequenceLength, learningRate: learningRate, seed: seed)
        log("Pre-training a \(model.parameterCount)-parameter model (\(size.rawValue)) for \(steps) steps of \(batchSize) × \(sequenceLength) tokens.")
        let bar = ProgressBar()
        let report = try Pretraining.train(model, on: stream, heldOut: heldOut, options: options, progress: bar.callback)
        bar.finish()
        log(String(format: "Done in %.0f s (%.0f tokens/s): train loss %.3f, held-out loss %.3f.",
                   report.wallSeconds, report.tokensPerSecond, report.finalTrainLoss, report.heldOutLoss ?? .nan))

        let folder = URL(fileURLWithPath: output)
        let tokenizerFile = FileManager.default.temporaryDirectory.appendingPathComponent("peft-pretrain-\(UUID().uuidString).json")
        try AtomicFile.write(tokenizerJSON, to: tokenizerFile)
        defer { try? FileManager.default.removeItem(at: tokenizerFile) }
        try model.save(to: folder, dtype: SafetensorsDType(rawValue: dtype.uppercased()) ?? .bf16, tokenizer: tokenizerFile)
        try AtomicFile.write(Self.tokenizerConfig(maximumLength: config.maxPositionEmbeddings), to: folder.appendingPathComponent("tokenizer_config.json"))
        let record = PretrainingRecord(
            command: "swift run -c release peft " + CommandLine.arguments.dropFirst().joined(separator: " "),
            size: size.rawValue, parameters: model.parameterCount, documents: documents, tokenizerDocuments: tokenizerDocuments,
            textSeed: seed, heldOutTextSeed: seed &+ 1_000, vocabularySize: tokenizer.vocabularySize, bytesPerToken: bytesPerToken,
            streamTokens: stream.count, options: options, report: report, tokenizerSeconds: tokenizerSeconds,
            totalSeconds: Date().timeIntervalSince(start))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try AtomicFile.write(encoder.encode(record), to: folder.appendingPathComponent("pretraining.json"))
        log(String(format: "Wrote %@ in %.0f s in all.", folder.path, record.totalSeconds))
    }

    /// The `tokenizer_config.json` transformers' `AutoTokenizer` needs to find the special tokens.
    static func tokenizerConfig(maximumLength: Int) throws -> Data {
        let json: [String: Any] = [
            "tokenizer_class": "PreTrainedTokenizerFast", "bos_token": "<s>", "eos_token": "</s>", "pad_token": "<pad>",
            "model_max_length": maximumLength, "add_bos_token": true, "clean_up_tokenization_spaces": false,
        ]
        return try JSONSerialization.data(withJSONObject: json, options: [.prettyPrinted, .sortedKeys])
    }

    private func log(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }
}

/// `pretraining.json`: how a base model was made, so anyone can make it again and compare.
struct PretrainingRecord: Codable {
    var command: String
    var size: String
    var parameters: Int
    var documents: Int
    var tokenizerDocuments: Int
    var textSeed: UInt64
    var heldOutTextSeed: UInt64
    var vocabularySize: Int
    var bytesPerToken: Double
    var streamTokens: Int
    var options: PretrainingOptions
    var report: PretrainingReport
    var tokenizerSeconds: Double
    var totalSeconds: Double
}
