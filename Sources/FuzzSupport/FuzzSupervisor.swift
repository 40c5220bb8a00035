#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Foundation

/// What a fuzz run found wrong with one input.
public struct FuzzFinding: Sendable {
    /// The kind of finding.
    public enum Kind: String, Sendable {
        /// The worker died (a trap, a signal, a non-zero exit).
        case crash
        /// One input took longer than the hang limit; the worker was killed.
        case hang
        /// The worker ran out of its address space (an allocation the size of a length field).
        case outOfMemory = "out of memory"
    }

    /// What happened.
    public let kind: Kind
    /// The input's index (with the run's seed, it reproduces the input).
    public let index: Int
    /// Where the input was saved (`Fuzz/crashes/<target>/<hash>.bin`).
    public let file: URL?
    /// The last lines the worker wrote to standard error, or the signal.
    public let message: String
}

/// The result of fuzzing one target.
public struct FuzzTargetReport: Sendable {
    /// The target's name.
    public let target: String
    /// Inputs that finished or were found faulty.
    public var inputsRun = 0
    /// Inputs the parser accepted.
    public var accepted = 0
    /// Inputs the parser refused with an error.
    public var rejected = 0
    /// Crashes, hangs and out-of-memory inputs, in the order found.
    public var findings: [FuzzFinding] = []
    /// The largest resident set of any worker (`ru_maxrss`), in kilobytes.
    public var peakRSSKilobytes = 0
    /// The input during which a worker's resident set last jumped to a new high (by more than
    /// 16 MB), with that high in kilobytes: the input to look at when the peak is large.
    public var peakInput: (index: Int, kilobytes: Int)?
    /// Wall-clock seconds, worker start-ups included.
    public var seconds = 0.0

    /// The number of findings of `kind`.
    public func count(_ kind: FuzzFinding.Kind) -> Int { findings.filter { $0.kind == kind }.count }
    /// Inputs per second.
    public var inputsPerSecond: Double { seconds > 0 ? Double(inputsRun) / seconds : 0 }
}

/// Runs a target's inputs in child worker processes (``FuzzWorker``) so that a crash, a hang or an
/// allocation bomb ends only the worker: the supervisor records the input, saves its bytes, and
/// starts a new worker at the next index.
public struct FuzzSupervisor: Sendable {
    /// The seed corpus folder (findings go to `crashes/` beside it).
    public var corpusURL: URL
    /// The run's seed.
    public var seed: UInt64
    /// Inputs per target.
    public var inputs: Int
    /// The most seconds per target, or `nil` for no limit.
    public var timeLimit: Double?
    /// The longest one input may take before it counts as a hang, in seconds.
    public var hangSeconds = 2.0
    /// The worker's address-space limit, in megabytes.
    public var memoryLimitMB = 4096
    /// Whether workers print a Swift backtrace when they crash (slow: seconds per crash).
    public var backtraces = false

    /// A supervisor for `inputs` inputs per target from the corpus at `corpusURL`.
    public init(corpusURL: URL, seed: UInt64, inputs: Int, timeLimit: Double?) {
        (self.corpusURL, self.seed, self.inputs, self.timeLimit) = (corpusURL, seed, inputs, timeLimit)
    }

    /// Where findings of `target` are saved: `Fuzz/crashes/<target>`.
    public func crashFolder(for target: String) -> URL {
        corpusURL.deletingLastPathComponent().appendingPathComponent("crashes").appendingPathComponent(target)
    }

