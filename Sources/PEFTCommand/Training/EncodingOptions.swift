import ArgumentParser
import PEFT
import Transformer

/// How instruction examples become token sequences, shared by `peft train` and `peft eval`.
struct EncodingOptions: ParsableArguments {
    @Option(help: ArgumentHelp(
        "Prompt template: alpaca, plain, chat (the model's own chat template), compact (one line, the task suite's: '{instruction} {input} Answer:' and the answer after a space), or a format with {instruction} and {input}.",
        discussion: "A format such as '{instruction} {input} Answer:' drops {input} and the spaces before it for examples without an input; \\n in it is a newline."))
    var template = "alpaca"

    @Option(help: "Longest example in tokens (prompt + response).")
    var maxLength = 512

    func validate() throws {
        _ = try promptTemplate()
        guard maxLength >= 2 else { throw ValidationError("--max-length must be at least 2, got \(maxLength)") }
    }

    /// The template `--template` names or spells out.
    /// - Throws: `ValidationError` for a name that is not one and a format without `{instruction}`.
    func promptTemplate() throws -> PromptTemplate {
        switch template {
        case "alpaca": return .alpaca
        case "plain": return .plain
        case "chat": return .chat
        case "compact": return .compact
        default:
            guard template.contains("{") else {
                throw ValidationError("--template must be alpaca, plain, chat, compact or a format with {instruction}, got '\(template)'")
            }
            do {
                return try PromptTemplate(format: template)
            } catch {
                throw ValidationError("--template: \(error)")
            }
        }
    }

    /// The encoder for `tokenizer`: BOS and EOS as the model's tokenizer files say.
    /// - Throws: `ValidationError` for `--template chat` with a tokenizer that has no chat template.
    func encoder(tokenizer: any Tokenizer) throws -> InstructionEncoder {
        let chosen = try promptTemplate()
        if chosen.wrapsInChatTemplate && tokenizer.chatTemplate == nil {
            throw ValidationError("--template chat: the model's tokenizer files have no chat template; use alpaca, plain or a format")
        }
        return try InstructionEncoder(tokenizer: tokenizer, template: chosen, maxLength: maxLength)
    }
}
