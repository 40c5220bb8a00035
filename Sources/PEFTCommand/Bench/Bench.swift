import ArgumentParser

/// `peft bench …`: release-build benchmarks that print what they measured and on what.
struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Benchmarks (build with -c release).",
        subcommands: [GEMMBenchmark.self, ForwardBenchmark.self, TrainBenchmark.self, ServeBenchmark.self]
    )
}
