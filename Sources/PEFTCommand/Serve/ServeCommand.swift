import ArgumentParser
import Foundation
import PEFT
import Transformer

/// `peft serve`: the multi-tenant engine over standard input and output, one JSON command per line.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve many adapters from one backbone: JSON commands on standard input, JSON events on standard output.",
        discussion: """
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

    func validate() throws {
        guard (1...4096).contains(maxBatch) else { throw ValidationError("--max-batch must be in 1...4096, got \(maxBatch)") }
        guard cacheCapacity > 1 else { throw ValidationError("--cache-capacity must be at least 2") }
        for adapter in adapters where adapter.split(separator: "=", maxSplits: 1).count != 2 || adapter.hasPrefix("=") {
            throw ValidationError("--adapter takes NAME=FOLDER, got '\(adapter)'")
        }
    }

    func run() async throws {
        let llama = try model.loadModel()
        let tokenizer = try model.loadTokenizerIfPresent()
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
        let names = await engine.adapterNames
        FileHandle.standardError.write(Data(
            "peft serve: ready, adapters \(names), \(tokenizer == nil ? "no tokenizer (give token ids)" : "the model's tokenizer"); one JSON command per line\n".utf8))
        let server = JSONLinesServer(engine: engine, tokenizer: tokenizer, stopTokens: stops)
        try await server.serve(Self.standardInputLines()) { line in
            FileHandle.standardOutput.write(Data((line + "\n").utf8))
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
