// The quickstart: fine-tune IAPT on a tiny model and see what it learned.
//
// 1. Loads a tiny LLaMA-shaped base model, pre-training it first on the toy world's plain text if it
//    is not cached yet (about a minute, once; cached in the system's temporary folder).
// 2. Measures exact-match accuracy on words never seen in fine-tuning, before fine-tuning.
// 3. Fine-tunes IAPT (4 generated prompt tokens per layer, bottleneck 32) on two instruction tasks.
// 4. Measures accuracy again, saves the adapter, and answers a few instructions.
import ExampleSupport
import Foundation
import PEFT

let start = Date()
let world = ToyWorld()
let model = try TinyBase.load()
let iapt = try IAPTAdapter(model: model, configuration: IAPTConfiguration(), seed: 0)
try Workflow.fineTuneAndCompare(
    iapt, name: "IAPT (4 tokens per layer, bottleneck 32, rational activation)", model: model, world: world,
    tasks: [0, 1], epochs: 20, learningRate: 1e-1)

let folder = FileManager.default.temporaryDirectory.appendingPathComponent("swift-peft-quickstart-iapt")
try AdapterFiles.save(iapt, to: folder)
Workflow.heading("Adapter saved to \(folder.path) (PEFT layout: adapter_config.json + adapter_model.safetensors)")

Workflow.heading("Answers")
for (instruction, word) in [("Give the first letter.", "tavimi"), ("Give the last letter.", "sobeka"), ("Which letter does the word start with?", "ruzo")] {
    print("  \(instruction) [\(word)] → \(try Workflow.answer(instruction, word: word, model: model, adapter: iapt))")
}
print(String(format: "\nDone in %.0f s.", Date().timeIntervalSince(start)))
