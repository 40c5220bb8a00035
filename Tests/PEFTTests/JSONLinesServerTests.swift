import Foundation
import Testing
import Tensor
import Autograd
import Transformer
import PEFT

@Suite("peft serve's JSON Lines front end")
struct JSONLinesServerTests {
    /// Runs `lines` through a server and returns its events, parsed, in the order written.
    func events(_ lines: [String], engine: ServingEngine, tokenizer: (any Tokenizer)? = nil, stops: Set<Int> = []) async throws -> [[String: Any]] {
        let collected = LineLog()
        let input = AsyncStream<String> { continuation in
            for line in lines { continuation.yield(line) }
            continuation.finish()
        }
        try await JSONLinesServer(engine: engine, tokenizer: tokenizer, stopTokens: stops).serve(input) { collected.append($0) }
        return try collected.lines.map { line in
            try #require(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "\(line)")
        }
    }

    @Test("Requests by token ids give what the engine gives; streamed tokens come one event each, before the result")
    func requests() async throws {
        let engine = try ServingEngine(model: try tinyBackbone(), maximumBatch: 4, cacheCapacity: 64)
        let expected = try await engine.generate(ServingRequest(prompt: [3, 7, 1], options: GenerationOptions(maxNewTokens: 5))).tokens
        let got = try await events([
            #"{"id": "plain", "tokens": [3, 7, 1], "max_tokens": 5}"#,
            "",
            #"{"id": 42, "tokens": [3, 7, 1], "max_tokens": 5, "stream": true}"#,
            #"{"id": "stopped", "tokens": [3, 7, 1], "max_tokens": 5, "stop": [\#(expected[1])]}"#,
        ], engine: engine)
        let results = Dictionary(uniqueKeysWithValues: got.filter { $0["tokens"] != nil }.map { ($0["id"] as? String ?? "", $0) })
        #expect(results["plain"]?["tokens"] as? [Int] == expected)
        #expect(results["plain"]?["finish_reason"] as? String == "length")
        #expect(results["42"]?["tokens"] as? [Int] == expected)
        #expect(results["stopped"]?["tokens"] as? [Int] == Array(expected.prefix(2)))
        #expect(results["stopped"]?["finish_reason"] as? String == "stop")
        #expect((results["plain"]?["ttft_ms"] as? Double).map { $0 >= 0 } == true)
        let streamed = got.filter { $0["id"] as? String == "42" }
        #expect(streamed.compactMap { $0["token"] as? Int } == expected)
        #expect(streamed.last?["tokens"] != nil, "the result comes after every token event")
    }

