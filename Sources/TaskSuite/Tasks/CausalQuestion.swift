import Foundation
import SeededRandom

/// Which way a plausible-alternative question asks.
public enum CausalDirection: String, Codable, Sendable {
    /// "What was the cause?"
    case cause
    /// "What happened as a result?"
    case effect
}

/// The facts of a plausible-alternative example.
///
/// Each of the world's causal chains is three events, cause → event → effect ("Ada stayed up very
/// late" → "Ada was tired in the morning" → "Ada drank a strong coffee"). The premise is the middle
/// event and the two alternatives are always the chain's cause and its effect, so only the direction
/// asked decides the answer; the alternatives' order is random.
///
///     Ada was tired in the morning. What was the cause?
///     1. Ada drank a strong coffee.
///     2. Ada stayed up very late.
public struct CausalQuestion: Codable, Equatable, Sendable {
    /// Index into the world's causal chains.
    public var chain: Int
    /// The person the chain happens to.
    public var name: String
    /// Whether the question asks for the cause or the effect of the premise.
    public var asks: CausalDirection
    /// Whether alternative 1 is the cause (otherwise it is the effect).
    public var causeFirst: Bool

    /// The chain's three events with `name` filled in, or `nil` for an unknown chain.
    var events: (cause: String, event: String, effect: String)? {
        guard let chain = CausalChains.all[checked: chain] else { return nil }
        func fill(_ template: String) -> String { template.replacingOccurrences(of: "{n}", with: name) }
        return (fill(chain.cause), fill(chain.event), fill(chain.effect))
    }

    var text: String? {
        guard let events else { return nil }
        let question = asks == .cause ? "What was the cause?" : "What happened as a result?"
        let (first, second) = causeFirst ? (events.cause, events.effect) : (events.effect, events.cause)
        return "\(events.event.capitalizingFirst). \(question)\n1. \(first.capitalizingFirst).\n2. \(second.capitalizingFirst)."
    }

    /// A question whose right alternative is number `answer` (1 or 2), by construction.
    static func sample(asks: CausalDirection, answer: Int, entities: Entities, generator: inout SeededGenerator) -> CausalQuestion {
        // The right alternative is the cause when asked for the cause; it stands first when answer is 1.
        CausalQuestion(
            chain: generator.index(below: CausalChains.all.count), name: generator.element(of: entities.names),
            asks: asks, causeFirst: (asks == .cause) == (answer == 1))
    }
}

/// The world's cause → event → effect chains; `{n}` stands for the person's name, and every event
/// names the person, so a test example (with a test-pool name) never repeats a training input.
enum CausalChains {
    static let all: [(cause: String, event: String, effect: String)] = [
        ("{n} stayed up very late", "{n} was tired in the morning", "{n} drank a strong coffee"),
        ("{n} skipped lunch", "{n} was very hungry", "{n} ate a big dinner"),
        ("{n} dropped a cup", "{n}'s cup broke", "{n} swept up the pieces"),
        ("{n} left the window open", "{n}'s room got cold", "{n} put on a jumper"),
        ("{n} lost the house key", "{n} could not get inside", "{n} called a locksmith"),
        ("{n} ran the fastest", "{n} won the race", "{n} got a medal"),
        ("the oven was too hot", "{n}'s bread burned", "{n} baked a new loaf"),
        ("{n} ran for an hour", "{n} was thirsty", "{n} drank some water"),
        ("the shop had a big sale", "{n} bought two coats", "{n} had little money left"),
        ("{n} planted seeds in spring", "flowers grew in {n}'s garden", "{n} picked a bunch of flowers"),
        ("a storm knocked down the wires", "the power went out at {n}'s house", "{n} lit a candle"),
        ("{n} ate too much cake", "{n} felt sick", "{n} lay down on the sofa"),
        ("{n} forgot the umbrella", "{n} got wet in the rain", "{n} changed into dry clothes"),
        ("{n} left the milk out", "{n}'s milk went sour", "{n} poured the milk away"),
        ("{n} practised every day", "{n} played well at the concert", "the crowd cheered for {n}"),
        ("{n} missed the bus", "{n} was late for work", "{n}'s boss was annoyed"),
        ("{n} forgot to feed the dog", "{n}'s dog barked all morning", "{n} filled the dog's bowl"),
        ("{n} slipped on the ice", "{n} broke a leg", "{n} walked with crutches"),
        ("{n} saved money all year", "{n} bought a new bike", "{n} rode the bike to work"),
        ("the snow was very deep", "{n}'s school was closed", "{n} built a snowman"),
        ("{n} painted the fence", "{n}'s fence looked new", "the neighbours praised {n}"),
        ("{n} touched the hot pan", "{n} burned a finger", "{n} held the finger under cold water"),
        ("{n} hurt an ankle", "{n} lost the match", "{n} left the court in tears"),
        ("{n} rode over a nail", "{n}'s bike had a flat tyre", "{n} walked the bike home"),
        ("{n} forgot to set the alarm", "{n} overslept", "{n} missed breakfast"),
        ("the sun shone all day", "{n}'s washing dried quickly", "{n} folded the clothes"),
        ("{n} found a wallet in the street", "{n} handed a wallet to the police", "the owner thanked {n}"),
        ("heavy rain fell for days", "the river flooded {n}'s road", "{n} took the long way round"),
        ("{n} studied hard", "{n} passed the exam", "{n} threw a party"),
        ("{n} caught a cold", "{n} stayed in bed", "{n} missed the meeting"),
        ("{n} forgot to charge the phone", "{n}'s phone died", "{n} borrowed a charger"),
        ("{n} spilled juice on a shirt", "{n}'s shirt was stained", "{n} washed the shirt"),
    ]
}
