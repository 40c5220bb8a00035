import ArgumentParser
import Autograd
import PEFT
import Transformer

/// `peft logits`: the model's logits for given tokens, as JSON (the contract tests use).
struct LogitsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "logits",
        abstract: "Print {\"logits\": [[Float]]}: one row per given token (virtual tokens excluded).")

    @OptionGroup var model: ModelOptions
    @OptionGroup var adapter: AdapterOptions

    @Option(help: "Comma-separated token ids, e.g. 5,17,42.")
    var tokens: String

    @Option(help: "How many leading tokens are the instruction (default: all of them).")
    var instructionLength: Int?

    func run() throws {
        let ids = try parseTokenList(tokens, option: "--tokens")
        if let instructionLength, !(0...ids.count).contains(instructionLength) {
            throw ValidationError("--instruction-length must be in 0...\(ids.count), got \(instructionLength)")
        }
        let llama = try model.loadModel()
        let hooks = try adapter.load(for: llama).map(AdapterRouter.init)
        let batch = try TokenBatch(rows: [ids], instructionLengths: instructionLength.map { [$0] })
        let logits = try GradientMode.withoutGradients { try llama(batch, hooks: hooks) }.value
        let vocabulary = llama.config.vocabSize
        struct Output: Encodable { let logits: [[FiniteOrNull<Float>]] }
        let scalars = logits.scalars
        try JSONOutput.printLine(Output(logits: (0..<ids.count).map { row in
            scalars[(row * vocabulary)..<((row + 1) * vocabulary)].map(FiniteOrNull.init)
        }))
    }
}
