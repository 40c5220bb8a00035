/// One message of a conversation.
public struct ChatMessage: Sendable, Equatable {
    /// Who speaks: `system`, `user` or `assistant` (templates may accept others).
    public var role: String
    /// What is said.
    public var content: String

    /// A message from `role` saying `content`.
    public init(role: String, content: String) {
        self.role = role
        self.content = content
    }
}

/// A model's chat template: the Jinja program (from `tokenizer_config.json`'s `chat_template`, a
/// `chat_template.jinja` file, or GGUF's `tokenizer.chat_template`) that writes a conversation as
/// the text the model was trained on.
///
/// ``render(_:addGenerationPrompt:bosToken:eosToken:)`` runs it as transformers'
/// `apply_chat_template(messages, tokenize=False)` does (Jinja with `trim_blocks` and
/// `lstrip_blocks`), with an interpreter for the part of Jinja chat templates use:
/// - `{{ … }}`, `{% … %}`, `{# … #}` with whitespace control (`{%-`, `-%}`, `{{-`, `-}}`);
/// - `for` (over lists, strings, `dict.items()`; with `if` filters, `else`, `loop.index`,
///   `index0`, `first`, `last`, `length`, `revindex`, `revindex0`, `previtem`, `nextitem`),
///   `break`, `continue`, `if`/`elif`/`else`, `set` (also `ns.attribute` and block `set`),
///   `macro` with positional and keyword arguments, `generation` blocks;
/// - literals (strings, numbers, lists, dicts, `true`/`false`/`none` in both cases), `message.role`
///   and `message['role']`, slices, `+ - * / // % ** ~`, comparisons, `in`, `not in`, `and`, `or`,
///   `not`, `x if c else y`, tests (`is defined`, `none`, `string`, `number`, `mapping`,
///   `iterable`, `sequence`, `boolean`, `true`, `false`, `even`, `odd`, `divisibleby`, `in`,
///   `equalto`/`eq`/`==` …);
/// - filters `trim`, `length`/`count`, `upper`, `lower`, `title`, `capitalize`, `first`, `last`,
///   `join`, `default`/`d`, `string`, `int`, `float`, `list`, `reverse`, `items`, `replace`,
///   `tojson` (without arguments), `selectattr`/`rejectattr`, `map(attribute=…)`, `safe`;
/// - string methods `strip`, `lstrip`, `rstrip`, `split`, `startswith`, `endswith`, `upper`,
///   `lower`, `title`, `capitalize`, `replace`; dict methods `items`, `keys`, `values`, `get`;
/// - globals `raise_exception`, `namespace`, `dict`, `range`, `strftime_now` (the local time, as
///   transformers gives it), and the variables `messages`, `add_generation_prompt`, `bos_token`,
///   `eos_token` and any passed as `extraVariables`.
///
/// Anything else is an error that names it (``ChatTemplateError``), never a wrong string.
public struct ChatTemplate: Sendable {
    /// The template's Jinja source.
    public let source: String
    private let program: Result<[JinjaNode], ChatTemplateError>

    /// A template from its Jinja source. Parsing happens here, but a template that cannot be
    /// parsed does not stop a tokenizer from loading: ``render(_:addGenerationPrompt:bosToken:eosToken:)``
    /// throws the error (also in ``parseError``).
    public init(_ source: String) {
        self.source = source
        program = Result {
            var parser = JinjaParser(tokens: try JinjaLexer.tokenize(source))
            return try parser.parseTemplate()
        }.mapError { error in error as? ChatTemplateError ?? .syntax(position: 0, reason: "\(error)") }
    }

    /// Why the template cannot be rendered at all, or `nil` if it parsed.
    public var parseError: ChatTemplateError? {
        if case .failure(let error) = program { return error }
        return nil
    }

    /// The text of `messages` in this template.
    /// - Parameters:
    ///   - messages: The conversation, in order.
    ///   - addGenerationPrompt: Whether to end with the start of an assistant turn, for the model
    ///     to continue (`add_generation_prompt`).
    ///   - bosToken: The text of the BOS token (`bos_token`), if the tokenizer has one.
    ///   - eosToken: The text of the EOS token (`eos_token`), if the tokenizer has one.
    ///   - extraVariables: More variables the template may read (such as `date_string`), as JSON-like
    ///     values: `String`, `Bool`, `Int`, `Double`, arrays and `[String: Any]` dictionaries of them.
    /// - Throws: ``ChatTemplateError/syntax(position:reason:)`` or
    ///   ``ChatTemplateError/unsupported(_:)`` if the template uses what this interpreter does not
    ///   handle; ``ChatTemplateError/raised(_:)`` when the template calls `raise_exception` (such as
    ///   for roles that do not alternate); ``ChatTemplateError/evaluation(_:)`` for an operation on
    ///   values that do not support it.
    public func render(
        _ messages: [ChatMessage], addGenerationPrompt: Bool, bosToken: String?, eosToken: String?,
        extraVariables: [String: any Sendable] = [:]
    ) throws -> String {
        let nodes = try program.get()
        var globals: [String: JinjaValue] = [:]
        for (name, value) in extraVariables { globals[name] = try JinjaValue(converting: value) }
        globals["messages"] = .list(messages.map { message in
            .dict(JinjaDict([("role", .string(message.role)), ("content", .string(message.content))]))
        })
        globals["add_generation_prompt"] = .bool(addGenerationPrompt)
        globals["bos_token"] = bosToken.map(JinjaValue.string) ?? .undefined("bos_token")
        globals["eos_token"] = eosToken.map(JinjaValue.string) ?? .undefined("eos_token")
        var interpreter = JinjaInterpreter(globals: globals)
        return try interpreter.render(nodes)
    }
}

extension Tokenizer {
    /// The model's chat template rendered for `messages` with this tokenizer's BOS and EOS tokens.
    /// - Throws: ``ChatTemplateError/noTemplate`` if the tokenizer has no ``chatTemplate``, else
    ///   what ``ChatTemplate/render(_:addGenerationPrompt:bosToken:eosToken:extraVariables:)`` throws.
    public func applyChatTemplate(_ messages: [ChatMessage], addGenerationPrompt: Bool) throws -> String {
        guard let chatTemplate else { throw ChatTemplateError.noTemplate }
        func text(_ id: Int?) -> String? { id.flatMap { try? decode([$0], skipSpecialTokens: false) } }
        return try chatTemplate.render(
            messages, addGenerationPrompt: addGenerationPrompt, bosToken: text(bosTokenID), eosToken: text(eosTokenID))
    }
}

/// Why a chat template could not be rendered.
public enum ChatTemplateError: Error, Equatable, CustomStringConvertible {
    /// The template is not valid Jinja, or not the subset handled here. Associated values: the
    /// offset in the source (in Unicode scalars), and what is wrong there.
    case syntax(position: Int, reason: String)
    /// The template uses a Jinja feature this interpreter does not implement, named in the value
    /// (a statement, filter, test, method or function).
    case unsupported(String)
    /// The template called `raise_exception` with this message.
    case raised(String)
    /// An operation failed on the values it was given (adding a string to a number, reading an
    /// attribute of an undefined value, …), described in the value.
    case evaluation(String)
    /// The tokenizer has no chat template.
    case noTemplate

    public var description: String {
        switch self {
        case let .syntax(position, reason): return "chat template: syntax error at character \(position): \(reason)"
        case let .unsupported(feature): return "chat template: unsupported \(feature)"
        case let .raised(message): return "chat template raised an exception: \(message)"
        case let .evaluation(reason): return "chat template: \(reason)"
        case .noTemplate: return "the tokenizer has no chat template"
        }
    }
}
