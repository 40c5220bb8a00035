import ArgumentParser
import Foundation
import HTTPServing
import PEFT
import Transformer

/// `peft serve`: the multi-tenant engine over standard input and output, one JSON command per line,
/// or (`--http`) over the OpenAI-compatible HTTP API.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve many adapters from one backbone: JSON Lines on standard input and output, or OpenAI's HTTP API (--http).",
        discussion: """
            With --http: POST /v1/completions and /v1/chat/completions (stream: true for server-sent events),
            GET /v1/models, POST /v1/adapters {"name", "path"} (from under --adapter-dir), DELETE /v1/adapters/NAME,
            GET /health and GET /metrics; 'model' names the base model (--model-name) or a resident adapter.
            Without --http:
            One command per line; requests run concurrently and share batches. Examples:
              {"id": "1", "prompt": "Classify the review: great film. Answer:", "adapter": "sentiment", "max_tokens": 8}
              {"id": "2", "tokens": [1, 415, 2936], "stream": true, "temperature": 0.7, "top_p": 0.9, "seed": 3}
              {"id": "3", "load": "qa", "path": "adapters/qa"}   {"id": "4", "unload": "qa"}   {"id": "5", "status": true}
            Events carry the command's id: {"id", "token", "text"} per streamed token, then {"id", "tokens",
            "text", "finish_reason", "ttft_ms", "total_ms"}; {"id", "error"} when a command fails.
            See Documentation/Serving.md.
            """)

    @OptionGroup var model: ModelOptions

    @Option(name: .customLong("adapter"), help: ArgumentHelp(
        "A resident adapter as NAME=FOLDER (repeatable); more can be loaded at run time.", valueName: "name=folder"))
    var adapters: [String] = []

    @Option(help: "The most requests decoding at once.")
    var maxBatch = 8

    @Option(help: "Key/value cache slots per request (prompt, prefixes and generated tokens must fit).")
    var cacheCapacity = 512

    @Flag(help: "Serve the OpenAI-compatible HTTP API instead of JSON Lines.")
    var http = false

    @Option(help: "With --http: the address to listen on (loopback unless told otherwise; other addresses need --api-key).")
    var host = "127.0.0.1"

    @Option(help: "With --http: the TCP port (0: any free port, printed when listening).")
    var port = 8080

    @Option(help: "With --http: the base model's name in 'model' (default: the model file's or folder's name).")
    var modelName: String?

    @Option(help: ArgumentHelp("With --http: the folder POST /v1/adapters loads from (paths relative to it, never outside it); without it, no adapter loads at run time.", valueName: "folder"))
    var adapterDir: String?

    @Option(help: "With --http: the bearer token every route but /health requires (default: the PEFT_API_KEY environment variable, if set).")
    var apiKey: String?

    @Option(help: "With --http: requests queued beyond the running batch before the server answers 429.")
    var maxQueue = 256

    @Option(help: "With --http: seconds a completion may take, queueing included, before it is cancelled (504).")
    var requestTimeout: Double = 600

    @Option(help: "With --http: the largest request body accepted, in bytes.")
    var maxBodyBytes = 1 << 20

    /// The HTTP options a user gave without `--http`.
    private var httpOnlyOptionsGiven: [String] {
        [("--host", host != "127.0.0.1"), ("--port", port != 8080), ("--model-name", modelName != nil), ("--adapter-dir", adapterDir != nil),
         ("--api-key", apiKey != nil), ("--max-queue", maxQueue != 256), ("--request-timeout", requestTimeout != 600),
         ("--max-body-bytes", maxBodyBytes != 1 << 20)].filter(\.1).map(\.0)
    }

    func validate() throws {
        if !http, let option = httpOnlyOptionsGiven.first { throw ValidationError("\(option) goes with --http") }
        guard (1...4096).contains(maxBatch) else { throw ValidationError("--max-batch must be in 1...4096, got \(maxBatch)") }
        guard cacheCapacity > 1 else { throw ValidationError("--cache-capacity must be at least 2") }
        for adapter in adapters where adapter.split(separator: "=", maxSplits: 1).count != 2 || adapter.hasPrefix("=") {
            throw ValidationError("--adapter takes NAME=FOLDER, got '\(adapter)'")
        }
        if http {
            let settings = try httpSettings()
            for name in adapters.map({ String($0.prefix { $0 != "=" }) }) where !OpenAIServer.isValidName(name) || name == settings.modelName {
                throw ValidationError("--adapter \(name): a name is 1 to 128 letters, digits and . _ - : / characters, other than the model's")
            }
        }
    }

    func run() async throws {
        if http { return try await runHTTP() }
        let tokenizer = try model.loadTokenizerIfPresent()
        let (engine, stops) = try await startEngine(tokenizer: tokenizer)
        let names = await engine.adapterNames
        FileHandle.standardError.write(Data(
            "peft serve: ready, adapters \(names), \(tokenizer == nil ? "no tokenizer (give token ids)" : "the model's tokenizer"); one JSON command per line\n".utf8))
        let server = JSONLinesServer(engine: engine, tokenizer: tokenizer, stopTokens: stops)
        try await server.serve(Self.standardInputLines()) { line in
            FileHandle.standardOutput.write(Data((line + "\n").utf8))
        }
    }

    /// The HTTP settings the options give, checked.
    func httpSettings() throws -> HTTPServerSettings {
        let settings = HTTPServerSettings(
            host: host, port: port, modelName: modelName ?? Self.defaultModelName(model.modelURL),
            apiKey: apiKey ?? ProcessInfo.processInfo.environment["PEFT_API_KEY"].flatMap { $0.isEmpty ? nil : $0 },
            adapterDirectory: adapterDir.map { URL(fileURLWithPath: $0, isDirectory: true) }, maximumQueue: maxQueue,
            requestTimeout: requestTimeout, maximumBodyBytes: maxBodyBytes)
        do {
            try settings.validate()
        } catch let error as HTTPServerSettingsError {
            throw ValidationError("--http: \(error.reason)")
        }
        return settings
    }

    /// The model file's or folder's name, with characters a model name may not hold replaced by '-'.
    static func defaultModelName(_ url: URL) -> String {
        let base = url.pathExtension.lowercased() == "gguf" ? url.deletingPathExtension().lastPathComponent : url.lastPathComponent
        let name = String(base.prefix(128).map { OpenAIServer.isValidName(String($0)) ? $0 : "-" })
        return name.isEmpty ? "model" : name
    }

    /// The engine over the model, with the `--adapter` adapters resident, and the tokens that end
    /// every request (the model's EOS and `tokenizer`'s).
    private func startEngine(tokenizer: (any Tokenizer)?) async throws -> (ServingEngine, Set<Int>) {
        let llama = try model.loadModel()
        let stops = ModelOptions.stopTokens(of: llama, tokenizer: tokenizer)
        let engine: ServingEngine
        do {
            engine = try ServingEngine(model: llama, maximumBatch: maxBatch, cacheCapacity: cacheCapacity)
        } catch let ServingError.invalidSettings(detail) {
            throw ValidationError("--max-batch \(maxBatch), --cache-capacity \(cacheCapacity): \(detail)")
        }
        for adapter in adapters {
            let parts = adapter.split(separator: "=", maxSplits: 1).map(String.init)
            try await engine.loadAdapter(at: URL(fileURLWithPath: parts[1]), as: parts[0])
        }
        return (engine, stops)
    }

    private func runHTTP() async throws {
        let settings = try httpSettings()
        let tokenizer = try model.loadTokenizer()
        let (engine, stops) = try await startEngine(tokenizer: tokenizer)
        let names = await engine.adapterNames
        let server = try OpenAIServer(engine: engine, tokenizer: tokenizer, stopTokens: stops, settings: settings)
        try await server.run(handlingSignals: true) { host, port in
            FileHandle.standardError.write(Data(
                "peft serve: listening on http://\(host):\(port), model '\(settings.modelName)', adapters \(names)\(settings.apiKey == nil ? "" : ", API key required")\n".utf8))
        }
    }

    /// The lines of standard input, read on a thread of their own so a blocked read never holds a
    /// thread of the concurrency pool.
    static func standardInputLines() -> AsyncStream<String> {
        AsyncStream { continuation in
            let reader = Thread {
                while let line = readLine(strippingNewline: true) { continuation.yield(line) }
                continuation.finish()
            }
            reader.start()
        }
    }
}
