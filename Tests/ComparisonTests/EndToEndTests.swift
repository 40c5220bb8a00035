import Foundation
import Testing
@testable import Comparison
import PEFT
import TaskSuite

@Suite struct EndToEndTests {
    private func settings(base: URL, mixedSteps: Int = 2, seedCount: Int = 2) -> ComparisonSettings {
        ComparisonSettings(
            bases: [BaseSpec(name: "tiny", path: base.path)], perTaskBases: ["tiny"], methods: [.base, .iapt, .lora], tasks: [.sentiment],
            sizes: SplitSizes(train: 2, dev: 2, testSeen: 2, testUnseen: 2), mixedSteps: mixedSteps, perTaskSteps: 1,
            evaluateEvery: 1, patience: nil, batchSize: 2, learningRates: [1e-2, 1e-1], gridExtensions: 0, seedCount: seedCount,
            evaluationBatchSize: 8)
    }

    @Test func testATinyComparisonRunsResumesWithoutRetrainingAndRenders() throws {
        let base = try tinyBaseFolder()
        let work = temporaryFolder("work")
        var settings = settings(base: base)
        settings.bases[0].methods = settings.methods
        var log: [String] = []
        let manifest = try ComparisonRunner(settings: settings, workDirectory: work, command: "peft compare --tiny", log: { log.append($0) }).run()

        let plan = ComparisonPlan(settings: settings)
        let results = try ResultStore(directory: work).allResults()
        let planned: Int = plan.totalRunCount(results: Dictionary(uniqueKeysWithValues: results.map { ($0.key, $0) }))
        #expect(planned == (1 + 2 * 2 + 2 + 2 * 2))
        #expect(results.count == planned)
        #expect((log.filter { $0.hasPrefix("[") }.count) == planned, "one progress line per run")
        #expect(log.contains { $0.hasPrefix("[2/11] iapt mixed seed 0 lr 0.01 on tiny: dev ") }, "\(log)")
        #expect(log.filter { $0.hasPrefix("  ") }.count == results.reduce(0) { $0 + $1.curve.count }, "one line per dev evaluation")
        #expect(log.contains { $0.hasPrefix("  iapt mixed seed 0 lr 0.01 on tiny at step 2 of 2: dev ") && $0.contains(" of 2), dev loss ") },
                "\(log)")
        let description = try #require(manifest.bases.first)
        #expect(description.parameterCount == (try tinyModel().parameterCount))
        #expect(description.loraParameters == (112 * description.loraRank))
        for result in results {
            let tasks = ["sentiment"]
            #expect(result.testSeen.keys.sorted() == tasks, "\(result.key)")
            #expect(result.testUnseen.values.map(\.total) == [2])
            #expect((result.key.setting == .perTask) == (result.key.task == .sentiment))
            #expect(result.steps == (result.key.method.isTrained ? (result.key.setting == .mixed ? 2 : 1) : 0))
            #expect((result.trainableParameters == 0) == (result.key.method == .base))
            // A dev point after every step; the tested weights are the best point's.
            #expect(result.curve.map(\.step) == Array(stride(from: 1, through: result.steps, by: 1)), "\(result.key)")
            if result.key.method.isTrained {
                let best = try #require(result.curve.first { $0.step == result.bestStep })
                #expect(best.dev == result.dev)
                #expect(result.curve.allSatisfy { !RunExecutor.isBetter($0, than: best) })
            } else {
                #expect(result.bestStep == nil)
            }
        }

        // A second session finds every run done and trains nothing.
        var again: [String] = []
        let started = Date()
        var silent = settings
        silent.bases[0].methods = nil
        let second = try ComparisonRunner(settings: silent, workDirectory: work, command: "peft compare --tiny", log: { again.append($0) }).run()
        #expect(second.bases[0].spec.methods == [.base, .iapt, .lora], "the manifest's copy of a base keeps the rows a session leaves out")
        #expect(!(again.contains { $0.hasPrefix("[") }), "\(again)")
        #expect(Date().timeIntervalSince(started) < 5)
        #expect(second.sessionSeconds.count == 2)

        // A session for one more seed makes only that seed's runs.
        var third: [String] = []
        try ComparisonRunner(
            settings: self.settings(base: base, seedCount: 3), workDirectory: work, command: "peft compare --tiny --seeds 3",
            onlySeeds: [2], log: { third.append($0) }).run()
        let made = third.filter { $0.hasPrefix("[") }
        #expect(made.count == 4 && made.allSatisfy { $0.contains(" seed 2 ") }, "\(third)")

