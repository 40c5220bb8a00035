import Foundation
import Testing
import Tensor
import Autograd
import Transformer
import PEFT

@Suite("Evaluation: exact match and label scoring")
struct EvaluatorTests {
    /// A backbone with a LoRA adapter trained to memorise ``animalSounds``.
    static func trained() throws -> (LlamaModel, LoRAAdapter) {
        let model = try byteBackbone()
        let adapter = try memorisingLoRA(model)
        let options = TrainingOptions(epochs: 40, batchSize: 3, learningRate: 3e-2, warmupFraction: 0, seed: 1)
        _ = try Trainer(model: model, adapter: adapter, options: options).train(on: try byteEncoder().encode(animalSounds))
        return (model, adapter)
    }

    @Test("After training, exact match counts each memorised answer, and a wrong expectation as wrong; the base model gets none")
    func exactMatchAfterTraining() throws {
        let (model, adapter) = try Self.trained()
        let evaluator = try Evaluator(model: model, encoder: try byteEncoder(), batchSize: 4)
        let wrongExpectation = InstructionExample(instruction: "cat", output: "purr", origin: "eval.jsonl:7")
        let examples = animalSounds + [wrongExpectation]
        let report = try evaluator.exactMatch(examples, adapter: adapter, maxNewTokens: 8)
        #expect(report.method == .exactMatch && report.adapter == "LORA")
        #expect(report.predictions.map(\.predicted) == animalPairs.map(\.1) + ["meow"])
        #expect(report.correct == 6 && report.examples == 7)
        #expect(abs(report.accuracy - 6.0 / 7.0) < 1e-12)
        #expect(report.predictions[6] == EvaluationReport.Prediction(
            index: 6, origin: "eval.jsonl:7", expected: "purr", predicted: "meow", isCorrect: false))
        #expect(!adapter.isTraining)

        let shouting = [InstructionExample(instruction: "dog", output: "  WOOF\n")]
        #expect(try evaluator.exactMatch(shouting, adapter: adapter, maxNewTokens: 8).correct == 0)
        #expect(try evaluator.exactMatch(shouting, adapter: adapter, maxNewTokens: 8, caseSensitive: false).correct == 1)

        let base = try evaluator.exactMatch(animalSounds, adapter: nil, maxNewTokens: 8)
        #expect(base.adapter == nil && base.correct == 0)
    }

    @Test("After training, label scoring picks the memorised sound among all candidates")
    func labelScoringAfterTraining() throws {
        let (model, adapter) = try Self.trained()
        let evaluator = try Evaluator(model: model, encoder: try byteEncoder(), batchSize: 5)
        let sounds = animalPairs.map(\.1)
        let report = try evaluator.scoreLabels(animalSounds, candidates: sounds, adapter: adapter)
        #expect(report.method == .labelScoring && report.accuracy == 1)
        for (index, prediction) in report.predictions.enumerated() {
            let scores = try #require(prediction.candidateScores)
            #expect(scores.count == sounds.count && scores.allSatisfy { $0 <= 0 && $0.isFinite })
            #expect(scores.indices.max { scores[$0] < scores[$1] } == index)
        }
    }

    @Test("Label scores are the summed log-probabilities of the candidate's tokens after the prompt, however batched")
    func scoresAreLogLikelihoods() throws {
        let model = try byteBackbone()
        let adapter = try smallIAPT(model)
        try perturb(adapter, seed: 5, scale: 0.1)
        let encoder = try byteEncoder()
        let example = InstructionExample(instruction: "owl", output: "hoot")
        let candidates = ["hoot", "no", "a longer answer"]
        let prompt = try encoder.promptTokens(for: example)
        // By hand: one row per candidate, log-softmax at the slot before each candidate token.
        let expected = try candidates.map { candidate -> Float in
            let tokens = prompt + encoder.responseTokens(candidate)
            let batch = try TokenBatch(rows: [tokens], instructionLengths: [prompt.count])
            let logits = try GradientMode.withoutGradients { try model(batch, adapter: adapter) }.value
            let vocabulary = model.config.vocabSize
            var total: Float = 0
            for position in prompt.count..<tokens.count {
                let row = Array(logits.scalars[((position - 1) * vocabulary)..<(position * vocabulary)])
                let maximum = row.max() ?? 0
                total += row[tokens[position]] - maximum - log(row.reduce(0) { $0 + exp($1 - maximum) })
            }
            return total
        }
        for batchSize in [1, 2, 8] {
            let report = try Evaluator(model: model, encoder: encoder, batchSize: batchSize)
                .scoreLabels([example, example], candidates: candidates, adapter: adapter)
            for prediction in report.predictions {
                let scores = try #require(prediction.candidateScores)
                #expect(zip(scores, expected).allSatisfy { abs($0 - $1) < 1e-3 }, "batch \(batchSize): \(scores) vs \(expected)")
            }
        }
    }

    @Test("Unusable examples and candidates are errors naming the example")
    func errors() throws {
        let model = try byteBackbone()
        let evaluator = try Evaluator(model: model, encoder: try byteEncoder())
        #expect(throws: EvaluationError.noExamples) { try evaluator.exactMatch([], adapter: nil) }
        #expect(throws: EvaluationError.noExpectedOutput(example: "example 0")) {
            try evaluator.exactMatch([InstructionExample(text: "abc")], adapter: nil)
        }
        #expect(throws: EvaluationError.expectedNotAmongCandidates(example: "example 0", expected: "meow", candidates: ["a", "b"])) {
            try evaluator.scoreLabels([animalSounds[0]], candidates: ["a", "b"], adapter: nil)
        }
        #expect(throws: EvaluationError.self) { try evaluator.scoreLabels([animalSounds[0]], candidates: ["meow", ""], adapter: nil) }
        #expect(throws: EvaluationError.self) { try evaluator.scoreLabels(animalSounds, candidatesPerExample: [["meow"]], adapter: nil) }
        #expect(throws: EvaluationError.self) { try Evaluator(model: model, encoder: try byteEncoder(), batchSize: 0) }
    }

    @Test("The report encodes as JSON with snake-case keys and decodes back")
    func reportJSON() throws {
        let report = EvaluationReport(
            method: .labelScoring, adapter: "IAPT",
            predictions: [EvaluationReport.Prediction(index: 0, origin: "dev.jsonl:1", expected: "yes", predicted: "no",
                                                      isCorrect: false, candidateScores: [-1.5, -0.25])],
            elapsedSeconds: 0.5)
        let data = try report.jsonData()
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(object["method"] as? String == "label_scoring" && object["accuracy"] as? Double == 0)
        #expect(object["examples"] as? Int == 1 && object["correct"] as? Int == 0 && object["elapsed_seconds"] as? Double == 0.5)
        let prediction = try #require((object["predictions"] as? [[String: Any]])?.first)
        #expect(prediction["is_correct"] as? Bool == false && prediction["candidate_scores"] as? [Double] == [-1.5, -0.25])
        #expect(try JSONDecoder().decode(EvaluationReport.self, from: data) == report)
    }
}
