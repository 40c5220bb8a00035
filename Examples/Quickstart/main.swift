// The quickstart: fine-tune IAPT on a tiny model and see what it learned.
//
// 1. Loads a tiny LLaMA-shaped base model, pre-training it first on the toy world's plain text if
//    it is not cached yet (about 20 s, once).
// 2. Measures exact-match accuracy on held-out words before fine-tuning.
// 3. Fine-tunes IAPT (4 generated prompt tokens per layer, bottleneck 32) on two instruction tasks.
// 4. Measures accuracy again, saves the adapter, and answers a few instructions.
import ExampleSupport
import Foundation
import PEFT

let start = Date()
let world = ToyWorld()
let model = try TinyBase.load()
let tasks = [0, 2]  // first letter, capitals
let training = world.examples(tasks: tasks, words: world.trainingWords)
let test = world.examples(tasks: tasks, words: world.testWords, seed: 5)
print("Base model: \(model.parameterCount) parameters. Tasks: \(tasks.map { ToyWorld.tasks[$0].name }.joined(separator: ", ")); \(training.count) training and \(test.count) test examples (test words never seen in fine-tuning).")

Workflow.heading("Before fine-tuning (the base model alone)")
let before = try Workflow.accuracyByTask(model: model, adapter: nil, on: test)
for (task, accuracy) in before { print(String(format: "  %-14@ %5.1f %%", task as NSString, 100 * accuracy)) }

let iapt = try IAPTAdapter(model: model, configuration: IAPTConfiguration(), seed: 0)
Workflow.heading("Fine-tuning IAPT: \(iapt.trainableParameterCount) trainable parameters")
let report = try Workflow.fineTune(iapt, model: model, on: training, epochs: 3, learningRate: 3e-3)
print(String(format: "  %d steps in %.1f s, final loss %.3f, %.0f tokens/s", report.steps, report.wallSeconds, report.finalTrainLoss ?? .nan, report.tokensPerSecond))

Workflow.heading("After fine-tuning")
let after = try Workflow.accuracyByTask(model: model, adapter: iapt, on: test)
for ((task, was), (_, now)) in zip(before, after) {
    print(String(format: "  %-14@ %5.1f %% → %5.1f %%", task as NSString, 100 * was, 100 * now))
}

let folder = FileManager.default.temporaryDirectory.appendingPathComponent("swift-peft-quickstart-iapt")
try AdapterFiles.save(iapt, to: folder)
Workflow.heading("Adapter saved to \(folder.path) (PEFT layout: adapter_config.json + adapter_model.safetensors)")

Workflow.heading("Answers")
for (instruction, word) in [("Give the first letter.", "tavimi"), ("Uppercase the word.", "sobeka"), ("Which letter does the word start with?", "ruzo")] {
    print("  \(instruction) [\(word)] → \(try Workflow.answer(instruction, word: word, model: model, adapter: iapt))")
}
print(String(format: "\nDone in %.0f s.", Date().timeIntervalSince(start)))
