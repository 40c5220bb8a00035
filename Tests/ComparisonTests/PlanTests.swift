import Testing
@testable import Comparison
import PEFT
import TaskSuite

@Suite struct PlanTests {
    private let settings = ComparisonSettings(
        bases: [BaseSpec(name: "small", path: "a"), BaseSpec(name: "large", path: "b")], learningRates: [1e-3, 1e-2], seedCount: 3)

    @Test func testSearchRunsAreEveryTrainedMethodAtEveryRateOnTheFirstBaseWithSeedZero() throws {
        let search = ComparisonPlan(settings: settings).searchRuns
        #expect(search.count == (7 * 2))
        #expect(search.allSatisfy { $0.base == "small" && $0.setting == .mixed && $0.seed == 0 && $0.task == nil })
        #expect(!(search.contains { $0.method == .base }))
        #expect(Set(search.compactMap(\.learningRate)) == [1e-3, 1e-2])
    }

    @Test func testFinalRunsCoverEveryMethodSettingSeedAndTask() throws {
        let plan = ComparisonPlan(settings: settings)
        let chosen = Dictionary(uniqueKeysWithValues: ComparisonMethod.allCases.filter(\.isTrained).map { ($0, Float(1e-2)) })
        let runs = Set(plan.allRuns(chosen: chosen))
        #expect(plan.floorRuns.map(\.base) == ["small", "large"])
        for method in ComparisonMethod.allCases where method.isTrained {
            for seed in 0..<3 {
                for base in ["small", "large"] {
                    #expect(runs.contains(RunKey(base: base, method: method, setting: .mixed, seed: seed, learningRate: 1e-2)), "\(method) \(seed) \(base)")
                }
                for task in TaskKind.allCases {
                    #expect(runs.contains(RunKey(base: "small", method: method, setting: .perTask, task: task, seed: seed, learningRate: 1e-2)))
                    // The per-task setting runs on the per-task bases only (by default the first).
                    #expect(!runs.contains(RunKey(base: "large", method: method, setting: .perTask, task: task, seed: seed, learningRate: 1e-2)))
                }
            }
        }
        // 2 floor + 14 search + mixed (2 bases × 7 × 3, minus the 7 reused search runs) + per task (7 × 6 × 3).
        #expect(runs.count == (2 + 14 + 42 - 7 + 126))
        #expect(plan.allRuns(chosen: chosen).count == runs.count, "no run is planned twice")
        #expect(plan.totalRunCount == runs.count)
    }

    @Test func testTheSeedZeroMixedRunAtTheChosenRateIsTheSearchRun() throws {
        let plan = ComparisonPlan(settings: settings)
        let finals = plan.finalRuns(chosen: [.iapt: 1e-3])
        #expect(finals.allSatisfy { $0.method == .iapt })
        let reused = RunKey(base: "small", method: .iapt, setting: .mixed, seed: 0, learningRate: 1e-3)
        #expect(finals.contains(reused))
        #expect(plan.searchRuns.contains(reused))
    }

    @Test func testRunFilesAreDistinctPerKey() throws {
        let plan = ComparisonPlan(settings: settings)
        let chosen = Dictionary(uniqueKeysWithValues: ComparisonMethod.allCases.filter(\.isTrained).map { ($0, Float(1e-2)) })
        let runs = plan.allRuns(chosen: chosen)
        #expect(Set(runs.map(\.relativePath)).count == runs.count)
        #expect(RunKey(base: "small", method: .lora, setting: .perTask, task: .arithmetic, seed: 2, learningRate: 0.01).relativePath == "small/per-task/lora/arithmetic-seed2-lr0.01.json")
    }

    @Test func testLearningRateSelectionPrefersDevAccuracyThenDevLossThenTheSmallerRate() throws {
        let settings = ComparisonSettings(bases: [BaseSpec(name: "b", path: "p")], methods: [.iapt, .lora, .prompt4], learningRates: [1e-3, 1e-2, 1e-1])
        func run(_ method: ComparisonMethod, _ rate: Float, dev: Int, loss: Float, diverged: Bool = false) -> RunResult {
            var result = syntheticResult(RunKey(base: "b", method: method, setting: .mixed, seed: 0, learningRate: rate), seen: 0, unseen: 0, dev: dev, devLoss: loss)
            result.divergedAtStep = diverged ? 3 : nil
            return result
        }
        let results = [
            run(.iapt, 1e-3, dev: 10, loss: 1), run(.iapt, 1e-2, dev: 12, loss: 2), run(.iapt, 1e-1, dev: 12, loss: 1.5),
            run(.lora, 1e-3, dev: 9, loss: 1), run(.lora, 1e-2, dev: 9, loss: 1), run(.lora, 1e-1, dev: 25, loss: 0.5, diverged: true),
            run(.prompt4, 1e-2, dev: 5, loss: 1),
        ]
        let choices = LearningRateSelection.choose(settings: settings, results: results)
        #expect(choices[.iapt]?.learningRate == 1e-1, "equal dev accuracy: the lower dev loss wins")
        #expect(choices[.lora]?.learningRate == 1e-3, "a diverged run ranks last; then the smaller rate breaks the tie")
        #expect(choices[.prompt4]?.learningRate == 1e-2)
        #expect(choices[.prompt4]?.isComplete == false)
        #expect(choices[.iapt]?.isComplete == true)
    }
}
