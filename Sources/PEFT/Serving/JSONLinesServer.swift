import Foundation
import Transformer

/// A JSON Lines front end to a ``ServingEngine`` (what `peft serve` runs on standard input and
/// output): one command per input line, one event per output line.
///
/// Every request line is submitted at once, so requests that arrive together share batches, and
/// events of different requests interleave as they happen; each event carries its request's `id`.
///
/// Commands (objects; keys in snake case):
/// - generate: `{"id": "r1", "prompt": "text"}` or `{"id": "r1", "tokens": [1, 2]}`, with optional
///   `adapter` (a resident adapter's name), `instruction_length` (leading prompt tokens that are the
///   instruction, for IAPT; default all), `max_tokens` (64), `temperature` (0: greedy), `top_k`,
///   `top_p`, `seed` (0), `stop` (extra stop token ids; the tokenizer's and the model's EOS always
///   stop) and `stream` (`true`: one event per token before the result);
/// - `{"id": "a", "load": "name", "path": "adapter-folder"}`, `{"id": "b", "unload": "name"}`;
/// - `{"id": "c", "status": true}`: resident adapters and the engine's queue.
///
/// Events: `{"id", "token", "text"?}` per streamed token (`text` is the new text once it decodes
/// to whole characters); `{"id", "tokens", "text"?, "finish_reason": "stop"|"length", "ttft_ms",
/// "total_ms"}` at the end of a request; `{"id", "loaded"}`, `{"id", "unloaded"}`,
/// `{"id", "adapters", "waiting", "active", "free_caches"}`; and `{"id", "error"}` for anything that
/// fails — a line that is not a command gets an error naming its line number, and the server goes
/// on with the next line.
public struct JSONLinesServer: Sendable {
    private let engine: ServingEngine
    private let tokenizer: (any Tokenizer)?
    private let stopTokens: Set<Int>
    private let contextLength: Int

    /// A front end to `engine`.
    /// - Parameters:
    ///   - tokenizer: encodes `prompt` text and decodes generated text; without one, requests must
    ///     give `tokens` and events carry no `text`.
    ///   - stopTokens: tokens that end every request (the model's and the tokenizer's EOS).
    public init(engine: ServingEngine, tokenizer: (any Tokenizer)?, stopTokens: Set<Int>) {
        self.engine = engine
        self.tokenizer = tokenizer
        self.stopTokens = stopTokens
        contextLength = engine.contextLength
    }

    /// Handles every line of `lines` (blank lines are skipped) and returns when the input has ended
    /// and every command has answered.
    /// - Parameter write: receives each event as one line of JSON (no newline); calls are serial.
    public func serve<Lines: AsyncSequence & Sendable>(
        _ lines: Lines, write: @escaping @Sendable (String) async -> Void
    ) async throws where Lines.Element == String {
        let output = EventWriter(write)
        try await withThrowingTaskGroup(of: Void.self) { group in
            var number = 0
            for try await line in lines {
                number += 1
                guard !line.allSatisfy(\.isWhitespace) else { continue }
                let command: Command
                do {
                    command = try Command(parsing: line, contextLength: contextLength)
                } catch {
                    await output.send(Event(id: Command.identifier(in: line), error: "line \(number): \(JSONFieldError.describe(error))"))
                    continue
                }
                if command.isGenerate {
                    group.addTask { await handle(command, output: output) }
                } else {
                    // Requests of earlier lines finish before an adapter they may use is unloaded.
                    if command.unload != nil { try await group.waitForAll() }
                    await handle(command, output: output)
                }
            }
            try await group.waitForAll()
        }
    }

    /// Runs one parsed command and sends its events. Loading, unloading and status run in line order
    /// (a request on the next line sees the adapter loaded, and an unload waits for the requests of
    /// earlier lines); requests run concurrently.
    private func handle(_ command: Command, output: EventWriter) async {
        do {
            if let name = command.load {
                guard let path = command.path else { throw JSONFieldError("'load' needs a 'path'") }
                try await engine.loadAdapter(at: URL(fileURLWithPath: path), as: name)
                await output.send(Event(id: command.id, loaded: name))
            } else if let name = command.unload {
                try await engine.unloadAdapter(name)
                await output.send(Event(id: command.id, unloaded: name))
            } else if command.status == true {
                let status = await engine.status
                var event = Event(id: command.id, adapters: await engine.adapterNames)
                (event.waiting, event.active, event.freeCaches) = (status.waiting, status.active, status.freeCaches)
                await output.send(event)
            } else {
                try await generate(command, output: output)
            }
        } catch {
            await output.send(Event(id: command.id, error: JSONFieldError.describe(error)))
        }
    }

