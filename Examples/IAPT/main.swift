// IAPT on the tiny base model, one adapter over several tasks at once: the instruction decides the
// task, and IAPT's generators turn the instruction into each layer's prompts.
import Autograd
import ExampleSupport
import Foundation
import PEFT
import Tensor
import Transformer

let world = ToyWorld()
let model = try TinyBase.load()
let iapt = try IAPTAdapter(model: model, configuration: IAPTConfiguration(), seed: 0)
try Workflow.fineTuneAndCompare(iapt, name: "IAPT (4 tokens per layer, bottleneck 32, rational activation)", model: model, world: world, tasks: [0, 1, 2], epochs: 20, learningRate: 1e-1)

Workflow.heading("The prompts depend on the instruction, and only on it")
let tokenizer = ByteTokenizer()
let encoder = try Workflow.encoder()
let probe = PromptProbe(iapt)
@MainActor func prompts(_ instruction: String, word: String, response: String) throws -> [Tensor] {
    let prompt = try encoder.promptTokens(for: InstructionExample(instruction: instruction, input: word, output: ""))
    return try probe.prompts(model: model, tokens: prompt + tokenizer.encode(response, addSpecialTokens: false), instructionLength: prompt.count)
}
func distance(_ a: [Tensor], _ b: [Tensor]) -> Float {
    zip(a, b).flatMap { zip($0.scalars, $1.scalars).map { abs($0 - $1) } }.max() ?? 0
}
let reference = try prompts("Give the first letter.", word: "sobeka", response: "s")
print("  prompts at every layer, another response:    max |Δ| = \(distance(reference, try prompts("Give the first letter.", word: "sobeka", response: "z")))")
print("  prompts at every layer, another instruction: max |Δ| = \(distance(reference, try prompts("Write the word in capitals.", word: "sobeka", response: "s")))")
