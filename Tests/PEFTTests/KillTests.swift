#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Testing
import Tensor
import Transformer
import PEFT

/// Saves survive `kill -9`: a child process saves without pause, is killed at a random moment, and
/// the destination must hold the complete old or the complete new version, never a mix; a training
/// run killed while checkpointing resumes from its last complete checkpoint.
///
/// The child is this test binary itself, running ``saveLoop()`` (which does nothing unless the
/// environment names a kind). `PEFT_KILL_ROUNDS` sets the kills per kind (default 12 here;
/// `Scripts/kill-test` runs 100 or more).
@Suite("Saves survive kill -9", .serialized)
struct KillTests {
    static let kindVariable = "PEFT_KILL_HELPER"
    static let kinds = ["adapter", "checkpoint", "model", "file"]

    /// Two versions of a run file of the comparison (written with ``AtomicFile``, as `ResultStore` does).
    static let fileVersions = [0, 1].map { version in
        Data(("{\"version\": \(version), \"padding\": \"" + String(repeating: "\(version)", count: 200_000) + "\"}").utf8)
    }

    /// Two versions of each thing saved, told apart by their values.
    static func adapters(for model: LlamaModel) throws -> [LoRAAdapter] {
        try [2, 4].map { rank in
            let adapter = try LoRAAdapter(model: model, configuration: LoRAConfiguration(rank: rank), seed: UInt64(rank))
            try perturb(adapter, seed: UInt64(rank))
            return adapter
        }
    }

    static let examples = (0..<8).map { EncodedExample(tokens: [1, 2 + $0 % 5, 3, 4 + $0 % 7, 5], promptLength: 2) }

    static func trainingOptions(_ folder: URL) -> TrainingOptions {
        TrainingOptions(epochs: 100_000, batchSize: 2, learningRate: 1e-2, checkpointDirectory: folder, checkpointEvery: 1, checkpointsToKeep: 2)
    }

    /// The child's work: saves `kind` into the folder named by the environment, forever, writing
    /// `ready` beside it after the first complete save.
    @Test func saveLoop() throws {
        guard let spec = ProcessInfo.processInfo.environment[Self.kindVariable], let colon = spec.firstIndex(of: ":") else { return }
        let kind = String(spec[..<colon]), root = URL(fileURLWithPath: String(spec[spec.index(after: colon)...]))
        let destination = root.appendingPathComponent("destination"), ready = root.appendingPathComponent("ready")
        let model = try tinyBackbone()
        var announced = false
        func announce() {
            if !announced { _ = FileManager.default.createFile(atPath: ready.path, contents: Data()) }
            announced = true
        }
        switch kind {
        case "adapter":
            let versions = try Self.adapters(for: model)
            for round in 0... {
                try AdapterFiles.save(versions[round % 2], to: destination)
                announce()
            }
        case "checkpoint":
            let adapter = try Self.adapters(for: model)[0]
            let trainer = try Trainer(model: model, adapter: adapter, options: Self.trainingOptions(destination))
            _ = try trainer.train(on: Self.examples) { _ in
                announce()
                return .proceed
            }
        case "file":
            for round in 0... {
                try AtomicFile.write(Self.fileVersions[round % 2], to: destination)
                announce()
            }
        case "model":
            let versions = try [1, 2].map { try tinyBackbone(seed: UInt64($0)) }
            for round in 0... {
                try versions[round % 2].save(to: destination)
                announce()
            }
        default:
            Issue.record("unknown kind \(kind)")
        }
    }

    @Test("A child killed at random moments while saving leaves whole versions", arguments: kinds)
    func killWhileSaving(kind: String) throws {
        let rounds = ProcessInfo.processInfo.environment["PEFT_KILL_ROUNDS"].flatMap(Int.init) ?? 12
        let root = temporaryFolder("kill-\(kind)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: root) }
        let destination = root.appendingPathComponent("destination"), ready = root.appendingPathComponent("ready")
        let model = try tinyBackbone()
        let adapterVersions = try Self.adapters(for: model).map(\.weights)
        let modelVersions = try [1, 2].map { try tinyBackbone(seed: UInt64($0)).embedTokens.value }
        var generator = SystemRandomNumberGenerator()
        var seenVersions = Set<Int>()
        for round in 0..<rounds {
            try? FileManager.default.removeItem(at: ready)
            let child = Process()
            child.executableURL = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
            child.arguments = ["--testing-library", "swift-testing", "--filter", "saveLoop"]
            var environment = ProcessInfo.processInfo.environment
            environment[Self.kindVariable] = "\(kind):\(root.path)"
            child.environment = environment
            child.standardOutput = FileHandle.nullDevice
            child.standardError = FileHandle.nullDevice
            try child.run()
            let start = Date()
            while !FileManager.default.fileExists(atPath: ready.path) && child.isRunning && Date().timeIntervalSince(start) < 60 {
                usleep(2_000)
            }
            usleep(UInt32.random(in: 0...40_000, using: &generator))
            kill(child.processIdentifier, SIGKILL)
            child.waitUntilExit()
            try #require(FileManager.default.fileExists(atPath: ready.path), "round \(round): the child never finished a save")

            switch kind {
            case "adapter":
                let loaded = try AdapterFiles.load(from: destination, model: model)
                let version = adapterVersions.firstIndex { $0 == loaded.weights }
                #expect(version != nil, "round \(round): the adapter on disk is neither version")
                if let version { seenVersions.insert(version) }
            case "checkpoint":
                let latest = try #require(Trainer.latestCheckpoint(in: destination), "round \(round)")
                let trainer = try Trainer(model: model, adapter: try Self.adapters(for: model)[0], options: Self.trainingOptions(destination))
                try trainer.resume(from: destination)
                let report = try trainer.train(on: Self.examples) { progress in progress.step >= 1 ? .stop : .proceed }
                let step = Int(latest.lastPathComponent.dropFirst("checkpoint-".count)) ?? -1
                #expect(report.steps == step + 1, "round \(round): resumed from step \(report.steps - 1), the latest checkpoint is \(step)")
                seenVersions.insert(step % 2)
            case "file":
                let version = Self.fileVersions.firstIndex(of: try Data(contentsOf: destination))
                #expect(version != nil, "round \(round): the file on disk is neither version")
                if let version { seenVersions.insert(version) }
            default:
                let loaded = try LlamaModel(contentsOf: destination)
                let version = modelVersions.firstIndex { $0 == loaded.embedTokens.value }
                #expect(version != nil, "round \(round): the model on disk is neither version")
                if let version { seenVersions.insert(version) }
            }
        }
        if rounds >= 8 { #expect(seenVersions.count == 2, "kills landed on both versions") }
    }
}
