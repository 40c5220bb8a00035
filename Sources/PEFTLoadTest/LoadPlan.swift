import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import Synchronization

/// The requests of a round: request `i` asks model `i mod models` for prompt `i·7 mod prompts`,
/// greedily, streamed.
struct LoadPlan: Sendable {
    struct Key: Hashable, Sendable {
        let model: String
        let prompt: Int
    }

    let models: [String]
    let promptTexts: [String]
    let requests: Int
    let maxTokens: Int

    init(adapters: [String], prompts: Int, requests: Int, maxTokens: Int) {
        models = ["base"] + adapters
        let subjects = ["the sea", "a small town", "winter", "the moon", "an old clock", "a red bicycle", "the library", "a storm"]
        promptTexts = (0..<prompts).map { "Story \($0 + 1): write one sentence about \(subjects[$0 % subjects.count]). Answer:" }
        (self.requests, self.maxTokens) = (requests, maxTokens)
    }

    func key(_ index: Int) -> Key { Key(model: models[index % models.count], prompt: (index * 7) % promptTexts.count) }

    /// Every distinct request's answer alone, one request at a time.
    func references(_ client: HTTPClient, server: String) async throws -> [Key: String] {
        var answers: [Key: String] = [:]
        for model in models {
            for prompt in promptTexts.indices {
                let key = Key(model: model, prompt: prompt)
                answers[key] = try await HTTPLoad.complete(client, server: server, body: body(key, stream: false)).text
            }
        }
        return answers
    }

    func body(_ key: Key, stream: Bool) -> String {
        var object: [String: Any] = [
            "model": key.model, "prompt": promptTexts[key.prompt], "max_tokens": maxTokens, "temperature": 0, "stream": stream,
        ]
        if stream { object["stream_options"] = ["include_usage": true] }
        return String(decoding: try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self)
    }

    func jsonLine(_ index: Int) -> String {
        let key = key(index)
        var object: [String: Any] = ["id": "\(index)", "prompt": promptTexts[key.prompt], "max_tokens": maxTokens, "stream": true]
        if key.model != "base" { object["adapter"] = key.model }
        return String(decoding: try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self)
    }

    /// All requests from `clients` concurrent clients over HTTP, streamed.
    func runHTTP(_ client: HTTPClient, server: ServerProcess, clients: Int, references: [Key: String]) async throws -> RoundResult {
        let next = Ticker()
        let sampler = MemorySampler(pid: server.pid)
        let (start, serverCPU, clientCPU) = (ContinuousClock.now, Machine.cpuSeconds(server.pid), Machine.ownCPUSeconds)
        let samples = try await withThrowingTaskGroup(of: [Sample].self) { group in
            for _ in 0..<clients {
                group.addTask {
                    var samples: [Sample] = []
                    while true {
                        let index = next.take()
                        guard index < requests else { return samples }
                        let key = key(index)
                        do {
                            let answer = try await HTTPLoad.complete(client, server: server.baseURL, body: body(key, stream: true))
                            samples.append(Sample(answer: answer, matches: answer.text == references[key]))
                        } catch {
                            samples.append(Sample(error: "\(error)"))
                        }
                    }
                }
            }
            return try await group.reduce(into: []) { $0 += $1 }
        }
        return RoundResult(
            samples: samples, seconds: ContinuousClock.now.seconds(since: start), peakBytes: sampler.stop(),
            serverCPU: Machine.cpuSeconds(server.pid) - serverCPU, clientCPU: Machine.ownCPUSeconds - clientCPU)
    }

