import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Testing
@testable import Comparison
import TaskSuite

@Suite struct ReportTests {
    private let settings = ComparisonSettings(
        bases: [BaseSpec(name: "small", path: "bases/small"), BaseSpec(name: "large", path: "bases/large")], perTaskBases: ["small"],
        methods: [.base, .prompt4, .iapt, .lora], learningRates: [1e-3, 1e-2], gridExtensions: 0, seedCount: 3)

    private func key(_ base: String, _ method: ComparisonMethod, seed: Int = 0, rate: Float?, task: TaskKind? = nil) -> RunKey {
        RunKey(base: base, method: method, setting: task == nil ? .mixed : .perTask, task: task, seed: seed, learningRate: rate)
    }

    /// Floors, a complete search, every mixed run on `small`, `large` without LoRA's seed 2, and one
    /// per-task run.
    private func results() -> [RunResult] {
        var results = [
            syntheticResult(key("small", .base, rate: nil), seen: 0.1, unseen: 0.1),
            syntheticResult(key("large", .base, rate: nil), seen: 0.1, unseen: 0.1),
            syntheticResult(key("small", .prompt4, rate: 1e-3), seen: 0.2, unseen: 0.2, dev: 10),
            syntheticResult(key("small", .iapt, rate: 1e-3), seen: 0.2, unseen: 0.2, dev: 10),
            syntheticResult(key("small", .lora, rate: 1e-2), seen: 0.2, unseen: 0.2, dev: 10),
        ]
        let mixed: [(ComparisonMethod, Float, seen: Double, unseen: [Double])] = [
            (.prompt4, 1e-2, 0.5, [0.30, 0.32, 0.34]), (.iapt, 1e-2, 0.6, [0.40, 0.44, 0.50]), (.lora, 1e-3, 0.7, [0.46, 0.48, 0.60]),
        ]
        for (method, rate, seen, unseen) in mixed {
            for (seed, accuracy) in unseen.enumerated() {
                results.append(syntheticResult(key("small", method, seed: seed, rate: rate), seen: seen, unseen: accuracy, dev: seed == 0 ? 15 : 0))
                if !(method == .lora && seed == 2) {
                    results.append(syntheticResult(key("large", method, seed: seed, rate: rate), seen: seen + 0.1, unseen: accuracy + (method == .iapt ? 0.1 : 0)))
                }
            }
        }
        results.append(syntheticResult(key("small", .iapt, rate: 1e-2, task: .sentiment), seen: 0.9, unseen: 0.8, tasks: [.sentiment]))
        return results
    }

    private var summary: ComparisonSummary { ComparisonSummary(manifest: syntheticManifest(settings), results: results()) }

    @Test func testSpreadIsTheMedianAndRange() throws {
        let odd = try #require(Spread([0.5, 0.1, 0.3]))
        #expect(odd.median == 0.3)
        #expect(odd.minimum == 0.1)
        #expect(odd.maximum == 0.5)
        #expect((try #require(Spread([4, 1, 3, 2])).median) == 2.5)
        #expect(Spread([]) == nil)
        #expect(odd.overlaps(try #require(Spread([0.5, 0.9]))))
        #expect(!odd.overlaps(try #require(Spread([0.51, 0.9]))))
    }

    @Test func testSummaryTakesTheChosenRateAndTheMedianOverSeeds() throws {
        let summary = summary
        #expect(summary.choices["small"]?[.prompt4]?.learningRate == 1e-2)
        #expect(summary.choices["small"]?[.lora]?.learningRate == 1e-3)
        let iapt = summary.summary(base: "small", setting: .mixed, method: .iapt)
        #expect(abs(try #require(iapt.averageUnseen?.median) - 0.44) <= 1e-9)
        #expect(abs(try #require(iapt.averageUnseen?.minimum) - 0.40) <= 1e-9)
        #expect(abs(try #require(iapt.averageUnseen?.maximum) - 0.50) <= 1e-9)
        #expect(iapt.unseen[.arithmetic]?.count == 3)
        #expect(summary.summary(base: "large", setting: .mixed, method: .lora).averageUnseen?.count == 2)
        // The search runs at rates that were not chosen are kept for the search table, not the results.
        #expect(summary.summary(base: "small", setting: .mixed, method: .prompt4).averageSeen?.median == 0.5)
        // The per-task average needs every task of a seed.
        let perTask = summary.summary(base: "small", setting: .perTask, method: .iapt)
        #expect(perTask.seen[.sentiment]?.median == 0.9)
        #expect(perTask.seen[.arithmetic] == nil)
        #expect(perTask.averageSeen == nil)
    }

