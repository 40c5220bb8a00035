#if canImport(Glibc)
import Glibc
#endif
import Foundation
import MPITraining
import PEFT
import Tensor
import Testing
import Transformer

@testable import PEFTCommand

/// `peft train` under `mpirun -np 2` on this machine: the adapter it writes equals a single-process
/// run's at the same global batch (to float rounding with the all-reduce, bit for bit with the
/// ordered reduction) for every adapter type; resuming works; ranks given other data refuse to
/// train; a rank that dies ends the job with a clear error and no adapter.
///
/// The ranks are this test binary itself, running ``worker()`` (which does nothing unless
/// ``argumentsVariable`` holds a command line); `{rank}` in it becomes the rank's number.
@Suite("Data-parallel training under mpirun", .serialized, .enabled(if: MPIHere.skipReason == nil, MPIHere.comment))
struct DataParallelTests {
    static let argumentsVariable = "PEFT_MPI_TEST_ARGUMENTS"

    /// A rank's work: the command line in the environment, run as `peft` runs it.
    @Test func worker() throws {
        guard let json = ProcessInfo.processInfo.environment[Self.argumentsVariable] else { return }
        let rank = ProcessInfo.processInfo.environment["OMPI_COMM_WORLD_RANK"] ?? "0"
        let arguments = try JSONDecoder().decode([String].self, from: Data(json.utf8)).map {
            $0.replacingOccurrences(of: "{rank}", with: rank)
        }
        var command = try PEFTTool.parseAsRoot(arguments)
        try command.run()
    }

    // MARK: - The scene: a tiny model folder and instruction data

    /// A folder with a small random model (the bundled tokenizer's vocabulary), `train.jsonl`,
    /// `dev.jsonl` and `other.jsonl` (other training data).
    final class Scene {
        let root: URL
        var model: URL { root.appendingPathComponent("model") }
        var train: URL { root.appendingPathComponent("train.jsonl") }
        var dev: URL { root.appendingPathComponent("dev.jsonl") }
        var other: URL { root.appendingPathComponent("other.jsonl") }

        init() throws {
            root = FileManager.default.temporaryDirectory.appendingPathComponent("peft-mpi-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
            let config = try LlamaConfig(
                vocabSize: 1792, hiddenSize: 32, intermediateSize: 64, numHiddenLayers: 2, numAttentionHeads: 4,
                numKeyValueHeads: 2, rmsNormEps: 1e-5, ropeTheta: 10_000)
            let bundled = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
                .deletingLastPathComponent().appendingPathComponent("Examples/BundledBase/tokenizer.json")
            try LlamaModel(randomWithConfig: config, seed: 3, initializerRange: 0.2).save(to: model, tokenizer: bundled)
            let words = ["red", "green", "blue", "small", "large", "quick", "slow", "warm", "cold", "bright", "dark"]
            func examples(_ count: Int, offset: Int) -> Data {
                Data((0..<count).map { index in
                    let word = words[(index * 7 + offset) % words.count], other = words[(index * 3 + offset + 1) % words.count]
                    return "{\"instruction\": \"Repeat the word\", \"input\": \"\(word) \(other)\", \"output\": \"\(word)\"}\n"
                }.joined().utf8)
            }
            try examples(22, offset: 0).write(to: train)
            try examples(6, offset: 5).write(to: dev)
            try examples(22, offset: 2).write(to: other)
        }

        deinit { try? FileManager.default.removeItem(at: root) }

        /// `peft train` on this scene's model into `out`.
        func train(_ method: [String], out: URL, data: String? = nil, extra: [String] = []) -> [String] {
            ["train", "--model", model.path, "--data", data ?? train.path, "--eval", dev.path, "--out", out.path,
             "--template", "plain", "--learning-rate", "1e-2", "--seed", "5"] + method + extra
        }
    }

    /// One adapter configuration of each type (LoRA with dropout, so that its masks are checked too).
    static let methods: [(name: String, options: [String])] = [
        ("lora", ["--method", "lora", "--rank", "4", "--lora-dropout", "0.1"]),
        ("iapt", ["--method", "iapt", "--virtual-tokens", "2", "--bottleneck", "8"]),
        ("prompt", ["--method", "prompt", "--virtual-tokens", "3"]),
        ("ptuning2", ["--method", "ptuning2", "--virtual-tokens", "2"]),
        ("prefix", ["--method", "prefix", "--virtual-tokens", "2"]),
    ]

