import Transformer

/// An example as token ids: the prompt first, then the response.
public struct EncodedExample: Sendable, Equatable {
    /// The token ids: `promptLength` prompt tokens, then the response (and EOS, if appended and not
    /// truncated away).
    public let tokens: [Int]
    /// How many leading tokens are the prompt (BOS, template text, instruction and input): what
    /// instruction-aware adapters read, and where the loss does not count.
    public let promptLength: Int
    /// Whether the response was cut to fit the maximum length.
    public let isTruncated: Bool

    /// An encoded example; `promptLength` is clamped to `0...tokens.count`.
    public init(tokens: [Int], promptLength: Int, isTruncated: Bool = false) {
        self.tokens = tokens
        self.promptLength = min(max(promptLength, 0), tokens.count)
        self.isTruncated = isTruncated
    }

    /// The number of response tokens (those the loss is computed on).
    public var responseLength: Int { tokens.count - promptLength }
}

/// Turns ``InstructionExample``s into ``EncodedExample``s with a tokenizer and a template.
///
/// The prompt and the response are tokenized separately (`addSpecialTokens: false`) and joined, so
/// the boundary between them is exact; BOS goes in front of the prompt as the tokenizer's files say
/// (or as asked for), and EOS after the response when asked for. With tokenizers that mark the start
/// of a text (SentencePiece's `▁`), the response is tokenized as the start of a text.
///
/// A plain-text example has an empty prompt: its ``EncodedExample/promptLength`` is 1 with BOS and
/// 0 without, and all of its text is trained on. Instruction-aware adapters (IAPT) pool over the
/// prompt, so give them BOS (or instruction data) to read.
///
/// Examples longer than ``maxLength`` keep the whole prompt and the start of the response (the
/// end, and EOS, are cut: ``EncodedExample/isTruncated``). A prompt that leaves no room for even one
/// response token is an error, never silently dropped.
public struct InstructionEncoder: Sendable {
    /// The tokenizer.
    public let tokenizer: any Tokenizer
    /// How examples become prompt and response text.
    public let template: PromptTemplate
    /// The most tokens an encoded example has, prompt and response together.
    public let maxLength: Int
    /// The tokenizer's BOS id when it is put in front of the prompt.
    public let bosTokenID: Int?
    /// The tokenizer's EOS id when it is appended to the response.
    public let eosTokenID: Int?

    /// - Parameters:
    ///   - tokenizer: the model's tokenizer.
    ///   - template: how examples become text (default ``PromptTemplate/alpaca``).
    ///   - maxLength: the most tokens per encoded example, at least 2.
    ///   - addBOS: whether to put the tokenizer's BOS token in front of the prompt; `nil` (the
    ///     default) does exactly what the model's tokenizer files say (``Tokenizer/addsBOS``), so a
    ///     model without BOS, or whose files say not to add it (SmolLM2), gets none.
    ///   - appendEOS: whether to put the tokenizer's EOS token after the response, so the model
    ///     learns to stop.
    /// - Throws: ``InstructionDataError/invalidSettings(_:)`` if `maxLength < 2`, or BOS (with
    ///   `addBOS: true`) or EOS is asked for and the tokenizer has none; ``ChatTemplateError`` for a
    ///   template that wraps in the chat template when the tokenizer has none, or it cannot render
    ///   a user turn.
    public init(
        tokenizer: any Tokenizer, template: PromptTemplate = .alpaca, maxLength: Int = 512, addBOS: Bool? = nil,
        appendEOS: Bool = true
    ) throws {
        guard maxLength >= 2 else {
            throw InstructionDataError.invalidSettings("the maximum length must be at least 2 tokens, got \(maxLength)")
        }
        let addsBOS = addBOS ?? tokenizer.addsBOS
        if addsBOS && tokenizer.bosTokenID == nil {
            throw InstructionDataError.invalidSettings("the tokenizer has no BOS token; encode without adding BOS")
        }
        if appendEOS && tokenizer.eosTokenID == nil {
            throw InstructionDataError.invalidSettings("the tokenizer has no EOS token; encode without appending EOS")
        }
        if template.wrapsInChatTemplate {
            // Fails here, before any data is read, for a tokenizer without a usable template.
            _ = try tokenizer.applyChatTemplate([ChatMessage(role: "user", content: "?")], addGenerationPrompt: true)
        }
        self.tokenizer = tokenizer
        self.template = template
        self.maxLength = maxLength
        bosTokenID = addsBOS ? tokenizer.bosTokenID : nil
        eosTokenID = appendEOS ? tokenizer.eosTokenID : nil
    }

    /// The prompt's tokens of `example`: BOS (if added), then the rendered prompt; or, with a
    /// template that wraps in the chat template, the chat template's text of one user turn (the
    /// filled prompt) with the assistant's turn opened, whose special tokens (BOS among them, where
    /// the template writes it) are part of the text.
    /// - Throws: ``ChatTemplateError`` if the tokenizer's chat template cannot render the turn.
    public func promptTokens(for example: InstructionExample) throws -> [Int] {
        let text = template.prompt(for: example)
        if template.wrapsInChatTemplate && !text.isEmpty {
            let rendered = try tokenizer.applyChatTemplate([ChatMessage(role: "user", content: text)], addGenerationPrompt: true)
            return tokenizer.encode(rendered, addSpecialTokens: false)
        }
        return (bosTokenID.map { [$0] } ?? []) + (text.isEmpty ? [] : tokenizer.encode(text, addSpecialTokens: false))
    }

    /// The tokens of `response` as it follows a prompt, without EOS (a candidate answer's tokens
    /// in label scoring).
    public func responseTokens(_ response: String) -> [Int] {
        response.isEmpty ? [] : tokenizer.encode(response, addSpecialTokens: false)
    }

    /// The prompt's tokens of `example` when they leave room for a response within ``maxLength``.
    /// - Parameter index: the example's position, named in errors when it has no origin.
    /// - Throws: ``InstructionDataError/promptTooLong(example:promptTokens:maxLength:)`` otherwise;
    ///   what ``promptTokens(for:)`` throws.
    public func checkedPromptTokens(for example: InstructionExample, index: Int) throws -> [Int] {
        let prompt = try promptTokens(for: example)
        guard prompt.count < maxLength else {
            throw InstructionDataError.promptTooLong(example: example.name(index: index), promptTokens: prompt.count, maxLength: maxLength)
        }
        return prompt
    }

    /// `example` as prompt and response tokens, cut to ``maxLength`` as described above.
    /// - Parameter index: the example's position, named in errors when it has no origin.
    /// - Throws: ``InstructionDataError/promptTooLong(example:promptTokens:maxLength:)``.
    public func encode(_ example: InstructionExample, index: Int = 0) throws -> EncodedExample {
        let prompt = try checkedPromptTokens(for: example, index: index)
        let response = responseTokens(template.response(for: example)) + (eosTokenID.map { [$0] } ?? [])
        let room = maxLength - prompt.count
        return EncodedExample(
            tokens: prompt + response.prefix(room), promptLength: prompt.count, isTruncated: response.count > room)
    }

    /// Every example encoded, in order.
    /// - Throws: ``InstructionDataError/promptTooLong(example:promptTokens:maxLength:)`` for the
    ///   first example whose prompt is too long.
    public func encode(_ examples: [InstructionExample]) throws -> [EncodedExample] {
        try examples.enumerated().map { try encode($1, index: $0) }
    }
}
