import AsyncHTTPClient
import Foundation
import HTTPServing
import NIOCore
import NIOHTTP1
import PEFT
import Tensor
import Autograd
import Testing
import Transformer

/// A tiny random model with the bundled base's tokenizer (plus a chat template), an adapter folder
/// holding one adapter of each of the four types, and the engine over them.
struct ServerFixture {
    static let chatTemplate =
        "{% for message in messages %}<s>{{ message['role'] }}: {{ message['content'] }}\n{% endfor %}{% if add_generation_prompt %}<s>assistant:{% endif %}"
    static let adapterKinds = ["lora", "iapt", "prompt", "ptuning2"]

    let folder: URL
    let tokenizer: BPETokenizer
    let engine: ServingEngine
    let stops: Set<Int>
    var adapterDirectory: URL { folder.appendingPathComponent("adapters") }

    /// - Parameter resident: the adapters loaded at start, by their kind's name.
    static func make(maximumBatch: Int = 4, resident: [String] = adapterKinds) async throws -> ServerFixture {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("http-\(UUID().uuidString)")
        let tokenizerFolder = folder.appendingPathComponent("tokenizer")
        try FileManager.default.createDirectory(at: tokenizerFolder, withIntermediateDirectories: true)
        let bundled = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../Examples/BundledBase").standardized
        try FileManager.default.copyItem(
            at: bundled.appendingPathComponent("tokenizer.json"), to: tokenizerFolder.appendingPathComponent("tokenizer.json"))
        let config: [String: Any] = [
            "bos_token": "<s>", "eos_token": "</s>", "pad_token": "<pad>", "add_bos_token": true, "chat_template": chatTemplate,
        ]
        try JSONSerialization.data(withJSONObject: config).write(to: tokenizerFolder.appendingPathComponent("tokenizer_config.json"))
        let tokenizer = try BPETokenizer(modelAt: tokenizerFolder)
        let llamaConfig = try LlamaConfig(
            vocabSize: tokenizer.vocabularySize, hiddenSize: 32, intermediateSize: 64, numHiddenLayers: 2, numAttentionHeads: 4,
            numKeyValueHeads: 2, rmsNormEps: 1e-5, ropeTheta: 10_000, maxPositionEmbeddings: 256)
        let model = try LlamaModel(randomWithConfig: llamaConfig, seed: 7, initializerRange: 0.3)
        for (index, kind) in adapterKinds.enumerated() {
            let method = try #require(AdapterRegistry.builtIn.method(named: kind))
            let settings: Data? = kind == "iapt" || kind == "prompt" || kind == "ptuning2" ? Data(#"{"num_virtual_tokens": 4}"#.utf8) : nil
            let adapter = try method.makeAdapter(for: model, settings: settings, seed: UInt64(index))
            var generator = SeededGenerator(seed: UInt64(100 + index))
            for (_, parameter) in adapter.namedParameters {
                try parameter.value.addScaled(Tensor.normal(parameter.shape, std: 0.3, generator: &generator))
            }
            try AdapterFiles.save(adapter, to: folder.appendingPathComponent("adapters/\(kind)"))
        }
        let stops = Set(model.config.eosTokenIds + [tokenizer.eosTokenID].compactMap { $0 })
        let engine = try ServingEngine(model: model, maximumBatch: maximumBatch, cacheCapacity: 256)
        for kind in resident {
            try await engine.loadAdapter(at: folder.appendingPathComponent("adapters/\(kind)"), as: kind)
        }
        return ServerFixture(folder: folder, tokenizer: tokenizer, engine: engine, stops: stops)
    }

    /// What the engine generates for `prompt` alone, greedily, as text.
    func alone(_ prompt: [Int], adapter: String?, maxTokens: Int) async throws -> (text: String, tokens: [Int]) {
        let result = try await engine.generate(ServingRequest(
            prompt: prompt, adapter: adapter, options: GenerationOptions(maxNewTokens: maxTokens, stopTokens: stops)))
        let text = try tokenizer.decode(result.tokens.filter { !stops.contains($0) }, skipSpecialTokens: true)
        return (text, result.tokens)
    }

    /// The tokens of a chat completion's prompt.
    func chatPrompt(_ messages: [ChatMessage]) throws -> [Int] {
        tokenizer.encode(try tokenizer.applyChatTemplate(messages, addGenerationPrompt: true), addSpecialTokens: false)
    }

    /// Runs an ``OpenAIServer`` on a free loopback port for the duration of `body`, which gets the
    /// server's base URL (`http://127.0.0.1:PORT`).
    func withServer(
        _ configure: (inout HTTPServerSettings) -> Void = { _ in }, _ body: (String) async throws -> Void
    ) async throws {
        var settings = HTTPServerSettings(port: 0, modelName: "tiny", adapterDirectory: adapterDirectory)
        configure(&settings)
        let server = try OpenAIServer(engine: engine, tokenizer: tokenizer, stopTokens: stops, settings: settings)
        let (ports, listening) = AsyncStream.makeStream(of: Int.self)
        let task = Task { try await server.run { _, port in listening.yield(port) } }
        var iterator = ports.makeAsyncIterator()
        let port = try #require(await iterator.next())
        do {
            try await body("http://127.0.0.1:\(port)")
        } catch {
            task.cancel()
            _ = await task.result
            throw error
        }
        task.cancel()
        _ = await task.result
    }

    func remove() { try? FileManager.default.removeItem(at: folder) }
}

/// A response's status, headers and body.
struct Reply {
    let status: Int
    let headers: [String: String]
    let body: String