    /// All requests through the JSON Lines front end, at most `clients` in flight.
    func runJSONLines(server: ServerProcess, clients: Int, references: [Key: String]) async throws -> RoundResult {
        let sampler = MemorySampler(pid: server.pid)
        let (start, serverCPU, clientCPU) = (ContinuousClock.now, Machine.cpuSeconds(server.pid), Machine.ownCPUSeconds)
        var sent = 0
        var firstToken: [Int: Double] = [:]
        var began: [Int: ContinuousClock.Instant] = [:]
        var samples: [Sample] = []
        func send() throws {
            began[sent] = .now
            try server.write(jsonLine(sent))
            sent += 1
        }
        while sent < min(clients, requests) { try send() }
        for try await line in server.lines {
            guard let event = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                  let id = (event["id"] as? String).flatMap(Int.init), let requestStart = began[id] else { continue }
            if event["token"] != nil {
                if firstToken[id] == nil { firstToken[id] = ContinuousClock.now.seconds(since: requestStart) }
                continue
            }
            if let error = event["error"] as? String {
                samples.append(Sample(error: error))
            } else {
                let tokens = (event["tokens"] as? [Int])?.count ?? 0
                let answer = HTTPLoad.Answer(
                    text: event["text"] as? String ?? "", tokens: tokens, firstToken: firstToken[id] ?? .nan,
                    total: ContinuousClock.now.seconds(since: requestStart))
                samples.append(Sample(answer: answer, matches: answer.text == references[key(id)]))
            }
            if sent < requests { try send() }
            if samples.count == requests { break }
        }
        return RoundResult(
            samples: samples, seconds: ContinuousClock.now.seconds(since: start), peakBytes: sampler.stop(),
            serverCPU: Machine.cpuSeconds(server.pid) - serverCPU, clientCPU: Machine.ownCPUSeconds - clientCPU)
    }
}

/// One request's outcome.
struct Sample: Sendable {
    var answer: HTTPLoad.Answer?
    var matches = false
    var error: String?

    init(answer: HTTPLoad.Answer, matches: Bool) { (self.answer, self.matches) = (answer, matches) }
    init(error: String) { self.error = error }
}

/// A round's figures.
struct RoundResult: Sendable {
    let samples: [Sample]
    let seconds: Double
    let peakBytes: Int
    /// CPU seconds the server and this load generator used during the round.
    let serverCPU: Double
    let clientCPU: Double

    var errors: Int { samples.filter { $0.error != nil }.count }
    var mismatches: Int { samples.filter { $0.answer != nil && !$0.matches }.count }
    var generatedTokens: Int { samples.compactMap(\.answer?.tokens).reduce(0, +) }
    /// Generated tokens per second over the round.
    var throughput: Double { Double(generatedTokens) / seconds }

    func percentile(_ values: [Double], _ fraction: Double) -> Double {
        let sorted = values.filter(\.isFinite).sorted()
        guard !sorted.isEmpty else { return .nan }
        return sorted[min(sorted.count - 1, Int((Double(sorted.count) * fraction).rounded(.up)) - 1)]
    }

    var firstTokens: [Double] { samples.compactMap(\.answer?.firstToken) }
    var totals: [Double] { samples.compactMap(\.answer?.total) }

    var summary: String {
        String(format: "%d answers, %d errors, %d differ from alone; %.0f tokens/s, %.1f requests/s; CPU s server %.1f, clients %.1f; peak RSS %.0f MB",
               samples.count - errors, errors, mismatches, throughput, Double(samples.count) / seconds, serverCPU, clientCPU,
               Double(peakBytes) / 1e6)
            + (samples.first { $0.error != nil }?.error.map { "; first error: \($0.prefix(200))" } ?? "")
    }

    static func table(_ rows: [(String, RoundResult)]) -> String {
        var lines = [
            "| front end | answers | errors | differ from alone | TTFT p50 / p99 (ms) | latency p50 / p99 (ms) | generated tokens/s | requests/s | server CPU s | clients' CPU s | server peak RSS |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for (name, result) in rows {
            lines.append(String(
                format: "| %@ | %d | %d | %d | %.0f / %.0f | %.0f / %.0f | %.1f | %.1f | %.1f | %.1f | %.0f MB |", name, result.samples.count - result.errors,
                result.errors, result.mismatches, result.percentile(result.firstTokens, 0.5) * 1e3, result.percentile(result.firstTokens, 0.99) * 1e3,
                result.percentile(result.totals, 0.5) * 1e3, result.percentile(result.totals, 0.99) * 1e3, result.throughput,
                Double(result.samples.count) / result.seconds, result.serverCPU, result.clientCPU, Double(result.peakBytes) / 1e6))
        }
        return lines.joined(separator: "\n")
    }
}

