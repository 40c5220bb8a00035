import SeededRandom

/// A yes/no question about a shop passage.
public enum ShopQuestion: Codable, Equatable, Sendable {
    /// "Does the bakery sell pies?"
    case sells(good: String)
    /// "Is the bakery open on Mondays?"
    case isOpen(day: String)
    /// "Does the bakery open before 9?"
    case opensBefore(hour: Int)
    /// "Does the bakery close after 16?"
    case closesAfter(hour: Int)
    /// "Is the bakery in Ashford?"
    case isIn(town: String)
}

/// The facts of a yes/no question example: a passage of three or four sentences about someone's
/// shop, and a question about it.
///
///     Cora runs a bakery in Hollin. It is open 8 to 17, except on Sundays. It sells bread and cakes.
///     Cora lives in Ashford.
///     Is the bakery in Ashford?
public struct ShopPassage: Codable, Equatable, Sendable {
    /// Who runs the shop.
    public var owner: String
    /// The kind of shop, one of the world's shop kinds ("bakery").
    public var shop: String
    /// Where the shop is.
    public var town: String
    /// Where the owner lives (a different town), when the passage says.
    public var homeTown: String?
    /// Opening hour, 24-hour clock (6-10).
    public var opens: Int
    /// Closing hour, 24-hour clock (15-20).
    public var closes: Int
    /// The day of the week the shop is closed ("Sunday").
    public var closedDay: String
    /// The two goods the shop sells.
    public var goods: [String]
    /// Whether the opening-hours sentence comes before the goods sentence.
    public var hoursFirst: Bool
    /// What is asked.
    public var question: ShopQuestion

    /// The passage without the question.
    var passage: String? {
        guard goods.count == 2 else { return nil }
        let hours = "It is open \(opens) to \(closes), except on \(closedDay)s."
        let sells = "It sells \(goods[0]) and \(goods[1])."
        var sentences = ["\(owner) runs \(World.article(shop)) \(shop) in \(town)."]
        sentences += hoursFirst ? [hours, sells] : [sells, hours]
        if let homeTown { sentences.append("\(owner) lives in \(homeTown).") }
        return sentences.joined(separator: " ")
    }

    /// The passage, a newline and the question.
    var text: String? {
        guard let passage else { return nil }
        let question: String
        switch self.question {
        case let .sells(good): question = "Does the \(shop) sell \(good)?"
        case let .isOpen(day): question = "Is the \(shop) open on \(day)s?"
        case let .opensBefore(hour): question = "Does the \(shop) open before \(hour)?"
        case let .closesAfter(hour): question = "Does the \(shop) close after \(hour)?"
        case let .isIn(town): question = "Is the \(shop) in \(town)?"
        }
        return "\(passage)\n\(question)"
    }

    /// A passage and a question whose answer is yes (`answerIsYes`) or no, by construction.
    static func sample(answerIsYes yes: Bool, entities: Entities, generator: inout SeededGenerator) -> ShopPassage {
        let shop = generator.element(of: World.shops)
        let towns = generator.distinct(2, of: entities.towns)
        let goods = generator.distinct(2, of: shop.goods)
        let opens = generator.integer(in: 6...10), closes = generator.integer(in: 15...20)
        let closedDay = generator.element(of: World.days)
        let homeTown: String? = generator.chance(0.5) ? towns[1] : nil
        let question: ShopQuestion
        switch generator.index(below: 5) {
        case 0:
            let unsold = shop.goods.filter { !goods.contains($0) }
            question = .sells(good: generator.element(of: yes ? goods : unsold))
        case 1: question = .isOpen(day: yes ? generator.element(of: World.days, otherThan: closedDay) : closedDay)
        case 2: question = .opensBefore(hour: generator.integer(in: yes ? (opens + 1)...(opens + 3) : (opens - 2)...opens))
        case 3: question = .closesAfter(hour: generator.integer(in: yes ? (closes - 3)...(closes - 1) : closes...(closes + 2)))
        default: question = .isIn(town: yes ? towns[0] : towns[1])
        }
        return ShopPassage(
            owner: generator.element(of: entities.names), shop: shop.kind, town: towns[0], homeTown: homeTown,
            opens: opens, closes: closes, closedDay: closedDay, goods: goods, hoursFirst: generator.chance(0.5),
            question: question)
    }
}
