import Foundation
import XCTest
@testable import Comparison
import TaskSuite

final class EndToEndTests: XCTestCase {
    private func settings(base: URL, mixedSteps: Int = 2) -> ComparisonSettings {
        ComparisonSettings(
            bases: [BaseSpec(name: "tiny", path: base.path)], methods: [.base, .iapt, .lora], tasks: [.sentiment],
            sizes: SplitSizes(train: 2, dev: 2, testSeen: 2, testUnseen: 2), mixedSteps: mixedSteps, perTaskSteps: 1, batchSize: 2,
            learningRates: [1e-2, 1e-1], seedCount: 2, evaluationBatchSize: 8)
    }

    func testATinyComparisonRunsResumesWithoutRetrainingAndRenders() throws {
        let base = try tinyBaseFolder()
        let work = temporaryFolder("work")
        let settings = settings(base: base)
        var log: [String] = []
        let manifest = try ComparisonRunner(settings: settings, workDirectory: work, command: "peft compare --tiny", log: { log.append($0) }).run()

        let plan = ComparisonPlan(settings: settings)
        XCTAssertEqual(plan.totalRunCount, 1 + 2 * 2 + 2 + 2 * 2)
        let results = try ResultStore(directory: work).allResults()
        XCTAssertEqual(results.count, plan.totalRunCount)
        XCTAssertEqual(log.filter { $0.hasPrefix("[") }.count, plan.totalRunCount, "one progress line per run")
        XCTAssertTrue(log.contains { $0.hasPrefix("[2/11] iapt mixed seed 0 lr 0.01 on tiny: dev ") }, "\(log)")
        let description = try XCTUnwrap(manifest.bases.first)
        XCTAssertEqual(description.parameterCount, try tinyModel().parameterCount)
        XCTAssertEqual(description.loraParameters, 112 * description.loraRank)
        for result in results {
            let tasks = ["sentiment"]
            XCTAssertEqual(result.testSeen.keys.sorted(), tasks, "\(result.key)")
            XCTAssertEqual(result.testUnseen.values.map(\.total), [2])
            XCTAssertEqual(result.key.setting == .perTask, result.key.task == .sentiment)
            XCTAssertEqual(result.steps, result.key.method.isTrained ? (result.key.setting == .mixed ? 2 : 1) : 0)
            XCTAssertEqual(result.trainableParameters == 0, result.key.method == .base)
        }

        // A second session finds every run done and trains nothing.
        var again: [String] = []
        let started = Date()
        let second = try ComparisonRunner(settings: settings, workDirectory: work, command: "peft compare --tiny", log: { again.append($0) }).run()
        XCTAssertFalse(again.contains { $0.hasPrefix("[") }, "\(again)")
        XCTAssertTrue(again.contains("6 of 6 runs were already finished in \(work.path)"), "\(again)")
        XCTAssertLessThan(Date().timeIntervalSince(started), 5)
        XCTAssertEqual(second.sessionSeconds.count, 2)

        // The report from what is there.
        let output = temporaryFolder("docs")
        let summary = try ComparisonReport.write(workDirectory: work, workDirectoryName: ".build/compare", outputDirectory: output)
        XCTAssertEqual(summary.missingRunCount, 0)
        let markdown = try String(contentsOf: output.appendingPathComponent("Results.md"), encoding: .utf8)
        XCTAssertTrue(markdown.contains("    peft compare --tiny"))
        XCTAssertTrue(markdown.contains("## Findings\n\nOn tiny, mixed setting: IAPT's median average unseen accuracy is"))
        XCTAssertTrue(markdown.contains("Every planned run is finished"))
        XCTAssertTrue(FileManager.default.fileExists(atPath: output.appendingPathComponent("Results.svg").path))

        // Another recipe in the same work directory is refused.
        XCTAssertThrowsError(try ComparisonRunner(settings: self.settings(base: base, mixedSteps: 3), workDirectory: work, command: "", log: { _ in }).run()) { error in
            XCTAssertEqual(error as? ComparisonError, .workDirectoryMismatch(path: work.path, differences: ["mixed steps: 2 → 3"]))
        }
    }
}