/// Hands out 0, 1, 2, … to any number of tasks.
final class Ticker: Sendable {
    private let value = Mutex(0)

    func take() -> Int {
        value.withLock { value in
            defer { value += 1 }
            return value
        }
    }
}

/// Samples a process's resident memory every 50 ms until stopped; keeps the peak.
final class MemorySampler: Sendable {
    private let state = Mutex((peak: 0, running: true))

    init(pid: Int32) {
        let thread = Thread { [self] in
            while state.withLock({ $0.running }) {
                let bytes = Machine.residentBytes(pid)
                state.withLock { $0.peak = max($0.peak, bytes) }
                Thread.sleep(forTimeInterval: 0.05)
            }
        }
        thread.start()
    }

    /// Stops sampling and returns the peak, in bytes.
    func stop() -> Int {
        state.withLock { state in
            state.running = false
            return state.peak
        }
    }
}

/// Completion requests over HTTP with the shared client.
enum HTTPLoad {
    struct Answer: Sendable {
        let text: String
        let tokens: Int
        /// Seconds to the first streamed text chunk (the whole answer's time when not streamed).
        let firstToken: Double
        let total: Double
    }

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// Sends one completion and reads its answer, streamed or whole.
    static func complete(_ client: HTTPClient, server: String, body: String) async throws -> Answer {
        let start = ContinuousClock.now
        var request = HTTPClientRequest(url: server + "/v1/completions")
        request.method = .POST
        request.headers.add(name: "content-type", value: "application/json")
        request.body = .bytes(ByteBuffer(string: body))
        let response = try await client.execute(request, timeout: .seconds(600))
        guard response.status == .ok else {
            let text = String(buffer: try await response.body.collect(upTo: 1 << 20))
            throw Failure(description: "HTTP \(response.status.code): \(text.prefix(300))")
        }
        guard response.headers.first(name: "content-type") == "text/event-stream" else {
            let bytes = String(buffer: try await response.body.collect(upTo: 1 << 20))
            let json = try JSONSerialization.jsonObject(with: Data(bytes.utf8)) as? [String: Any]
            let text = ((json?["choices"] as? [[String: Any]])?.first?["text"] as? String) ?? ""
            let tokens = (json?["usage"] as? [String: Any])?["completion_tokens"] as? Int ?? 0
            let total = ContinuousClock.now.seconds(since: start)
            return Answer(text: text, tokens: tokens, firstToken: total, total: total)
        }
        var text = "", pending = "", firstToken = Double.nan, tokens = 0, done = false
        for try await buffer in response.body {
            pending += String(buffer: buffer)
            while let end = pending.range(of: "\n\n") {
                let event = String(pending[..<end.lowerBound])
                pending.removeSubrange(..<end.upperBound)
                guard event.hasPrefix("data: ") else { continue }
                let payload = event.dropFirst(6)
                if payload == "[DONE]" { done = true; continue }
                let json = try JSONSerialization.jsonObject(with: Data(payload.utf8)) as? [String: Any]
                if let error = json?["error"] as? [String: Any] { throw Failure(description: "\(error["message"] ?? error)") }
                if let usage = json?["usage"] as? [String: Any] { tokens = usage["completion_tokens"] as? Int ?? 0 }
                guard let piece = (json?["choices"] as? [[String: Any]])?.first?["text"] as? String, !piece.isEmpty else { continue }
                if firstToken.isNaN { firstToken = ContinuousClock.now.seconds(since: start) }
                text += piece
            }
        }
        guard done else { throw Failure(description: "the stream ended without data: [DONE]") }
        return Answer(text: text, tokens: tokens, firstToken: firstToken, total: ContinuousClock.now.seconds(since: start))
    }
}

extension ContinuousClock.Instant {
    func seconds(since start: ContinuousClock.Instant) -> Double {
        let elapsed = self - start
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    }
}
