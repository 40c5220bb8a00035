import Foundation
import Hummingbird
import Logging
import PEFT
import ServiceLifecycle
import Transformer

/// An OpenAI-compatible HTTP server over a ``ServingEngine``: many tenants, an adapter per request,
/// requests of every adapter type batched together.
///
/// Routes (see `Documentation/Serving.md`):
/// - `POST /v1/completions`, `POST /v1/chat/completions` (the model's chat template): `model` names
///   the base model or a resident adapter; `stream: true` answers with server-sent events in
///   OpenAI's chunk format ending `data: [DONE]`; usage counts in the answer (in a last chunk with
///   `stream_options.include_usage`).
/// - `GET /v1/models`: the base model and the resident adapters. `POST /v1/adapters`
///   `{"name", "path"}` loads an adapter from under the adapter directory; `DELETE /v1/adapters/NAME`
///   unloads one.
/// - `GET /health`, and `GET /metrics` in Prometheus' text format.
///
/// Limits: completions beyond the running batch and the queue bound get 429 with `Retry-After`;
/// each completion has a timeout (504); `max_tokens` is bounded by what the context leaves after
/// the prompt; bodies are bounded (413); one adapter loads at a time (429). A client that
/// disconnects cancels its request, which leaves the batch and frees its cache at the next step.
public struct OpenAIServer: Sendable {
    let engine: ServingEngine
    let tokenizer: any Tokenizer
    let stopTokens: Set<Int>
    let settings: HTTPServerSettings
    let metrics = ServerMetrics()
    let admission: Admission
    let adapterDirectory: AdapterDirectory?
    /// Unix time the server was made, the `created` of its models.
    let created = Int(Date().timeIntervalSince1970)

    /// A server for `engine`.
    /// - Parameters:
    ///   - tokenizer: the model's tokenizer (and chat template, for chat completions).
    ///   - stopTokens: tokens that end every completion (the model's and the tokenizer's EOS).
    /// - Throws: ``HTTPServerSettingsError`` for invalid settings (``HTTPServerSettings/validate()``).
    public init(engine: ServingEngine, tokenizer: any Tokenizer, stopTokens: Set<Int>, settings: HTTPServerSettings) throws {
        try settings.validate()
        self.engine = engine
        self.tokenizer = tokenizer
        self.stopTokens = stopTokens
        self.settings = settings
        admission = Admission(capacity: engine.maximumBatch + settings.maximumQueue)
        adapterDirectory = try settings.adapterDirectory.map(AdapterDirectory.init)
    }

    /// Whether `name` may name a model or an adapter: 1 to 128 of letters, digits and `. _ - : /`.
    public static func isValidName(_ name: String) -> Bool {
        (1...128).contains(name.count) && name.unicodeScalars.allSatisfy {
            $0.isASCII && (CharacterSet.alphanumerics.contains($0) || "._-:/".unicodeScalars.contains($0))
        }
    }

    /// Listens and serves until the calling task is cancelled (or, with `handlingSignals`, until
    /// SIGINT or SIGTERM), then shuts down gracefully: no new connections, answers in progress
    /// finish.
    /// - Parameters:
    ///   - handlingSignals: whether SIGINT and SIGTERM shut the server down (a command-line server's
    ///     choice; tests leave the process's signals alone).
    ///   - onListening: called once the socket is bound, with the host and the port (the one chosen
    ///     when the settings' port is 0).
    /// - Throws: what binding the socket throws (an address in use, say).
    public func run(
        handlingSignals: Bool = false, onListening: @escaping @Sendable (_ host: String, _ port: Int) async -> Void = { _, _ in }
    ) async throws {
        var logger = Logger(label: "peft.http")
        logger.logLevel = .warning
        let (host, port) = (settings.host, settings.port)
        let app = Application(
            router: makeRouter(),
            configuration: .init(address: .hostname(host, port: port), serverName: "swift-peft"),
            onServerRunning: { channel in await onListening(host, channel.localAddress?.port ?? port) },
            logger: logger)
        let group = ServiceGroup(configuration: .init(
            services: [app], gracefulShutdownSignals: handlingSignals ? [.sigterm, .sigint] : [], logger: logger))
        // The group runs outside the caller's task, so that the caller's cancellation reaches it as
        // a graceful shutdown rather than as cancellation of every connection.
        let running = Task { try await group.run() }
        try await withTaskCancellationHandler {
            try await running.value
        } onCancel: {
            Task { await group.triggerGracefulShutdown() }
        }
    }

