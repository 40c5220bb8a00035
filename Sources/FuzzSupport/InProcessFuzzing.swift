import Foundation

/// Runs a target's inputs inside the calling process, with no isolation: a crash ends the process.
/// For the test suite's smoke run (where a crash failing the run is the point), for checking that
/// the seed corpus parses, and for replaying a saved finding under a debugger.
public enum InProcessFuzzing {
    /// What an in-process run did.
    public struct Summary: Sendable {
        /// Inputs run.
        public var inputs = 0
        /// Inputs the parser accepted.
        public var accepted = 0
        /// Inputs the parser refused with an error.
        public var rejected = 0
        /// Wall-clock seconds.
        public var seconds = 0.0
    }

    /// Runs mutated inputs of `target` (after the seed files themselves) until `inputs` have run
    /// or `timeBudget` seconds have passed.
    /// - Throws: ``FuzzError`` if the target has no seed files or its workspace cannot be made.
    public static func run(
        _ target: any FuzzTarget, corpus: SeedCorpus, seed: UInt64, inputs: Int, timeBudget: Double
    ) throws -> Summary {
        let seeds = corpus.files(for: target.name)
        guard !seeds.isEmpty else { throw FuzzError.corpus("\(corpus.url.path)/\(target.name) has no seed files") }
        return try withWorkspace(for: target) { workspace in
            let executor = try target.makeExecutor(workspace: workspace, corpus: corpus)
            let mutator = Mutator(seeds: seeds, format: target.format)
            var summary = Summary()
            let start = Date()
            while summary.inputs < inputs, Date().timeIntervalSince(start) < timeBudget {
                let outcome = executor.run(mutator.input(seed: seed, index: summary.inputs))
                summary.inputs += 1
                if outcome == .accepted { summary.accepted += 1 } else { summary.rejected += 1 }
            }
            summary.seconds = Date().timeIntervalSince(start)
            return summary
        }
    }

    /// The names of `target`'s seed files that its parser refuses (none, for a valid corpus).
    /// - Throws: ``FuzzError`` if the workspace cannot be made.
    public static func rejectedSeeds(of target: any FuzzTarget, corpus: SeedCorpus) throws -> [String] {
        try withWorkspace(for: target) { workspace in
            let executor = try target.makeExecutor(workspace: workspace, corpus: corpus)
            return corpus.files(for: target.name).filter { executor.run(FuzzInput(bytes: $0.bytes, seedName: $0.name)) == .rejected }.map(\.name)
        }
    }

    /// Runs the saved inputs `files` through `target`, as mutations of the seed file `seedName`
    /// (which chooses the companion file of the adapter targets; default: the first seed file).
    /// - Throws: ``FuzzError`` if a file cannot be read or the workspace cannot be made.
    public static func replay(
        _ target: any FuzzTarget, files: [URL], seedName: String?, corpus: SeedCorpus
    ) throws -> [(file: URL, outcome: FuzzOutcome)] {
        let name = seedName ?? corpus.files(for: target.name).first?.name ?? ""
        return try withWorkspace(for: target) { workspace in
            let executor = try target.makeExecutor(workspace: workspace, corpus: corpus)
            return try files.map { file in
                guard let data = FileManager.default.contents(atPath: file.path) else { throw FuzzError.usage("cannot read \(file.path)") }
                return (file, executor.run(FuzzInput(bytes: [UInt8](data), seedName: name)))
            }
        }
    }

    private static func withWorkspace<Result>(for target: any FuzzTarget, _ body: (URL) throws -> Result) throws -> Result {
        let workspace = FileManager.default.temporaryDirectory
            .appendingPathComponent("peft-fuzz-inprocess-\(getpid())-\(target.name)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: workspace, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: workspace) }
        return try body(workspace)
    }
}
