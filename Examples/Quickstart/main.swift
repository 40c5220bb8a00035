// The quickstart: fine-tune IAPT on the bundled base model and see what it learned.
//
// 1. Loads the bundled base model (Examples/BundledBase: 4.3 M parameters, pre-trained by this
//    package on the task suite's plain-text world) and generates the suite's sentiment task, the one
//    this small base learns most clearly: the learning curves of `peft compare`
//    (Documentation/Results.md) show IAPT's dev accuracy rising fastest at learning rate 1e-2, and
//    on this base the two-way tasks other than sentiment stay near chance for every method.
// 2. Measures exact-match accuracy on held-out test data (unseen people and places, and instruction
//    wordings never used in training), before fine-tuning.
// 3. Fine-tunes IAPT (4 generated prompt tokens per layer, bottleneck 32, rational activation).
// 4. Measures accuracy again, saves the adapter, and answers a few test instructions.
import ExampleSupport
import Foundation
import PEFT
import ProgressDisplay
import TaskSuite
import Transformer

let start = Date()
let model = try BundledBase.load()
let encoder = try BundledBase.encoder()
let tasks: [TaskKind] = [.sentiment]
let suite = try TaskSuite.generate(seed: 0, sizes: SplitSizes(train: 400, dev: 0, testSeen: 0, testUnseen: 100), tasks: tasks)
let training = suite.examples(in: .train).map(\.instructionExample)
let test = suite.examples(in: .testUnseen).map(\.instructionExample)
let iapt = try IAPTAdapter(model: model, configuration: IAPTConfiguration(), seed: 0)
print("IAPT: \(iapt.trainableParameterCount) trainable parameters over the frozen \(model.parameterCount)-parameter bundled base.")
print("Tasks: \(tasks.map(\.rawValue).joined(separator: ", ")); \(training.count) training examples, \(test.count) test examples with unseen wordings and entities.")

@MainActor func accuracyByTask(_ adapter: (any Adapter)?) throws -> [TaskKind: Double] {
    let report = try Evaluator(model: model, encoder: encoder, batchSize: 32).exactMatch(test, adapter: adapter, maxNewTokens: 4)
    return Dictionary(uniqueKeysWithValues: tasks.map { task in
        let rows = report.predictions.filter { $0.origin == task.rawValue }
        return (task, Double(rows.filter(\.isCorrect).count) / Double(max(rows.count, 1)))
    })
}

let before = try accuracyByTask(nil)
print("\n== Fine-tuning (12 epochs, learning rate 1e-2)")
let options = TrainingOptions(epochs: 12, batchSize: 16, learningRate: 1e-2, seed: 0)
let bar = ProgressBar()
let report = try Trainer(model: model, adapter: iapt, options: options).train(on: encoder.encode(training), progress: bar.callback)
bar.finish()
print(String(format: "  %d steps in %.0f s, %.0f tokens/s, final loss %.3f", report.steps, report.wallSeconds, report.tokensPerSecond, report.finalTrainLoss ?? .nan))

let after = try accuracyByTask(iapt)
print("\n== Exact-match accuracy on held-out test data: base model → with IAPT (two answers: chance is 50 %)")
for task in tasks {
    print("  " + task.rawValue.padding(toLength: 22, withPad: " ", startingAt: 0) + String(format: "%5.1f %% → %5.1f %%", 100 * before[task]!, 100 * after[task]!))
}

let folder = FileManager.default.temporaryDirectory.appendingPathComponent("swift-peft-quickstart-iapt")
try AdapterFiles.save(iapt, to: folder)
print("\n== Adapter saved to \(folder.path) (adapter_config.json + adapter_model.safetensors)")

print("\n== Answers")
let tokenizer = try BundledBase.tokenizer()
for example in test.prefix(4) {
    let prompt = try encoder.promptTokens(for: example)
    let output = try model.generate(
        prompts: [prompt], options: GenerationOptions(maxNewTokens: 4, stopTokens: Set([tokenizer.eosTokenID ?? 257])),
        adapter: iapt, instructionLengths: [prompt.count])[0]
    let answer = try tokenizer.decode(output, skipSpecialTokens: true).trimmingCharacters(in: .whitespacesAndNewlines)
    guard case let .instruction(instruction, input, expected) = example.content else { continue }
    let indentedInput = (input ?? "").replacingOccurrences(of: "\n", with: "\n    ")
    print("  \(instruction)\n    \(indentedInput)\n    → \(answer)   (expected: \(expected.trimmingCharacters(in: .whitespaces)))")
}
print("\nEvery method on all six tasks, with learning curves and seeds: Documentation/Results.md (`swift run -c release peft compare`).")
print(String(format: "Done in %.0f s.", Date().timeIntervalSince(start)))