    /// Runs `arguments` under `mpirun -np ranks` (each rank this binary's ``worker()``); returns the
    /// exit status, what it wrote to standard error, and (with `output`) to standard output.
    static func mpirun(
        _ arguments: [String], ranks: Int = 2, timeout: TimeInterval = 240, output: URL? = nil,
        whileRunning: ((Process) -> Void)? = nil
    ) throws -> (status: Int32, errors: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try #require(MPIHere.mpirun))
        let me = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().path
        process.arguments = ["--allow-run-as-root", "--oversubscribe", "-np", "\(ranks)", "-x", argumentsVariable,
                             me, "--testing-library", "swift-testing", "--filter", "DataParallelTests/worker"]
        var environment = ProcessInfo.processInfo.environment
        environment[argumentsVariable] = String(decoding: try JSONEncoder().encode(arguments), as: UTF8.self)
        process.environment = environment
        let errors = FileManager.default.temporaryDirectory.appendingPathComponent("peft-mpi-\(UUID().uuidString).err")
        _ = FileManager.default.createFile(atPath: errors.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: errors) }
        process.standardError = try FileHandle(forWritingTo: errors)
        if let output {
            _ = FileManager.default.createFile(atPath: output.path, contents: nil)
            process.standardOutput = try FileHandle(forWritingTo: output)
        } else {
            process.standardOutput = FileHandle.nullDevice
        }
        try process.run()
        whileRunning?(process)
        let start = Date()
        while process.isRunning && Date().timeIntervalSince(start) < timeout { usleep(20_000) }
        if process.isRunning {
            kill(-process.processIdentifier, SIGKILL)
            process.terminate()
            Issue.record("mpirun still running after \(timeout) s")
        }
        process.waitUntilExit()
        return (process.terminationStatus, (try? String(contentsOf: errors, encoding: .utf8)) ?? "")
    }

    /// Runs `peft` with `arguments` in this process.
    static func single(_ arguments: [String]) throws {
        var command = try PEFTTool.parseAsRoot(arguments)
        try command.run()
    }

    static func weights(_ folder: URL) throws -> [String: Tensor] {
        try SafetensorsFile(contentsOf: folder.appendingPathComponent(AdapterFiles.weightsFile)).allTensors()
    }

    /// The largest absolute difference between two adapters' weights (∞ if their tensors differ).
    static func largestDifference(_ a: [String: Tensor], _ b: [String: Tensor]) -> Float {
        guard a.keys.sorted() == b.keys.sorted() else { return .infinity }
        return a.keys.map { key -> Float in
            guard a[key]!.shape == b[key]!.shape else { return .infinity }
            return zip(a[key]!.scalars, b[key]!.scalars).map { abs($0 - $1) }.max() ?? 0
        }.max() ?? 0
    }

    // MARK: - Tests

    @Test("Two ranks give the single-process adapter: to rounding with the all-reduce, bit for bit ordered",
          arguments: methods.map(\.name))
    func equality(method: String) throws {
        let scene = try Scene()
        let options = try #require(Self.methods.first { $0.name == method }).options
        // 2 ranks × micro-batches of 2 × 2 accumulated = one process's 4 micro-batches of 2.
        let steps = ["--max-steps", "5", "--batch-size", "2"]
        let single = scene.root.appendingPathComponent("single")
        try Self.single(scene.train(options, out: single, extra: steps + ["--gradient-accumulation", "4"]))
        let reference = try Self.weights(single)
        for reduction in ["sum", "ordered"] {
            let out = scene.root.appendingPathComponent(reduction)
            let run = try Self.mpirun(scene.train(options, out: out, extra: steps + ["--gradient-accumulation", "2", "--reduction", reduction]))
            try #require(run.status == 0, "\(method) \(reduction): mpirun exited \(run.status): \(run.errors)")
            let difference = Self.largestDifference(reference, try Self.weights(out))
            print("data-parallel \(method), \(reduction) reduction: largest difference from one process \(difference)")
            if reduction == "ordered" {
                #expect(difference == 0, "\(method): ordered reduction differs from one process by \(difference)")
            } else {
                #expect(difference <= 1e-5, "\(method): the all-reduce differs from one process by \(difference)")
            }
            let report = try JSONDecoder().decode(
                TrainingReport.self, from: Data(contentsOf: out.appendingPathComponent("training_report.json")))
            #expect(report.processes == 2 && report.communicationSeconds != nil)
        }
    }

    @Test("Evaluation split over two ranks gives one process's report")
    func evaluation() throws {
        let scene = try Scene()
        let arguments = ["eval", "--model", scene.model.path, "--data", scene.dev.path, "--template", "plain",
                         "--max-new-tokens", "3", "--batch-size", "2", "--json"]
        func report(ranks: Int) throws -> EvaluationReport {
            let output = scene.root.appendingPathComponent("eval-\(ranks).json")
            let run = try Self.mpirun(arguments, ranks: ranks, output: output)
            try #require(run.status == 0, "\(run.errors)")
            var report = try JSONDecoder().decode(EvaluationReport.self, from: Data(contentsOf: output))
            report.elapsedSeconds = 0
            return report
        }
        let (split, alone) = (try report(ranks: 2), try report(ranks: 1))
        #expect(split.predictions.count == 6)
        #expect(split == alone)
    }

