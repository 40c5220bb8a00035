// Multi-tenant serving: one frozen backbone, two tenants with their own LoRA adapters (trained on
// different tasks), and plain requests, all answered concurrently in shared batches by the engine.
import ExampleSupport
import Foundation
import PEFT
import Transformer

let world = ToyWorld()
let folders = ["first-letter": 0, "capitals": 2].mapValues { task -> URL in
    FileManager.default.temporaryDirectory.appendingPathComponent("swift-peft-example-tenant-\(task)")
}
// Train each tenant's adapter (a few seconds each) and save it, as tenants would upload them.
for (name, task) in [("first-letter", 0), ("capitals", 2)] {
    let model = try TinyBase.load()
    let lora = try LoRAAdapter(model: model, configuration: LoRAConfiguration(rank: 8, alpha: 16), seed: UInt64(task))
    print("Training tenant '\(name)'…")
    try Workflow.fineTune(lora, model: model, on: world.examples(tasks: [task], words: world.trainingWords), epochs: 8, learningRate: 1e-2)
    if let folder = folders[name] { try AdapterFiles.save(lora, to: folder) }
}

let engine = try ServingEngine(model: TinyBase.load(), maximumBatch: 8, cacheCapacity: 128)
for (name, folder) in folders { try await engine.loadAdapter(at: folder, as: name) }
print("\nResident adapters: \(await engine.adapterNames.joined(separator: ", "))")

let encoder = try Workflow.encoder()
let tokenizer = ByteTokenizer()
let requests: [(tenant: String?, instruction: String, word: String)] = [
    ("first-letter", "Give the first letter.", "tavimi"), ("capitals", "Uppercase the word.", "sobeka"),
    (nil, "Give the first letter.", "ruzo"), ("first-letter", "Which letter does the word start with?", "mikado"),
    ("capitals", "Write the word in capitals.", "lomine"), ("capitals", "Spell the word in capital letters.", "vipeta"),
]
let start = Date()
let answers = try await withThrowingTaskGroup(of: (Int, ServingResult).self) { group in
    for (index, request) in requests.enumerated() {
        let prompt = try encoder.promptTokens(for: InstructionExample(instruction: request.instruction, input: request.word, output: ""))
        group.addTask {
            (index, try await engine.generate(ServingRequest(
                prompt: prompt, adapter: request.tenant, instructionLength: prompt.count,
                options: GenerationOptions(maxNewTokens: 12, stopTokens: [tokenizer.eosTokenID ?? 257]))))
        }
    }
    var collected: [Int: ServingResult] = [:]
    for try await (index, result) in group { collected[index] = result }
    return collected
}
for (index, request) in requests.enumerated() {
    guard let result = answers[index] else { continue }
    let text = try tokenizer.decode(result.tokens, skipSpecialTokens: true)
    print("  [\(request.tenant ?? "base")] \(request.instruction) [\(request.word)] → \(text)   (first token after \(Int(result.timeToFirstToken * 1000)) ms)")
}
print(String(format: "\n%d requests for 3 tenants served together in %.2f s.", requests.count, Date().timeIntervalSince(start)))

// Streaming: the tokens of one request as the engine chooses them (leaving the loop early would
// cancel the request and free its place in the batch).
let streamed = try encoder.promptTokens(for: InstructionExample(instruction: "Uppercase the word.", input: "kimora", output: ""))
print("\n  [capitals] Uppercase the word. [kimora] →", terminator: " ")
for try await token in engine.stream(ServingRequest(
    prompt: streamed, adapter: "capitals", instructionLength: streamed.count,
    options: GenerationOptions(maxNewTokens: 12, stopTokens: [tokenizer.eosTokenID ?? 257]))) {
    print(try tokenizer.decode([token], skipSpecialTokens: true), terminator: "")
    fflush(nil)  // every output stream: show each token as it comes
}
print()