    var json: [String: Any] { (try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any] ?? [:] }
    var error: [String: Any] { json["error"] as? [String: Any] ?? [:] }
    var errorMessage: String { error["message"] as? String ?? "" }

    /// The `data:` payloads of a server-sent event stream.
    var events: [String] {
        body.components(separatedBy: "\n\n").compactMap { event in
            event.hasPrefix("data: ") ? String(event.dropFirst(6)) : nil
        }
    }
}

/// Sends one request with the shared client and reads the whole answer.
func send(
    _ method: HTTPMethod, _ url: String, json: String? = nil, headers: [String: String] = [:], timeout: Int64 = 60
) async throws -> Reply {
    var request = HTTPClientRequest(url: url)
    request.method = method
    for (name, value) in headers { request.headers.add(name: name, value: value) }
    if let json {
        request.headers.add(name: "content-type", value: "application/json")
        request.body = .bytes(ByteBuffer(string: json))
    }
    let response = try await HTTPClient.shared.execute(request, timeout: .seconds(timeout))
    let body = try await response.body.collect(upTo: 16 << 20)
    return Reply(
        status: Int(response.status.code),
        headers: Dictionary(response.headers.map { ($0.name.lowercased(), $0.value) }, uniquingKeysWith: { $1 }),
        body: String(buffer: body))
}

/// A JSON string literal of `text`.
func quoted(_ text: String) -> String {
    String(decoding: try! JSONSerialization.data(withJSONObject: text, options: [.fragmentsAllowed]), as: UTF8.self)
}

/// An adapter that changes nothing but runs `pass` at layer 0's query projection of every forward
/// pass: `slow` keeps a long request running while a test acts on it, `failing` makes every pass
/// fail after a stream has begun.
final class PassHookAdapter: Adapter {
    static let peftType = "PASS_HOOK"
    var isTraining = false
    var namedParameters: [(name: String, variable: Variable)] { [] }
    let pass: @Sendable () throws -> Void

    struct Failure: Error {}

    /// 5 ms per forward pass.
    static var slow: PassHookAdapter { PassHookAdapter { Thread.sleep(forTimeInterval: 0.005) } }
    /// Every forward pass throws.
    static var failing: PassHookAdapter { PassHookAdapter { throw Failure() } }

    init(pass: @escaping @Sendable () throws -> Void) { self.pass = pass }

    init(configuration: Data, weights: any TensorSource, model: LlamaModel) throws { pass = {} }

    func configurationData() throws -> Data { Data(#"{"peft_type": "PASS_HOOK"}"#.utf8) }

    func projectionDelta(layer: Int, projection: Projection, input: Variable) throws -> Variable? {
        if layer == 0, projection == .query { try pass() }
        return nil
    }
}
