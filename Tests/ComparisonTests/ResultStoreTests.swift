import Foundation
import Testing
@testable import Comparison

@Suite struct ResultStoreTests {
    @Test func testResultsRoundTripByKey() throws {
        let store = ResultStore(directory: temporaryFolder("store"))
        let key = RunKey(base: "tiny", method: .iapt, setting: .perTask, task: .arithmetic, seed: 1, learningRate: 0.01)
        #expect((try store.result(for: key)) == nil)
        var result = syntheticResult(key, seen: 0.5, unseen: 0.25, tasks: [.arithmetic], devLoss: .nan)
        result.divergedAtStep = 7
        try store.save(result)
        let loaded = try #require(try store.result(for: key))
        #expect(loaded.key == key)
        #expect(loaded.testUnseen == result.testUnseen)
        #expect(loaded.divergedAtStep == 7)
        #expect(loaded.devLoss?.isNaN ?? false, "a non-finite loss survives the JSON file")
        let other = RunKey(base: "tiny", method: .base, setting: .mixed, seed: 0, learningRate: nil)
        try store.save(syntheticResult(other, seen: 0.1, unseen: 0.1))
        #expect(Set(try store.allResults().map(\.key)) == [key, other])
    }

    @Test func testUnreadableOrMisplacedResultsAreErrorsThatNameTheFile() throws {
        let directory = temporaryFolder("store-bad")
        let store = ResultStore(directory: directory)
        let key = RunKey(base: "tiny", method: .lora, setting: .mixed, seed: 0, learningRate: 0.1)
        let url = directory.appendingPathComponent("runs").appendingPathComponent(key.relativePath)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data("{not json".utf8).write(to: url)
        do {
            let error = try #require(throws: (any Error).self) { try store.result(for: key) }
            #expect("\(error)".contains(url.path), "\(error)")
        }
        let wrong = RunKey(base: "tiny", method: .lora, setting: .mixed, seed: 1, learningRate: 0.1)
        try JSONEncoder().encode(syntheticResult(wrong, seen: 0, unseen: 0)).write(to: url)
        do {
            let error = try #require(throws: (any Error).self) { try store.result(for: key) }
            #expect("\(error)".contains("holds the result of another run"), "\(error)")
        }
    }

    @Test func testBadOptionsNameTheOption() throws {
        do {
            let error = try #require(throws: (any Error).self) { try BaseSpec(parsing: "no-equals-sign") }
            #expect("\(error)" == "--base: 'no-equals-sign' is not NAME=PATH")
        }
        do {
            let error = try #require(throws: (any Error).self) { try BaseSpec(parsing: "a/b=folder") }
            #expect("\(error)".hasPrefix("--base: the name 'a/b' must be"), "\(error)")
        }
        #expect((try BaseSpec(parsing: "big=/models/a=b")) == BaseSpec(name: "big", path: "/models/a=b"))
        let cases: [(ComparisonSettings, String)] = [
            (ComparisonSettings(seedCount: 0), "--seeds: must be in 1...100, got 0"),
            (ComparisonSettings(learningRates: [0.1, -1]), "--learning-rates: rates must be in 1e-07...10.0, got [0.1, -1.0]"),
            (ComparisonSettings(perTaskBases: ["other"]), "--per-task-bases: 'other' is not a base (bundled)"),
            (ComparisonSettings(sizes: .init(train: 0, dev: 1, testSeen: 1, testUnseen: 1)), "--train-size: must be in 1...1000000, got 0"),
            (ComparisonSettings(warmupFraction: 1), "--warmup: must be in [0, 1), got 1.0"),
            (ComparisonSettings(bases: [BaseSpec(name: "a", path: "x"), BaseSpec(name: "a", path: "y")]), "--base: base names must differ, got [\"a\", \"a\"]"),
        ]
        for (settings, message) in cases {
            let error = try #require(throws: (any Error).self) { try settings.validate() }
            #expect("\(error)" == message)
        }
    }

    @Test func testAMissingBaseFolderOrTokenizerIsAnErrorNamingIt() throws {
        let missing = temporaryFolder("missing").path
        let runner = ComparisonRunner(
            settings: ComparisonSettings(bases: [BaseSpec(name: "gone", path: missing)]), workDirectory: temporaryFolder("work"),
            command: "peft compare", log: { _ in })
        do {
            let error = try #require(throws: (any Error).self) { try runner.run() }
            #expect((error as? ComparisonError) == .badBase(name: "gone", path: missing, reason: "no such folder or file"))
            #expect("\(error)".contains("base 'gone' at \(missing): no such folder or file"))
        }
        let folder = try tinyBaseFolder("no-tokenizer")
        try FileManager.default.removeItem(at: folder.appendingPathComponent("tokenizer.json"))
        let data = try ComparisonData(settings: ComparisonSettings(tasks: [.sentiment], sizes: .init(train: 1, dev: 1, testSeen: 1, testUnseen: 1)))
        do {
            let error = try #require(throws: (any Error).self) { try LoadedBase(spec: BaseSpec(name: "t", path: folder.path), data: data) }
            #expect((error as? ComparisonError) == .badBase(name: "t", path: folder.path, reason: "no tokenizer.json"))
        }
    }
}
