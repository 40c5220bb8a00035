import Foundation
import Testing
@testable import Comparison
import PEFT
import TaskSuite

@Suite struct PlanTests {
    private let settings = ComparisonSettings(
        bases: [BaseSpec(name: "small", path: "a"), BaseSpec(name: "large", path: "b", learningRates: [1e-2])],
        perTaskBases: ["small"], methods: [.base, .prompt4, .iapt, .lora], learningRates: [1e-3, 1e-2], gridExtensions: 1, seedCount: 3)

    private func run(_ base: String, _ method: ComparisonMethod, _ rate: Float, dev: Int, loss: Float = 1, diverged: Bool = false) -> RunResult {
        var result = syntheticResult(LearningRateSelection.searchKey(base, method, rate), seen: 0, unseen: 0, dev: dev, devLoss: loss)
        result.divergedAtStep = diverged ? 3 : nil
        return result
    }

    private func byKey(_ results: [RunResult]) -> [RunKey: RunResult] {
        Dictionary(uniqueKeysWithValues: results.map { ($0.key, $0) })
    }

    @Test func testTheLadderStepsByHalfDecades() throws {
        #expect(LearningRateLadder.above(1e-3) == 3e-3)
        #expect(LearningRateLadder.above(3e-3) == 1e-2)
        #expect(LearningRateLadder.below(1e-3) == 3e-4)
        #expect(LearningRateLadder.below(3e-4) == 1e-4)
        #expect(LearningRateLadder.above(2e-3) == 3e-3, "a rate between rungs goes to the rung above")
        #expect(LearningRateLadder.above(10) == nil)
        #expect(LearningRateLadder.below(1e-7) == nil)
        #expect(ComparisonSettings.halfDecadeGrid.dropFirst().allSatisfy { rate in
            LearningRateLadder.below(rate).map { ComparisonSettings.halfDecadeGrid.contains($0) } ?? false
        })
    }

    @Test func testSearchRunsAreEveryTrainedMethodAtEveryRateOfEachBasesGridWithSeedZero() throws {
        let plan = ComparisonPlan(settings: settings)
        let small = plan.searchRuns(base: "small", results: [:])
        #expect(small.count == (3 * 2))
        #expect(small.allSatisfy { $0.base == "small" && $0.setting == .mixed && $0.seed == 0 && $0.task == nil })
        #expect(!(small.contains { $0.method == .base }))
        #expect(Set(small.compactMap(\.learningRate)) == [1e-3, 1e-2])
        let large = plan.searchRuns(base: "large", results: [:])
        #expect(Set(large.compactMap(\.learningRate)) == [1e-2], "a base's own grid")
    }

    @Test func testABestRateOnAnEdgeGrowsTheGridUpToTheAllowedSteps() throws {
        let plan = ComparisonPlan(settings: settings)
        // iapt is best at the top edge, lora at the bottom, prompt-4 inside (after growth stops).
        var results = [run("small", .iapt, 1e-3, dev: 5), run("small", .iapt, 1e-2, dev: 9),
                       run("small", .lora, 1e-3, dev: 9), run("small", .lora, 1e-2, dev: 5),
                       run("small", .prompt4, 1e-3, dev: 5), run("small", .prompt4, 1e-2, dev: 5)]
        var search = Set(plan.searchRuns(base: "small", results: byKey(results)))
        #expect(search.contains(LearningRateSelection.searchKey("small", .iapt, 3e-2)))
        #expect(search.contains(LearningRateSelection.searchKey("small", .lora, 3e-4)))
        // prompt-4's tie goes to the smaller rate, its bottom edge, so it grows as well.
        #expect(search.contains(LearningRateSelection.searchKey("small", .prompt4, 3e-4)))
        #expect(search.count == 6 + 3, "\(search)")
        results += [run("small", .iapt, 3e-2, dev: 12), run("small", .lora, 3e-4, dev: 1)]
        search = Set(plan.searchRuns(base: "small", results: byKey(results)))
        #expect(!search.contains(LearningRateSelection.searchKey("small", .iapt, 1e-1)), "one extension allowed per edge")
        let choices = try #require(LearningRateSelection.choose(settings: settings, results: results)["small"])
        #expect(choices[.iapt]?.learningRate == 3e-2)
        #expect(choices[.iapt]?.isComplete == true)
        #expect(choices[.lora]?.learningRate == 1e-3, "the extension's run was worse: the edge holds, and no further growth is asked")
        #expect(choices[.lora]?.isComplete == true)
    }

    @Test func testFinalRunsCoverEveryMethodSeedAndTaskAtTheChosenRate() throws {
        let plan = ComparisonPlan(settings: settings)
        let chosen = Dictionary(uniqueKeysWithValues: settings.methods.filter(\.isTrained).map { ($0, Float(1e-2)) })
        #expect(plan.floorRuns.map(\.base) == ["small", "large"])
        let small = Set(plan.finalRuns(base: "small", chosen: chosen)), large = Set(plan.finalRuns(base: "large", chosen: chosen))
        for method in settings.methods where method.isTrained {
            for seed in 0..<3 {
                #expect(small.contains(RunKey(base: "small", method: method, setting: .mixed, seed: seed, learningRate: 1e-2)))
                #expect(large.contains(RunKey(base: "large", method: method, setting: .mixed, seed: seed, learningRate: 1e-2)))
                for task in TaskKind.allCases {
                    #expect(small.contains(RunKey(base: "small", method: method, setting: .perTask, task: task, seed: seed, learningRate: 1e-2)))
                    #expect(!large.contains(RunKey(base: "large", method: method, setting: .perTask, task: task, seed: seed, learningRate: 1e-2)))
                }
            }
        }
        // 2 floors; search 3 × 2 (small) + 3 × 1 (large); mixed finals beyond seed 0: 3 × 2 per base; per task 3 × 6 × 3 on small.
        #expect(plan.totalRunCount(results: [:]) == (2 + 6 + 3 + 12 + 54))
    }

    @Test func testTheSeedZeroMixedRunAtTheChosenRateIsTheSearchRun() throws {
        let plan = ComparisonPlan(settings: settings)
        let finals = plan.finalRuns(base: "small", chosen: [.iapt: 1e-3])
        #expect(finals.allSatisfy { $0.method == .iapt })
        let reused = RunKey(base: "small", method: .iapt, setting: .mixed, seed: 0, learningRate: 1e-3)
        #expect(finals.contains(reused))
        #expect(plan.searchRuns(base: "small", results: [:]).contains(reused))
        let results = (plan.floorRuns + plan.searchRuns(base: "small", results: [:]) + plan.searchRuns(base: "large", results: [:]))
            .map { syntheticResult($0, seen: 0, unseen: 0, dev: $0.learningRate == 1e-2 ? 9 : 5) }
        let all = plan.allRuns(results: byKey(results))
        #expect(all.count == Set(all).count, "no run is planned twice")
        #expect(all.count == plan.totalRunCount(results: byKey(results)))
    }

    @Test func testRunFilesAreDistinctPerKey() throws {
        let plan = ComparisonPlan(settings: settings)
        let runs = plan.searchRuns(base: "small", results: [:]) + plan.finalRuns(base: "small", chosen: [.lora: 1e-2, .iapt: 1e-2])
        #expect(Set(runs.map(\.relativePath)).count == Set(runs).count)
        #expect(RunKey(base: "small", method: .lora, setting: .perTask, task: .arithmetic, seed: 2, learningRate: 0.01).relativePath == "small/per-task/lora/arithmetic-seed2-lr0.01.json")
    }

    @Test func testLearningRateSelectionPrefersDevAccuracyThenDevLossThenTheSmallerRate() throws {
        let settings = ComparisonSettings(bases: [BaseSpec(name: "b", path: "p")], methods: [.iapt, .lora, .prompt4], learningRates: [1e-3, 1e-2, 1e-1], gridExtensions: 0)
        let results = [
            run("b", .iapt, 1e-3, dev: 10, loss: 1), run("b", .iapt, 1e-2, dev: 12, loss: 2), run("b", .iapt, 1e-1, dev: 12, loss: 1.5),
            run("b", .lora, 1e-3, dev: 9, loss: 1), run("b", .lora, 1e-2, dev: 9, loss: 1), run("b", .lora, 1e-1, dev: 25, loss: 0.5, diverged: true),
            run("b", .prompt4, 1e-2, dev: 5, loss: 1),
        ]
        let choices = try #require(LearningRateSelection.choose(settings: settings, results: results)["b"])
        #expect(choices[.iapt]?.learningRate == 1e-1, "equal dev accuracy: the lower dev loss wins")
        #expect(choices[.lora]?.learningRate == 1e-3, "a diverged run ranks last; then the smaller rate breaks the tie")
        #expect(choices[.prompt4]?.learningRate == 1e-2)
        #expect(choices[.prompt4]?.isComplete == false)
        #expect(choices[.prompt4]?.pendingRates == [1e-3, 1e-1])
        #expect(choices[.iapt]?.isComplete == true)
        #expect(choices[.iapt]?.isAtSearchEdge == true, "1e-1 is the grid's top and the grid may not grow")
        #expect(choices[.lora]?.isAtSearchEdge == true, "1e-3 is the grid's bottom")
        #expect(choices[.prompt4]?.isAtSearchEdge == false, "an unfinished search is provisional, not at its edge")
    }

    @Test func testMethodsAreStoredByNameAndUnknownNamesAreRefused() throws {
        #expect(Set(ComparisonMethod.catalogue.map(\.rawValue)).count == ComparisonMethod.catalogue.count)
        let data = try JSONEncoder().encode([ComparisonMethod.iaptKV, .loraR8])
        #expect(String(decoding: data, as: UTF8.self) == "[\"iapt-kv\",\"lora-r8\"]")
        #expect(try JSONDecoder().decode([ComparisonMethod].self, from: data) == [.iaptKV, .loraR8])
        #expect(throws: DecodingError.self) { try JSONDecoder().decode([ComparisonMethod].self, from: Data("[\"iapt-x\"]".utf8)) }
        #expect(ComparisonMethod(rawValue: "prefix") == .prefix)
    }

    @Test func testABaseMayCompareFewerRowsAndRunOtherSeedsForSomeOnly() throws {
        var settings = settings
        settings.bases[1].methods = [.base, .iapt, .lora]
        settings.bases[1].seededMethods = [.lora]
        #expect(settings.methods(for: "small") == [.base, .prompt4, .iapt, .lora])
        #expect(settings.methods(for: "large") == [.base, .iapt, .lora])
        #expect(settings.seeds(for: "large", method: .lora) == [0, 1, 2] && settings.seeds(for: "large", method: .iapt) == [0])
        #expect(settings.seeds(for: "small", method: .iapt) == [0, 1, 2])
        let plan = ComparisonPlan(settings: settings)
        #expect(plan.floorRuns.map(\.base) == ["small", "large"])
        #expect(Set(plan.searchRuns(base: "large", results: [:]).map(\.method)) == [.iapt, .lora])
        let finals = plan.finalRuns(base: "large", chosen: [.prompt4: 1e-2, .iapt: 1e-2, .lora: 1e-2])
        #expect(finals.map { "\($0.method.rawValue) \($0.seed)" } == ["iapt 0", "lora 0", "lora 1", "lora 2"])
        // 2 floors; search 3 × 2 (small) + 2 × 1 (large); other seeds 3 × 2 (small) + 2 (large lora); per task 3 × 6 × 3 on small.
        #expect(plan.totalRunCount(results: [:]) == (2 + 6 + 2 + 6 + 2 + 54))
        let results = (plan.floorRuns + plan.searchRuns(base: "small", results: [:]) + plan.searchRuns(base: "large", results: [:]))
            .map { syntheticResult($0, seen: 0, unseen: 0, dev: 5) }
        let all = plan.allRuns(results: byKey(results))
        #expect(all.count == plan.totalRunCount(results: byKey(results)))
        #expect(!all.contains { $0.base == "large" && $0.method == .prompt4 })
        // Without .base among its rows a base has no floor.
        settings.bases[1].methods = [.lora]
        settings.bases[1].seededMethods = nil
        #expect(ComparisonPlan(settings: settings).floorRuns.map(\.base) == ["small"])
    }

    @Test func testABasesRowsAndSeededMethodsGrowAcrossSessions() throws {
        let earlier = ComparisonSettings(bases: [BaseSpec(name: "b", path: "p", methods: [.base, .lora], seededMethods: [.lora])])
        let later = ComparisonSettings(bases: [BaseSpec(name: "b", path: "p", methods: [.iapt], seededMethods: [.iapt])])
        let merged = later.merged(into: earlier)
        #expect(merged.bases[0].methods == [.base, .iapt, .lora], "catalogue order")
        #expect(merged.bases[0].seededMethods == [.iapt, .lora])
        let silent = ComparisonSettings(bases: [BaseSpec(name: "b", path: "p")]).merged(into: earlier)
        #expect(silent.bases[0].methods == [.base, .lora] && silent.bases[0].seededMethods == [.lora], "a session without lists keeps them")
        let first = ComparisonSettings(bases: [BaseSpec(name: "b", path: "p")])
        let narrowed = earlier.merged(into: first)
        #expect(narrowed.bases[0].methods == [.base, .lora] && narrowed.bases[0].seededMethods == [.lora], "a list replaces every method")
    }

    @Test func testSettingsAreMergedAcrossSessions() throws {
        let earlier = ComparisonSettings(bases: [BaseSpec(name: "small", path: "a")], methods: [.base, .iapt], gridExtensions: 3, seedCount: 3)
        let later = ComparisonSettings(bases: [BaseSpec(name: "large", path: "b")], methods: [.lora, .iapt], gridExtensions: 2, seedCount: 1)
        let merged = later.merged(into: earlier)
        #expect(merged.bases.map(\.name) == ["small", "large"])
        #expect(merged.methods == [.base, .iapt, .lora], "catalogue order")
        #expect(merged.seedCount == 3)
        #expect(merged.gridExtensions == 3, "a rate searched under a wider extension stays a candidate")
        #expect(earlier.merged(into: later).gridExtensions == 3)
    }

    @Test func testOutOfRangeSettingsNameTheirOption() throws {
        func option(_ settings: ComparisonSettings) -> String? {
            do { try settings.validate() } catch let ComparisonError.invalidOption(option, _) { return option } catch { return "\(error)" }
            return nil
        }
        #expect(option(ComparisonSettings()) == nil)
        #expect(option(ComparisonSettings(evaluateEvery: 0)) == "--evaluate-every")
        #expect(option(ComparisonSettings(patience: 0)) == "--patience")
        #expect(option(ComparisonSettings(learningRates: [100])) == "--learning-rates")
        #expect(option(ComparisonSettings(bases: [BaseSpec(name: "b", path: "p", learningRates: [0])])) == "--base-grid b")
        #expect(option(ComparisonSettings(mixedSteps: 1_000_000)) == "--mixed-steps")
        #expect(option(ComparisonSettings(bases: [BaseSpec(name: "b", path: "p", mixedSteps: 0)])) == "--base-steps b")
        let perBase = ComparisonSettings(bases: [BaseSpec(name: "a", path: "p"), BaseSpec(name: "b", path: "q", mixedSteps: 600)], mixedSteps: 1500)
        #expect(perBase.steps(for: .mixed, base: "a") == 1500)
        #expect(perBase.steps(for: .mixed, base: "b") == 600)
        #expect(perBase.steps(for: .perTask, base: "b") == perBase.perTaskSteps)
        #expect(option(ComparisonSettings(batchSize: 100_000)) == "--batch-size")
        #expect(option(ComparisonSettings(bases: [BaseSpec(name: "b", path: "p", microBatch: 3)], batchSize: 16)) == "--base-micro-batch b")
        #expect(option(ComparisonSettings(bases: [BaseSpec(name: "b", path: "p", methods: [])])) == "--base-methods b")
        #expect(option(ComparisonSettings(bases: [BaseSpec(name: "b", path: "p", methods: [.lora, .lora])])) == "--base-methods b")
        #expect(option(ComparisonSettings(bases: [BaseSpec(name: "b", path: "p", seededMethods: [])])) == "--base-seeded-methods b")
        #expect(option(ComparisonSettings(bases: [BaseSpec(name: "b", path: "p", methods: [.lora], seededMethods: [.iapt])])) == "--base-seeded-methods b")
        #expect(option(ComparisonSettings(bases: [BaseSpec(name: "b", path: "p", methods: [.base, .lora], seededMethods: [.lora])])) == nil)
        #expect(option(ComparisonSettings(bases: [BaseSpec(name: "b", path: "p", microBatch: 0)], batchSize: 16)) == "--base-micro-batch b")
        #expect(option(ComparisonSettings(bases: [BaseSpec(name: "b", path: "p", microBatch: 8)], batchSize: 16)) == nil)
    }
}
