import Foundation

extension TaskSuite {
    /// Whether `example` is sound: its answer, recomputed from its structured facts alone (never from
    /// its text), equals `output` exactly; its input is what the facts render to; its instruction is
    /// wording `wordingIndex` of its task, seen or held out as its split requires.
    ///
    /// Generated examples always pass (the generator runs this on each one); an example with a flipped
    /// label, a changed number, edited text or facts that contradict themselves fails.
    public static func check(_ example: TaskExample) -> Bool {
        guard example.facts.task == example.task,
              wordingIndices(for: example.task, in: example.split).contains(example.wordingIndex),
              example.heldOutWording == example.split.usesHeldOutWordings,
              example.instruction == wordings(for: example.task)[example.wordingIndex],
              let input = example.facts.renderedInput, example.input == input,
              let answer = derivedAnswer(example.facts) else { return false }
        // A span answer must also be found in the passage.
        return example.output == answer && (example.task != .extractiveQuestion || input.contains(answer))
    }

    /// An answer in its comparable form, as evaluation uses it: surrounding whitespace and newlines are
    /// trimmed for every task; label answers (`positive`/`negative`, `yes`/`no`, `1`/`2`) are also
    /// lower-cased; spans and numbers are otherwise compared exactly (case and inner spacing count).
    public static func normalizeAnswer(_ text: String, task: TaskKind) -> String {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        return task.hasLabelAnswers ? trimmed.lowercased() : trimmed
    }

    /// Whether a model's `prediction` for `example` is right: equal to its output after
    /// ``normalizeAnswer(_:task:)`` of both.
    public static func isCorrect(_ prediction: String, for example: TaskExample) -> Bool {
        normalizeAnswer(prediction, task: example.task) == normalizeAnswer(example.output, task: example.task)
    }

    /// The answer the facts imply, or `nil` when they are malformed or inconsistent. This is the
    /// checker's own derivation: it shares the world's tables with the samplers but none of their logic.
    static func derivedAnswer(_ facts: TaskFacts) -> String? {
        switch facts {
        case let .sentiment(review): return sentiment(of: review).map { $0 ? "positive" : "negative" }
        case let .entailment(premise): return isEntailed(premise).map { $0 ? "yes" : "no" }
        case let .yesNoQuestion(passage): return answer(passage).map { $0 ? "yes" : "no" }
        case let .plausibleAlternative(question):
            guard question.events != nil else { return nil }
            return String((question.asks == .cause) == question.causeFirst ? 1 : 2)
        case let .extractiveQuestion(passage): return span(answering: passage)
        case let .arithmetic(problem): return value(of: problem).map(String.init)
        }
    }

    /// Positive (`true`) or negative: each clause's polarity, flipped if negated; one clause, two that
    /// agree (`and`) or two that disagree (`but`, the second wins).
    private static func sentiment(of review: Review) -> Bool? {
        guard let phrases = ReviewVocabulary.phrases(for: review.item) else { return nil }
        var polarities: [Bool] = []
        for clause in review.clauses {
            guard let phrase = phrases[checked: clause.phrase] else { return nil }
            polarities.append(phrase.positive != clause.negated)
        }
        switch (review.connective, polarities.count) {
        case (.none, 1): return polarities[0]
        case (.and, 2) where polarities[0] == polarities[1]: return polarities[1]
        case (.but, 2) where polarities[0] != polarities[1]: return polarities[1]
        default: return nil
        }
    }

