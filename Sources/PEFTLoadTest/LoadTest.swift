import ArgumentParser
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import PEFT
import Tensor
import Transformer

/// `peft-loadtest`: many concurrent clients against `peft serve --http`, and the same requests
/// through the JSON Lines front end (`peft serve`), on loopback.
///
/// It writes eight adapters (two each of LoRA, IAPT, prompt tuning and P-tuning v2, with seeded
/// random weights) for the model, starts the server as a child process, answers every distinct
/// request alone first (greedy, one at a time), then sends all requests from many clients at once
/// and checks each answer against the one alone. Both front ends are run in alternating rounds;
/// the table reports each one's best round.
@main
struct LoadTest: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "peft-loadtest",
        abstract: "Load-test peft serve over HTTP and over JSON Lines with the same requests (Documentation/Serving.md).")

    @Option(help: "The base model (a Hugging Face folder with a tokenizer, or a .gguf file).")
    var model = "Examples/BundledBase"

    @Option(help: "The peft command-line tool to run as the server.")
    var peft = ".build/release/peft"

    @Option(help: "Requests per round.")
    var requests = 1_000

    @Option(help: "Concurrent clients.")
    var clients = 100

    @Option(help: "Distinct prompts (each asked of every model).")
    var prompts = 24

    @Option(help: "New tokens per request.")
    var maxTokens = 16

    @Option(help: "The server's --max-batch.")
    var maxBatch = 8

    @Option(help: "Rounds per front end, alternating (each front end's best round is reported).")
    var rounds = 2

    @Option(help: "Where the adapters are written (default: a new temporary folder).")
    var work: String?

    func validate() throws {
        guard (1...100_000).contains(requests) else { throw ValidationError("--requests must be in 1...100000") }
        guard (1...1_000).contains(clients) else { throw ValidationError("--clients must be in 1...1000") }
        guard (1...1_000).contains(prompts) else { throw ValidationError("--prompts must be in 1...1000") }
        guard (1...512).contains(maxTokens) else { throw ValidationError("--max-tokens must be in 1...512") }
        guard (1...4_096).contains(maxBatch) else { throw ValidationError("--max-batch must be in 1...4096") }
        guard (1...20).contains(rounds) else { throw ValidationError("--rounds must be in 1...20") }
        guard FileManager.default.isExecutableFile(atPath: peft) else {
            throw ValidationError("--peft \(peft) is not an executable: build it with swift build -c release --product peft")
        }
    }

    func run() async throws {
        let folder = URL(fileURLWithPath: work ?? NSTemporaryDirectory() + "peft-loadtest-\(getpid())", isDirectory: true)
        let adapters = try writeAdapters(into: folder)
        let plan = LoadPlan(adapters: adapters.map(\.name), prompts: prompts, requests: requests, maxTokens: maxTokens)
        let models = ["base"] + adapters.map(\.name)
        say("model \(model); \(adapters.count) adapters (\(adapters.map { "\($0.name)" }.joined(separator: ", "))), "
            + "\(requests) requests of \(maxTokens) new tokens from \(clients) clients, \(prompts) prompts × \(models.count) models; "
            + "server --max-batch \(maxBatch); CPU: \(Machine.cpuSummary)")
        let serverArguments = ["--model", model, "--max-batch", "\(maxBatch)", "--cache-capacity", "\(Machine.cacheCapacity(maxTokens: maxTokens))"]
            + adapters.flatMap { ["--adapter", "\($0.name)=\($0.folder.path)"] }

        // One connection per client (the default pool holds 8 per host).
        let client = HTTPClient(
            eventLoopGroupProvider: .singleton,
            configuration: HTTPClient.Configuration(
                connectionPool: .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: clients)))
        do {
            try await measure(client, plan: plan, serverArguments: serverArguments)
        } catch {
            try? await client.shutdown()
            throw error
        }
        try await client.shutdown()
    }

    /// The references alone, then the rounds, alternating the front ends; prints the table.
    private func measure(_ client: HTTPClient, plan: LoadPlan, serverArguments: [String]) async throws {
        // Answers alone, through the HTTP server, one request at a time.
        let references: [LoadPlan.Key: String]
        do {
            let server = try await ServerProcess.http(peft: peft, arguments: serverArguments, queue: requests)
            defer { server.stop() }
            references = try await plan.references(client, server: server.baseURL)
            say("answered alone: \(references.count) distinct requests")
        }
        var best: [String: RoundResult] = [:]
        for round in 1...rounds {
            for frontEnd in ["http", "jsonl"] {
                let result: RoundResult
                if frontEnd == "http" {
                    let server = try await ServerProcess.http(peft: peft, arguments: serverArguments, queue: requests)
                    defer { server.stop() }
                    result = try await plan.runHTTP(client, server: server, clients: clients, references: references)
                } else {
                    let server = try ServerProcess.jsonLines(peft: peft, arguments: serverArguments)
                    defer { server.stop() }
                    result = try await plan.runJSONLines(server: server, clients: clients, references: references)
                }
                say("round \(round) \(frontEnd): \(result.summary)")
                if best[frontEnd].map({ result.throughput > $0.throughput }) ?? true { best[frontEnd] = result }
            }
        }
        guard let http = best["http"], let jsonl = best["jsonl"] else { return }
        say("")
        say(RoundResult.table([("HTTP (peft serve --http)", http), ("JSON Lines (peft serve)", jsonl)]))
        let overhead = (jsonl.throughput / http.throughput - 1) * 100
        let serverOverhead = (http.serverCPU / Double(http.generatedTokens)) / (jsonl.serverCPU / Double(jsonl.generatedTokens)) * 100 - 100
        say(String(format: "HTTP against JSON Lines (best rounds): %.1f %% fewer generated tokens/s; the server's CPU per generated token %+.1f %%",
                     100 - 100 / (1 + overhead / 100), serverOverhead))
        if http.errors + http.mismatches + jsonl.errors + jsonl.mismatches > 0 { throw ExitCode(1) }
    }

    /// Two adapters of each type with seeded random weights, saved under `folder/adapters`.
    private func writeAdapters(into folder: URL) throws -> [(name: String, folder: URL)] {
        let base = try LlamaModel(contentsOf: URL(fileURLWithPath: model))
        var written: [(String, URL)] = []
        for (kind, settings) in [("lora", nil), ("iapt", #"{"num_virtual_tokens": 8}"#), ("prompt", #"{"num_virtual_tokens": 8}"#),
                                 ("ptuning2", #"{"num_virtual_tokens": 8}"#)] as [(String, String?)] {
            for copy in 1...2 {
                let seed = UInt64(written.count + 1)
                let adapter = try AdapterRegistry.builtIn.makeAdapter(method: kind, for: base, settings: settings.map { Data($0.utf8) }, seed: seed)
                var generator = SeededGenerator(seed: 1_000 + seed)
                for (_, parameter) in adapter.namedParameters {
                    // Enough to change the answers, not enough to make them noise.
                    try parameter.value.addScaled(Tensor.normal(parameter.shape, std: 0.02, generator: &generator))
                }
                let url = folder.appendingPathComponent("adapters/\(kind)-\(copy)")
                try AdapterFiles.save(adapter, to: url)
                written.append(("\(kind)-\(copy)", url))
            }
        }
        return written
    }
}

/// Writes `line` to standard output at once (also when it is a file).
func say(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}

/// What this machine is, for the report.
enum Machine {
    static var cpuSummary: String {
        let info = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        let name = info.split(separator: "\n").first { $0.hasPrefix("model name") }?.split(separator: ":").last?
            .trimmingCharacters(in: .whitespaces) ?? "unknown"
        let flags = info.split(separator: "\n").first { $0.hasPrefix("flags") } ?? ""
        let avx512 = flags.contains("avx512f") ? "AVX-512" : (flags.contains("avx2") ? "AVX2, no AVX-512" : "no AVX2")
        return "\(name), \(ProcessInfo.processInfo.activeProcessorCount) cores, \(avx512)"
    }

    /// Cache slots enough for the longest prompt here, the prefixes and the new tokens.
    static func cacheCapacity(maxTokens: Int) -> Int { 96 + maxTokens }

    /// The CPU seconds (user and system) process `pid` has used, or 0 if they cannot be read.
    static func cpuSeconds(_ pid: Int32) -> Double {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let afterName = stat.range(of: ") ")?.upperBound else { return 0 }
        // Fields after the name start at the third (state); utime and stime are the 14th and 15th.
        let fields = stat[afterName...].split(separator: " ")
        guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return 0 }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    /// The CPU seconds this process has used.
    static var ownCPUSeconds: Double { cpuSeconds(getpid()) }

    /// The resident memory of process `pid` now, in bytes (`VmRSS`), or 0 if it cannot be read.
    static func residentBytes(_ pid: Int32) -> Int {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
              let kilobytes = Int(line.split(separator: " ").dropFirst().first ?? "") else { return 0 }
        return kilobytes * 1_024
    }
}