    @Test("A run resumed under mpirun ends with the uninterrupted run's adapter")
    func resume() throws {
        let scene = try Scene()
        let out = scene.root.appendingPathComponent("run")
        let arguments = scene.train(
            Self.methods[1].options, out: out,
            extra: ["--max-steps", "4", "--batch-size", "2", "--checkpoint-every", "2", "--reduction", "ordered"])
        let whole = try Self.mpirun(arguments)
        try #require(whole.status == 0, "\(whole.errors)")
        let uninterrupted = try Self.weights(out)
        // Back to step 2: the later checkpoint and the adapter gone.
        let checkpoints = out.appendingPathComponent("checkpoints")
        try FileManager.default.removeItem(at: checkpoints.appendingPathComponent("checkpoint-4"))
        try FileManager.default.removeItem(at: out.appendingPathComponent(AdapterFiles.weightsFile))
        let resumed = try Self.mpirun(arguments + ["--resume"])
        try #require(resumed.status == 0, "\(resumed.errors)")
        #expect(Self.largestDifference(uninterrupted, try Self.weights(out)) == 0)
    }

    @Test("Ranks given different training data refuse to train, and say which")
    func mismatchedData() throws {
        let scene = try Scene()
        let other = scene.root.appendingPathComponent("train-1.jsonl")
        try FileManager.default.copyItem(at: scene.train, to: scene.root.appendingPathComponent("train-0.jsonl"))
        try FileManager.default.copyItem(at: scene.other, to: other)
        let out = scene.root.appendingPathComponent("run")
        let run = try Self.mpirun(scene.train(
            Self.methods[0].options, out: out, data: scene.root.appendingPathComponent("train-{rank}.jsonl").path,
            extra: ["--max-steps", "2"]))
        #expect(run.status != 0)
        #expect(run.errors.contains("rank 1 and rank 0 do not hold the same training data"), "\(run.errors)")
        #expect(!FileManager.default.fileExists(atPath: out.appendingPathComponent(AdapterFiles.weightsFile).path))
    }

    @Test("A rank that dies ends the job: rank 0 says so, and no adapter is written")
    func rankDies() throws {
        let scene = try Scene()
        let out = scene.root.appendingPathComponent("run")
        let firstCheckpoint = out.appendingPathComponent("checkpoints/checkpoint-1")
        let run = try Self.mpirun(
            scene.train(Self.methods[0].options, out: out, extra: ["--epochs", "100000", "--batch-size", "2", "--checkpoint-every", "1"])
        ) { mpirun in
            let start = Date()
            while !FileManager.default.fileExists(atPath: firstCheckpoint.path) && mpirun.isRunning && Date().timeIntervalSince(start) < 120 {
                usleep(20_000)
            }
            if let victim = Self.rank(1, childOf: mpirun.processIdentifier) { kill(victim, SIGKILL) }
        }
        #expect(run.status != 0)
        #expect(run.errors.contains("stopped by the MPI launcher"), "\(run.errors)")
        #expect(!FileManager.default.fileExists(atPath: out.appendingPathComponent(AdapterFiles.weightsFile).path))
        #expect(FileManager.default.fileExists(atPath: firstCheckpoint.path))
    }

    /// The process of rank `rank` among `parent`'s children (from /proc: its parent and environment).
    static func rank(_ rank: Int, childOf parent: pid_t) -> pid_t? {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        for entry in entries {
            guard let pid = pid_t(entry), let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { continue }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            guard fields.count > 1, pid_t(fields[1]) == parent,
                  let environment = FileManager.default.contents(atPath: "/proc/\(pid)/environ") else { continue }
            let variables = environment.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
            if variables.contains("OMPI_COMM_WORLD_RANK=\(rank)") { return pid }
        }
        return nil
    }
}

/// Whether this machine can run the suite.
enum MPIHere {
    /// `mpirun` on `PATH`, if any.
    static let mpirun: String? = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin")
        .split(separator: ":").map { "\($0)/mpirun" }.first { FileManager.default.isExecutableFile(atPath: $0) }

    /// Why the suite cannot run here, or `nil`.
    static let skipReason: String? = {
        guard MPIGroup.isAvailable else {
            return "skipped: this build has no MPI (apt-get install libopenmpi-dev openmpi-bin, then swift package clean)"
        }
        guard mpirun != nil else { return "skipped: mpirun is not on PATH (apt-get install openmpi-bin)" }
        return nil
    }()

    static var comment: Comment { Comment(rawValue: skipReason ?? "") }
}
