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
        let hooks = try adapter.load(for: llama).map { AdapterRouter($0, rows: 1) }
        let batch = try TokenBatch(rows: [ids], instructionLengths: instructionLength.map { [$0] })
        let logits = try GradientMode.withoutGradients { try llama(batch, hooks: hooks) }.value
        let vocabulary = llama.config.vocabSize
        let rows = (0..<ids.count).map { JSONOutput.array(Array(logits.scalars[($0 * vocabulary)..<(($0 + 1) * vocabulary)])) }
        print("{\"logits\": [" + rows.joined(separator: ", ") + "]}")
    }
}
