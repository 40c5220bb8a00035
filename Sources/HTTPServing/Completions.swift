import Foundation
import Hummingbird
import PEFT
import Transformer

/// A completion checked and ready to run: the engine request and how to answer it.
struct CompletionJob: Sendable {
    let kind: CompletionRequest.Kind
    let id: String
    let model: String
    let request: ServingRequest
    let stopStrings: [String]
    let stream: Bool
    let includeUsage: Bool
    let arrival: ContinuousClock.Instant
    /// Unix time of the request, the `created` of its answer and of every chunk.
    let created = Int(Date().timeIntervalSince1970)
}

/// A streamed text chunk's JSON with a hole for the piece of text, encoded once per request, so that
/// each token costs the escaping of its text rather than the encoding of a whole chunk.
struct PieceChunk {
    static let marker = "@@piece@@"
    let prefix: String
    let suffix: String

    /// - Parameter chunk: a chunk whose text is ``marker``.
    init(_ chunk: JSONValue) throws {
        let encoded = String(decoding: try WireJSON.encode(chunk), as: UTF8.self)
        guard let hole = encoded.range(of: "\"\(Self.marker)\"") else { throw APIError(.internalServerError, "the chunk template has no hole") }
        (prefix, suffix) = (String(encoded[..<hole.lowerBound]), String(encoded[hole.upperBound...]))
    }

    /// The server-sent event of the chunk holding `piece`.
    func event(_ piece: String) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.reserveCapacity(prefix.utf8.count + suffix.utf8.count + piece.utf8.count + 16)
        buffer.writeString("data: ")
        buffer.writeString(prefix)
        buffer.writeString(JSONStringLiteral.quoted(piece))
        buffer.writeString(suffix)
        buffer.writeString("\n\n")
        return buffer
    }
}

/// What a completion produced.
struct CompletionOutcome: Sendable {
    var text = ""
    var tokens = 0
    var finishReason = "length"
}

/// Gives back an admitted completion's place when the answer (or the response holding it) is done
/// with, however it ends.
private final class AdmissionTicket: Sendable {
    let admission: Admission
    init(_ admission: Admission) { self.admission = admission }
    deinit { admission.leave() }
}

extension OpenAIServer {
    private enum Admitted: Sendable {
        case answered(JSONValue)
        case stream(CompletionJob, AdmissionTicket)
    }

    /// Answers a completion: a whole JSON answer, or a stream of server-sent events (the status
    /// line once the request is admitted, a chunk per piece of text, the finish reason, the usage if
    /// asked, and `data: [DONE]`). The server watches the connection while it reads the request and
    /// makes a whole answer, so a client that leaves cancels its request at once; a stream notices
    /// at its next write. The connection closes after a completion (`Connection: close`).
    func complete(_ request: Request, kind: CompletionRequest.Kind) async throws -> Response {
        let arrival = ContinuousClock.now
        do {
            let admitted = try await request.body.consumeWithCancellationOnInboundClose { body -> Admitted in
                let bytes = try await body.collect(upTo: settings.maximumBodyBytes)
                let parsed = try CompletionRequest(body: Data(buffer: bytes), kind: kind, contextLength: engine.contextLength)
                let job = try await prepare(parsed, arrival: arrival)
                guard admission.enter() else {
                    var error = APIError(
                        .tooManyRequests, "the server is busy: \(admission.capacity) requests are running or queued; retry shortly",
                        code: "queue_full")
                    error.headers[.retryAfter] = "1"
                    throw error
                }
                let ticket = AdmissionTicket(admission)
                guard !job.stream else { return .stream(job, ticket) }
                defer { withExtendedLifetime(ticket) {} }
                return .answered(answer(job, try await generate(job) { _ in }))
            }
            switch admitted {
            case let .answered(answer):
                var response = try Self.json(answer)
                response.headers[.connection] = "close"
                return response
            case let .stream(job, ticket):
                return stream(job, ticket: ticket)
            }
        } catch {
            var apiError = APIError.from(error)
            apiError.headers[.connection] = "close"
            throw apiError
        }
    }

