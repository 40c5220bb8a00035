import SeededRandom

/// How the clauses of a review are joined.
public enum ReviewConnective: String, Codable, Sendable {
    /// One clause: "The Zorvo kettle works perfectly."
    case none
    /// Two clauses that agree: "…, and it …". The label is their shared polarity.
    case and
    /// Two clauses that disagree, an adjective then a concrete phrase, neither negated: "… was nice, but
    /// it stopped working." The label is the second clause's polarity.
    case but
}

/// One clause of a review: a phrase from the table for the item's category, possibly negated.
public struct ReviewClause: Codable, Equatable, Sendable {
    /// Index into the item's phrase table (adjectives first, then the category's phrases).
    public var phrase: Int
    /// Whether the clause reads "was not <adjective>", which flips the adjective's polarity ("was not
    /// bad" is positive); only adjectives can be negated.
    public var negated: Bool
}

/// The facts of a sentiment example: a one- or two-clause review of a branded product or place.
public struct Review: Codable, Equatable, Sendable {
    /// The invented brand ("Zorvo"), from the split's entity pool.
    public var brand: String
    /// What is reviewed ("kettle", "cafe"); it decides which phrase table the clauses index.
    public var item: String
    /// Index into the determiners ("The", "This", "That") that open the review.
    public var determiner: Int
    /// One clause for `.none`, two for `.and` and `.but`.
    public var clauses: [ReviewClause]
    /// How the clauses are joined.
    public var connective: ReviewConnective

    /// The review as one sentence, or `nil` for malformed facts.
    var text: String? {
        guard let phrases = ReviewVocabulary.phrases(for: item),
              let determiner = ReviewVocabulary.determiners[checked: determiner],
              clauses.count == (connective == .none ? 1 : 2) else { return nil }
        var parts: [String] = []
        for clause in clauses {
            guard let phrase = phrases[checked: clause.phrase], phrase.isAdjective || !clause.negated else { return nil }
            parts.append(phrase.isAdjective ? "was \(clause.negated ? "not " : "")\(phrase.text)" : phrase.text)
        }
        let subject = "\(determiner) \(brand) \(item)"
        switch connective {
        case .none: return "\(subject) \(parts[0])."
        case .and, .but: return "\(subject) \(parts[0]), \(connective.rawValue) it \(parts[1])."
        }
    }

    /// A review whose sentiment is `positive` (true) or negative, by construction: the clauses are
    /// chosen so that the rule in ``ReviewConnective`` gives that label.
    static func sample(positive: Bool, entities: Entities, generator: inout SeededGenerator) -> Review {
        let item = generator.element(of: ReviewVocabulary.products + ReviewVocabulary.places)
        let phrases = ReviewVocabulary.phrases(for: item) ?? []
        let connective = generator.element(of: [ReviewConnective.none, .and, .but])
        let polarities: [Bool]
        switch connective {
        case .none: polarities = [positive]
        case .and: polarities = [positive, positive]
        case .but: polarities = [!positive, positive]
        }
        var clauses: [ReviewClause] = []
        for polarity in polarities {
            // "But" sets a plain adjective against a concrete phrase, which decides: "was nice, but it
            // stopped working". Elsewhere at most one clause is negated.
            let isFirstOfBut = connective == .but && clauses.isEmpty
            let negated = connective != .but && !clauses.contains(where: \.negated) && generator.chance(0.25)
            // A negated adjective reads with the opposite polarity: "was not bad" is positive.
            let candidates = phrases.indices.filter { index in
                let phrase = phrases[index]
                let kindFits = connective == .but ? phrase.isAdjective == isFirstOfBut : phrase.isAdjective || !negated
                return kindFits && phrase.positive == (polarity != negated) && !clauses.contains { $0.phrase == index }
            }
            clauses.append(ReviewClause(phrase: generator.element(of: candidates), negated: negated))
        }
        return Review(
            brand: generator.element(of: entities.brands), item: item,
            determiner: generator.index(below: ReviewVocabulary.determiners.count),
            clauses: clauses, connective: connective)
    }
}

/// A phrase a review clause can use, with its polarity.
struct ReviewPhrase: Sendable {
    let text: String
    let positive: Bool
    /// Adjectives follow "was" (or "was not"); other phrases are complete predicates.
    let isAdjective: Bool
}

/// The words reviews are made of.
enum ReviewVocabulary {
    static let products = ["kettle", "lamp", "bicycle", "radio", "backpack", "blender", "tent", "umbrella"]
    static let places = ["cafe", "hotel", "bakery", "museum", "cinema", "gym"]
    static let determiners = ["The", "This", "That"]

    static let adjectives =
        ["good", "great", "nice", "lovely", "pleasant"].map { ReviewPhrase(text: $0, positive: true, isAdjective: true) }
        + ["bad", "awful", "poor", "terrible", "dreadful"].map { ReviewPhrase(text: $0, positive: false, isAdjective: true) }

    static let productPhrases = phrases(
        positive: ["works perfectly", "was worth every coin", "is a joy to use", "feels very solid", "never lets me down"],
        negative: ["broke within a week", "was a waste of money", "stopped working", "feels cheap and flimsy", "keeps letting me down"])

    static let placePhrases = phrases(
        positive: ["has friendly staff", "was clean and cosy", "was worth the trip", "made my day", "has a lovely view"],
        negative: ["has rude staff", "was dirty and cold", "was a waste of time", "ruined my day", "was far too noisy"])

    /// The phrase table for `item`: the adjectives, then its category's phrases; `nil` for an unknown item.
    static func phrases(for item: String) -> [ReviewPhrase]? {
        if products.contains(item) { return adjectives + productPhrases }
        if places.contains(item) { return adjectives + placePhrases }
        return nil
    }

    private static func phrases(positive: [String], negative: [String]) -> [ReviewPhrase] {
        positive.map { ReviewPhrase(text: $0, positive: true, isAdjective: false) }
            + negative.map { ReviewPhrase(text: $0, positive: false, isAdjective: false) }
    }
}