    @Test("Text prompts are encoded and results decoded with the tokenizer")
    func text() async throws {
        let config = try LlamaConfig(
            vocabSize: ByteTokenizer().vocabularySize, hiddenSize: 16, intermediateSize: 32, numHiddenLayers: 1,
            numAttentionHeads: 2, numKeyValueHeads: 2, rmsNormEps: 1e-5, ropeTheta: 10_000)
        let model = try LlamaModel(randomWithConfig: config, seed: 3, initializerRange: 0.3)
        let tokenizer = ByteTokenizer()
        let engine = try ServingEngine(model: model, maximumBatch: 2, cacheCapacity: 64)
        let got = try await events([#"{"id": "t", "prompt": "hello", "max_tokens": 4, "stream": true}"#], engine: engine, tokenizer: tokenizer)
        let result = try #require(got.last)
        let tokens = try #require(result["tokens"] as? [Int])
        #expect(result["text"] as? String == (try tokenizer.decode(tokens, skipSpecialTokens: true)))
        #expect(tokens.count == 4)
        // Streamed pieces are held back while they end in an incomplete character (a random model
        // writes arbitrary bytes), so together they are a prefix of the result's whole text.
        let pieces = got.dropLast().compactMap { $0["text"] as? String }.joined()
        #expect((result["text"] as? String)?.hasPrefix(pieces) == true)
    }

    @Test("Adapters load, serve and unload by command; every bad command gets an error event and the rest go on")
    func commandsAndErrors() async throws {
        let model = try tinyBackbone()
        let lora = try LoRAAdapter(model: model, configuration: LoRAConfiguration(rank: 2), seed: 1)
        try perturb(lora, seed: 5)
        let folder = temporaryFolder("serve-lora")
        defer { try? FileManager.default.removeItem(at: folder) }
        try AdapterFiles.save(lora, to: folder)
        let engine = try ServingEngine(model: model, maximumBatch: 2, cacheCapacity: 32)
        let loaded = try await events([#"{"id": "load", "load": "tenant", "path": "\#(folder.path)"}"#], engine: engine)
        #expect(loaded.first?["loaded"] as? String == "tenant")
        let expected = try await engine.generate(ServingRequest(prompt: [5, 6], adapter: "tenant", options: GenerationOptions(maxNewTokens: 3))).tokens
        let got = try await events([
            #"{"id": "ok", "tokens": [5, 6], "adapter": "tenant", "max_tokens": 3}"#,
            "not json",
            #"{"id": "unknown", "tokens": [5, 6], "adapter": "other"}"#,
            #"{"id": "range", "tokens": [5, 400]}"#,
            #"{"id": "text", "prompt": "no tokenizer here"}"#,
            #"{"id": "both", "tokens": [1], "prompt": "x"}"#,
            #"{"id": "cold", "tokens": [1], "temperature": -1}"#,
            #"{"id": "instruction", "tokens": [1, 2], "instruction_length": 3}"#,
            #"{"id": "nopath", "load": "x"}"#,
            #"{"id": "badpath", "load": "x", "path": "/nonexistent/adapter"}"#,
            #"{"id": ["array"], "tokens": [1]}"#,
            #"{"id": "status", "status": true}"#,
        ], engine: engine)
        func event(_ id: String) -> [String: Any]? { got.first { $0["id"] as? String == id } }
        #expect(event("ok")?["tokens"] as? [Int] == expected)
        for id in ["unknown", "range", "text", "both", "cold", "instruction", "nopath", "badpath"] {
            #expect((event(id)?["error"] as? String)?.isEmpty == false, "\(id) should fail with a message")
        }
        let unnamed = got.filter { $0["id"] == nil }.compactMap { $0["error"] as? String }
        #expect(unnamed.count == 2)
        #expect(unnamed.contains { $0.hasPrefix("line 2:") })
        #expect(unnamed.contains { $0.hasPrefix("line 11:") })
        #expect(event("status")?["adapters"] as? [String] == ["tenant"])
        let unloaded = try await events([#"{"id": "u", "unload": "tenant"}"#], engine: engine)
        #expect(unloaded.first?["unloaded"] as? String == "tenant")
        #expect(await engine.adapterNames.isEmpty)
    }

    @Test("Fields are checked by name, type and range; errors of a line come before the answers to later lines")
    func strictCommands() async throws {
        let engine = try ServingEngine(model: try tinyBackbone(), maximumBatch: 2, cacheCapacity: 32)
        let context = engine.contextLength
        let got = try await events([
            #"{"id": "1", "frobnicate": true}"#,
            #"{"id": "2", "status": false}"#,
            #"{"id": "3", "tokens": [1], "max_tokens": 2.5}"#,
            #"{"id": "4", "tokens": [1], "max_tokens": 1e30}"#,
            #"{"id": "5", "unload": "never-loaded"}"#,
            #"{"id": "6", "status": true, "tokens": [1]}"#,
            #"{"id": "7", "tokens": [1], "temperature": "hot"}"#,
            #"{"id": "8", "path": "/tmp"}"#,
            #"{"id": "9", "status": true}"#,
        ], engine: engine)
        #expect(got.map { $0["id"] as? String } == (1...9).map { String($0) }, "one answer per line, in line order")
        func error(_ id: String) -> String { got.first { $0["id"] as? String == id }?["error"] as? String ?? "" }
        #expect(error("1").contains("unknown field 'frobnicate'"))
        #expect(error("2").contains("'status' must be true"))
        #expect(error("3").contains("'max_tokens' must be a whole number in 1...\(context), got 2.5"), "\(error("3"))")
        #expect(error("4").contains("'max_tokens' must be a whole number in 1...\(context)"))
        #expect(error("5").contains("no resident adapter named 'never-loaded'"))
        #expect(error("6").contains("mixes status and a request"))
        #expect(error("7").contains("'temperature' must be a number"))
        #expect(error("8").contains("'path' goes with 'load'"))
        #expect(got.last?["adapters"] as? [String] == [])
    }

    /// Found by `peft-fuzz` (serve-command, seed 1): 28 inputs like this one took more than 2 s each
    /// when every nesting level was decoded before the command's shape was checked.
    @Test("A deeply nested line is refused at once")
    func deepNesting() async throws {
        let engine = try ServingEngine(model: try tinyBackbone(), maximumBatch: 2, cacheCapacity: 32)
        let nested = String(repeating: "[", count: 511) + "\"x\"" + String(repeating: "]", count: 511)
        let got = try await events([#"{"id": "deep", "load": "l", "path": \#(nested)}"#], engine: engine)
        #expect((got.first?["error"] as? String)?.contains("nested deeper than 3 levels") == true, "\(got)")
    }
}

/// Lines collected from a `@Sendable` writer.
final class LineLog: @unchecked Sendable {
    private let lock = NSLock()
    private var collected: [String] = []
    var lines: [String] { lock.withLock { collected } }
    func append(_ line: String) { lock.withLock { collected.append(line) } }

}
