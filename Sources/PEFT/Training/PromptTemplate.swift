/// How an instruction example becomes text: the prompt (instruction, input and the template's own
/// words) and the response that follows it.
///
/// A template has two forms, one for examples with an input and one without; each may contain the
/// placeholders `{instruction}` and `{input}`, which are replaced in the template's text only (never
/// inside the substituted values). An input that is empty or only whitespace counts as none. The
/// response is the example's `output`, unchanged. A plain-text example has an empty prompt and its
/// text as the response.
///
/// A chat template (``chat``, ``wrapsInChatTemplate``) makes the filled prompt the content of one
/// user turn in the model's own chat template, rendered by the tokenizer
/// (``Tokenizer/applyChatTemplate(_:addGenerationPrompt:)``) with the assistant's turn opened; the
/// response follows as the assistant's words.
public struct PromptTemplate: Sendable, Equatable, Codable {
    /// The prompt of an example with an input.
    public var withInput: String
    /// The prompt of an example without an input.
    public var withoutInput: String
    /// Whether the filled prompt becomes a user turn in the tokenizer's chat template.
    public var wrapsInChatTemplate: Bool
    /// Text put in front of an instruction example's output unless the output already starts with
    /// whitespace: `" "` makes `Answer:` + `negative` the words `Answer:` and ` negative`, as
    /// byte-level BPE saw them in running text (default: none).
    public var responsePrefix: String

    /// A template from its two prompt forms.
    public init(withInput: String, withoutInput: String, wrapsInChatTemplate: Bool = false, responsePrefix: String = "") {
        self.withInput = withInput
        self.withoutInput = withoutInput
        self.wrapsInChatTemplate = wrapsInChatTemplate
        self.responsePrefix = responsePrefix
    }

    private enum CodingKeys: String, CodingKey { case withInput, withoutInput, wrapsInChatTemplate, responsePrefix }

    /// Reads the two forms and, when present, ``wrapsInChatTemplate`` (absent in files written
    /// before it existed: `false`).
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        withInput = try container.decode(String.self, forKey: .withInput)
        withoutInput = try container.decode(String.self, forKey: .withoutInput)
        wrapsInChatTemplate = try container.decodeIfPresent(Bool.self, forKey: .wrapsInChatTemplate) ?? false
        responsePrefix = try container.decodeIfPresent(String.self, forKey: .responsePrefix) ?? ""
    }

    /// One line, as the task suite's comparison and the bundled base use it: `{instruction} {input}
    /// Answer:` and the answer after a space. The bundled base saw only single-line text in
    /// pre-training, so a template with line breaks (whose embeddings it never learned, and which stay
    /// frozen in fine-tuning) leaves it unable to learn the tasks.
    public static let compact = PromptTemplate(
        withInput: "{instruction} {input} Answer:", withoutInput: "{instruction} Answer:", responsePrefix: " ")

    /// The model's chat template around one user turn holding the instruction and, on the next
    /// line, the input: `{instruction}\n{input}`.
    public static let chat = PromptTemplate(
        withInput: "{instruction}\n{input}", withoutInput: "{instruction}", wrapsInChatTemplate: true)

    /// Alpaca's sections without its preamble:
    /// `### Instruction:\n{instruction}\n\n### Input:\n{input}\n\n### Response:\n`, the Input section
    /// left out when there is no input.
    public static let alpaca = PromptTemplate(
        withInput: "### Instruction:\n{instruction}\n\n### Input:\n{input}\n\n### Response:\n",
        withoutInput: "### Instruction:\n{instruction}\n\n### Response:\n")

    /// The instruction and the input, each on its own line: `{instruction}\n{input}\n`, or
    /// `{instruction}\n` without an input.
    public static let plain = PromptTemplate(withInput: "{instruction}\n{input}\n", withoutInput: "{instruction}\n")

    /// A template from one format string with the placeholders `{instruction}` and `{input}`, such
    /// as `"{instruction} {input} Answer:"`. Without an input, `{input}` is left out together with
    /// the spaces and newlines just before it (`"{instruction} Answer:"`). The escapes `\n` and
    /// `\t` written as two characters (as a shell passes them) become a newline and a tab.
    /// - Throws: ``InstructionDataError/invalidSettings(_:)`` if `format` has no `{instruction}`,
    ///   or has either placeholder more than once.
    public init(format: String) throws {
        let format = format.replacingOccurrences(of: "\\n", with: "\n").replacingOccurrences(of: "\\t", with: "\t")
        let instructions = format.components(separatedBy: "{instruction}").count - 1
        let inputs = format.components(separatedBy: "{input}").count - 1
        guard instructions == 1, inputs <= 1 else {
            throw InstructionDataError.invalidSettings(
                "a template format needs {instruction} exactly once and {input} at most once, got '\(format)'")
        }
        var withoutInput = format
        if let placeholder = format.range(of: "{input}") {
            var start = placeholder.lowerBound
            while start > format.startIndex, format[format.index(before: start)].isWhitespace {
                start = format.index(before: start)
            }
            withoutInput = String(format[..<start] + format[placeholder.upperBound...])
        }
        self.init(withInput: format, withoutInput: withoutInput)
    }

    /// The prompt text of `example` (empty for plain text).
    public func prompt(for example: InstructionExample) -> String {
        guard case let .instruction(instruction, input, _) = example.content else { return "" }
        guard let input, !input.allSatisfy(\.isWhitespace) else {
            return Self.fill(withoutInput, instruction: instruction, input: "")
        }
        return Self.fill(withInput, instruction: instruction, input: input)
    }

    /// The response text of `example`: its output (after ``responsePrefix`` when the output does not
    /// start with whitespace), or the whole text of a plain-text example.
    public func response(for example: InstructionExample) -> String {
        switch example.content {
        case let .instruction(_, _, output):
            return output.first?.isWhitespace ?? false ? output : responsePrefix + output
        case let .text(text): return text
        }
    }

    /// `template` with its placeholders replaced.
    private static func fill(_ template: String, instruction: String, input: String) -> String {
        template.components(separatedBy: "{instruction}")
            .map { $0.components(separatedBy: "{input}").joined(separator: input) }
            .joined(separator: instruction)
    }
}