    private func generate(_ command: Command, output: EventWriter) async throws {
        let prompt: [Int]
        switch (command.prompt, command.tokens) {
        case let (text?, nil):
            guard let tokenizer else { throw JSONFieldError("this server has no tokenizer: give 'tokens', not 'prompt'") }
            prompt = tokenizer.encode(text, addSpecialTokens: true)
        case let (nil, tokens?): prompt = tokens
        default: throw JSONFieldError("give exactly one of 'prompt' and 'tokens'")
        }
        let temperature = command.temperature ?? 0
        if let length = command.instructionLength, !(0...prompt.count).contains(length) {
            throw JSONFieldError("'instruction_length' \(length) is outside 0...\(prompt.count) prompt tokens")
        }
        let stops = stopTokens.union(command.stop ?? [])
        let request = ServingRequest(
            prompt: prompt, adapter: command.adapter, instructionLength: command.instructionLength,
            options: GenerationOptions(
                maxNewTokens: command.maxTokens ?? 64,
                sampling: temperature == 0
                    ? .greedy : .sample(temperature: Float(temperature), topK: command.topK, topP: command.topP.map(Float.init)),
                seed: UInt64(command.seed ?? 0), stopTokens: stops))
        let result: ServingResult
        if command.stream == true {
            // The engine hands each token over as it is chosen; this task announces it (decoding the
            // text here, off the engine's executor) while the request runs as a child task.
            let (tokens, continuation) = AsyncStream.makeStream(of: Int.self)
            async let outcome = Self.generate(request, on: engine, announcing: continuation)
            var decoder = tokenizer.map(IncrementalDecoder.init(tokenizer:))
            for await token in tokens {
                var event = Event(id: command.id, token: token)
                event.text = decoder?.append(token)
                await output.send(event)
            }
            result = try await outcome
        } else {
            result = try await engine.generate(request)
        }
        var event = Event(id: command.id, tokens: result.tokens)
        event.text = try tokenizer?.decode(result.tokens, skipSpecialTokens: true)
        event.finishReason = result.tokens.last.map(stops.contains) == true ? "stop" : "length"
        event.ttftMilliseconds = (result.timeToFirstToken * 1e4).rounded() / 10
        event.totalMilliseconds = (result.totalTime * 1e4).rounded() / 10
        await output.send(event)
    }

    private static func generate(
        _ request: ServingRequest, on engine: ServingEngine, announcing tokens: AsyncStream<Int>.Continuation
    ) async throws -> ServingResult {
        defer { tokens.finish() }
        return try await engine.generate(request) { tokens.yield($0) }
    }

    /// One input line, checked: only known fields, each of its type and in its range, and exactly one
    /// kind of command (a request, `load`, `unload` or `status`).
    struct Command: Sendable {
        var id: String?
        var prompt: String?, tokens: [Int]?, adapter: String?, instructionLength: Int?
        var maxTokens: Int?, temperature: Double?, topK: Int?, topP: Double?, seed: Int?, stop: [Int]?, stream: Bool?
        var load: String?, path: String?, unload: String?, status: Bool?

        /// The `id` of `line` when it is an object with a string or whole-number `id`, for the error of
        /// a line that is not a valid command.
        static func identifier(in line: String) -> String? {
            guard case let .object(object)? = try? JSONValue.parse(Data(line.utf8), maximumDepth: maximumDepth) else { return nil }
            switch object["id"] {
            case let .string(text)?: return text
            case let .integer(number)?: return String(number)
            default: return nil
            }
        }

        /// The deepest nesting a line may have (a command is an object holding arrays of numbers).
        static let maximumDepth = 3

        /// Whether this is a request (not `load`, `unload` or `status`).
        var isGenerate: Bool { load == nil && unload == nil && status == nil }

