/// The six kinds of task in the suite, each modelled on a benchmark the IAPT paper reports.
public enum TaskKind: String, Codable, CaseIterable, Sendable {
    /// SST-2-like: is a short review `positive` or `negative`?
    case sentiment
    /// RTE-like: does a premise of a few facts entail a hypothesis? `yes` or `no`.
    case entailment
    /// BoolQ-like: a yes/no question over a passage of 3-4 sentences. `yes` or `no`.
    case yesNoQuestion = "yes_no_question"
    /// COPA-like: which of two alternatives is the cause (or effect) of a premise? `1` or `2`.
    case plausibleAlternative = "plausible_alternative"
    /// SQuAD-like: a question whose answer is a span copied from the passage.
    case extractiveQuestion = "extractive_question"
    /// GSM8K-like: a one- or two-step word problem; the answer is the final number.
    case arithmetic

    /// Whether the answers are labels from a fixed set (`positive`/`negative`, `yes`/`no`, `1`/`2`),
    /// which evaluation compares case-insensitively, rather than spans or numbers, compared exactly.
    public var hasLabelAnswers: Bool {
        switch self {
        case .sentiment, .entailment, .yesNoQuestion, .plausibleAlternative: return true
        case .extractiveQuestion, .arithmetic: return false
        }
    }
}

/// The four splits. Train and dev use the training entity pool and the seen instruction wordings;
/// both test splits use the test entity pool, `testSeen` with the seen wordings and `testUnseen` with
/// the held-out ones.
public enum TaskSplit: String, Codable, CaseIterable, Sendable {
    /// Training data: training entities, seen wordings.
    case train
    /// Development data for early stopping: training entities, seen wordings, disjoint from train.
    case dev
    /// Test entities, seen wordings.
    case testSeen = "test-seen"
    /// Test entities, held-out wordings.
    case testUnseen = "test-unseen"

    /// Whether this split uses the held-out instruction wordings.
    public var usesHeldOutWordings: Bool { self == .testUnseen }

    /// Whether this split draws its names, towns and brands from the test pool.
    var usesTestEntities: Bool { self == .testSeen || self == .testUnseen }
}

/// One generated example: its rendered text and the structured facts it was rendered from.
///
/// `instruction` is one of the task's paraphrased wordings (``TaskSuite/wordings(for:)``), `input`
/// the passage, premise or problem with its question, `output` the answer. ``TaskSuite/check(_:)``
/// recomputes the answer from `facts` alone and re-renders the text to confirm they agree.
public struct TaskExample: Codable, Equatable, Sendable {
    /// The task this example belongs to.
    public var task: TaskKind
    /// The split it was generated for.
    public var split: TaskSplit
    /// Which of the task's instruction wordings it uses (an index into ``TaskSuite/wordings(for:)``).
    public var wordingIndex: Int
    /// Whether that wording is held out of training (true exactly in the `testUnseen` split).
    public var heldOutWording: Bool
    /// The instruction text.
    public var instruction: String
    /// The passage, premise, review or problem, with the question when there is one.
    public var input: String?
    /// The answer, in the task's canonical form (see ``TaskSuite/normalizeAnswer(_:task:)``).
    public var output: String
    /// The structured source the text and answer were rendered from.
    public var facts: TaskFacts

    /// Creates an example; the generator is the usual source, this is for tests and tools.
    public init(
        task: TaskKind, split: TaskSplit, wordingIndex: Int, heldOutWording: Bool, instruction: String,
        input: String?, output: String, facts: TaskFacts
    ) {
        self.task = task
        self.split = split
        self.wordingIndex = wordingIndex
        self.heldOutWording = heldOutWording
        self.instruction = instruction
        self.input = input
        self.output = output
        self.facts = facts
    }
}

/// The structured source of an example, one case per task.
public enum TaskFacts: Codable, Equatable, Sendable {
    /// A review (``TaskKind/sentiment``).
    case sentiment(review: Review)
    /// People and a hypothesis about them (``TaskKind/entailment``).
    case entailment(premise: PeoplePremise)
    /// A shop passage and a yes/no question (``TaskKind/yesNoQuestion``).
    case yesNoQuestion(passage: ShopPassage)
    /// A causal chain and the direction asked (``TaskKind/plausibleAlternative``).
    case plausibleAlternative(question: CausalQuestion)
    /// A passage and a question answered by one of its spans (``TaskKind/extractiveQuestion``).
    case extractiveQuestion(passage: ExtractivePassage)
    /// A word problem (``TaskKind/arithmetic``).
    case arithmetic(problem: WordProblem)

    /// The task these facts belong to.
    public var task: TaskKind {
        switch self {
        case .sentiment: return .sentiment
        case .entailment: return .entailment
        case .yesNoQuestion: return .yesNoQuestion
        case .plausibleAlternative: return .plausibleAlternative
        case .extractiveQuestion: return .extractiveQuestion
        case .arithmetic: return .arithmetic
        }
    }

    /// The input text these facts render to, or `nil` when they are malformed (an index out of range).
    var renderedInput: String? {
        switch self {
        case let .sentiment(review): return review.text
        case let .entailment(premise): return premise.text
        case let .yesNoQuestion(passage): return passage.text
        case let .plausibleAlternative(question): return question.text
        case let .extractiveQuestion(passage): return passage.text
        case let .arithmetic(problem): return problem.text
        }
    }
}
