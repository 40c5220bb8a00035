import Foundation
import FuzzSupport
import Testing

/// The CI smoke of the fuzzing harness: every target's seed files parse, and a second of mutated
/// inputs per target runs in this process without crashing it (a crash fails the whole test run,
/// which is the point). `peft-fuzz run` is the long, isolated run.
///
/// Serialized, and each target run on a thread of its own: `serve-command` waits for a server
/// running on the concurrency pool, which must not be the thread that waits.
@Suite("Fuzzing harness smoke", .serialized)
struct FuzzSmokeTests {
    private let corpus: SeedCorpus

    init() throws {
        corpus = try SeedCorpus(url: SeedCorpus.packageCorpusURL)
    }

    @Test func everyTargetHasSeeds() {
        for target in FuzzTargets.all {
            #expect(!corpus.files(for: target.name).isEmpty, "\(target.name) has no seed files")
        }
    }

    @Test(arguments: FuzzTargets.all.map(\.name))
    func seedFilesParse(target name: String) async throws {
        let target = try #require(FuzzTargets.named(name))
        let corpus = corpus
        #expect(try await offPool { try InProcessFuzzing.rejectedSeeds(of: target, corpus: corpus) } == [])
    }

    @Test(arguments: FuzzTargets.all.map(\.name))
    func mutatedInputsDoNotCrash(target name: String) async throws {
        let target = try #require(FuzzTargets.named(name))
        let corpus = corpus
        let summary = try await offPool { try InProcessFuzzing.run(target, corpus: corpus, seed: 2024, inputs: 2000, timeBudget: 1) }
        #expect(summary.inputs > corpus.files(for: name).count)
    }

    @Test func inputsAreReproducible() throws {
        let seeds = corpus.files(for: "config-json")
        let mutator = Mutator(seeds: seeds, format: .json)
        for index in [0, seeds.count, 17, 999] {
            #expect(mutator.input(seed: 5, index: index) == mutator.input(seed: 5, index: index))
        }
        #expect(mutator.input(seed: 5, index: 100) != mutator.input(seed: 6, index: 100))
    }
}

/// Runs `body` on a new thread, outside the concurrency pool, and returns what it returns.
private func offPool<Value: Sendable>(_ body: @escaping @Sendable () throws -> Value) async throws -> Value {
    try await withCheckedThrowingContinuation { continuation in
        Thread { continuation.resume(with: Result<Value, any Error> { try body() }) }.start()
    }
}
