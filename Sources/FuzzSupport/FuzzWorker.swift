#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Foundation

/// The child process of a fuzz run (`peft-fuzz worker …`): runs inputs `from..<to` of one target
/// in order, and tells the supervisor on standard output where it is, one line per event:
/// `ready` once set up, `begin INDEX` before an input (after writing its bytes to
/// `current.bin` in the state folder), `end INDEX accepted|rejected` after it, then
/// `peak INDEX KILOBYTES` when that input raised the process's peak resident memory (`VmHWM`)
/// by more than 16 MB, and `done` at the end.
/// A crash or a hang therefore always leaves the supervisor knowing the input that caused it.
public enum FuzzWorker {
    /// The settings of one worker.
    public struct Settings: Sendable {
        /// The target to run.
        public var target: String
        /// The run's seed (with the input index, it determines each input).
        public var seed: UInt64
        /// The first input index to run.
        public var from: Int
        /// One past the last input index to run.
        public var to: Int
        /// A folder of the worker's own: `current.bin` and the target's `workspace/` go there.
        public var stateFolder: URL
        /// The seed corpus.
        public var corpusURL: URL
        /// When to stop starting inputs (seconds since 1970), or `nil` for no limit.
        public var deadline: Double?
        /// The address-space limit set on the worker (`RLIMIT_AS`), in megabytes.
        public var memoryLimitMB: Int

        /// Settings with every value given.
        public init(target: String, seed: UInt64, from: Int, to: Int, stateFolder: URL, corpusURL: URL, deadline: Double?, memoryLimitMB: Int) {
            (self.target, self.seed, self.from, self.to, self.stateFolder, self.corpusURL, self.deadline, self.memoryLimitMB) =
                (target, seed, from, to, stateFolder, corpusURL, deadline, memoryLimitMB)
        }
    }

    /// Runs the worker and exits the process (status 0 when every input ran).
    /// - Throws: ``FuzzError`` if the target, the corpus or the workspace is unusable.
    public static func run(_ settings: Settings) throws -> Never {
        var limit = rlimit(rlim_cur: rlim_t(settings.memoryLimitMB) << 20, rlim_max: rlim_t(settings.memoryLimitMB) << 20)
        guard setrlimit(Int32(RLIMIT_AS.rawValue), &limit) == 0 else {
            throw FuzzError.worker("cannot limit the address space to \(settings.memoryLimitMB) MB")
        }
        guard let target = FuzzTargets.named(settings.target) else { throw FuzzError.usage("no target named \(settings.target)") }
        let corpus = try SeedCorpus(url: settings.corpusURL)
        let seeds = corpus.files(for: target.name)
        guard !seeds.isEmpty else { throw FuzzError.corpus("\(corpus.url.path)/\(target.name) has no seed files") }
        let workspace = settings.stateFolder.appendingPathComponent("workspace")
        try? FileManager.default.removeItem(at: workspace)
        try FileManager.default.createDirectory(at: workspace, withIntermediateDirectories: true)
        let executor = try target.makeExecutor(workspace: workspace, corpus: corpus)
        let mutator = Mutator(seeds: seeds, format: target.format)
        let current = settings.stateFolder.appendingPathComponent("current.bin")
        emit("ready")
        var peak = peakResidentKilobytes()
        for index in settings.from..<max(settings.from, settings.to) {
            if let deadline = settings.deadline, Date().timeIntervalSince1970 >= deadline { break }
            let input = mutator.input(seed: settings.seed, index: index)
            try? Data(input.bytes).write(to: current)
            emit("begin \(index)")
            let outcome = executor.run(input)
            emit("end \(index) \(outcome == .accepted ? "accepted" : "rejected")")
            let now = peakResidentKilobytes()
            if now > peak + 16 * 1024 { emit("peak \(index) \(now)") }
            peak = max(peak, now)
        }
        emit("done")
        exit(0)
    }

    /// The process's peak resident set so far (`VmHWM` in `/proc/self/status`), in kilobytes.
    public static func peakResidentKilobytes() -> Int {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }) else { return 0 }
        return Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0
    }

    /// Writes `line` and a newline to standard output at once, unbuffered.
    private static func emit(_ line: String) {
        let bytes = Array((line + "\n").utf8)
        bytes.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = write(1, buffer.baseAddress! + offset, buffer.count - offset)
                if written <= 0 { exit(3) }
                offset += written
            }
        }
    }
}
