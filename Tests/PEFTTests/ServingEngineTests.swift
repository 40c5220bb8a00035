import Foundation
import Testing
import Tensor
import Autograd
import Transformer
import PEFT

@Suite("Multi-tenant serving engine")
struct ServingEngineTests {
    /// Requests of different lengths for every adapter kind and the plain backbone.
    let requests: [(prompt: [Int], adapter: String?, instruction: Int)] = [
        ([3, 7, 1, 9, 12], "LoRA", 3), ([8, 2], "IAPT", 2), ([4, 4, 4, 30, 31, 32], nil, 6), ([9, 1, 2], "P-tuning v2", 2),
        ([5, 6, 7, 8], "prompt tuning", 4), ([11, 12, 13, 14, 15, 16, 17], "IAPT", 5), ([20], "LoRA", 1), ([21, 22, 23], nil, 3),
    ]

    @Test("Outputs under the engine equal single-request generation, for every adapter type, with rows joining mid-batch")
    func matchesSingleRequestGeneration() async throws {
        let reference = try tinyBackbone()
        let adapters = try everyAdapter(for: reference)
        var expected: [[Int]] = []
        for request in requests {
            let adapter = adapters.first { $0.name == request.adapter }?.adapter
            expected.append(try reference.generate(
                prompts: [request.prompt], options: GenerationOptions(maxNewTokens: 6 + request.prompt.count % 3),
                adapter: adapter, instructionLengths: [request.instruction])[0])
        }
        // The engine gets its own backbone and adapters (the same weights), as a server would load them.
        let model = try tinyBackbone()
        let engine = try ServingEngine(model: model, maximumBatch: 3, cacheCapacity: 32)
        for name in ["LoRA", "prompt tuning", "P-tuning v2", "IAPT"] {
            try await engine.addAdapter(as: name) { model in
                guard let adapter = try everyAdapter(for: model).first(where: { $0.name == name })?.adapter else {
                    throw AdapterError.mismatch("no test adapter named \(name)")
                }
                return adapter
            }
        }
        let results = try await withThrowingTaskGroup(of: (Int, ServingResult).self) { group in
            for (index, request) in requests.enumerated() {
                group.addTask {
                    let result = try await engine.generate(ServingRequest(
                        prompt: request.prompt, adapter: request.adapter, instructionLength: request.instruction,
                        options: GenerationOptions(maxNewTokens: 6 + request.prompt.count % 3)))
                    return (index, result)
                }
            }
            var collected = [[Int]](repeating: [], count: requests.count)
            for try await (index, result) in group {
                collected[index] = result.tokens
                #expect(result.timeToFirstToken >= 0 && result.totalTime >= result.timeToFirstToken)
            }
            return collected
        }
        for (index, tokens) in results.enumerated() {
            #expect(tokens == expected[index], "request \(index) (\(requests[index].adapter ?? "base"))")
        }
    }

