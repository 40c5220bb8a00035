import ArgumentParser
import Foundation
import PEFT
import Transformer

/// `peft generate`: continue a prompt, streaming tokens to standard output.
struct GenerateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Continue a prompt with the model, streaming the text as it is generated.")

    @OptionGroup var model: ModelOptions
    @OptionGroup var adapter: AdapterOptions

    @Option(help: "The prompt text (needs the model's tokenizer).")
    var prompt: String?

    @Flag(help: "Wrap the prompt as one user message in the model's chat template and print the answer.")
    var chat = false

    @Option(help: "With --chat, a system message put before the user's.")
    var system: String?

    @Option(help: "The prompt as comma-separated token ids, instead of --prompt.")
    var tokens: String?

    @Option(help: "The most tokens to generate.")
    var maxNewTokens = 64

    @Option(help: "Sampling temperature; 0 for greedy decoding.")
    var temperature: Float = 0

    @Option(help: "Sample only from the k most likely tokens.")
    var topK: Int?

    @Option(help: "Sample only from the most likely tokens whose probability adds up to p.")
    var topP: Float?

    @Option(help: "Seed for sampling.")
    var seed: UInt64 = 0

    func validate() throws {
        guard (prompt == nil) != (tokens == nil) else { throw ValidationError("give exactly one of --prompt and --tokens") }
        guard maxNewTokens > 0 else { throw ValidationError("--max-new-tokens must be positive") }
        guard temperature.isFinite, (0...100).contains(temperature) else { throw ValidationError("--temperature must be in 0...100, got \(temperature)") }
        guard !chat || prompt != nil else { throw ValidationError("--chat needs --prompt") }
        guard system == nil || chat else { throw ValidationError("--system needs --chat") }
    }

    func run() throws {
        let llama = try model.loadModel()
        let tokenizer = prompt == nil ? nil : try model.loadTokenizer()
        var promptIDs = try tokens.map { try parseTokenList($0, option: "--tokens") }
            ?? tokenizer?.encode(prompt ?? "", addSpecialTokens: true) ?? []
        if chat, let tokenizer, let prompt {
            guard tokenizer.chatTemplate != nil else {
                throw ValidationError("--chat: \(model.model) has no chat template in its tokenizer files")
            }
            let messages = (system.map { [ChatMessage(role: "system", content: $0)] } ?? []) + [ChatMessage(role: "user", content: prompt)]
            // The rendered text carries whatever special tokens the template puts in (as
            // transformers' apply_chat_template, whose text is encoded without adding more).
            promptIDs = tokenizer.encode(try tokenizer.applyChatTemplate(messages, addGenerationPrompt: true), addSpecialTokens: false)
        }
        let room = llama.config.maxPositionEmbeddings - promptIDs.count
        guard maxNewTokens <= room else {
            throw ValidationError(room <= 0
                ? "the prompt's \(promptIDs.count) tokens fill the model's context of \(llama.config.maxPositionEmbeddings)"
                : "--max-new-tokens must be at most \(room) here: the model's context is \(llama.config.maxPositionEmbeddings) tokens and the prompt takes \(promptIDs.count)")
        }
        let options = GenerationOptions(
            maxNewTokens: maxNewTokens,
            sampling: temperature == 0 ? .greedy : .sample(temperature: temperature, topK: topK, topP: topP),
            seed: seed, stopTokens: ModelOptions.stopTokens(of: llama, tokenizer: tokenizer))
        var decoder = tokenizer.map(IncrementalDecoder.init(tokenizer:))
        let hooks = try adapter.load(for: llama).map(AdapterRouter.init)
        _ = try llama.generate(prompts: [promptIDs], options: options, hooks: hooks) { _, token in
            if decoder == nil {
                FileHandle.standardOutput.write(Data("\(token) ".utf8))
            } else if let piece = decoder?.append(token) {
                FileHandle.standardOutput.write(Data(piece.utf8))
            }
            return true
        }
        FileHandle.standardOutput.write(Data("\n".utf8))
    }
}
