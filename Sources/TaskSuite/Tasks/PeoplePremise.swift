import SeededRandom

/// One person in a premise.
public struct PersonFact: Codable, Equatable, Sendable {
    /// The person's name (unique within a premise).
    public var name: String
    /// Age in years, 18-80 (unique within a premise).
    public var age: Int
    /// Job (unique within a premise).
    public var job: String
    /// Home town (two people may share one).
    public var town: String

    /// "Ada, 34, is a baker from Brindle."
    var sentence: String { "\(name), \(age), is \(World.article(job)) \(job) from \(town)." }
}

/// A statement about the people of a premise, which the premise may or may not entail.
public enum Hypothesis: Codable, Equatable, Sendable {
    /// "Ada is a baker."
    case hasJob(name: String, job: String)
    /// "Ada is from Brindle."
    case isFrom(name: String, town: String)
    /// "The baker is from Brindle." (jobs are unique within a premise)
    case jobIsFrom(job: String, town: String)
    /// "Ada is older than Ben."
    case isOlder(name: String, than: String)
    /// "Ada is younger than Ben."
    case isYounger(name: String, than: String)
    /// "Ada and Ben are from the same town."
    case shareTown(first: String, second: String)

    var sentence: String {
        switch self {
        case let .hasJob(name, job): return "\(name) is \(World.article(job)) \(job)."
        case let .isFrom(name, town): return "\(name) is from \(town)."
        case let .jobIsFrom(job, town): return "The \(job) is from \(town)."
        case let .isOlder(name, other): return "\(name) is older than \(other)."
        case let .isYounger(name, other): return "\(name) is younger than \(other)."
        case let .shareTown(first, second): return "\(first) and \(second) are from the same town."
        }
    }
}

/// The facts of an entailment example: two or three people (distinct names, jobs and ages) and a
/// hypothesis about them. The answer needs the premise: every name, job, town and age is drawn afresh
/// for each example, and a false hypothesis usually reuses a value the premise gives someone else.
public struct PeoplePremise: Codable, Equatable, Sendable {
    /// Two or three people, in the order the premise names them.
    public var people: [PersonFact]
    /// The statement to judge.
    public var hypothesis: Hypothesis

    /// "Premise: … \nHypothesis: …"
    var text: String? {
        guard !people.isEmpty else { return nil }
        return "Premise: \(premiseText)\nHypothesis: \(hypothesis.sentence)"
    }

    /// The premise's sentences, one per person.
    var premiseText: String { people.map(\.sentence).joined(separator: " ") }

    /// A premise and a hypothesis that it entails (`entailed`) or does not, by construction.
    static func sample(entailed: Bool, entities: Entities, generator: inout SeededGenerator) -> PeoplePremise {
        let count = generator.chance(0.2) ? 3 : 2
        let names = generator.distinct(count, of: entities.names)
        let jobs = generator.distinct(count, of: World.jobs)
        let ages = generator.distinct(count, of: Array(18...80))
        var towns = generator.distinct(count, of: entities.towns)
        let kind = generator.index(below: 6)
        // Two people sometimes share a town, so that sharing is no cue for the same-town hypothesis.
        if kind == 5 ? entailed : generator.chance(0.25) { towns[1] = towns[0] }
        var people = (0..<count).map { PersonFact(name: names[$0], age: ages[$0], job: jobs[$0], town: towns[$0]) }
        let subject = people[0], other = people[1]
        people = generator.shuffled(people)

        /// A town other than `town`: usually one the premise names, otherwise any from the pool.
        func otherTown(than town: String) -> String {
            let named = people.map(\.town).filter { $0 != town }
            return !named.isEmpty && generator.chance(0.8) ? generator.element(of: named)
                : generator.element(of: entities.towns, otherThan: town)
        }
        let hypothesis: Hypothesis
        switch kind {
        case 0:
            let wrongJob = generator.chance(0.8) ? other.job : generator.element(of: World.jobs.filter { !jobs.contains($0) })
            hypothesis = .hasJob(name: subject.name, job: entailed ? subject.job : wrongJob)
        case 1: hypothesis = .isFrom(name: subject.name, town: entailed ? subject.town : otherTown(than: subject.town))
        case 2: hypothesis = .jobIsFrom(job: subject.job, town: entailed ? subject.town : otherTown(than: subject.town))
        case 3, 4:
            let (older, younger) = subject.age > other.age ? (subject, other) : (other, subject)
            let first = entailed == (kind == 3) ? older : younger
            let second = first == older ? younger : older
            hypothesis = kind == 3 ? .isOlder(name: first.name, than: second.name) : .isYounger(name: first.name, than: second.name)
        default:
            hypothesis = generator.chance(0.5) ? .shareTown(first: subject.name, second: other.name)
                : .shareTown(first: other.name, second: subject.name)
        }
        return PeoplePremise(people: people, hypothesis: hypothesis)
    }
}
