import ArgumentParser
import PEFT
import Transformer

/// How instruction examples become token sequences, shared by `peft train` and `peft eval`.
struct EncodingOptions: ParsableArguments {
    @Option(help: "Prompt template: alpaca or plain.")
    var template = "alpaca"

    @Option(help: "Longest example in tokens (prompt + response).")
    var maxLength = 512

    func encoder(tokenizer: any Tokenizer) throws -> InstructionEncoder {
        let chosen: PromptTemplate
        switch template {
        case "alpaca": chosen = .alpaca
        case "plain": chosen = .plain
        default: throw ValidationError("--template must be alpaca or plain, got '\(template)'")
        }
        return try InstructionEncoder(tokenizer: tokenizer, template: chosen, maxLength: maxLength)
    }
}
