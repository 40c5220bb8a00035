import ArgumentParser
import Foundation
import PEFT
import Transformer

/// `peft eval`: accuracy of a model, with or without an adapter, on instruction data.
struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Exact-match accuracy of greedy answers, or label-scoring accuracy with --labels.")

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
        let backbone = try model.loadModel()
        let tokenizer = try model.loadTokenizer()
        let examples = try InstructionData.load(contentsOf: URL(fileURLWithPath: data))
        let evaluator = try Evaluator(model: backbone, encoder: encoding.encoder(tokenizer: tokenizer), batchSize: batchSize)
        let loaded = try adapter.load(for: backbone)
        let report: EvaluationReport
        if let labels {
            let candidates = labels.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            report = try evaluator.scoreLabels(examples, candidates: candidates, adapter: loaded)
        } else {
            report = try evaluator.exactMatch(examples, adapter: loaded, maxNewTokens: maxNewTokens, caseSensitive: caseSensitive)
        }
        if json {
            print(String(decoding: try report.jsonData(prettyPrinted: true), as: UTF8.self))
        } else {
            print(String(format: "accuracy %.4f (%d of %d) in %.1f s", report.accuracy, report.correct, report.examples, report.elapsedSeconds))
        }
    }
}
