import SeededRandom

/// How many examples to generate for each task in each split.
public struct SplitSizes: Codable, Equatable, Sendable {
    /// Examples per task in the train split.
    public var train: Int
    /// Examples per task in the dev split.
    public var dev: Int
    /// Examples per task in the test split with seen wordings.
    public var testSeen: Int
    /// Examples per task in the test split with held-out wordings.
    public var testUnseen: Int

    /// Sizes per task; each must be in `0...TaskSuite.maximumCount` (checked by ``TaskSuite/generate(seed:sizes:tasks:)``).
    public init(train: Int, dev: Int, testSeen: Int, testUnseen: Int) {
        self.train = train
        self.dev = dev
        self.testSeen = testSeen
        self.testUnseen = testUnseen
    }

    /// 1,000 train, 100 dev and 200 of each test split per task: 9,000 examples over the six tasks.
    public static let standard = SplitSizes(train: 1000, dev: 100, testSeen: 200, testUnseen: 200)

    /// The size of `split`.
    public func count(for split: TaskSplit) -> Int {
        switch split {
        case .train: return train
        case .dev: return dev
        case .testSeen: return testSeen
        case .testUnseen: return testUnseen
        }
    }
}

/// A generated suite: every example of every requested task and split.
public struct TaskSuiteData: Equatable, Sendable {
    /// All examples, split by split (train, dev, test-seen, test-unseen); within a split the tasks
    /// are interleaved in a seeded random order.
    public let examples: [TaskExample]

    /// The examples of `split`, optionally of one task only, in their stored order.
    public func examples(in split: TaskSplit, task: TaskKind? = nil) -> [TaskExample] {
        examples.filter { $0.split == split && (task == nil || $0.task == task) }
    }
}

/// The deterministic instruction task suite: a small synthetic world (people, towns, jobs, shops,
/// branded products, everyday causes and effects) and six kinds of task generated from it.
public enum TaskSuite {
    /// The largest size accepted for a split or a pre-training text count.
    public static let maximumCount = 1_000_000

    /// Generates the suite for `seed`: `sizes` examples of each of `tasks` in each split.
    ///
    /// The same seed and sizes give the same examples on every machine and run. Within a task no two
    /// examples anywhere in the suite share an input (so no two share a prompt), test splits use only
    /// test-pool names, towns and brands, and `testUnseen` only the held-out wordings. Labels are
    /// balanced exactly (each yes/no split of n examples has ⌈n/2⌉ `yes`), and wordings are used in
    /// equal turns. Each task and split draws from its own random stream, so a test split does not
    /// change when the train size does.
    ///
    /// ``SplitSizes/standard`` takes about half a second in a debug build.
    /// - Throws: ``TaskSuiteError/invalidCount(what:count:)`` for a size outside `0...maximumCount`;
    ///   ``TaskSuiteError/notEnoughDistinctExamples(task:split:requested:generated:)`` when a split asks
    ///   for more distinct examples than its entity pool can make.
    public static func generate(seed: UInt64, sizes: SplitSizes, tasks: [TaskKind] = TaskKind.allCases) throws -> TaskSuiteData {
        for split in TaskSplit.allCases {
            try validate(sizes.count(for: split), what: "\(split.rawValue) size")
        }
        var bySplit: [[TaskExample]] = Array(repeating: [], count: TaskSplit.allCases.count)
        for (taskNumber, task) in TaskKind.allCases.enumerated() where tasks.contains(task) {
            var inputs = Set<String>()
            for (splitNumber, split) in TaskSplit.allCases.enumerated() {
                var generator = SeededGenerator.stream(seed: seed, UInt64(taskNumber), UInt64(splitNumber))
                bySplit[splitNumber] += try examples(
                    of: task, in: split, count: sizes.count(for: split), excluding: &inputs, generator: &generator)
            }
        }
        let mixed = bySplit.enumerated().flatMap { splitNumber, examples in
            var generator = SeededGenerator.stream(seed: seed, 100, UInt64(splitNumber))
            return generator.shuffled(examples)
        }
        return TaskSuiteData(examples: mixed)
    }

    static func validate(_ count: Int, what: String) throws {
        guard (0...maximumCount).contains(count) else { throw TaskSuiteError.invalidCount(what: what, count: count) }
    }

    /// `count` examples of one task and split whose inputs are not in `inputs` (which gains them), in
    /// the order they were made (``generate(seed:sizes:tasks:)`` shuffles them).
    private static func examples(
        of task: TaskKind, in split: TaskSplit, count: Int, excluding inputs: inout Set<String>,
        generator: inout SeededGenerator
    ) throws -> [TaskExample] {
        let entities = Entities(split.usesTestEntities ? .test : .training)
        let wordingIndices = wordingIndices(for: task, in: split)
        let wordings = wordings(for: task)
        var examples: [TaskExample] = []
        var attempts = 0
        while examples.count < count {
            guard attempts < 20 * count + 1_000 else {
                throw TaskSuiteError.notEnoughDistinctExamples(task: task, split: split, requested: count, generated: examples.count)
            }
            attempts += 1
            // The variant decides the label (low bits) and the wording (the rest), so both are balanced
            // and independent of each other.
            let variant = examples.count
            let (facts, answer) = sample(task, variant: variant, entities: entities, generator: &generator)
            guard let input = facts.renderedInput, !inputs.contains(input) else { continue }
            let wordingIndex = wordingIndices.lowerBound + (variant / 4) % wordingIndices.count
            let example = TaskExample(
                task: task, split: split, wordingIndex: wordingIndex, heldOutWording: split.usesHeldOutWordings,
                instruction: wordings[wordingIndex], input: input, output: answer, facts: facts)
            guard check(example) else { throw TaskSuiteError.checkerRejected(task: task, input: input) }
            inputs.insert(input)
            examples.append(example)
        }
        return examples
    }

    /// Facts for one example and the answer they were built to have. For label tasks the answer
    /// follows `variant`: even variants are positive / yes, and for the plausible-alternative task
    /// bit 0 picks the answer and bit 1 the direction asked.
    static func sample(
        _ task: TaskKind, variant: Int, entities: Entities, generator: inout SeededGenerator
    ) -> (facts: TaskFacts, answer: String) {
        let first = variant % 2 == 0
        switch task {
        case .sentiment:
            let review = Review.sample(positive: first, entities: entities, generator: &generator)
            return (.sentiment(review: review), first ? "positive" : "negative")
        case .entailment:
            let premise = PeoplePremise.sample(entailed: first, entities: entities, generator: &generator)
            return (.entailment(premise: premise), first ? "yes" : "no")
        case .yesNoQuestion:
            let passage = ShopPassage.sample(answerIsYes: first, entities: entities, generator: &generator)
            return (.yesNoQuestion(passage: passage), first ? "yes" : "no")
        case .plausibleAlternative:
            let answer = first ? 1 : 2
            let asks: CausalDirection = (variant / 2) % 2 == 0 ? .cause : .effect
            let question = CausalQuestion.sample(asks: asks, answer: answer, entities: entities, generator: &generator)
            return (.plausibleAlternative(question: question), String(answer))
        case .extractiveQuestion:
            let (passage, answer) = ExtractivePassage.sample(entities: entities, generator: &generator)
            return (.extractiveQuestion(passage: passage), answer)
        case .arithmetic:
            let (problem, answer) = WordProblem.sample(entities: entities, generator: &generator)
            return (.arithmetic(problem: problem), String(answer))
        }
    }
}
