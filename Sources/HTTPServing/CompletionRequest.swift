import Foundation
import PEFT
import Transformer

/// The body of `POST /v1/completions` or `POST /v1/chat/completions`, checked field by field.
///
/// The fields are OpenAI's. Those this server honours: `model`, `prompt` (a string, token ids, or a
/// one-element array of either) or `messages` (roles `system`, `user`, `assistant`; content a
/// string or text parts), `max_tokens` (`max_completion_tokens` for chat), `temperature` (default
/// 1, 0 is greedy), `top_p`, `top_k` (an extension, as vLLM's), `seed`, `stop` (up to 4 strings),
/// `n` (1 only), `stream` and `stream_options.include_usage`. Fields OpenAI defines whose other
/// values this server does not implement (`logprobs`, `echo`, `best_of`, penalties, `logit_bias`,
/// `suffix`) are accepted at their neutral value and refused otherwise; unknown fields are refused,
/// as OpenAI refuses them.
struct CompletionRequest: Sendable {
    enum Kind: Sendable { case completion, chat }

    enum Prompt: Sendable, Equatable {
        case text(String)
        case tokens([Int])
        case messages([ChatMessage])
    }

    let kind: Kind
    let model: String
    let prompt: Prompt
    let maxTokens: Int?
    let temperature: Double
    let topP: Double?
    let topK: Int?
    let seed: UInt64?
    let stop: [String]
    let stream: Bool
    let includeUsage: Bool

    /// The deepest nesting a body may have: an object holding messages holding content parts.
    static let maximumDepth = 5
    static let maximumStops = 4
    static let maximumStopLength = 256
    static let maximumMessages = 4_096

    static let sharedFields = [
        "model", "max_tokens", "temperature", "top_p", "top_k", "seed", "stop", "n", "stream", "stream_options", "user",
        "frequency_penalty", "presence_penalty", "logprobs", "logit_bias",
    ]
    static let completionFields = sharedFields + ["prompt", "echo", "best_of", "suffix"]
    static let chatFields = sharedFields + ["messages", "max_completion_tokens", "top_logprobs"]

    /// Parses and checks `body`.
    /// - Parameter contextLength: the model's context: `max_tokens` and token prompts are bounded by it.
    /// - Throws: ``JSONFieldError`` naming the field at fault.
    init(body: Data, kind: Kind, contextLength: Int) throws {
        let fields = try JSONFields(
            JSONValue.parse(body, maximumDepth: Self.maximumDepth),
            allowed: kind == .chat ? Self.chatFields : Self.completionFields, what: "the request body")
        let context = max(contextLength, 1)
        self.kind = kind
        guard let model = try fields.string("model") else { throw JSONFieldError("'model' is required: the base model's name or a resident adapter's") }
        self.model = model
        switch kind {
        case .completion: prompt = try Self.completionPrompt(fields["prompt"], context: context)
        case .chat: prompt = .messages(try Self.messages(fields["messages"]))
        }
        let maxTokens = try fields.integer("max_tokens", 1...context)
        let maxCompletionTokens = kind == .chat ? try fields.integer("max_completion_tokens", 1...context) : nil
        if maxTokens != nil, maxCompletionTokens != nil, maxTokens != maxCompletionTokens {
            throw JSONFieldError("'max_tokens' and 'max_completion_tokens' disagree: give one")
        }
        self.maxTokens = maxTokens ?? maxCompletionTokens
        temperature = try fields.number("temperature", 0...2) ?? 1
        topP = try fields.number("top_p", Double.leastNonzeroMagnitude...1)
        topK = try fields.integer("top_k", 1...Int(Int32.max))
        seed = try fields.integer("seed", Int.min...Int.max).map { UInt64(bitPattern: Int64($0)) }
        stop = try Self.stops(fields["stop"])
        stream = try fields.flag("stream") ?? false
        if let options = fields["stream_options"] {
            let streamOptions = try JSONFields(options, allowed: ["include_usage"], path: "stream_options.")
            guard stream else { throw JSONFieldError("'stream_options' goes with 'stream': true") }
            includeUsage = try streamOptions.flag("include_usage") ?? false
        } else {
            includeUsage = false
        }
        _ = try fields.string("user")
        try Self.requireNeutral(fields)
    }