    /// Fuzzes `target`; `progress` is called about once a second with the report so far.
    /// - Throws: ``FuzzError/worker(_:)`` if a worker cannot start or fails before its first input.
    public func run(_ target: any FuzzTarget, progress: (FuzzTargetReport) -> Void = { _ in }) throws -> FuzzTargetReport {
        var report = FuzzTargetReport(target: target.name)
        let seeds = try SeedCorpus(url: corpusURL).files(for: target.name)
        guard !seeds.isEmpty else { throw FuzzError.corpus("\(corpusURL.path)/\(target.name) has no seed files") }
        let mutator = Mutator(seeds: seeds, format: target.format)
        let start = Date()
        let deadline = timeLimit.map { start.timeIntervalSince1970 + $0 }
        let state = FileManager.default.temporaryDirectory.appendingPathComponent("peft-fuzz-\(getpid())-\(target.name)")
        try FileManager.default.createDirectory(at: state, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: state) }
        var next = 0
        var lastProgress = Date()
        while next < inputs, deadline.map({ Date().timeIntervalSince1970 < $0 }) ?? true {
            let worker = try WorkerProcess(
                arguments: workerArguments(target: target.name, from: next, state: state, deadline: deadline),
                stderrPath: state.appendingPathComponent("stderr.txt").path, backtraces: backtraces)
            var current: (index: Int, began: Date)?
            var ready = false
            var done = false
            let started = Date()
            while let lines = worker.readLines(timeout: 0.05) {
                for line in lines {
                    let parts = line.split(separator: " ")
                    switch parts.first {
                    case "ready": ready = true
                    case "begin": current = (Int(parts[1]) ?? next, Date())
                    case "end":
                        report.inputsRun += 1
                        if parts.count > 2, parts[2] == "accepted" { report.accepted += 1 } else { report.rejected += 1 }
                        next = (Int(parts[1]) ?? next) + 1
                        current = nil
                    case "peak":
                        if parts.count > 2, let index = Int(parts[1]), let kilobytes = Int(parts[2]),
                           kilobytes > report.peakInput?.kilobytes ?? 0 {
                            report.peakInput = (index, kilobytes)
                        }
                    case "done": done = true
                    default: break
                    }
                }
                if let running = current, Date().timeIntervalSince(running.began) > hangSeconds {
                    worker.kill()
                    break
                }
                if !ready, Date().timeIntervalSince(started) > 120 {
                    worker.kill()
                    break
                }
                if Date().timeIntervalSince(lastProgress) >= 1 {
                    report.seconds = Date().timeIntervalSince(start)
                    progress(report)
                    lastProgress = Date()
                }
            }
            let exit = worker.wait()
            report.peakRSSKilobytes = max(report.peakRSSKilobytes, exit.maxRSSKilobytes)
            if done, exit.status == 0 { break }
            guard let running = current else {
                let detail = (try? String(contentsOfFile: state.appendingPathComponent("stderr.txt").path, encoding: .utf8)) ?? ""
                throw FuzzError.worker("\(target.name): the worker stopped outside any input (\(exit.description)): \(detail.suffix(2000))")
            }
            let stderr = (try? String(contentsOfFile: state.appendingPathComponent("stderr.txt").path, encoding: .utf8)) ?? ""
            let kind: FuzzFinding.Kind
            if exit.killedByWatchdog {
                kind = .hang
            } else if Self.isOutOfMemory(stderr) {
                kind = .outOfMemory
            } else {
                kind = .crash
            }
            let message = exit.killedByWatchdog
                ? "no answer within \(hangSeconds) s"
                : exit.description + ": " + Self.crashReport(stderr)
            let saved = try? save(
                target: target, index: running.index, seedName: mutator.input(seed: seed, index: running.index).seedName,
                kind: kind, message: message, input: state.appendingPathComponent("current.bin"))
            report.findings.append(FuzzFinding(kind: kind, index: running.index, file: saved, message: message))
            report.inputsRun += 1
            next = running.index + 1
        }
        report.seconds = Date().timeIntervalSince(start)
        return report
    }

    private func workerArguments(target: String, from: Int, state: URL, deadline: Double?) -> [String] {
        var arguments = [
            "peft-fuzz", "worker", "--target", target, "--seed", String(seed), "--from", String(from), "--to", String(inputs),
            "--state", state.path, "--corpus", corpusURL.path, "--memory-limit-mb", String(memoryLimitMB),
        ]
        if let deadline { arguments += ["--deadline", String(deadline)] }
        return arguments
    }

    /// Whether a worker's standard error says an allocation failed.
    static func isOutOfMemory(_ stderr: String) -> Bool {
        let text = stderr.lowercased()
        return ["failed to allocate", "could not allocate", "cannot allocate", "out of memory", "bad_alloc", "allocation failed"].contains { text.contains($0) }
    }

    /// The worker's error message and the stack after it (or the last lines of standard error).
    static func crashReport(_ stderr: String) -> String {
        let lines = stderr.split(separator: "\n", omittingEmptySubsequences: true)
        let start = lines.firstIndex { $0.localizedCaseInsensitiveContains("fatal error") } ?? max(0, lines.count - 16)
        return lines[start...].prefix(16).joined(separator: "\n")
    }

    /// Copies the input to `crashes/<target>/<hash>.bin` with a `<hash>.txt` beside it saying what
    /// happened and how to reproduce it.
    private func save(
        target: any FuzzTarget, index: Int, seedName: String, kind: FuzzFinding.Kind, message: String, input: URL
    ) throws -> URL {
        let folder = crashFolder(for: target.name)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let bytes = try Data(contentsOf: input)
        let hash = bytes.reduce(UInt64(0xCBF2_9CE4_8422_2325)) { ($0 ^ UInt64($1)) &* 0x100_0000_01B3 }
        let name = String(hash, radix: 16)
        let url = folder.appendingPathComponent(name + ".bin")
        try bytes.write(to: url)
        let note = """
            target: \(target.name)
            kind: \(kind.rawValue)
            reproduce: swift run -c release peft-fuzz replay --target \(target.name) --seed-name \(seedName) \(url.path)
            seed \(seed), input \(index), mutated from seed file \(seedName)

            \(message)

            """
        try Data(note.utf8).write(to: folder.appendingPathComponent(name + ".txt"))
        return url
    }
}