    @Test("Unknown adapters and requests larger than a cache are refused; adapters load and unload by name")
    func refusals() async throws {
        let model = try tinyBackbone()
        let lora = try LoRAAdapter(model: model, configuration: LoRAConfiguration(rank: 2), seed: 1)
        let folder = temporaryFolder("engine-lora")
        defer { try? FileManager.default.removeItem(at: folder) }
        try AdapterFiles.save(lora, to: folder)
        let engine = try ServingEngine(model: model, maximumBatch: 2, cacheCapacity: 8)
        try await engine.loadAdapter(at: folder, as: "tenant-a")
        #expect(await engine.adapterNames == ["tenant-a"])
        await #expect(throws: ServingError.unknownAdapter("tenant-b", resident: ["tenant-a"])) {
            try await engine.generate(ServingRequest(prompt: [1, 2], adapter: "tenant-b"))
        }
        await #expect(throws: ServingError.exceedsCacheCapacity(needed: 9, capacity: 8)) {
            try await engine.generate(ServingRequest(prompt: [1, 2, 3, 4, 5], adapter: "tenant-a", options: GenerationOptions(maxNewTokens: 4)))
        }
        let fits = try await engine.generate(ServingRequest(prompt: [1, 2], adapter: "tenant-a", options: GenerationOptions(maxNewTokens: 4)))
        #expect(fits.tokens.count == 4)
        try await engine.unloadAdapter("tenant-a")
        #expect(await engine.adapterNames.isEmpty)
        await #expect(throws: ServingError.unknownAdapter("tenant-a", resident: [])) { try await engine.unloadAdapter("tenant-a") }
    }

    @Test("A request that cannot fit fails alone; requests that fit alone but not padded together are served in turn")
    func admission() async throws {
        let engine = try ServingEngine(model: try tinyBackbone(), maximumBatch: 4, cacheCapacity: 16)
        let requests = [
            ServingRequest(prompt: [1], options: GenerationOptions(maxNewTokens: 15)),           // 16 slots alone
            ServingRequest(prompt: [2, 3, 4, 5, 6, 7], options: GenerationOptions(maxNewTokens: 10)),  // 16 alone
            ServingRequest(prompt: [8, 9], options: GenerationOptions(maxNewTokens: 40)),         // never fits
            ServingRequest(prompt: [10, 11], options: GenerationOptions(maxNewTokens: 3)),
        ]
        let outcomes = await withTaskGroup(of: (Int, Result<ServingResult, any Error>).self) { group in
            for (index, request) in requests.enumerated() {
                group.addTask {
                    // Not `do { return (index, .success(try await …)) } catch { return (index, …) }`:
                    // Swift 6.3.1 at -O writes the tuple's `index` before the suspension and loses it
                    // (reproduced outside the package with a plain actor; the compiler fix is
                    // swiftlang/swift#91911, "Don't split async @out tuple results across suspensions").
                    let outcome: Result<ServingResult, any Error>
                    do { outcome = .success(try await engine.generate(request)) } catch { outcome = .failure(error) }
                    return (index, outcome)
                }
            }
            var outcomes: [Int: Result<ServingResult, any Error>] = [:]
            for await (index, outcome) in group { outcomes[index] = outcome }
            return outcomes
        }
        #expect((try? outcomes[0]?.get())?.tokens.count == 15)
        #expect((try? outcomes[1]?.get())?.tokens.count == 10)
        #expect((try? outcomes[3]?.get())?.tokens.count == 3)
        #expect(throws: ServingError.exceedsCacheCapacity(needed: 42, capacity: 16)) { try outcomes[2]?.get() }
    }

    @Test("A request whose adapter fails at prefill fails alone; the requests prefilled with it are served")
    func failingAdapter() async throws {
        let engine = try ServingEngine(model: try tinyBackbone(), maximumBatch: 4, cacheCapacity: 32)
        try await engine.addAdapter(as: "broken") { _ in BrokenPrefixAdapter() }
        let requests = [
            ServingRequest(prompt: [1, 2], options: GenerationOptions(maxNewTokens: 3)),
            ServingRequest(prompt: [3, 4], adapter: "broken", options: GenerationOptions(maxNewTokens: 3)),
            ServingRequest(prompt: [5], options: GenerationOptions(maxNewTokens: 3)),
        ]
        let outcomes = await withTaskGroup(of: (Int, Bool).self) { group in
            for (index, request) in requests.enumerated() {
                group.addTask { (index, (try? await engine.generate(request))?.tokens.count == 3) }
            }
            var served = [Bool](repeating: false, count: requests.count)
            for await (index, ok) in group { served[index] = ok }
            return served
        }
        #expect(outcomes == [true, false, true])
        let status = await engine.status
        #expect(status.freeCaches == 4 && status.active == 0, "\(status)")
    }

    @Test("A request whose adapter fails while decoding fails alone; the rows it decoded with go on unchanged")
    func failingDecodeStep() async throws {
        let reference = try tinyBackbone()
        let engine = try ServingEngine(model: try tinyBackbone(), maximumBatch: 4, cacheCapacity: 32)
        try await engine.addAdapter(as: "broken") { _ in BrokenDecodeAdapter() }
        let prompts = [[1, 2, 3], [4, 5, 6], [7, 8]]
        let expected = try prompts.map { try reference.generate(prompts: [$0], options: GenerationOptions(maxNewTokens: 4))[0] }
        let outcomes = await withTaskGroup(of: (Int, [Int]?).self) { group in
            for (index, prompt) in prompts.enumerated() {
                let request = ServingRequest(prompt: prompt, adapter: index == 1 ? "broken" : nil, options: GenerationOptions(maxNewTokens: 4))
                group.addTask { (index, (try? await engine.generate(request))?.tokens) }
            }
            var tokens = [[Int]?](repeating: nil, count: prompts.count)
            for await (index, result) in group { tokens[index] = result }
            return tokens
        }
        #expect(outcomes[0] == expected[0])
        #expect(outcomes[1] == nil)
        #expect(outcomes[2] == expected[2])
        #expect(await engine.status.freeCaches == 4)
    }

    @Test("A streamed request yields the tokens generate returns, one at a time, and onToken sees each")
    func streaming() async throws {
        let engine = try ServingEngine(model: try tinyBackbone(), maximumBatch: 2, cacheCapacity: 32)
        let request = ServingRequest(prompt: [3, 7, 1], options: GenerationOptions(maxNewTokens: 5))
        var streamed: [Int] = []
        for try await token in engine.stream(request) { streamed.append(token) }
        let seen = TokenLog()
        let result = try await engine.generate(request) { token in seen.append(token) }
        #expect(streamed == result.tokens)
        #expect(seen.tokens == result.tokens)
        #expect(result.tokens.count == 5)
    }

    @Test("Cancelling a request takes it out of the batch and returns its cache; the others finish")
    func cancellation() async throws {
        let engine = try ServingEngine(model: try tinyBackbone(), maximumBatch: 2, cacheCapacity: 2048)
        let long = ServingRequest(prompt: [3, 7, 1], options: GenerationOptions(maxNewTokens: 2000))
        let short = ServingRequest(prompt: [9, 2], options: GenerationOptions(maxNewTokens: 3))
        let cancelled = Task { try await engine.generate(long) }
        // The short request shares the batch with the long one; once it is done, cancel the long one.
        var tokens = 0
        for try await _ in engine.stream(short) { tokens += 1 }
        #expect(tokens == 3)
        cancelled.cancel()
        await #expect(throws: CancellationError.self) { try await cancelled.value }
        // Ending a stream early cancels its request too.
        for try await _ in engine.stream(long) { break }
        func idle() async -> Bool {
            let status = await engine.status
            return status.waiting == 0 && status.active == 0 && status.freeCaches == 2
        }
        for _ in 0..<200 where await !idle() { try await Task.sleep(nanoseconds: 10_000_000) }
        let status = await engine.status
        #expect(status.waiting == 0 && status.active == 0 && status.freeCaches == 2, "\(status)")
        let after = try await engine.generate(short)
        #expect(after.tokens.count == 3)
    }
}

