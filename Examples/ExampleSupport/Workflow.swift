import Foundation
import PEFT
import ProgressDisplay
import Transformer

/// The steps every example shares: encode the toy world's instructions, fine-tune an adapter with
/// the library's trainer (drawing a progress bar), and measure exact-match accuracy.
public enum Workflow {
    /// A compact prompt format for the tiny byte-level model.
    public static let template = PromptTemplate(
        withInput: "{instruction}\nword: {input}\nanswer: ", withoutInput: "{instruction}\nanswer: ")

    /// Encodes examples with the byte tokenizer and ``template``.
    public static func encoder() throws -> InstructionEncoder {
        try InstructionEncoder(tokenizer: ByteTokenizer(), template: template, maxLength: 160)
    }

    /// Fine-tunes `adapter` on `examples` with AdamW, linear decay and a progress bar on stderr.
    @discardableResult
    public static func fineTune(
        _ adapter: any Adapter, model: LlamaModel, on examples: [InstructionExample],
        epochs: Int = 2, batchSize: Int = 16, learningRate: Float = 3e-3, seed: UInt64 = 0
    ) throws -> TrainingReport {
        let options = TrainingOptions(epochs: epochs, batchSize: batchSize, learningRate: learningRate, seed: seed)
        let trainer = try Trainer(model: model, adapter: adapter, options: options)
        let bar = ProgressBar()
        defer { bar.finish() }
        return try trainer.train(on: encoder().encode(examples), progress: bar.callback)
    }

    /// Exact-match accuracy of greedy answers.
    public static func accuracy(model: LlamaModel, adapter: (any Adapter)?, on examples: [InstructionExample]) throws -> EvaluationReport {
        try Evaluator(model: model, encoder: encoder(), batchSize: 32).exactMatch(examples, adapter: adapter, maxNewTokens: 12)
    }

    /// Accuracy per task name, in the order of ``ToyWorld/tasks``.
    public static func accuracyByTask(
        model: LlamaModel, adapter: (any Adapter)?, on examples: [InstructionExample]
    ) throws -> [(task: String, accuracy: Double)] {
        let report = try accuracy(model: model, adapter: adapter, on: examples)
        return ToyWorld.tasks.compactMap { task in
            let rows = report.predictions.filter { prediction in
                examples[prediction.index].origin == task.name
            }
            guard !rows.isEmpty else { return nil }
            return (task.name, Double(rows.filter(\.isCorrect).count) / Double(rows.count))
        }
    }

    /// Greedy answers of `model` (with `adapter`) to free-form instructions about `word`.
    public static func answer(_ instruction: String, word: String, model: LlamaModel, adapter: (any Adapter)?) throws -> String {
        let example = InstructionExample(instruction: instruction, input: word, output: "")
        let prompt = try encoder().promptTokens(for: example)
        let tokenizer = ByteTokenizer()
        let hooks = adapter.map(AdapterRouter.init)
        let output = try model.generate(
            prompts: [prompt], options: GenerationOptions(maxNewTokens: 16, stopTokens: Set([tokenizer.eosTokenID ?? 257])),
            hooks: hooks, instructionLengths: [prompt.count])[0]
        return try tokenizer.decode(output, skipSpecialTokens: true).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Prints `text` as a section heading.
    public static func heading(_ text: String) {
        print("\n== \(text)")
    }
}

extension Workflow {
    /// The shared body of the adapter examples: accuracy on held-out words before fine-tuning,
    /// fine-tuning with a progress bar, accuracy after, per task.
    /// - Returns: the training report.
    @discardableResult
    public static func fineTuneAndCompare(
        _ adapter: any Adapter, name: String, model: LlamaModel, world: ToyWorld, tasks: [Int],
        epochs: Int, learningRate: Float
    ) throws -> TrainingReport {
        let training = world.examples(tasks: tasks, words: world.trainingWords)
        let test = world.examples(tasks: tasks, words: world.testWords, seed: 5)
        print("\(name): \(adapter.trainableParameterCount) trainable parameters over a frozen \(model.parameterCount)-parameter base.")
        print("Tasks: \(tasks.map { ToyWorld.tasks[$0].name }.joined(separator: ", ")); \(training.count) training examples, \(test.count) test examples on unseen words.")
        let before = try accuracyByTask(model: model, adapter: nil, on: test)
        heading("Fine-tuning (\(epochs) epochs, learning rate \(learningRate))")
        let report = try fineTune(adapter, model: model, on: training, epochs: epochs, learningRate: learningRate)
        print(String(format: "  %d steps in %.1f s, %.0f tokens/s, final loss %.3f", report.steps, report.wallSeconds, report.tokensPerSecond, report.finalTrainLoss ?? .nan))
        let after = try accuracyByTask(model: model, adapter: adapter, on: test)
        heading("Exact-match accuracy on unseen words: base model → with the adapter")
        for ((task, was), (_, now)) in zip(before, after) {
            print("  " + task.padding(toLength: 14, withPad: " ", startingAt: 0) + String(format: "%5.1f %% → %5.1f %%", 100 * was, 100 * now))
        }
        return report
    }
}