    @Test func testMarkdownShowsMediansRangesMissingCellsAndTheSetup() throws {
        let summary = summary
        let markdown = MarkdownReport.render(summary, workDirectory: ".build/compare")
        #expect(markdown.contains("    peft compare --seeds 3"))
        #expect(markdown.contains("| iapt | 1,000 | 60 (60–60) | 44 (40–50) |"), "\(markdown)")
        #expect(markdown.contains("| 60.0 (60.0–60.0) | 44.0 (40.0–50.0) | 10 | 0.500 (0.500–0.500) |"))
        #expect(markdown.contains("| base | 0 | 10 | 10 |"), "the floor: one evaluation, no range")
        #expect(markdown.contains("47.0 (46.0–48.0)†"), "large's LoRA has 2 of 3 seeds")
        #expect(markdown.contains("| prompt-4 | — | — |"), "per-task cells without runs")
        #expect(markdown.contains("| prompt-4 | 33.3 (1.000) | **50.0 (1.000)** | 0.01 |"), "the search table")
        #expect(markdown.contains("Task suite seed 0"))
        #expect(markdown.contains("Per task: 300 train, 40 dev, 40 test-seen and 40 test-unseen"))
        #expect(markdown.contains("| small | `bases/small` | 2 × 64 |"))
        #expect(markdown.contains("End to end: 2 min 00 s over 2 sessions"))
        var killed = summary.manifest
        killed.sessionSeconds = [90, 0, 30]
        #expect(MarkdownReport.render(ComparisonSummary(manifest: killed, results: summary.results), workDirectory: "w")
            .contains("End to end: 2 min 00 s over 2 sessions"), "a session stopped before its first run finished ran nothing")
        var capped = settings
        capped.bases[1].mixedSteps = 600
        // A base that compares fewer rows, and runs the other seeds for LoRA only, shows only its rows,
        // and IAPT's single planned seed carries no †.
        var narrow = settings
        narrow.bases[1].methods = [.base, .iapt, .lora]
        narrow.bases[1].seededMethods = [.lora]
        let narrowSummary = ComparisonSummary(manifest: syntheticManifest(narrow), results: results())
        let narrowMarkdown = MarkdownReport.render(narrowSummary, workDirectory: "w")
        let largeSection = try #require(narrowMarkdown.components(separatedBy: "### large").dropFirst().first)
        let largeTable = try #require(largeSection.components(separatedBy: "\n#").first)
        #expect(!largeTable.contains("| prompt-4 |"), "\(largeTable)")
        #expect(largeTable.contains("| iapt | 1,000 | 70 | 50 |"), "one planned seed: no range, no †")
        #expect(narrowSummary.summary(base: "large", setting: .mixed, method: .iapt).plannedSeeds == 1)
        #expect(narrowSummary.summary(base: "large", setting: .mixed, method: .lora).plannedSeeds == 3)
        #expect(!narrowMarkdown.contains("cannot yet be compared with prompt-4"), "\(narrowMarkdown)")
        #expect(narrowMarkdown.contains("On large, mixed setting: IAPT's median average unseen accuracy is 50.0 % (1 seed). "
            + "It beats base (10.0 %) and"), "a single seed on both sides has no range to compare: \(narrowMarkdown)")
        let cappedMarkdown = MarkdownReport.render(ComparisonSummary(manifest: syntheticManifest(capped), results: results()), workDirectory: "w")
        #expect(cappedMarkdown.contains("On large a mixed run has its own cap: at most 600 steps (warm-up 30).\n"), "\(cappedMarkdown)")
        #expect(markdown.contains("- small: a mixed run 3.0 s, a per-task run 3.0 s, training at 1,000 tokens/s"), "\(markdown)")
        let missing = summary.plannedRunCount - summary.results.count
        #expect(summary.missingRunCount == missing)
        #expect(markdown.contains("\(missing) of \(summary.plannedRunCount) planned runs have no result yet"))
        // Scale: IAPT's gap to prompt-4 grows by 10 points from small to large.
        #expect(markdown.contains("| prompt-4 | 50.0 | 32.0 | +12.0 | 60.0 | 32.0 | +22.0 | +10.0 |"), "\(markdown)")
    }

    @Test func testTheCurvesSectionSaysWhetherTheChosenRunsPeakedNearTheCap() throws {
        // Every synthetic run has its best dev point at step 10.
        func markdown(mixedSteps: Int, seeds: Int) -> String {
            let settings = ComparisonSettings(
                bases: [BaseSpec(name: "small", path: "bases/small")], methods: [.base, .iapt], mixedSteps: mixedSteps,
                learningRates: [1e-3], gridExtensions: 0, seedCount: seeds)
            let results = [syntheticResult(key("small", .base, rate: nil), seen: 0.1, unseen: 0.1)]
                + (0..<seeds).map { syntheticResult(key("small", .iapt, seed: $0, rate: 1e-3), seen: 0.5, unseen: 0.4) }
            return MarkdownReport.render(ComparisonSummary(manifest: syntheticManifest(settings), results: results), workDirectory: "w")
        }
        #expect(markdown(mixedSteps: 10, seeds: 1).contains(
            "The chosen run peaked in the last tenth of its base's cap: the cap may be short for it, and a longer cap could change its numbers."))
        #expect(markdown(mixedSteps: 10, seeds: 2).contains("2 of 2 chosen runs peaked in the last tenth of their base's cap"))
        #expect(markdown(mixedSteps: 1500, seeds: 2).contains("No chosen run peaked in the last tenth of its base's cap"))
    }

    @Test func testFindingsSayWhichBaselinesIAPTBeatsAndWhetherRangesOverlap() throws {
        var paragraphs = Findings.paragraphs(summary)
        #expect(paragraphs[0] == ("**The paper's first claim on small** (mixed setting, average unseen accuracy, median over seeds; "
            + "iapt 44.0 % with 1,000 parameters). *IAPT beats the earlier prompt methods*: holds against every one compared: "
            + "prompt-4 (32.0 %, 1,000 parameters). *IAPT is competitive with LoRA* (within 2 points or with overlapping ranges "
            + "over seeds): holds against lora (48.0 %, 1,000 parameters; IAPT -4.0 points, the ranges overlap)."), "\(paragraphs[0])")
        #expect(paragraphs[1].contains("*IAPT is competitive with LoRA* (within 2 points or with overlapping ranges over seeds): holds against lora (47.0 %"), "\(paragraphs[1])")
        paragraphs.removeFirst(2)
        #expect(paragraphs[0] == ("On small, mixed setting: IAPT's median average unseen accuracy is 44.0 % (range 40.0–50.0, 3 seeds). "
            + "It beats base (10.0 %; the ranges do not overlap) and prompt-4 (32.0 %; the ranges do not overlap); "
            + "it does not beat lora (48.0 %; the ranges overlap)."))
        #expect(paragraphs[1].hasPrefix("On large, mixed setting: IAPT's median average unseen accuracy is 54.0 %"))
        #expect(paragraphs[1].hasSuffix("It beats base (10.0 %; the ranges do not overlap), prompt-4 (32.0 %; the ranges do not overlap) and lora (47.0 %; the ranges do not overlap)."), "\(paragraphs[1])")
        #expect(paragraphs[2] == "On small, per-task setting: IAPT has no complete results yet, so nothing is compared.")
        #expect(paragraphs[3] == "From small (100 k parameters) to large (200 k), IAPT's average unseen accuracy minus each other method's "
            + "(mixed setting) moves against base from +34.0 to +44.0 points (IAPT gains 10.0), against prompt-4 from +12.0 to +22.0 "
            + "points (IAPT gains 10.0) and against lora from -4.0 to +7.0 points (IAPT gains 11.0).", "\(paragraphs[3])")
        #expect(paragraphs[4].hasPrefix("The largest drop from seen to unseen wordings (mixed setting on small) is lora's: 22.0 points"))
    }

    /// A run at 1e-3 on `base` whose unseen split has the given correct counts of 40, task by task.
    private func result(_ base: String, _ method: ComparisonMethod, unseen counts: [Int]) -> RunResult {
        var result = syntheticResult(key(base, method, rate: 1e-3), seen: 0.6, unseen: 0.6)
        result.testUnseen = Dictionary(uniqueKeysWithValues: zip(TaskKind.allCases, counts).map { ($0.rawValue, Score(correct: $1, total: 40)) })
        return result
    }

    /// SmolLM2's IAPT and IAPT-kv at seed 0 (154 of 240 unseen each, spread differently): the means
    /// over tasks differ in the last bit, and the findings must still call them level.
    @Test func testFindingsCompareAccuraciesAtThePrecisionTheyPrint() throws {
        let settings = ComparisonSettings(
            bases: [BaseSpec(name: "small", path: "bases/small")], methods: [.base, .iapt, .iaptKV],
            learningRates: [1e-3], gridExtensions: 0, seedCount: 1)
        let results = [
            syntheticResult(key("small", .base, rate: nil), seen: 0, unseen: 0),
            result("small", .iapt, unseen: [40, 23, 24, 24, 38, 5]), result("small", .iaptKV, unseen: [36, 24, 31, 24, 38, 1]),
        ]
        let paragraphs = Findings.paragraphs(ComparisonSummary(manifest: syntheticManifest(settings), results: results))
        #expect(!paragraphs[0].contains("best variant"), "\(paragraphs[0])")
        #expect(paragraphs[1].hasSuffix("Against its variants, it ties with iapt-kv (64.2 %)."), "\(paragraphs[1])")
    }

    /// A gap that prints the same on both bases is "unchanged", even when its float bits differ: on the
    /// small base IAPT and IAPT-kv answer 154 of 240 spread differently (a gap of a few ulps), on the
    /// large one they answer alike (a gap of exactly 0).
    @Test func testScaleReadsGapsAtThePrecisionItPrints() throws {
        let settings = ComparisonSettings(
            bases: [BaseSpec(name: "small", path: "bases/small"), BaseSpec(name: "large", path: "bases/large")],
            methods: [.iapt, .iaptKV, .lora], learningRates: [1e-3], gridExtensions: 0, seedCount: 1)
        let results = [
            result("small", .iapt, unseen: [40, 23, 24, 24, 38, 5]), result("small", .iaptKV, unseen: [36, 24, 31, 24, 38, 1]),
            result("large", .iapt, unseen: [36, 24, 31, 24, 38, 1]), result("large", .iaptKV, unseen: [36, 24, 31, 24, 38, 1]),
            result("small", .lora, unseen: [10, 10, 10, 10, 10, 10]), result("large", .lora, unseen: [20, 20, 20, 20, 20, 20]),
        ]
        let summary = ComparisonSummary(manifest: syntheticManifest(settings), results: results)
        let small = try #require(summary.summary(base: "small", setting: .mixed, method: .iapt).averageUnseen?.median)
        let smallKV = try #require(summary.summary(base: "small", setting: .mixed, method: .iaptKV).averageUnseen?.median)
        #expect(small != smallKV, "the case needs a gap that is not exactly zero")
        let scale = try #require(Findings.paragraphs(summary).first { $0.hasPrefix("From small") })
        #expect(scale.contains("against iapt-kv from 0.0 to 0.0 points (unchanged)"), "\(scale)")
        // IAPT leads LoRA on both bases, by less on the large one (94 then 34 answers of 240).
        #expect(scale.contains("against lora from +39.2 to +14.2 points (IAPT loses 25.0)"), "\(scale)")
    }

    /// 44 % against 46 % is the margin exactly, though 0.44 - 0.46 is a little below -0.02 in floating point.
    @Test func testCompetitiveWithLoRAAtTheMarginItself() throws {
        let settings = ComparisonSettings(
            bases: [BaseSpec(name: "small", path: "bases/small")], methods: [.iapt, .lora],
            learningRates: [1e-3], gridExtensions: 0, seedCount: 1)
        let results = [.iapt, .lora].map { method in
            syntheticResult(key("small", method, rate: 1e-3), seen: 0.5, unseen: method == .iapt ? 0.44 : 0.46)
        }
        let claim = Findings.paragraphs(ComparisonSummary(manifest: syntheticManifest(settings), results: results))[0]
        #expect(claim.hasSuffix("holds against lora (46.0 %, 1,000 parameters; IAPT -2.0 points)."), "\(claim)")
    }

    @Test func testSVGIsWellFormedWithABarPerValueAndAMarkForMissingOnes() throws {
        let svg = SVGChart.render(summary)
        final class Collector: NSObject, XMLParserDelegate {
            var bars = 0, titles: [String] = [], texts: [String] = [], inTitle = false, inText = false
            func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?, attributes: [String: String] = [:]) {
                if name == "rect" && attributes["class"] == "bar" { bars += 1 }
                if name == "title" { inTitle = true; titles.append("") }
                if name == "text" { inText = true; texts.append("") }
            }
            func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
                if name == "title" { inTitle = false }
                if name == "text" { inText = false }
            }
            func parser(_ parser: XMLParser, foundCharacters string: String) {
                if inTitle { titles[titles.count - 1] += string }
                if inText { texts[texts.count - 1] += string }
            }
        }
        let parser = XMLParser(data: Data(svg.utf8))
        let collector = Collector()
        parser.delegate = collector
        #expect(parser.parse(), "\(parser.parserError.map(String.init(describing:)) ?? "")")
        // Mixed: 2 bases × 4 methods × 2 splits; per-task on small: the base model's 2 bars only.
        #expect(collector.bars == (2 * 4 * 2 + 2))
        #expect(collector.titles.contains("iapt, test-unseen: 44.0 % (40.0–50.0, 3 seeds)"), "\(collector.titles)")
        #expect(collector.titles.contains("base, test-seen: 10.0 %"))
        #expect((collector.texts.filter { $0 == "—" }.count) == 3, "per-task prompt-4, iapt and lora have no average")
        #expect(collector.texts.contains("small, per-task setting: average accuracy (%)"))
    }

    @Test func testRenderingAnEmptyWorkDirectoryIsAnError() throws {
        let directory = temporaryFolder("empty")
        do {
            let error = try #require(throws: (any Error).self) { try ComparisonReport.write(workDirectory: directory, workDirectoryName: "x", outputDirectory: directory) }
            #expect((error as? ComparisonError) == .nothingToRender(path: directory.path))
        }
    }

    @Test func testFormatting() throws {
        #expect(ReportFormat.count(1_234_567) == "1,234,567")
        #expect(ReportFormat.count(999) == "999")
        #expect(ReportFormat.points(0.0333) == "+3.3")
        #expect(ReportFormat.points(-0.01) == "-1.0")
        #expect(ReportFormat.points(0.00001) == "0.0")
        #expect(ReportFormat.rate(1e-3) == "0.001")
        #expect(ReportFormat.duration(3725) == "1 h 02 min")
        #expect(ReportFormat.counted(1, "run") == "1 run")
        #expect(ReportFormat.counted(0, "run") == "0 runs")
        #expect(ReportFormat.counted(12, "chosen run") == "12 chosen runs")
        #expect(ComparisonRunner.remaining(1, []) == "; 1 run left")
        #expect(ComparisonRunner.remaining(3, [60, 120]) == "; 3 runs left, about 4 min 30 s")
        #expect(ReportFormat.percent(Spread([0.5]), planned: 3) == "50.0 (50.0–50.0)†")
        #expect(ReportFormat.percent(nil, planned: 3) == "—")
    }
}
