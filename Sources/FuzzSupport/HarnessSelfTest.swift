import Foundation

/// A target that misbehaves on purpose, to check that the supervisor sees each kind of finding
/// (`peft-fuzz self-test`): an input starting with `crash` traps, `hang` sleeps past the hang
/// limit, `oom` allocates 64 GB; anything else is accepted. Not in ``FuzzTargets/all``.
struct HarnessSelfTestTarget: FuzzTarget {
    let name = "harness-self-test"
    let summary = "checks the supervisor: inputs that trap, hang and exhaust memory"
    let format = FuzzInputFormat.binary

    func makeExecutor(workspace: URL, corpus: SeedCorpus) throws -> any FuzzExecutor { Executor() }

    private struct Executor: FuzzExecutor {
        func run(_ input: FuzzInput) -> FuzzOutcome {
            if input.bytes.starts(with: Array("crash".utf8)) { fatalError("harness self-test: a deliberate trap") }
            if input.bytes.starts(with: Array("hang".utf8)) { Thread.sleep(forTimeInterval: 60) }
            if input.bytes.starts(with: Array("oom".utf8)) {
                let bomb = [UInt8](repeating: 1, count: 64 << 30)
                return bomb.count > 0 ? .accepted : .rejected
            }
            return .accepted
        }
    }
}

/// `peft-fuzz self-test`: runs ``HarnessSelfTestTarget`` under the supervisor over four inputs
/// (`crash`, `hang`, `ok`, `oom`) and checks that exactly one crash, one hang and one out-of-memory
/// finding are reported and the fourth input is accepted.
public enum HarnessSelfTest {
    /// Runs the self-test; returns the report and whether it found what it should.
    /// - Throws: ``FuzzError`` if the workers cannot run.
    public static func run() throws -> (report: FuzzTargetReport, passed: Bool) {
        let corpus = FileManager.default.temporaryDirectory.appendingPathComponent("peft-fuzz-self-test-\(getpid())/corpus")
        let folder = corpus.appendingPathComponent(HarnessSelfTestTarget().name)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: corpus.deletingLastPathComponent()) }
        for name in ["crash", "hang", "ok", "oom"] { try Data(name.utf8).write(to: folder.appendingPathComponent(name + ".txt")) }
        var supervisor = FuzzSupervisor(corpusURL: corpus, seed: 1, inputs: 4, timeLimit: 60)
        supervisor.memoryLimitMB = 2048
        let report = try supervisor.run(HarnessSelfTestTarget())
        let passed = report.inputsRun == 4 && report.accepted == 1 && report.count(.crash) == 1
            && report.count(.hang) == 1 && report.count(.outOfMemory) == 1
        return (report, passed)
    }
}
