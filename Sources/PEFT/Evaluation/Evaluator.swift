import Autograd
import Foundation
import Tensor
import Transformer

/// Measures how well a model, with an adapter or without, answers instruction examples.
///
/// Two ways, both batched, without gradients, and with the adapter (if any) in evaluation mode and
/// routed to every row through ``AdapterRouter``; the prompt (``InstructionEncoder/promptTokens(for:)``)
/// is the instruction that instruction-aware adapters read:
/// - ``exactMatch(_:adapter:maxNewTokens:caseSensitive:)``: greedy generation from the prompt
///   until EOS, the response compared with the expected output (both trimmed of surrounding
///   whitespace);
/// - ``scoreLabels(_:candidates:adapter:)``: for classification, the summed log-likelihood of each
///   candidate answer's tokens after the prompt (teacher-forced); the highest wins.
public struct Evaluator {
    /// The backbone.
    public let model: LlamaModel
    /// How examples become prompts (and candidates tokens).
    public let encoder: InstructionEncoder
    /// Rows per forward pass: prompts per generation batch, or prompt–candidate pairs when scoring.
    public let batchSize: Int

    /// - Throws: ``EvaluationError/invalidSettings(_:)`` if `batchSize < 1`.
    public init(model: LlamaModel, encoder: InstructionEncoder, batchSize: Int = 8) throws {
        guard batchSize >= 1 else { throw EvaluationError.invalidSettings("batchSize must be at least 1, got \(batchSize)") }
        self.model = model
        self.encoder = encoder
        self.batchSize = batchSize
    }

    /// Exact match of greedy generations with the expected outputs.
    ///
    /// Each prompt is continued greedily for at most `maxNewTokens` tokens or until the tokenizer's
    /// EOS; the generated tokens before EOS are decoded without special tokens and trimmed of
    /// surrounding whitespace and newlines, as is the expected output; they match when equal
    /// (ignoring case unless `caseSensitive`).
    /// - Parameters:
    ///   - examples: instruction examples with outputs.
    ///   - adapter: the adapter to evaluate, or `nil` for the base model.
    /// - Throws: ``EvaluationError`` for no examples, a plain-text example, an empty prompt or
    ///   `maxNewTokens < 1`; ``InstructionDataError/promptTooLong(example:promptTokens:maxLength:)``;
    ///   errors of the model and tokenizer.
    public func exactMatch(
        _ examples: [InstructionExample], adapter: (any Adapter)?, maxNewTokens: Int = 64, caseSensitive: Bool = true
    ) throws -> EvaluationReport {
        guard maxNewTokens >= 1 else { throw EvaluationError.invalidSettings("maxNewTokens must be at least 1, got \(maxNewTokens)") }
        let (prompts, expected) = try promptsAndOutputs(examples)
        let started = ContinuousClock.now
        let stopTokens = Set(encoder.tokenizer.eosTokenID.map { [$0] } ?? [])
        let generated = try inEvaluationMode(adapter) {
            try stride(from: 0, to: prompts.count, by: batchSize).flatMap { start in
                let chunk = Array(prompts[start..<min(start + batchSize, prompts.count)])
                return try model.generate(
                    prompts: chunk, options: GenerationOptions(maxNewTokens: maxNewTokens, stopTokens: stopTokens),
                    adapter: adapter, instructionLengths: chunk.map(\.count))
            }
        }
        let predictions = try examples.indices.map { index in
            let response = Array(generated[index].prefix { !stopTokens.contains($0) })
            let predicted = try encoder.tokenizer.decode(response, skipSpecialTokens: true)
            let isCorrect = caseSensitive
                ? Self.trimmed(predicted) == Self.trimmed(expected[index])
                : Self.trimmed(predicted).lowercased() == Self.trimmed(expected[index]).lowercased()
            return EvaluationReport.Prediction(
                index: index, origin: examples[index].origin, expected: expected[index], predicted: Self.trimmed(predicted),
                isCorrect: isCorrect)
        }
        return EvaluationReport(
            method: .exactMatch, adapter: adapter.map { type(of: $0).peftType }, predictions: predictions,
            elapsedSeconds: Self.seconds(since: started))
    }

    /// Label scoring with one candidate list for every example (the classes of a classification
    /// task); see ``scoreLabels(_:candidatesPerExample:adapter:)``.
    public func scoreLabels(
        _ examples: [InstructionExample], candidates: [String], adapter: (any Adapter)?
    ) throws -> EvaluationReport {
        try scoreLabels(examples, candidatesPerExample: Array(repeating: candidates, count: examples.count), adapter: adapter)
    }

