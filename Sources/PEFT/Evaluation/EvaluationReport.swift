import Foundation

/// The result of an evaluation, per example and overall; `Codable` for `peft eval --json`.
///
/// JSON keys are snake case: `method`, `adapter`, `examples`, `correct`, `accuracy`,
/// `elapsed_seconds`, `predictions` (each with `index`, `origin`, `expected`, `predicted`,
/// `is_correct` and, for label scoring, `candidate_scores`).
public struct EvaluationReport: Sendable, Equatable, Codable {
    /// How predictions were made.
    public enum Method: String, Sendable, Codable {
        /// Greedy generation from the prompt, compared with the expected output.
        case exactMatch = "exact_match"
        /// The candidate answer with the highest log-likelihood after the prompt.
        case labelScoring = "label_scoring"
    }

    /// One example's outcome.
    public struct Prediction: Sendable, Equatable, Codable {
        /// The example's position in the evaluated list, from 0.
        public var index: Int
        /// Where the example came from (`file:line`), when known.
        public var origin: String?
        /// The expected output.
        public var expected: String
        /// The generated response (trimmed), or the chosen candidate.
        public var predicted: String
        /// Whether the prediction counts as correct.
        public var isCorrect: Bool
        /// Label scoring only: each candidate's summed log-likelihood (nats), in candidate order.
        public var candidateScores: [Float]?

        /// An outcome with the given values; see each property for its meaning.
        public init(
            index: Int, origin: String?, expected: String, predicted: String, isCorrect: Bool, candidateScores: [Float]? = nil
        ) {
            self.index = index
            self.origin = origin
            self.expected = expected
            self.predicted = predicted
            self.isCorrect = isCorrect
            self.candidateScores = candidateScores
        }

        private enum CodingKeys: String, CodingKey {
            case index, origin, expected, predicted, isCorrect = "is_correct", candidateScores = "candidate_scores"
        }
    }

    /// How predictions were made.
    public var method: Method
    /// The evaluated adapter's `peft_type`, or `nil` for the base model.
    public var adapter: String?
    /// Every example's outcome, in order.
    public var predictions: [Prediction]
    /// Seconds the evaluation took.
    public var elapsedSeconds: Double

    /// A report of `predictions`; the counts and accuracy follow from them.
    public init(method: Method, adapter: String?, predictions: [Prediction], elapsedSeconds: Double) {
        self.method = method
        self.adapter = adapter
        self.predictions = predictions
        self.elapsedSeconds = elapsedSeconds
    }

    /// The number of examples.
    public var examples: Int { predictions.count }
    /// The number of correct predictions.
    public var correct: Int { predictions.filter(\.isCorrect).count }
    /// ``correct`` / ``examples`` (0 for no examples).
    public var accuracy: Double { examples == 0 ? 0 : Double(correct) / Double(examples) }

    private enum CodingKeys: String, CodingKey {
        case method, adapter, examples, correct, accuracy, elapsedSeconds = "elapsed_seconds", predictions
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        method = try container.decode(Method.self, forKey: .method)
        adapter = try container.decodeIfPresent(String.self, forKey: .adapter)
        predictions = try container.decode([Prediction].self, forKey: .predictions)
        elapsedSeconds = try container.decode(Double.self, forKey: .elapsedSeconds)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(method, forKey: .method)
        try container.encode(adapter, forKey: .adapter)
        try container.encode(examples, forKey: .examples)
        try container.encode(correct, forKey: .correct)
        try container.encode(accuracy, forKey: .accuracy)
        try container.encode(elapsedSeconds, forKey: .elapsedSeconds)
        try container.encode(predictions, forKey: .predictions)
    }

    /// The report as JSON with sorted keys; non-finite scores are written as the strings `"inf"`,
    /// `"-inf"` and `"nan"`.
    /// - Throws: `EncodingError` if encoding fails.
    public func jsonData(prettyPrinted: Bool = false) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = prettyPrinted ? [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes] : [.sortedKeys, .withoutEscapingSlashes]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return try encoder.encode(self)
    }
}

/// An error from evaluation: what is wrong, and with which example.
public enum EvaluationError: Error, Equatable, CustomStringConvertible {
    /// There are no examples to evaluate.
    case noExamples
    /// A setting is out of range; the associated value says which.
    case invalidSettings(String)
    /// A plain-text example has no expected output to compare with; the value names the example.
    case noExpectedOutput(example: String)
    /// An example has an empty prompt, so there is nothing to generate from or score after.
    case emptyPrompt(example: String)
    /// Label scoring: an example has no candidates, or a candidate has no tokens.
    case badCandidates(example: String, reason: String)
    /// Label scoring: the expected output is none of the candidates.
    case expectedNotAmongCandidates(example: String, expected: String, candidates: [String])

    public var description: String {
        switch self {
        case .noExamples: return "no examples to evaluate"
        case let .invalidSettings(detail): return "invalid evaluation settings: \(detail)"
        case let .noExpectedOutput(example): return "\(example): a plain-text example has no expected output to evaluate against"
        case let .emptyPrompt(example): return "\(example): the prompt has no tokens (add BOS or use a template with text)"
        case let .badCandidates(example, reason): return "\(example): \(reason)"
        case let .expectedNotAmongCandidates(example, expected, candidates):
            return "\(example): the expected output \"\(expected)\" is not among the candidates \(candidates)"
        }
    }
}
