import Foundation
import Testing
@testable import Comparison
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
        let settings = settings(base: base)
        var log: [String] = []
        let manifest = try ComparisonRunner(settings: settings, workDirectory: work, command: "peft compare --tiny", log: { log.append($0) }).run()

        let plan = ComparisonPlan(settings: settings)
        let results = try ResultStore(directory: work).allResults()
        let planned: Int = plan.totalRunCount(results: Dictionary(uniqueKeysWithValues: results.map { ($0.key, $0) }))
        #expect(planned == (1 + 2 * 2 + 2 + 2 * 2))
        #expect(results.count == planned)
        #expect((log.filter { $0.hasPrefix("[") }.count) == planned, "one progress line per run")
        #expect(log.contains { $0.hasPrefix("[2/11] iapt mixed seed 0 lr 0.01 on tiny: dev ") }, "\(log)")
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
        let second = try ComparisonRunner(settings: settings, workDirectory: work, command: "peft compare --tiny", log: { again.append($0) }).run()
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
        #expect(FileManager.default.fileExists(atPath: output.appendingPathComponent("Results.svg").path))
        let curves = try String(contentsOf: output.appendingPathComponent("Results-curves.svg"), encoding: .utf8)
        #expect(curves.contains("<polyline class=\"curve\""))

        // Another recipe in the same work directory is refused.
        do {
            let error = try #require(throws: (any Error).self) { try ComparisonRunner(settings: self.settings(base: base, mixedSteps: 3), workDirectory: work, command: "", log: { _ in }).run() }
            #expect((error as? ComparisonError) == .workDirectoryMismatch(path: work.path, differences: ["mixed steps: 2 → 3"]))
        }
    }
}