    /// Refuses values of fields this server does not implement, other than their neutral one.
    private static func requireNeutral(_ fields: JSONFields) throws {
        if let n = try fields.integer("n", 1...Int.max), n != 1 { throw JSONFieldError("'n' must be 1: this server returns one choice, got \(n)") }
        if let bestOf = try fields.integer("best_of", 1...Int.max), bestOf != 1 { throw JSONFieldError("'best_of' must be 1, got \(bestOf)") }
        for penalty in ["frequency_penalty", "presence_penalty"] {
            if let value = try fields.number(penalty, -2...2), value != 0 { throw JSONFieldError("'\(penalty)' is not supported: leave it out or 0") }
        }
        switch fields["logprobs"] {
        case nil, .bool(false)?, .integer(0)?: break
        default: throw JSONFieldError("'logprobs' is not supported: leave it out")
        }
        if fields["top_logprobs"] != nil { throw JSONFieldError("'top_logprobs' is not supported: leave it out") }
        if try fields.flag("echo") == true { throw JSONFieldError("'echo' is not supported: leave it out or false") }
        if let suffix = try fields.string("suffix"), !suffix.isEmpty { throw JSONFieldError("'suffix' is not supported: leave it out") }
        switch fields["logit_bias"] {
        case nil: break
        case let .object(bias)? where bias.isEmpty: break
        default: throw JSONFieldError("'logit_bias' is not supported: leave it out or {}")
        }
    }

    private static func completionPrompt(_ field: JSONValue?, context: Int) throws -> Prompt {
        switch field {
        case nil: throw JSONFieldError("'prompt' is required")
        case let .string(text)?: return .text(text)
        case let .array(items)? where items.count == 1:
            if case let .string(text) = items[0] { return .text(text) }
            if case .array = items[0] { return .tokens(try JSONFields.integers(items[0], name: "prompt[0]", 0...Int(Int32.max), count: context)) }
            return .tokens(try JSONFields.integers(.array(items), name: "prompt", 0...Int(Int32.max), count: context))
        case let .array(items)? where items.allSatisfy({ if case .integer = $0 { true } else { false } }):
            return .tokens(try JSONFields.integers(.array(items), name: "prompt", 0...Int(Int32.max), count: context))
        case let .array(items)?:
            throw JSONFieldError("'prompt' holds \(items.count) prompts: this server answers one prompt per request (a string or token ids)")
        case let other?: throw JSONFieldError("'prompt' must be a string or an array of token ids, got \(other.kind)")
        }
    }

    private static func messages(_ field: JSONValue?) throws -> [ChatMessage] {
        guard let field else { throw JSONFieldError("'messages' is required") }
        guard case let .array(items) = field, !items.isEmpty, items.count <= maximumMessages else {
            throw JSONFieldError("'messages' must be an array of 1 to \(maximumMessages) messages, got \(field.kind)")
        }
        return try items.enumerated().map { index, item in
            let path = "messages[\(index)]."
            let message = try JSONFields(item, allowed: ["role", "content", "name"], path: path)
            guard let role = try message.string("role"), ["system", "user", "assistant", "developer"].contains(role) else {
                throw JSONFieldError("'\(path)role' must be system, user, assistant or developer")
            }
            _ = try message.string("name")
            let content: String
            switch message["content"] {
            case let .string(text)?: content = text
            case let .array(parts)?:
                content = try parts.enumerated().map { partIndex, part in
                    let partPath = "\(path)content[\(partIndex)]."
                    let fields = try JSONFields(part, allowed: ["type", "text"], path: partPath)
                    guard try fields.string("type") == "text", let text = try fields.string("text") else {
                        throw JSONFieldError("'\(partPath)type' must be text, with its 'text': this server reads text only")
                    }
                    return text
                }.joined()
            case let other:
                throw JSONFieldError("'\(path)content' must be a string or an array of text parts, got \(other?.kind ?? "nothing")")
            }
            // OpenAI's newer name for the system role; chat templates know `system`.
            return ChatMessage(role: role == "developer" ? "system" : role, content: content)
        }
    }

    private static func stops(_ field: JSONValue?) throws -> [String] {
        let items: [JSONValue]
        switch field {
        case nil: return []
        case let .string(text)?: items = [.string(text)]
        case let .array(array)?: items = array
        case let other?: throw JSONFieldError("'stop' must be a string or an array of strings, got \(other.kind)")
        }
        guard items.count <= maximumStops else { throw JSONFieldError("'stop' holds at most \(maximumStops) sequences, got \(items.count)") }
        return try items.map { item in
            guard case let .string(text) = item, !text.isEmpty, text.count <= maximumStopLength else {
                throw JSONFieldError("each 'stop' sequence must be a string of 1 to \(maximumStopLength) characters, got \(item.text)")
            }
            return text
        }
    }
}
