import ArgumentParser
import Autograd
import Foundation
import MPITraining
import PEFT
import ProgressDisplay
import Transformer

extension LearningRateSchedule.Decay: ExpressibleByArgument, CaseIterable {
    public static let allCases: [LearningRateSchedule.Decay] = [.linear, .cosine, .constant]
}

/// `peft train`: fine-tune an adapter on instruction data; under `mpirun -np N`, data-parallel over N
/// processes (`--batch-size` is then each rank's micro-batch, and a step takes N × batch size ×
/// gradient accumulation examples).
struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Fine-tune an adapter (IAPT, LoRA, prompt tuning, P-tuning v2, prefix) on instruction JSONL.",
        discussion: """
            Under mpirun -np N the run is data-parallel: every rank loads the same model and data, takes its \
            share of each step's N × --batch-size × --gradient-accumulation examples, and the ranks sum their \
            gradients; rank 0 alone writes the adapter, checkpoints and report. \
            See Documentation/DataParallelTraining.md.
            """)

    @OptionGroup var model: ModelOptions
    @OptionGroup var method: AdapterMethodOptions
    @OptionGroup var encoding: EncodingOptions

    @Option(help: "Training data: JSON Lines of {\"instruction\", \"input\"?, \"output\"} or {\"text\"}.")
    var data: String

    @Option(help: "Dev data (same format) for evaluation and early stopping.")
    var eval: String?

    @Option(help: "Where to write the adapter (and checkpoints/, training_report.json).")
    var out: String

    @Option(help: "Passes over the training data.") var epochs = 3
    @Option(help: "Stop after this many optimizer steps.") var maxSteps: Int?
    @Option(help: "Examples per micro-batch (under mpirun: each rank's).") var batchSize = 8
    @Option(help: "Micro-batches per optimizer step.") var gradientAccumulation = 1
    @Flag(help: "Order each step's examples by length before cutting them into micro-batches: the same step with less padding (with --gradient-accumulation above 1).")
    var groupByLength = false
    @Option(help: "Peak learning rate.") var learningRate: Float = 1e-3
    @Option(help: "Fraction of the steps spent warming up.") var warmup: Float = 0.06
    @Option(help: "Decay after warm-up: linear, cosine or constant.") var decay = LearningRateSchedule.Decay.linear
    @Option(help: "Decoupled weight decay.") var weightDecay: Float = 0
    @Option(help: "Clip the global gradient norm to this (0: no clipping).") var maxGradNorm: Float = 1
    @Option(help: "Seed for initialisation and shuffling.") var seed: UInt64 = 0
    @Option(help: "Evaluate on --eval every N steps (default: every epoch).") var evaluateEvery: Int?
    @Option(help: "Stop after N evaluations without improvement, keeping the best weights.") var earlyStopping: Int?
    @Option(help: "Write a resumable checkpoint every N steps.") var checkpointEvery: Int?
    @Flag(help: "Resume from the latest checkpoint in OUT/checkpoints.") var resume = false
    @Flag(help: "Use less memory for a slower step: recompute each layer's activations in the backward pass (same results; --batch-size with --gradient-accumulation is the other way to keep less).")
    var lean = false
    @Flag(help: "Print the training report as JSON at the end.") var json = false
    @Option(help: ArgumentHelp(
        "Under mpirun: how ranks combine gradients: sum (one all-reduce per step) or ordered (gathered and added in one process's order: bit-identical to a single-process run, ranks × the traffic).",
        valueName: "sum|ordered"))
    var reduction = GradientReduction.sum

    func validate() throws {
        typealias Bounds = TrainingOptions
        try checkRanges([("--epochs", epochs, Bounds.epochRange), ("--batch-size", batchSize, Bounds.batchRange),
                         ("--gradient-accumulation", gradientAccumulation, Bounds.batchRange),
                         ("--max-steps", maxSteps, Bounds.stepRange), ("--evaluate-every", evaluateEvery, Bounds.stepRange),
                         ("--early-stopping", earlyStopping, Bounds.countRange), ("--checkpoint-every", checkpointEvery, Bounds.stepRange)])
        try checkRange("--learning-rate", learningRate, Bounds.learningRateRange)
        try checkRange("--warmup", warmup, Bounds.warmupRange)
        try checkRange("--weight-decay", weightDecay, Bounds.weightDecayRange)
        try checkRange("--max-grad-norm", maxGradNorm, 0...Bounds.gradientNormRange.upperBound)
        if eval == nil {
            for (option, given) in [("--early-stopping", earlyStopping != nil), ("--evaluate-every", evaluateEvery != nil)] where given {
                throw ValidationError("\(option) needs --eval (dev data to evaluate on)")
            }
        }
    }

    /// Refuses an `--out` that cannot be written, or that already holds files when not resuming, before
    /// anything is loaded or trained.
    func checkOutput() throws {
        let url = URL(fileURLWithPath: out)
        try OutputFolder.checkWritable(url, option: "--out")
        if !resume {
            try OutputFolder.requireEmpty(url, option: "--out", hint: ", or add --resume to continue the training whose checkpoints are there")
        }
    }

    func run() throws {
        try DataParallelLaunch.run(command: "train") { group in try train(group: group) }
    }

    /// The run, on one process (`group` nil) or as one rank of a data-parallel job.
    private func train(group: MPIGroup?) throws {
        let writes = (group?.rank ?? 0) == 0
        if writes { try checkOutput() }
        let backbone = try model.loadModel()
        let tokenizer = try model.loadTokenizer()
        let encoder = try encoding.encoder(tokenizer: tokenizer)
        let trainExamples = try encoder.encode(InstructionData.load(contentsOf: URL(fileURLWithPath: data)))
        let devExamples = try eval.map { try encoder.encode(InstructionData.load(contentsOf: URL(fileURLWithPath: $0))) }
        let outURL = URL(fileURLWithPath: out)
        let checkpoints = outURL.appendingPathComponent("checkpoints")
        let adapter = try method.makeAdapter(for: backbone, tokenizer: tokenizer, seed: seed)
        let options = TrainingOptions(
            epochs: epochs, maxSteps: maxSteps, batchSize: batchSize, gradientAccumulationSteps: gradientAccumulation,
            learningRate: learningRate, warmupFraction: warmup, decay: decay, weightDecay: weightDecay,
            maxGradientNorm: maxGradNorm > 0 ? maxGradNorm : nil, seed: seed, evaluateEvery: evaluateEvery,
            earlyStoppingPatience: earlyStopping, checkpointDirectory: checkpointEvery == nil && !resume ? nil : checkpoints,
            checkpointEvery: checkpointEvery, groupsByLength: groupByLength)
        let parallel = group.map { DataParallel(group: $0, reduction: reduction) } ?? .singleProcess
        let trainer = try Trainer(
            model: backbone, adapter: adapter, options: options, memory: lean ? .lean : .fastest, dataParallel: parallel)
        if resume { try trainer.resume(from: checkpoints) }
        guard writes else {
            _ = try trainer.train(on: trainExamples, dev: devExamples)
            return
        }
        let share = 100 * Double(adapter.trainableParameterCount) / Double(adapter.trainableParameterCount + backbone.parameterCount)
        let ranks = parallel.group.size
        FileHandle.standardError.write(Data((
            "\(type(of: adapter).peftType): \(adapter.trainableParameterCount) trainable parameters (\(String(format: "%.4f", share)) %), "
            + "\(trainExamples.count) training examples\(devExamples.map { ", \($0.count) dev" } ?? "")"
            + (ranks > 1 ? "; data-parallel over \(ranks) ranks, \(ranks * batchSize * gradientAccumulation) examples per step, \(reduction.rawValue) reduction" : "")
            + "\n").utf8))
        let bar = ProgressBar()
        let report = try trainer.train(on: trainExamples, dev: devExamples, progress: bar.callback)
        bar.finish()
        try AdapterFiles.save(adapter, to: outURL)
        let reportData = try JSONEncoder.pretty.encode(report)
        try reportData.write(to: outURL.appendingPathComponent("training_report.json"), options: .atomic)
        if json {
            print(String(decoding: reportData, as: UTF8.self))
        } else {
            print(String(format: "%d steps in %@, %.0f tokens/s, final loss %.4f%@; adapter saved to %@",
                         report.steps, ProgressBar.duration(report.wallSeconds), report.tokensPerSecond, report.finalTrainLoss ?? .nan,
                         report.bestDevLoss.map { String(format: ", best dev loss %.4f", $0) } ?? "", out))
        }
    }
}

extension JSONEncoder {
    /// Pretty, key-sorted output.
    static var pretty: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return encoder
    }
}