    private static func isEntailed(_ premise: PeoplePremise) -> Bool? {
        let people = premise.people
        guard Set(people.map(\.name)).count == people.count, Set(people.map(\.job)).count == people.count,
              Set(people.map(\.age)).count == people.count else { return nil }
        func person(_ name: String) -> PersonFact? { people.first { $0.name == name } }
        switch premise.hypothesis {
        case let .hasJob(name, job): return person(name).map { $0.job == job }
        case let .isFrom(name, town): return person(name).map { $0.town == town }
        case let .jobIsFrom(job, town):
            // A job nobody in the premise has is not entailed to be anywhere.
            return people.first { $0.job == job }.map { $0.town == town } ?? false
        case let .isOlder(name, other):
            guard let first = person(name), let second = person(other), name != other else { return nil }
            return first.age > second.age
        case let .isYounger(name, other):
            guard let first = person(name), let second = person(other), name != other else { return nil }
            return first.age < second.age
        case let .shareTown(name, other):
            guard let first = person(name), let second = person(other), name != other else { return nil }
            return first.town == second.town
        }
    }

    private static func answer(_ passage: ShopPassage) -> Bool? {
        guard World.days.contains(passage.closedDay) else { return nil }
        switch passage.question {
        case let .sells(good): return passage.goods.contains(good)
        case let .isOpen(day): return World.days.contains(day) ? day != passage.closedDay : nil
        case let .opensBefore(hour): return passage.opens < hour
        case let .closesAfter(hour): return passage.closes > hour
        case let .isIn(town): return passage.town == town
        }
    }

    private static func span(answering passage: ExtractivePassage) -> String? {
        switch passage {
        case let .shopping(trip):
            guard Set(trip.names).count == trip.names.count else { return nil }
            switch trip.question {
            case let .whoBought(thing):
                let buyers = trip.things.indices.filter { trip.things[$0] == thing }
                return buyers.count == 1 ? trip.names[checked: buyers[0]] : nil
            case let .howMany(name):
                let buyers = trip.names.indices.filter { trip.names[$0] == name }
                return buyers.count == 1 ? trip.counts[checked: buyers[0]].map(String.init) : nil
            case .whereShopped: return trip.shoppingTown
            case .whereNext: return trip.nextTown
            }
        case let .careers(careers):
            guard Set(careers.names).count == careers.names.count else { return nil }
            func index(of name: String) -> Int? { careers.names.firstIndex(of: name) }
            switch careers.question {
            case let .whoWas(job):
                let holders = careers.jobs.indices.filter { careers.jobs[$0] == job }
                return holders.count == 1 ? careers.names[checked: holders[0]] : nil
            case let .howManyYears(name): return index(of: name).flatMap { careers.years[checked: $0] }.map(String.init)
            case let .whereWorked(name): return index(of: name).flatMap { careers.towns[checked: $0] }
            case let .jobOf(name): return index(of: name).flatMap { careers.jobs[checked: $0] }
            case .whoMoved: return careers.mover
            case .whereMoved: return careers.newTown
            }
        }
    }

    /// The problem's answer, evaluated forwards; `nil` if a number is outside the world's range
    /// `0..<200` (which also rules out overflow), a count would go negative, or a share is not whole.
    private static func value(of problem: WordProblem) -> Int? {
        let numbers: [Int]
        switch problem {
        case let .gainsAndLosses(_, _, start, steps): numbers = [start] + steps.map(\.amount)
        case let .groups(_, _, _, groups, perGroup, extra): numbers = [groups, perGroup, extra]
        case let .change(_, _, price, quantity, paid): numbers = [price, quantity, paid]
        case let .sharing(_, _, total, friends): numbers = [total, friends]
        }
        guard numbers.allSatisfy({ (0..<200).contains($0) }) else { return nil }
        switch problem {
        case let .gainsAndLosses(_, _, start, steps):
            var count = start
            for step in steps {
                count += step.gained ? step.amount : -step.amount
                guard count >= 0 else { return nil }
            }
            return count
        case let .groups(_, _, _, groups, perGroup, extra): return groups * perGroup + extra
        case let .change(_, _, price, quantity, paid):
            return paid >= price * quantity ? paid - price * quantity : nil
        case let .sharing(_, _, total, friends):
            return friends > 0 && total % friends == 0 ? total / friends : nil
        }
    }
}