    func makeRouter() -> Router<BasicRequestContext> {
        let router = Router()
        router.add(middleware: MetricsMiddleware(metrics: metrics))
        router.add(middleware: APIErrorMiddleware())
        if let key = settings.apiKey { router.add(middleware: BearerAuthentication(key: Array(key.utf8))) }
        router.get("/health") { _, _ in try Self.json(["status": .string("ok")]) }
        router.get("/metrics") { _, _ in
            let text = metrics.render(engine: await engine.status, admitted: admission.inFlight)
            return Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
        }
        router.get("/v1/models") { _, _ in try await models() }
        router.post("/v1/completions") { request, _ in try await complete(request, kind: .completion) }
        router.post("/v1/chat/completions") { request, _ in try await complete(request, kind: .chat) }
        router.post("/v1/adapters") { request, _ in try await loadAdapter(request) }
        router.delete("/v1/adapters/:name") { _, context in try await unloadAdapter(context.parameters.require("name")) }
        return router
    }

    // MARK: Models and adapters

    private func modelEntry(_ name: String, adapterType: String?) -> JSONValue {
        var entry: [String: JSONValue] = [
            "id": .string(name), "object": .string("model"), "created": .integer(created), "owned_by": .string("swift-peft"),
        ]
        if let adapterType {
            entry["parent"] = .string(settings.modelName)
            entry["adapter_type"] = .string(adapterType)
        }
        return .object(entry)
    }

    private func models() async throws -> Response {
        let types = await engine.adapterTypes
        let entries = [modelEntry(settings.modelName, adapterType: nil)]
            + types.keys.sorted().map { modelEntry($0, adapterType: types[$0]) }
        return try Self.json(["object": .string("list"), "data": .array(entries)])
    }

    private func loadAdapter(_ request: Request) async throws -> Response {
        guard let adapterDirectory else {
            throw APIError(.forbidden, "this server loads no adapters at run time (it was started without --adapter-dir)")
        }
        let body = try await request.body.collect(upTo: settings.maximumBodyBytes)
        let fields = try JSONFields(JSONValue.parse(Data(buffer: body), maximumDepth: 1), allowed: ["name", "path"], what: "the request body")
        guard let name = try fields.string("name"), let path = try fields.string("path") else {
            throw APIError.badRequest("give the adapter's 'name' and its 'path' under the adapter directory")
        }
        guard Self.isValidName(name), name != settings.modelName else {
            throw APIError.badRequest(
                "'name' must be 1 to 128 letters, digits and . _ - : / characters, other than the base model's name", param: "name")
        }
        let folder = try adapterDirectory.resolve(path)
        guard admission.beginLoad() else {
            var error = APIError(.tooManyRequests, "another adapter is loading: one loads at a time", code: "adapter_loading")
            error.headers[.retryAfter] = "1"
            throw error
        }
        defer { admission.endLoad() }
        do {
            try await engine.loadAdapter(at: folder, as: name)
        } catch {
            throw APIError.badRequest("cannot load '\(path)': \(adapterDirectory.redact(JSONFieldError.describe(error)))", param: "path")
        }
        let type = await engine.adapterTypes[name]
        var response = try Self.json(modelEntry(name, adapterType: type))
        response.status = .created
        return response
    }

    private func unloadAdapter(_ name: String) async throws -> Response {
        try await engine.unloadAdapter(name)
        return try Self.json(["id": .string(name), "object": .string("model"), "deleted": .bool(true)])
    }

    static func json(_ object: [String: JSONValue]) throws -> Response {
        try json(.object(object))
    }

    static func json(_ value: JSONValue) throws -> Response {
        Response(status: .ok, headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: try WireJSON.buffer(value)))
    }
}