/// One worker child: spawned with its standard output on a pipe and its standard error in a file.
private final class WorkerProcess {
    struct Exit {
        let status: Int32
        let signal: Int32?
        let killedByWatchdog: Bool
        let maxRSSKilobytes: Int
        var description: String {
            if let signal { return "killed by signal \(signal)" }
            return "exit status \(status)"
        }
    }

    private let pid: pid_t
    private let output: Int32
    private var buffer: [UInt8] = []
    private var killed = false

    init(arguments: [String], stderrPath: String, backtraces: Bool) throws {
        var pipeEnds: [Int32] = [0, 0]
        guard pipe(&pipeEnds) == 0 else { throw FuzzError.worker("pipe failed: \(String(cString: strerror(errno)))") }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, pipeEnds[1], 1)
        posix_spawn_file_actions_addclose(&actions, pipeEnds[0])
        posix_spawn_file_actions_addclose(&actions, pipeEnds[1])
        posix_spawn_file_actions_addopen(&actions, 2, stderrPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        var environment = ProcessInfo.processInfo.environment
        environment["SWIFT_BACKTRACE"] = backtraces ? "enable=yes,interactive=no" : "enable=no"
        let argv = arguments.map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var child: pid_t = 0
        let status = posix_spawn(&child, "/proc/self/exe", &actions, nil, argv, envp)
        close(pipeEnds[1])
        guard status == 0 else {
            close(pipeEnds[0])
            throw FuzzError.worker("cannot start a worker: \(String(cString: strerror(status)))")
        }
        pid = child
        output = pipeEnds[0]
    }

    /// The complete lines the worker wrote within `timeout` seconds (possibly none), or `nil` once
    /// its output has ended.
    func readLines(timeout: Double) -> [String]? {
        var descriptor = pollfd(fd: output, events: Int16(POLLIN), revents: 0)
        let ready = poll(&descriptor, 1, Int32(timeout * 1000))
        if ready > 0 {
            var chunk = [UInt8](repeating: 0, count: 65_536)
            let count = read(output, &chunk, chunk.count)
            if count <= 0 { return nil }
            buffer += chunk[..<count]
        }
        var lines: [String] = []
        while let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
            lines.append(String(decoding: buffer[..<newline], as: UTF8.self))
            buffer.removeSubrange(...newline)
        }
        return lines
    }

    /// Kills the worker (it is hung or never got ready).
    func kill() {
        killed = true
        _ = Glibc.kill(pid, SIGKILL)
    }

    /// Waits for the worker to end and returns how it ended and its peak memory.
    func wait() -> Exit {
        close(output)
        var status: Int32 = 0
        var usage = rusage()
        while wait4(pid, &status, 0, &usage) < 0, errno == EINTR {}
        let signal = status & 0x7F
        let exited = signal == 0
        return Exit(
            status: exited ? (status >> 8) & 0xFF : -1, signal: exited ? nil : signal, killedByWatchdog: killed,
            maxRSSKilobytes: Int(usage.ru_maxrss))
    }
}