        static let fields = ["id", "prompt", "tokens", "adapter", "instruction_length", "max_tokens", "temperature", "top_k",
                             "top_p", "seed", "stop", "stream", "load", "path", "unload", "status"]
        static let requestFields: Set<String> = ["prompt", "tokens", "adapter", "instruction_length", "max_tokens", "temperature",
                                                 "top_k", "top_p", "seed", "stop", "stream"]

        /// Parses and checks one line.
        /// - Parameter contextLength: the model's context in positions: `max_tokens` and the lengths
        ///   of `tokens` and `instruction_length` are bounded by it.
        /// - Throws: ``JSONFieldError`` naming the field at fault.
        init(parsing line: String, contextLength: Int) throws {
            let fields = try JSONFields(
                JSONValue.parse(Data(line.utf8), maximumDepth: Self.maximumDepth), allowed: Self.fields, what: "a command")
            switch fields["id"] {
            case nil: id = nil
            case let .string(text)?: id = text
            case let .integer(number)?: id = String(number)
            case let other?: throw JSONFieldError("'id' must be a string or a whole number, got \(other.text)")
            }
            let context = max(contextLength, 1)
            prompt = try fields.string("prompt")
            tokens = try fields.integers("tokens", 0...Int(Int32.max), count: context)
            adapter = try fields.string("adapter")
            instructionLength = try fields.integer("instruction_length", 0...context)
            maxTokens = try fields.integer("max_tokens", 1...context)
            temperature = try fields.number("temperature", 0...100)
            topK = try fields.integer("top_k", 1...Int(Int32.max))
            topP = try fields.number("top_p", Double.leastNonzeroMagnitude...1)
            seed = try fields.integer("seed", 0...Int.max)
            stop = try fields.integers("stop", 0...Int(Int32.max), count: 1024)
            stream = try fields.flag("stream")
            load = try fields.string("load")
            path = try fields.string("path")
            unload = try fields.string("unload")
            status = try fields.flag("status")
            if status == false { throw JSONFieldError("'status' must be true (ask for the status) or left out") }
            let kinds = [load != nil ? "load" : nil, unload != nil ? "unload" : nil, status != nil ? "status" : nil,
                         fields.object.keys.contains(where: Self.requestFields.contains) ? "a request" : nil].compactMap { $0 }
            guard kinds.count <= 1 else { throw JSONFieldError("one command per line: this one mixes \(kinds.joined(separator: " and "))") }
            if path != nil && load == nil { throw JSONFieldError("'path' goes with 'load'") }
            if isGenerate && (prompt == nil) == (tokens == nil) {
                throw JSONFieldError("a request gives exactly one of 'prompt' and 'tokens' (or the command is 'load', 'unload' or 'status')")
            }
        }
    }

    /// One output line; absent fields are left out.
    struct Event: Encodable {
        var id: String?
        var token: Int?, tokens: [Int]?, text: String?, finishReason: String?
        var ttftMilliseconds: Double?, totalMilliseconds: Double?
        var loaded: String?, unloaded: String?, adapters: [String]?
        var waiting: Int?, active: Int?, freeCaches: Int?
        var error: String?

        init(id: String?, token: Int? = nil, tokens: [Int]? = nil, loaded: String? = nil, unloaded: String? = nil,
             adapters: [String]? = nil, error: String? = nil) {
            (self.id, self.token, self.tokens, self.loaded, self.unloaded, self.adapters, self.error) =
                (id, token, tokens, loaded, unloaded, adapters, error)
        }

        enum CodingKeys: String, CodingKey {
            case id, token, tokens, text, finishReason = "finish_reason", ttftMilliseconds = "ttft_ms"
            case totalMilliseconds = "total_ms", loaded, unloaded, adapters, waiting, active, freeCaches = "free_caches", error
        }
    }
}

/// Serialises events onto the writer, one JSON line each.
private actor EventWriter {
    private let write: @Sendable (String) async -> Void
    private let encoder = JSONEncoder()

    init(_ write: @escaping @Sendable (String) async -> Void) {
        self.write = write
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    }

    func send(_ event: JSONLinesServer.Event) async {
        guard let data = try? encoder.encode(event) else { return }
        await write(String(decoding: data, as: UTF8.self))
    }
}
