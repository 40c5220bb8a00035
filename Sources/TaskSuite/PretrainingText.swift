import SeededRandom

extension TaskSuite {
    /// `count` short plain-text documents about the same world, for pre-training a tiny base model so
    /// that it knows the world's words and how its facts hang together before any fine-tuning.
    ///
    /// The documents are made by the same samplers as the tasks but are never in instruction form:
    /// reviews, half of them with the verdict a reader gave ("Overall, the review was negative.");
    /// descriptions of people with a statement they imply ("The baker is from Brindle.") or a
    /// reported yes/no answer ("Asked whether the baker is from Brindle, Ada said no."); shop passages; cause-event-effect stories ("Because Ada stayed up very late, Ada was
    /// tired in the morning. Then Ada drank a strong coffee."); shopping and career passages; word
    /// problems told with their outcome ("… Now Ada has 30 marbles."); and number facts ("12 plus 7 is
    /// 19."). Kinds are drawn uniformly. Names, towns and brands come from both pools, test pool
    /// included, so a base model has seen every word of the world; only the fine-tuning splits keep
    /// the test pool out of training.
    ///
    /// Deterministic for a seed; the stream is independent of ``generate(seed:sizes:tasks:)``'s.
    /// - Throws: ``TaskSuiteError/invalidCount(what:count:)`` for a count outside `0...maximumCount`.
    public static func pretrainingText(seed: UInt64, count: Int) throws -> [String] {
        try validate(count, what: "pre-training text count")
        var generator = SeededGenerator.stream(seed: seed, 200)
        let entities = Entities(.all)
        var documents: [String] = []
        while documents.count < count {
            if let document = pretrainingDocument(kind: generator.index(below: 7), entities: entities, generator: &generator) {
                documents.append(document)
            }
        }
        return documents
    }

    private static func pretrainingDocument(kind: Int, entities: Entities, generator: inout SeededGenerator) -> String? {
        switch kind {
        case 0:
            let positive = generator.chance(0.5)
            guard let review = Review.sample(positive: positive, entities: entities, generator: &generator).text else { return nil }
            return generator.chance(0.5) ? review : "\(review) Overall, the review was \(positive ? "positive" : "negative")."
        case 1:
            let entailed = generator.chance(0.5)
            let premise = PeoplePremise.sample(entailed: entailed, entities: entities, generator: &generator)
            let asker = generator.element(of: entities.names)
            if entailed && generator.chance(0.5) { return "\(premise.premiseText) \(premise.hypothesis.sentence)" }
            return "\(premise.premiseText) Asked whether \(premise.hypothesis.clause), \(asker) said \(entailed ? "yes" : "no")."
        case 2:
            return ShopPassage.sample(answerIsYes: true, entities: entities, generator: &generator).passage
        case 3:
            let question = CausalQuestion.sample(asks: .cause, answer: 1, entities: entities, generator: &generator)
            guard let events = question.events else { return nil }
            return generator.chance(0.5)
                ? "Because \(events.cause), \(events.event). Then \(events.effect)."
                : "\(events.cause.capitalizingFirst), so \(events.event). As a result, \(events.effect)."
        case 4:
            return ExtractivePassage.sample(entities: entities, generator: &generator).facts.passage
        case 5:
            let (problem, answer) = WordProblem.sample(entities: entities, generator: &generator)
            return problem.story.map { "\($0) \(problem.outcome(answer))" }
        default:
            return (0..<3).map { _ in numberFact(generator: &generator) }.joined(separator: " ")
        }
    }

    /// "12 plus 7 is 19.", "30 minus 8 is 22.", "6 times 4 is 24." or "24 divided by 4 is 6.", with
    /// every number below 200.
    private static func numberFact(generator: inout SeededGenerator) -> String {
        let a = generator.integer(in: 2...99), b = generator.integer(in: 2...99)
        switch generator.index(below: 4) {
        case 0: return "\(a) plus \(b) is \(a + b)."
        case 1: return "\(max(a, b)) minus \(min(a, b)) is \(max(a, b) - min(a, b))."
        case 2:
            let (small, other) = (a % 12 + 1, b % 15 + 1)
            return "\(small) times \(other) is \(small * other)."
        default:
            let (divisor, quotient) = (a % 9 + 2, b % 20 + 1)
            return "\(divisor * quotient) divided by \(divisor) is \(quotient)."
        }
    }
}

extension Hypothesis {
    /// The sentence as a clause inside another: "the baker is from Brindle", without the full stop.
    var clause: String {
        var text = String(sentence.dropLast())
        if text.hasPrefix("The ") { text = "the" + text.dropFirst(3) }
        return text
    }
}

extension WordProblem {
    /// The sentence that tells the problem's outcome, `answer`, in place of its question.
    func outcome(_ answer: Int) -> String {
        switch self {
        case let .gainsAndLosses(name, thing, _, _): return "Now \(name) has \(World.counted(answer, thing))."
        case let .groups(name, thing, _, _, _, _): return "So \(name) has \(World.counted(answer, thing)) in all."
        case let .change(name, _, _, _, _): return "So \(name) gets \(answer) coins of change."
        case let .sharing(_, thing, _, _): return "So each friend gets \(World.counted(answer, thing))."
        }
    }
}