/// Tokens collected from a `@Sendable` callback.
final class TokenLog: @unchecked Sendable {
    private let lock = NSLock()
    private var collected: [Int] = []
    var tokens: [Int] { lock.withLock { collected } }
    func append(_ token: Int) { lock.withLock { collected.append(token) } }
}

/// An adapter that declares virtual input tokens and never gives them: every forward pass with it
/// throws.
final class BrokenPrefixAdapter: Adapter {
    static let peftType = "BROKEN"
    var isTraining = false
    var namedParameters: [(name: String, variable: Variable)] { [] }
    var inputPrefixLength: Int { 2 }
    init() {}
    init(configuration: Data, weights: any TensorSource, model: LlamaModel) throws {}
    func configurationData() throws -> Data { Data("{}".utf8) }
}

/// An adapter that works at prefill and throws at every decoding step (one token per row).
final class BrokenDecodeAdapter: Adapter {
    static let peftType = "BROKEN_DECODE"
    var isTraining = false
    var namedParameters: [(name: String, variable: Variable)] { [] }
    init() {}
    init(configuration: Data, weights: any TensorSource, model: LlamaModel) throws {}
    func configurationData() throws -> Data { Data("{}".utf8) }
    func projectionDelta(layer: Int, projection: Projection, input: Variable) throws -> Variable? {
        guard input.shape.count == 3, input.shape[1] > 1 else { throw AdapterError.mismatch("this adapter cannot decode") }
        return nil
    }
}
