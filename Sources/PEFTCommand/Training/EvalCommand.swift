import ArgumentParser
import Foundation
import MPITraining
import PEFT
import Transformer

/// `peft eval`: accuracy of a model, with or without an adapter, on instruction data; under
/// `mpirun -np N` the ranks evaluate the examples in turn (example i on rank i mod N) and rank 0
/// prints the whole report.
struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Exact-match accuracy of greedy answers, or label-scoring accuracy with --labels.",
        discussion: "Under mpirun -np N the ranks share the examples and rank 0 prints the whole report.")

    @OptionGroup var model: ModelOptions
    @OptionGroup var adapter: AdapterOptions
    @OptionGroup var encoding: EncodingOptions

    @Option(help: "Evaluation data: JSON Lines of {\"instruction\", \"input\"?, \"output\"}.")
    var data: String

    @Option(help: "Comma-separated candidate answers: score each and pick the most likely (classification).")
    var labels: String?

    @Option(help: "Longest generated answer, in tokens.")
    var maxNewTokens = 32

    @Option(help: "Prompts per batch.")
    var batchSize = 8

    @Flag(help: "Compare answers case-sensitively.")
    var caseSensitive = false

    @Flag(help: "Print the full report (every prediction) as JSON.")
    var json = false

    func validate() throws {
        try checkRanges([("--max-new-tokens", maxNewTokens, 1...1_000_000), ("--batch-size", batchSize, 1...4096)])
        if let labels {
            let candidates = labels.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            guard candidates.count >= 2, candidates.allSatisfy({ !$0.isEmpty }) else {
                throw ValidationError("--labels needs two or more non-empty answers separated by commas, got '\(labels)'")
            }
        }
    }

    func run() throws {
        try DataParallelLaunch.run(command: "eval") { group in try evaluate(group: group) }
    }

    /// The evaluation, on one process (`group` nil) or of one rank's share of the examples.
    private func evaluate(group: MPIGroup?) throws {
        let backbone = try model.loadModel()
        let tokenizer = try model.loadTokenizer()
        let allExamples = try InstructionData.load(contentsOf: URL(fileURLWithPath: data))
        let (rank, ranks) = (group?.rank ?? 0, group?.size ?? 1)
        let mine = Array(stride(from: rank, to: allExamples.count, by: ranks))
        let examples = mine.map { allExamples[$0] }
        let evaluator = try Evaluator(model: backbone, encoder: encoding.encoder(tokenizer: tokenizer), batchSize: batchSize)
        let loaded = try adapter.load(for: backbone)
        var report: EvaluationReport
        if examples.isEmpty {
            report = EvaluationReport(
                method: labels == nil ? .exactMatch : .labelScoring, adapter: loaded.map { type(of: $0).peftType },
                predictions: [], elapsedSeconds: 0)
        } else if let labels {
            let candidates = labels.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            report = try evaluator.scoreLabels(examples, candidates: candidates, adapter: loaded)
        } else {
            report = try evaluator.exactMatch(examples, adapter: loaded, maxNewTokens: maxNewTokens, caseSensitive: caseSensitive)
        }
        for index in report.predictions.indices { report.predictions[index].index = mine[report.predictions[index].index] }
        if let group, ranks > 1 {
            let decoder = JSONDecoder()
            decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
            let reports = try group.gather(report.jsonData()).map { try decoder.decode(EvaluationReport.self, from: $0) }
            report.predictions = reports.flatMap(\.predictions).sorted { $0.index < $1.index }
            report.elapsedSeconds = reports.map(\.elapsedSeconds).max() ?? 0
            guard rank == 0 else { return }
        }
        if json {
            print(String(decoding: try report.jsonData(prettyPrinted: true), as: UTF8.self))
        } else {
            print(String(format: "accuracy %.4f (%d of %d) in %.1f s", report.accuracy, report.correct, report.examples, report.elapsedSeconds))
        }
    }
}
