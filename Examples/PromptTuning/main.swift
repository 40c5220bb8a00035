// Prompt tuning on the tiny base model: 20 virtual tokens initialised from the embeddings of a text
// (PEFT's TEXT initialisation), fine-tuned on two tasks.
import ExampleSupport
import Foundation
import PEFT
import Transformer

let world = ToyWorld()
let model = try TinyBase.load()
let text = "Answer about the letters of the word."
let configuration = PromptTuningConfiguration(
    virtualTokens: 20, initialization: .text(text, tokenIDs: ByteTokenizer().encode(text, addSpecialTokens: false)))
let prompt = try PromptTuningAdapter(model: model, configuration: configuration, seed: 0)
try Workflow.fineTuneAndCompare(prompt, name: "Prompt tuning (20 virtual tokens, text initialisation)", model: model, world: world, tasks: [0, 2], epochs: 8, learningRate: 1e-1)
let folder = FileManager.default.temporaryDirectory.appendingPathComponent("swift-peft-example-prompt")
try AdapterFiles.save(prompt, to: folder)
print("\nSaved to \(folder.path): prompt_embeddings \(prompt.embeddings.shape), loadable by PEFT's PeftModel.from_pretrained.")