        // The report from what is there.
        let output = temporaryFolder("docs")
        let summary = try ComparisonReport.write(workDirectory: work, workDirectoryName: ".build/compare", outputDirectory: output)
        #expect(summary.missingRunCount == 0)
        let markdown = try String(contentsOf: output.appendingPathComponent("Results.md"), encoding: .utf8)
        #expect(markdown.contains("    peft compare --tiny"))
        #expect(markdown.contains("## Findings\n\n**The paper's first claim on tiny**"))
        #expect(markdown.contains("\n\nOn tiny, mixed setting: IAPT's median average unseen accuracy is"))
        #expect(markdown.contains("Every planned run is finished"))
        let onEdge = summary.choices.values.flatMap(\.values).filter(\.isAtSearchEdge)
        #expect(markdown.contains("is the edge of every rate its search ran") == !onEdge.isEmpty)
        for choice in onEdge { #expect(markdown.contains("\(choice.method.rawValue) on \(choice.base) (")) }
        #expect(FileManager.default.fileExists(atPath: output.appendingPathComponent("Results.svg").path))
        let curves = try String(contentsOf: output.appendingPathComponent("Results-curves.svg"), encoding: .utf8)
        #expect(curves.contains("<polyline class=\"curve\""))

        // A base's seeded methods, once given, narrow later sessions that leave them out, and grow
        // with those a session names.
        func session(seeds: Int, seeded: [ComparisonMethod]?) throws -> [String] {
            var lines: [String] = []
            var settings = self.settings(base: base, seedCount: seeds)
            settings.bases[0].seededMethods = seeded
            try ComparisonRunner(settings: settings, workDirectory: work, command: "peft compare --tiny", onlySeeds: [seeds - 1],
                                 log: { lines.append($0) }).run()
            return lines.filter { $0.hasPrefix("[") }
        }
        let narrowed = try session(seeds: 4, seeded: [.lora])
        #expect(narrowed.count == 2 && narrowed.allSatisfy { $0.contains("] lora ") && $0.contains(" seed 3 ") }, "\(narrowed)")
        let kept = try session(seeds: 5, seeded: nil)
        #expect(kept.count == 2 && kept.allSatisfy { $0.contains("] lora ") && $0.contains(" seed 4 ") }, "\(kept)")
        let grown = try session(seeds: 6, seeded: [.iapt])
        #expect(grown.count == 4 && grown.allSatisfy { $0.contains(" seed 5 ") }, "\(grown)")

        // Another recipe in the same work directory is refused.
        do {
            let error = try #require(throws: (any Error).self) { try ComparisonRunner(settings: self.settings(base: base, mixedSteps: 3), workDirectory: work, command: "", log: { _ in }).run() }
            #expect((error as? ComparisonError) == .workDirectoryMismatch(path: work.path, differences: ["mixed steps: 2 → 3"]))
        }
    }

    @Test func testMicroBatchedRunsComputeTheSameStepAndSaySo() throws {
        let base = try tinyBaseFolder()
        func run(microBatch: Int?) throws -> (results: [RunResult], report: String) {
            let settings = ComparisonSettings(
                bases: [BaseSpec(name: "tiny", path: base.path, microBatch: microBatch)], methods: [.base, .iapt, .lora], tasks: [.sentiment],
                sizes: SplitSizes(train: 8, dev: 2, testSeen: 2, testUnseen: 2), mixedSteps: 3, evaluateEvery: 1, patience: nil,
                batchSize: 4, learningRates: [1e-2], gridExtensions: 0, seedCount: 1, evaluationBatchSize: 8)
            let work = temporaryFolder("work"), output = temporaryFolder("docs")
            try ComparisonRunner(settings: settings, workDirectory: work, command: "peft compare --tiny", log: { _ in }).run()
            try ComparisonReport.write(workDirectory: work, workDirectoryName: "work", outputDirectory: output)
            let results = try ResultStore(directory: work).allResults().sorted { $0.key.method.rawValue < $1.key.method.rawValue }
            return (results, try String(contentsOf: output.appendingPathComponent("Results.md"), encoding: .utf8))
        }
        let whole = try run(microBatch: nil), split = try run(microBatch: 2)
        #expect(whole.results.map(\.key) == split.results.map(\.key))
        #expect(whole.results.count == 3)
        for (one, passes) in zip(whole.results, split.results) {
            #expect(one.microBatch == nil)
            #expect(passes.microBatch == (passes.key.method.isTrained ? 2 : nil), "\(passes.key)")
            #expect(one.curve.count == passes.curve.count)
            for (a, b) in zip(one.curve, passes.curve) {
                #expect(abs(a.devLoss - b.devLoss) <= 1e-4 * max(1, abs(a.devLoss)), "\(one.key) step \(a.step)")
                #expect(abs(a.trainLoss - b.trainLoss) <= 1e-4 * max(1, abs(a.trainLoss)), "\(one.key) step \(a.step)")
            }
        }
        #expect(!whole.report.contains("in passes of"))
        #expect(split.report.contains("Of its 2 trained runs, 2 in passes of 2."), "\(split.report)")
    }

    @Test func testMicroBatchesBecomeAccumulatedPassesOrderedByLength() throws {
        let settings = ComparisonSettings(bases: [BaseSpec(name: "b", path: "p", microBatch: 4)], batchSize: 16)
        let executor = RunExecutor(settings: settings, data: try ComparisonData(settings: settings), trainingProgress: nil)
        let passes = executor.trainingOptions(exampleCount: 1800, steps: 600, learningRate: 1e-3, seed: 0, microBatch: 4)
        let whole = executor.trainingOptions(exampleCount: 1800, steps: 600, learningRate: 1e-3, seed: 0)
        #expect((passes.batchSize, passes.gradientAccumulationSteps, passes.groupsByLength) == (4, 4, true))
        #expect((whole.batchSize, whole.gradientAccumulationSteps, whole.groupsByLength) == (16, 1, false))
        #expect(passes.epochs == whole.epochs && passes.maxSteps == whole.maxSteps)
        #expect(settings.microBatch(for: "b") == 4 && settings.microBatch(for: "other") == nil)
        // Runs in one pass keep the packed products they were made with; micro-batched ones take BLAS.
        #expect(RunExecutor.memory(microBatch: nil) == TrainingMemory(recomputesActivations: false, packing: .forwardAndBackward))
        #expect(RunExecutor.memory(microBatch: 4) == .fastest)
    }
}