    /// Label scoring: for each example, the candidate whose tokens (``InstructionEncoder/responseTokens(_:)``,
    /// no EOS) have the highest summed log-likelihood after the prompt; the first on ties. The
    /// prediction is correct when that candidate is the expected output (both trimmed).
    ///
    /// Sums favour short candidates when candidates differ in token count; compare candidates of
    /// similar length, or read ``EvaluationReport/Prediction/candidateScores``.
    /// - Parameters:
    ///   - candidatesPerExample: per example, its candidate answers (e.g. a choice of alternatives).
    ///   - adapter: the adapter to evaluate, or `nil` for the base model.
    /// - Throws: ``EvaluationError`` for no examples, a count mismatch, a plain-text example, an
    ///   empty prompt, no or empty candidates, or an expected output that is no candidate;
    ///   ``InstructionDataError/promptTooLong(example:promptTokens:maxLength:)``; errors of the model.
    public func scoreLabels(
        _ examples: [InstructionExample], candidatesPerExample: [[String]], adapter: (any Adapter)?
    ) throws -> EvaluationReport {
        guard candidatesPerExample.count == examples.count else {
            throw EvaluationError.invalidSettings("\(candidatesPerExample.count) candidate lists for \(examples.count) examples")
        }
        let (prompts, expected) = try promptsAndOutputs(examples)
        var rows: [(example: Int, tokens: [Int], promptLength: Int)] = []
        var answers: [Int] = []
        for (index, candidates) in candidatesPerExample.enumerated() {
            let name = examples[index].name(index: index)
            guard !candidates.isEmpty else { throw EvaluationError.badCandidates(example: name, reason: "no candidates") }
            let trimmedCandidates = candidates.map(Self.trimmed)
            guard let answer = trimmedCandidates.firstIndex(of: Self.trimmed(expected[index])) else {
                throw EvaluationError.expectedNotAmongCandidates(example: name, expected: expected[index], candidates: candidates)
            }
            answers.append(answer)
            for candidate in candidates {
                let tokens = encoder.responseTokens(candidate)
                guard !tokens.isEmpty else {
                    throw EvaluationError.badCandidates(example: name, reason: "the candidate \"\(candidate)\" has no tokens")
                }
                rows.append((index, prompts[index] + tokens, prompts[index].count))
            }
        }
        let started = ContinuousClock.now
        let scores = try inEvaluationMode(adapter) {
            try stride(from: 0, to: rows.count, by: batchSize).flatMap { start in
                try logLikelihoods(Array(rows[start..<min(start + batchSize, rows.count)]), adapter: adapter)
            }
        }
        var offset = 0
        let predictions = candidatesPerExample.enumerated().map { index, candidates in
            let exampleScores = Array(scores[offset..<(offset + candidates.count)])
            offset += candidates.count
            var best = 0
            for candidate in exampleScores.indices where exampleScores[candidate] > exampleScores[best] { best = candidate }
            return EvaluationReport.Prediction(
                index: index, origin: examples[index].origin, expected: expected[index], predicted: candidates[best],
                isCorrect: best == answers[index], candidateScores: exampleScores)
        }
        return EvaluationReport(
            method: .labelScoring, adapter: adapter.map { type(of: $0).peftType }, predictions: predictions,
            elapsedSeconds: Self.seconds(since: started))
    }

    /// The summed log-likelihood (nats) of each row's tokens after its prompt, in one forward pass.
    private func logLikelihoods(_ rows: [(example: Int, tokens: [Int], promptLength: Int)], adapter: (any Adapter)?) throws -> [Float] {
        let batch = try TokenBatch(
            rows: rows.map(\.tokens), padding: .right, instructionLengths: rows.map(\.promptLength))
        let logits = try model(batch, adapter: adapter, logits: .all).value
        let (length, vocabulary) = (batch.length, model.config.vocabSize)
        return logits.withUnsafeBufferPointer { values in
            rows.enumerated().map { row, entry in
                var total = 0.0
                for position in entry.promptLength..<entry.tokens.count {
                    let start = (row * length + position - 1) * vocabulary
                    let slot = UnsafeBufferPointer(rebasing: values[start..<(start + vocabulary)])
                    let maximum = slot.max() ?? 0
                    let logSumExp = Double(maximum) + log(slot.reduce(0.0) { $0 + exp(Double($1 - maximum)) })
                    total += Double(slot[entry.tokens[position]]) - logSumExp
                }
                return Float(total)
            }
        }
    }

    /// Each example's checked, non-empty prompt tokens and its expected output.
    private func promptsAndOutputs(_ examples: [InstructionExample]) throws -> ([[Int]], [String]) {
        guard !examples.isEmpty else { throw EvaluationError.noExamples }
        var prompts: [[Int]] = [], outputs: [String] = []
        for (index, example) in examples.enumerated() {
            guard let output = example.expectedOutput else { throw EvaluationError.noExpectedOutput(example: example.name(index: index)) }
            let prompt = try encoder.checkedPromptTokens(for: example, index: index)
            guard !prompt.isEmpty else { throw EvaluationError.emptyPrompt(example: example.name(index: index)) }
            prompts.append(prompt)
            outputs.append(output)
        }
        return (prompts, outputs)
    }

    /// Runs `body` without gradients and with `adapter` out of training mode, restoring the mode.
    private func inEvaluationMode<Result>(_ adapter: (any Adapter)?, _ body: () throws -> Result) throws -> Result {
        let wasTraining = adapter?.isTraining ?? false
        adapter?.isTraining = false
        defer { adapter?.isTraining = wasTraining }
        return try GradientMode.withoutGradients(body)
    }

    private static func trimmed(_ text: String) -> String { text.trimmingCharacters(in: .whitespacesAndNewlines) }

    private static func seconds(since start: ContinuousClock.Instant) -> Double {
        let duration = ContinuousClock.now - start
        return Double(duration.components.seconds) + Double(duration.components.attoseconds) * 1e-18
    }
}
