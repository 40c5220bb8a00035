import Dispatch
import Foundation
import PEFT
import Transformer

/// The instruction data of `peft train --data`: ``InstructionData/load(contentsOf:)``, then every
/// example encoded with the Alpaca template and the byte tokenizer.
struct InstructionJSONLTarget: FuzzTarget {
    let name = "instruction-jsonl"
    let summary = "instruction data (JSON Lines): InstructionData.load, then every example encoded"
    let format = FuzzInputFormat.jsonLines

    func makeExecutor(workspace: URL, corpus: SeedCorpus) throws -> any FuzzExecutor {
        Executor(file: workspace.appendingPathComponent("train.jsonl"), encoder: try InstructionEncoder(tokenizer: ByteTokenizer(), maxLength: 512))
    }

    private struct Executor: FuzzExecutor {
        let file: URL
        let encoder: InstructionEncoder
        func run(_ input: FuzzInput) -> FuzzOutcome {
            outcome {
                try writeInput(input.bytes, to: file)
                _ = try encoder.encode(InstructionData.load(contentsOf: file))
            }
        }
    }
}

/// The commands of `peft serve`: the input's lines, split as `peft serve` splits standard input,
/// go to a ``JSONLinesServer`` over a fresh ``ServingEngine`` of the tiny model with the byte
/// tokenizer (batch 4, 64 cache slots). `@adapters/NAME` in the input stands for the folder of the
/// adapter seed `NAME` (the `adapter-config` and `adapter-weights` seeds of that name), written
/// into the workspace. The input is accepted if no event reports an error.
struct ServeCommandTarget: FuzzTarget {
    let name = "serve-command"
    let summary = "peft serve's JSON Lines commands: JSONLinesServer over a ServingEngine of the tiny model"
    let format = FuzzInputFormat.jsonLines

    /// How long one input may take before the in-process runner gives up on it (the worker's
    /// watchdog stops it far sooner).
    static let timeout: DispatchTimeInterval = .seconds(30)

    func makeExecutor(workspace: URL, corpus: SeedCorpus) throws -> any FuzzExecutor {
        let adapters = workspace.appendingPathComponent("adapters")
        let weights = Dictionary(corpus.files(for: AdapterWeightsTarget().name).map { ($0.name, $0.bytes) }, uniquingKeysWith: { a, _ in a })
        for configuration in corpus.files(for: AdapterConfigTarget().name) {
            guard let weights = weights[configuration.name] else { continue }
            let folder = adapters.appendingPathComponent(configuration.name)
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            try writeInput(configuration.bytes, to: folder.appendingPathComponent(AdapterFiles.configurationFile))
            try writeInput(weights, to: folder.appendingPathComponent(AdapterFiles.weightsFile))
        }
        return Executor(adaptersPath: adapters.path + "/")
    }

    private struct Executor: FuzzExecutor {
        let adaptersPath: String

        func run(_ input: FuzzInput) -> FuzzOutcome {
            let lines = Self.lines(of: input.bytes, adaptersPath: adaptersPath)
            let events = EventLog()
            let finished = DispatchSemaphore(value: 0)
            let engine: ServingEngine
            do {
                engine = try ServingEngine(model: TinyModel.make(), maximumBatch: 4, cacheCapacity: 64)
            } catch {
                return .rejected
            }
            let server = JSONLinesServer(engine: engine, tokenizer: ByteTokenizer(), stopTokens: [257])
            Task {
                do {
                    try await server.serve(lines) { events.append($0) }
                } catch {
                    events.append("{\"error\": \"\(error)\"}")
                }
                finished.signal()
            }
            guard finished.wait(timeout: .now() + ServeCommandTarget.timeout) == .success else {
                fatalError("serve-command: the server did not answer within the timeout")
            }
            return events.hasError ? .rejected : .accepted
        }

        /// The lines of `bytes` as `peft serve` reads standard input (`readLine`: split at `\n`,
        /// a trailing `\r` stripped, invalid UTF-8 repaired), with `@adapters/` expanded.
        static func lines(of bytes: [UInt8], adaptersPath: String) -> AsyncStream<String> {
            var lines = bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
            if lines.last?.isEmpty == true { lines.removeLast() }
            let texts = lines.map { line in
                String(decoding: line.last == UInt8(ascii: "\r") ? line.dropLast() : line, as: UTF8.self)
                    .replacingOccurrences(of: "@adapters/", with: adaptersPath)
            }
            return AsyncStream { continuation in
                for text in texts { continuation.yield(text) }
                continuation.finish()
            }
        }
    }
}

/// The events a server wrote, kept only as far as whether one reported an error.
private final class EventLog: @unchecked Sendable {
    private let lock = NSLock()
    private var errorSeen = false

    func append(_ event: String) {
        let isError = event.contains("\"error\"")
        lock.lock()
        errorSeen = errorSeen || isError
        lock.unlock()
    }

    var hasError: Bool {
        lock.lock()
        defer { lock.unlock() }
        return errorSeen
    }
}
