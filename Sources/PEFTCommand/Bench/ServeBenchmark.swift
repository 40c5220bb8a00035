import ArgumentParser
import Foundation
import PEFT
import Tensor
import Transformer

/// `peft bench serve`: multi-tenant greedy generation through the ``ServingEngine``, as
/// `Benchmarks/torch_serve.py` measures PyTorch + PEFT.
struct ServeBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Generated tokens/s and time to first token with one adapter per tenant in a shared batch.")

    /// Settings of the PyTorch script's adapters (`Benchmarks/torch_serve.py`) where they differ from the methods' defaults.
    static let anchorSettings = ["lora": #"target_modules=["q_proj","k_proj","v_proj","o_proj"]"#]

    @OptionGroup var modelOptions: BenchModelOptions
    @Option(help: "Adapter method of every tenant: base (none) or \(AdapterMethodOptions.registry.methodNames.joined(separator: ", ")).")
    var method = "lora"
    @Option(name: .customLong("set"), help: ArgumentHelp(
        "A setting of the tenants' adapter configuration as KEY=VALUE (see peft train --set; repeatable).", valueName: "key=value"))
    var settings: [String] = []
    @Option(help: "Distinct tenants (adapters); request i uses tenant i mod N.") var tenants = 8
    @Option(help: "Requests in the batch (raised to --tenants if smaller).") var batch = 8
    @Option(help: "Prompt length in tokens.") var promptLen = 64
    @Option(help: "Generated tokens per request.") var newTokens = 32
    @Option(help: "Timed repetitions after one warm-up.") var repeats = 3
    @Flag(help: ArgumentHelp(
        "Also measure the machine's streaming-read bandwidth (a 512 MB buffer, after the peak RSS is read) and the share of it decoding reaches."))
    var bandwidth = false
    @Flag(help: "Print one JSON object instead of text.") var json = false

    func validate() throws {
        guard tenants > 0, batch > 0, promptLen > 0, newTokens > 0, repeats > 0 else {
            throw ValidationError("--tenants, --batch, --prompt-len, --new-tokens and --repeats must be positive")
        }
        try validateBenchMethod(method, settings: settings, baseline: "base")
    }

    func run() async throws {
        let rows = max(batch, tenants)
        let model = try modelOptions.load(default: .base)
        let modelConfig = model.config
        let weightBytesPerStep = Self.weightBytesPerStep(model)
        let label = modelOptions.label(default: .base)
        let (method, tenants, promptLen, newTokens) = (self.method, self.tenants, self.promptLen, self.newTokens)
        let engine = try ServingEngine(model: model, maximumBatch: rows, cacheCapacity: promptLen + newTokens + 32)
        if method != "base" {
            let settings = try settingsData(parseSettings(Self.anchorSettings[method].map { [$0] + self.settings } ?? self.settings))
            for tenant in 0..<tenants {
                try await engine.addAdapter(as: "t\(tenant)") { model in
                    try Self.makeAdapter(method, settings: settings, model: model, seed: UInt64(tenant))
                }
            }
        }
        var generator = SeededGenerator(seed: 7)
        let requests = (0..<rows).map { row in
            ServingRequest(
                prompt: (0..<promptLen).map { _ in Int(generator.next() % UInt64(modelConfig.vocabSize)) },
                adapter: method == "base" ? nil : "t\(row % tenants)", options: GenerationOptions(maxNewTokens: newTokens))
        }
        var times: [Double] = [], firstTokens: [Double] = []
        for repeatIndex in 0..<(repeats + 1) {
            let start = DispatchTime.now().uptimeNanoseconds
            let results = try await withThrowingTaskGroup(of: ServingResult.self) { group in
                for request in requests { group.addTask { try await engine.generate(request) } }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            guard repeatIndex > 0 else { continue }
            times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
            firstTokens.append(results.map(\.timeToFirstToken).reduce(0, +) / Double(results.count))
        }
        let seconds = Timing.median(times)
        let tokensPerSecond = Double(rows * newTokens) / seconds
        let ttft = Timing.median(firstTokens) * 1000
        let peak = Self.peakResidentMegabytes()
        let decoding = Self.decodingRate(rows: rows, newTokens: newTokens, seconds: seconds, ttftSeconds: ttft / 1000)
        let weightGBPerSecond = decoding / Double(rows) * Double(weightBytesPerStep) / 1e9
        let streaming = bandwidth ? MemoryBandwidth.streamingRead() : nil
        if json {
            try JSONOutput.printLine(ServeOutput(
                method: method, config: label, batch: rows, tenants: method == "base" ? 1 : tenants, promptLen: promptLen,
                newTokens: newTokens, seconds: Timing.rounded(seconds, places: 3),
                generatedTokensPerS: Timing.rounded(tokensPerSecond), ttftMs: Timing.rounded(ttft),
                decodeTokensPerS: Timing.rounded(decoding), weightGbPerS: Timing.rounded(weightGBPerSecond),
                streamingReadGbPerS: streaming.map { Timing.rounded($0) },
                bandwidthShare: streaming.map { Timing.rounded(weightGBPerSecond / $0, places: 3) }, peakRssMb: Timing.rounded(peak)))
        } else {
            print("serve \(method) on \(label): \(rows) requests, \(method == "base" ? 1 : tenants) tenants, prompt \(promptLen), \(newTokens) new tokens: "
                  + String(format: "%.1f generated tokens/s, time to first token %.0f ms, peak RSS %.0f MB", tokensPerSecond, ttft, peak))
            print(String(format: "  decoding after the first token: %.1f tokens/s, reading the weights at %.1f GB/s", decoding, weightGBPerSecond)
                  + (streaming.map { String(format: ", %.0f %% of the %.1f GB/s a streaming read reaches", 100 * weightGBPerSecond / $0, $0) } ?? ""))
        }
    }

    /// Generated tokens per second after the first token of each request, `(newTokens − 1) · rows`
    /// over the time after the first token (`0` when that time is not positive).
    static func decodingRate(rows: Int, newTokens: Int, seconds: Double, ttftSeconds: Double) -> Double {
        let decodingSeconds = seconds - ttftSeconds
        return decodingSeconds > 0 ? Double((newTokens - 1) * rows) / decodingSeconds : 0
    }

    /// The bytes of weights one decoding step reads: every layer's weights, the final norm and the
    /// LM head (the embedding matrix when tied), as `Float`; an untied embedding is only gathered
    /// (one row per token) and is not counted. The KV cache's reads are not counted either.
    static func weightBytesPerStep(_ model: LlamaModel) -> Int {
        let gathered = model.config.tieWordEmbeddings ? 0 : model.embedTokens.value.count
        return (model.parameterCount - gathered) * MemoryLayout<Float>.stride
    }

    /// A tenant's adapter with non-trivial weights (as `Benchmarks/torch_serve.py` uses `init_lora_weights=False`).
    static func makeAdapter(_ method: String, settings: Data, model: LlamaModel, seed: UInt64) throws -> any Adapter {
        let adapter = try AdapterMethodOptions.registry.makeAdapter(method: method, for: model, settings: settings, seed: seed)
        var generator = SeededGenerator(seed: seed &+ 1000)
        for (_, parameter) in adapter.namedParameters {
            try parameter.value.addScaled(Tensor.normal(parameter.shape, std: 0.02, generator: &generator))
        }
        return adapter
    }

    /// The process's peak resident set (`VmHWM`), in MB.
    static func peakResidentMegabytes() -> Double {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
              let kilobytes = Double(line.split(separator: " ").dropFirst().first ?? "") else { return 0 }
        return kilobytes / 1024
    }
}

/// One line of `peft bench serve --json`.
private struct ServeOutput: Encodable {
    let impl = "swift-peft"
    let method: String, config: String
    let batch: Int, tenants: Int, promptLen: Int, newTokens: Int
    let seconds: Double, generatedTokensPerS: Double, ttftMs: Double
    /// Tokens after each request's first over the time after it; the weights' bytes read per second then.
    let decodeTokensPerS: Double, weightGbPerS: Double
    /// With `--bandwidth`: the streaming-read rate and the share of it the decoding's weight reads reach.
    let streamingReadGbPerS: Double?, bandwidthShare: Double?
    let peakRssMb: Double
}