    private func stream(_ job: CompletionJob, ticket: AdmissionTicket) -> Response {
        let headers: HTTPFields = [.contentType: "text/event-stream", .cacheControl: "no-cache", .connection: "close"]
        let chat = job.kind == .chat
        return Response(status: .ok, headers: headers, body: ResponseBody { writer in
            defer { withExtendedLifetime(ticket) {} }
            do {
                if chat { try await writer.write(Self.event(chunk(job, delta: ["role": .string("assistant"), "content": .string("")]))) }
                // Every text chunk is the same JSON but for the piece: encoded once, filled in per piece.
                let pieces = try PieceChunk(
                    chunk(job, delta: chat ? ["content": .string(PieceChunk.marker)] : nil, text: PieceChunk.marker))
                let outcome = try await generate(job) { piece in try await writer.write(pieces.event(piece)) }
                try await writer.write(Self.event(chunk(job, delta: chat ? [:] : nil, text: "", finishReason: outcome.finishReason)))
                if job.includeUsage { try await writer.write(Self.event(usageChunk(job, outcome))) }
            } catch is CancellationError {
                throw CancellationError()
            } catch {
                // The status line is sent: the error goes in the stream, as OpenAI's do (a client
                // that has left makes this write fail too, which ends the response).
                let error = APIError.from(error)
                try await writer.write(Self.event(.object(["error": .object([
                    "message": .string(error.message), "type": .string(error.type), "code": error.code.map(JSONValue.string) ?? .null,
                ])])))
            }
            try await writer.write(ByteBuffer(string: "data: [DONE]\n\n"))
            try await writer.finish(nil)
        })
    }

    /// The engine request for `parsed`: the prompt's tokens, the adapter and the sampling settings,
    /// checked by the engine (so a stream's status line is sent only for a request it will take).
    func prepare(_ parsed: CompletionRequest, arrival: ContinuousClock.Instant) async throws -> CompletionJob {
        let adapter = parsed.model == settings.modelName ? nil : parsed.model
        let prompt: [Int]
        switch parsed.prompt {
        case let .text(text): prompt = tokenizer.encode(text, addSpecialTokens: true)
        case let .tokens(tokens): prompt = tokens
        case let .messages(messages):
            guard tokenizer.chatTemplate != nil else {
                throw APIError.badRequest("this model has no chat template: use /v1/completions", param: "messages")
            }
            // The rendered text carries the template's special tokens; nothing more is added.
            prompt = tokenizer.encode(try tokenizer.applyChatTemplate(messages, addGenerationPrompt: true), addSpecialTokens: false)
        }
        guard !prompt.isEmpty else { throw APIError.badRequest("the prompt is empty", param: "prompt") }
        let sampling: Sampling = parsed.temperature == 0
            ? .greedy : .sample(temperature: Float(parsed.temperature), topK: parsed.topK, topP: parsed.topP.map(Float.init))
        var request = ServingRequest(
            prompt: prompt, adapter: adapter,
            options: GenerationOptions(sampling: sampling, seed: parsed.seed ?? UInt64.random(in: 0...UInt64.max), stopTokens: stopTokens))
        let room = try await engine.room(for: request)
        guard room > 0 else {
            throw APIError.badRequest(
                "the prompt's \(prompt.count) tokens leave no room in the model's context of \(engine.contextLength) tokens",
                param: parsed.kind == .chat ? "messages" : "prompt", code: "context_length_exceeded")
        }
        if let maxTokens = parsed.maxTokens, maxTokens > room {
            throw APIError.badRequest(
                "'max_tokens' is \(maxTokens), but the context of \(engine.contextLength) tokens leaves \(room) after this prompt of \(prompt.count)",
                param: "max_tokens", code: "context_length_exceeded")
        }
        request.options.maxNewTokens = parsed.maxTokens ?? (parsed.kind == .chat ? room : min(settings.defaultCompletionTokens, room))
        let id = (parsed.kind == .chat ? "chatcmpl-" : "cmpl-") + String(UInt64.random(in: 0...UInt64.max), radix: 16)
        return CompletionJob(
            kind: parsed.kind, id: id, model: parsed.model, request: request, stopStrings: parsed.stop, stream: parsed.stream,
            includeUsage: parsed.includeUsage, arrival: arrival)
    }

    private enum GenerationEvent: Sendable {
        case token(Int)
        case timedOut
    }

    /// Runs `job` on the engine, handing each piece of new text to `emit` as it becomes final (stop
    /// strings held back until they can be ruled out), until a stop token, a stop string or
    /// `max_tokens`. A stop string ends the request in the engine at once.
    /// - Throws: ``APIError`` (504) past the request timeout; `CancellationError` when the calling
    ///   task is cancelled (the client left); what the engine throws.
    func generate(_ job: CompletionJob, emit: (String) async throws -> Void) async throws -> CompletionOutcome {
        let (events, continuation) = AsyncStream.makeStream(of: GenerationEvent.self)
        let (engine, request, timeout) = (self.engine, job.request, settings.requestTimeout)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                defer { continuation.finish() }
                _ = try await engine.generate(request) { continuation.yield(.token($0)) }
            }
            group.addTask {
                try await Task.sleep(for: .seconds(timeout))
                continuation.yield(.timedOut)
            }

