import SeededRandom

/// A question about a shopping trip; each answer is a span of the passage.
public enum ShoppingQuestion: Codable, Equatable, Sendable {
    /// "Who bought the pears?" → a name.
    case whoBought(thing: String)
    /// "How many eggs did Ada buy?" → a number.
    case howMany(name: String)
    /// "Where did they shop?" → a town.
    case whereShopped
    /// "Where did they go next?" → a town.
    case whereNext
}

/// Two people's shopping trip:
///
///     Ada and Ben shopped in Brindle. Ada bought 12 eggs and Ben bought 7 pears. Then they went to Corwen.
public struct ShoppingTrip: Codable, Equatable, Sendable {
    /// The two shoppers, in the order the passage names them.
    public var names: [String]
    /// What each bought (singular nouns, distinct); parallel to `names`.
    public var things: [String]
    /// How many each bought (distinct, 2-30); parallel to `names`.
    public var counts: [Int]
    /// Where they shopped.
    public var shoppingTown: String
    /// Where they went next.
    public var nextTown: String
    /// What is asked.
    public var question: ShoppingQuestion
}

/// A question about two careers; each answer is a span of the passage.
public enum CareerQuestion: Codable, Equatable, Sendable {
    /// "Who was a nurse?" → a name.
    case whoWas(job: String)
    /// "For how many years was Ben a nurse?" → a number.
    case howManyYears(name: String)
    /// "Where was Ada a baker?" → a town.
    case whereWorked(name: String)
    /// "What was Ada's job?" → a job.
    case jobOf(name: String)
    /// "Who moved to Hollin?" → a name.
    case whoMoved
    /// "Where did Ben move to?" → a town.
    case whereMoved
}

/// Two people's careers and a move:
///
///     Ada was a baker in Brindle for 6 years. Ben was a nurse in Corwen for 9 years.
///     Then Ben moved to Hollin.
public struct Careers: Codable, Equatable, Sendable {
    /// The two people, in the passage's order; the next three arrays are parallel to this one.
    public var names: [String]
    /// Each person's job (distinct).
    public var jobs: [String]
    /// Where each worked.
    public var towns: [String]
    /// How many years each worked there (distinct, 2-20).
    public var years: [Int]
    /// Which of the two moved (a name from `names`).
    public var mover: String
    /// Where the mover moved to.
    public var newTown: String
    /// What is asked.
    public var question: CareerQuestion
}

/// The facts of an extractive question example: one of two kinds of passage with a question.
public enum ExtractivePassage: Codable, Equatable, Sendable {
    /// Two people shopping.
    case shopping(ShoppingTrip)
    /// Two people's careers.
    case careers(Careers)

    /// The passage, a newline and the question; `nil` for malformed facts.
    var text: String? {
        guard let passage, let question else { return nil }
        return "\(passage)\n\(question)"
    }

    /// The passage without the question.
    var passage: String? {
        switch self {
        case let .shopping(trip):
            guard trip.names.count == 2, trip.things.count == 2, trip.counts.count == 2 else { return nil }
            let bought = (0..<2).map { "\(trip.names[$0]) bought \(World.counted(trip.counts[$0], trip.things[$0]))" }
            return "\(trip.names[0]) and \(trip.names[1]) shopped in \(trip.shoppingTown). "
                + "\(bought[0]) and \(bought[1]). Then they went to \(trip.nextTown)."
        case let .careers(careers):
            let counts = [careers.names.count, careers.jobs.count, careers.towns.count, careers.years.count]
            guard counts.allSatisfy({ $0 == 2 }) else { return nil }
            let sentences = (0..<2).map { index in
                "\(careers.names[index]) was \(World.article(careers.jobs[index])) \(careers.jobs[index]) "
                    + "in \(careers.towns[index]) for \(careers.years[index]) years."
            }
            return "\(sentences[0]) \(sentences[1]) Then \(careers.mover) moved to \(careers.newTown)."
        }
    }

    /// The question; `nil` when it names someone the passage does not.
    var question: String? {
        switch self {
        case let .shopping(trip):
            switch trip.question {
            case let .whoBought(thing): return "Who bought the \(thing)s?"
            case let .howMany(name):
                return trip.names.firstIndex(of: name).flatMap { trip.things[checked: $0] }
                    .map { "How many \($0)s did \(name) buy?" }
            case .whereShopped: return "Where did they shop?"
            case .whereNext: return "Where did they go next?"
            }
        case let .careers(careers):
            func job(of name: String) -> String? {
                careers.names.firstIndex(of: name).flatMap { careers.jobs[checked: $0] }.map { "\(World.article($0)) \($0)" }
            }
            switch careers.question {
            case let .whoWas(job): return "Who was \(World.article(job)) \(job)?"
            case let .howManyYears(name): return job(of: name).map { "For how many years was \(name) \($0)?" }
            case let .whereWorked(name): return job(of: name).map { "Where was \(name) \($0)?" }
            case let .jobOf(name): return "What was \(name)'s job?"
            case .whoMoved: return "Who moved to \(careers.newTown)?"
            case .whereMoved: return "Where did \(careers.mover) move to?"
            }
        }
    }

    /// A passage and question, with the answer the generator meant (a span it put in the passage).
    static func sample(entities: Entities, generator: inout SeededGenerator) -> (facts: ExtractivePassage, answer: String) {
        let names = generator.distinct(2, of: entities.names)
        let towns = generator.distinct(3, of: entities.towns)
        let asked = generator.index(below: 2)
        if generator.chance(0.5) {
            let things = generator.distinct(2, of: World.things)
            let counts = generator.distinct(2, of: Array(2...30))
            let (question, answer): (ShoppingQuestion, String)
            switch generator.index(below: 4) {
            case 0: (question, answer) = (.whoBought(thing: things[asked]), names[asked])
            case 1: (question, answer) = (.howMany(name: names[asked]), String(counts[asked]))
            case 2: (question, answer) = (.whereShopped, towns[0])
            default: (question, answer) = (.whereNext, towns[1])
            }
            let trip = ShoppingTrip(
                names: names, things: things, counts: counts, shoppingTown: towns[0], nextTown: towns[1], question: question)
            return (.shopping(trip), answer)
        }
        let jobs = generator.distinct(2, of: World.jobs)
        let years = generator.distinct(2, of: Array(2...20))
        let mover = generator.index(below: 2)
        let (question, answer): (CareerQuestion, String)
        switch generator.index(below: 6) {
        case 0: (question, answer) = (.whoWas(job: jobs[asked]), names[asked])
        case 1: (question, answer) = (.howManyYears(name: names[asked]), String(years[asked]))
        case 2: (question, answer) = (.whereWorked(name: names[asked]), towns[asked])
        case 3: (question, answer) = (.jobOf(name: names[asked]), jobs[asked])
        case 4: (question, answer) = (.whoMoved, names[mover])
        default: (question, answer) = (.whereMoved, towns[2])
        }
        let careers = Careers(
            names: names, jobs: jobs, towns: Array(towns.prefix(2)), years: years, mover: names[mover],
            newTown: towns[2], question: question)
        return (.careers(careers), answer)
    }
}
