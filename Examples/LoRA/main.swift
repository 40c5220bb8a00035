// LoRA on the tiny base model: fine-tune, then merge the update into the weights and check that the
// merged model computes what the un-merged adapter did; save and reload in PEFT's layout.
import Autograd
import ExampleSupport
import Foundation
import PEFT
import Transformer

let world = ToyWorld()
let model = try TinyBase.load()
let lora = try LoRAAdapter(model: model, configuration: LoRAConfiguration(rank: 8, alpha: 16, targetModules: [.query, .value]), seed: 0)
try Workflow.fineTuneAndCompare(lora, name: "LoRA (r = 8, α = 16, q_proj and v_proj)", model: model, world: world, tasks: [0, 2, 4], epochs: 8, learningRate: 1e-2)

Workflow.heading("Merging")
let probe = try TokenBatch(rows: [ByteTokenizer().encode("Give the first letter.\nword: sobeka\nanswer: ", addSpecialTokens: true)])
let unmerged = try GradientMode.withoutGradients { try model(probe, adapter: lora).value }
try lora.merge(into: model)
let merged = try GradientMode.withoutGradients { try model(probe).value }
let difference = zip(unmerged.scalars, merged.scalars).map { abs($0 - $1) }.max() ?? 0
print("  merged backbone vs un-merged adapter: max |Δlogit| = \(difference) over \(merged.count) logits")
try lora.unmerge(from: model)
let restored = try GradientMode.withoutGradients { try model(probe, adapter: lora).value }

let folder = FileManager.default.temporaryDirectory.appendingPathComponent("swift-peft-example-lora")
try AdapterFiles.save(lora, to: folder)
let reloaded = try AdapterFiles.load(from: folder, model: model)
let again = try GradientMode.withoutGradients { try model(probe, adapter: reloaded).value }
print("  saved to \(folder.path) and reloaded: outputs \(again == restored ? "identical" : "DIFFERENT") to the adapter's")