            var outcome = CompletionOutcome()
            // Tokens count as generated however the request ends.
            defer {
                metrics.promptTokens.increment(by: Int64(request.prompt.count))
                metrics.generatedTokens.increment(by: Int64(outcome.tokens))
            }
            var decoder = IncrementalDecoder(tokenizer: tokenizer)
            var stops = StopSequences(job.stopStrings)
            var stoppedByString = false
            events: for await event in events {
                switch event {
                case .timedOut:
                    throw APIError(.gatewayTimeout, "the request took longer than the server's limit of \(timeout) s", code: "timeout")
                case let .token(token):
                    outcome.tokens += 1
                    if outcome.tokens == 1 { metrics.timeToFirstToken.record(Self.seconds(since: job.arrival)) }
                    if stopTokens.contains(token) {
                        outcome.finishReason = "stop"
                        continue
                    }
                    guard let piece = decoder.append(token) else { continue }
                    let (release, stopped) = stops.feed(piece)
                    if !release.isEmpty {
                        outcome.text += release
                        try await emit(release)
                    }
                    if stopped {
                        (outcome.finishReason, stoppedByString) = ("stop", true)
                        break events
                    }
                }
            }
            group.cancelAll()
            while let result = await group.nextResult() {
                if case let .failure(error) = result, !(error is CancellationError) { throw error }
            }
            try Task.checkCancellation()
            if !stoppedByString {
                // The text held back (an unfinished character, the start of a stop string) ends the answer.
                var tail = ""
                if let whole = try? tokenizer.decode(decoder.tokens, skipSpecialTokens: true), whole.hasPrefix(decoder.text) {
                    tail = String(whole.dropFirst(decoder.text.count))
                }
                var (release, stopped) = stops.feed(tail)
                if stopped { outcome.finishReason = "stop" } else { release += stops.flush() }
                if !release.isEmpty {
                    outcome.text += release
                    try await emit(release)
                }
            }
            metrics.latency.record(Self.seconds(since: job.arrival))
            return outcome
        }
    }

    // MARK: Wire format

    private func usage(_ job: CompletionJob, _ outcome: CompletionOutcome) -> JSONValue {
        .object([
            "prompt_tokens": .integer(job.request.prompt.count), "completion_tokens": .integer(outcome.tokens),
            "total_tokens": .integer(job.request.prompt.count + outcome.tokens),
        ])
    }

    private func header(_ job: CompletionJob, object: String) -> [String: JSONValue] {
        ["id": .string(job.id), "object": .string(object), "created": .integer(job.created), "model": .string(job.model)]
    }

    /// The whole answer of a completion that does not stream.
    func answer(_ job: CompletionJob, _ outcome: CompletionOutcome) -> JSONValue {
        var choice: [String: JSONValue] = ["index": .integer(0), "logprobs": .null, "finish_reason": .string(outcome.finishReason)]
        if job.kind == .chat {
            choice["message"] = .object(["role": .string("assistant"), "content": .string(outcome.text)])
        } else {
            choice["text"] = .string(outcome.text)
        }
        var object = header(job, object: job.kind == .chat ? "chat.completion" : "text_completion")
        object["choices"] = .array([.object(choice)])
        object["usage"] = usage(job, outcome)
        return .object(object)
    }

    /// One streamed chunk: a chat `delta` or completion `text`, and the finish reason on the last.
    private func chunk(_ job: CompletionJob, delta: [String: JSONValue]?, text: String = "", finishReason: String? = nil) -> JSONValue {
        var choice: [String: JSONValue] = ["index": .integer(0), "logprobs": .null, "finish_reason": finishReason.map(JSONValue.string) ?? .null]
        if let delta { choice["delta"] = .object(delta) } else { choice["text"] = .string(text) }
        var object = header(job, object: job.kind == .chat ? "chat.completion.chunk" : "text_completion")
        object["choices"] = .array([.object(choice)])
        return .object(object)
    }

    /// The last chunk of a stream with `include_usage`: no choices, the usage.
    private func usageChunk(_ job: CompletionJob, _ outcome: CompletionOutcome) -> JSONValue {
        var object = header(job, object: job.kind == .chat ? "chat.completion.chunk" : "text_completion")
        object["choices"] = .array([])
        object["usage"] = usage(job, outcome)
        return .object(object)
    }

    static func event(_ value: JSONValue) throws -> ByteBuffer {
        var buffer = ByteBuffer(string: "data: ")
        buffer.writeBytes(try WireJSON.encode(value))
        buffer.writeString("\n\n")
        return buffer
    }

    static func seconds(since instant: ContinuousClock.Instant) -> Double {
        let elapsed = ContinuousClock.now - instant
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    }
}
