import SeededRandom

/// One step of a gains-and-losses problem: "found 15 more" or "sold 8".
public struct ProblemStep: Codable, Equatable, Sendable {
    /// Whether the count goes up.
    public var gained: Bool
    /// By how much (2-40).
    public var amount: Int
    /// Index into the verbs for gains ("found", "bought", "was given") or losses ("lost", "gave away", "sold").
    public var verb: Int
}

/// The facts of an arithmetic example. Every number in a problem, and its answer, is below 200.
public enum WordProblem: Codable, Equatable, Sendable {
    /// "Ada had 23 marbles, found 15 more and then sold 8. How many marbles does Ada have now?"
    /// One or two steps.
    case gainsAndLosses(name: String, thing: String, start: Int, steps: [ProblemStep])
    /// "Ada has 4 boxes with 6 pens in each. Ada also has 3 loose pens. How many pens does Ada have?"
    /// `extra` 0 makes it one step. `container` indexes the world's containers.
    case groups(name: String, thing: String, container: Int, groups: Int, perGroup: Int, extra: Int)
    /// "A pen costs 3 coins. Ada buys 7 pens and pays with 50 coins. How many coins of change does Ada get?"
    case change(name: String, thing: String, price: Int, quantity: Int, paid: Int)
    /// "Ada shares 24 apples equally among 4 friends. How many apples does each friend get?"
    case sharing(name: String, thing: String, total: Int, friends: Int)

    static let gainVerbs = ["found", "bought", "was given"]
    static let lossVerbs = ["lost", "gave away", "sold"]

    /// The problem's story without the question; `nil` for malformed facts.
    var story: String? {
        switch self {
        case let .gainsAndLosses(name, thing, start, steps):
            guard (1...2).contains(steps.count) else { return nil }
            var phrases: [String] = []
            for step in steps {
                guard let verb = (step.gained ? Self.gainVerbs : Self.lossVerbs)[checked: step.verb] else { return nil }
                phrases.append(step.gained ? "\(verb) \(step.amount) more" : "\(verb) \(step.amount)")
            }
            let had = "\(name) had \(World.counted(start, thing))"
            return phrases.count == 1 ? "\(had) and \(phrases[0])." : "\(had), \(phrases[0]) and then \(phrases[1])."
        case let .groups(name, thing, container, groups, perGroup, extra):
            guard let container = World.containers[checked: container] else { return nil }
            let boxes = groups == 1 ? "1 \(container.0)" : "\(groups) \(container.1)"
            let story = "\(name) has \(boxes) with \(World.counted(perGroup, thing)) in each."
            return extra == 0 ? story : "\(story) \(name) also has \(extra) loose \(thing)\(extra == 1 ? "" : "s")."
        case let .change(name, thing, price, quantity, paid):
            return "\(World.article(thing).capitalizingFirst) \(thing) costs \(price) coins. "
                + "\(name) buys \(World.counted(quantity, thing)) and pays with \(paid) coins."
        case let .sharing(name, thing, total, friends):
            return "\(name) shares \(World.counted(total, thing)) equally among \(friends) friends."
        }
    }

    /// The question that follows the story.
    var question: String {
        switch self {
        case let .gainsAndLosses(name, thing, _, _): return "How many \(thing)s does \(name) have now?"
        case let .groups(name, thing, _, _, _, _): return "How many \(thing)s does \(name) have?"
        case let .change(name, _, _, _, _): return "How many coins of change does \(name) get?"
        case let .sharing(_, thing, _, _): return "How many \(thing)s does each friend get?"
        }
    }

    var text: String? { story.map { "\($0) \(question)" } }

    /// A problem and the answer the generator built it around.
    ///
    /// Gains-and-losses problems are built backwards from the answer (each step undone in turn, every
    /// count staying between 2 and 199); sharing problems from the share; groups and change problems
    /// forwards from their operands.
    static func sample(entities: Entities, generator: inout SeededGenerator) -> (problem: WordProblem, answer: Int) {
        let name = generator.element(of: entities.names)
        let thing = generator.element(of: World.things)
        switch generator.index(below: 4) {
        case 0:
            let answer = generator.integer(in: 2...150)
            var count = answer
            var steps: [ProblemStep] = []
            for _ in 0..<(generator.chance(0.5) ? 1 : 2) {
                // Undo a gain only if the count before it stays at least 2, a loss only if it stays below 200.
                let gained = count >= 4 && (count > 197 || generator.chance(0.5))
                let amount = gained ? generator.integer(in: 2...min(40, count - 2)) : generator.integer(in: 2...min(40, 199 - count))
                count += gained ? -amount : amount
                let verbs = gained ? gainVerbs : lossVerbs
                steps.insert(ProblemStep(gained: gained, amount: amount, verb: generator.index(below: verbs.count)), at: 0)
            }
            return (.gainsAndLosses(name: name, thing: thing, start: count, steps: steps), answer)
        case 1:
            let groups = generator.integer(in: 2...9), perGroup = generator.integer(in: 2...12)
            let extra = generator.chance(0.5) ? generator.integer(in: 2...9) : 0
            let container = generator.index(below: World.containers.count)
            let problem = WordProblem.groups(name: name, thing: thing, container: container, groups: groups, perGroup: perGroup, extra: extra)
            return (problem, groups * perGroup + extra)
        case 2:
            let price = generator.integer(in: 2...12), quantity = generator.integer(in: 2...9)
            let paid = generator.element(of: [10, 20, 50, 100, 150].filter { $0 > price * quantity })
            return (.change(name: name, thing: thing, price: price, quantity: quantity, paid: paid), paid - price * quantity)
        default:
            let share = generator.integer(in: 2...15), friends = generator.integer(in: 2...6)
            return (.sharing(name: name, thing: thing, total: share * friends, friends: friends), share)
        }
    }
}
