/// A constant written in a template.
enum JinjaLiteral: Sendable {
    case none
    case bool(Bool)
    case integer(Int)
    case float(Double)
    case string(String)
}

/// An expression of a template.
indirect enum JinjaExpression: Sendable {
    case literal(JinjaLiteral)
    case name(String)
    case list([JinjaExpression])
    case dict([(JinjaExpression, JinjaExpression)])
    case attribute(JinjaExpression, String)
    case item(JinjaExpression, JinjaExpression)
    case slice(JinjaExpression, start: JinjaExpression?, stop: JinjaExpression?, step: JinjaExpression?)
    case call(JinjaExpression, JinjaArguments)
    case filter(JinjaExpression, name: String, JinjaArguments)
    case test(JinjaExpression, name: String, JinjaArguments, negated: Bool)
    case unary(String, JinjaExpression)
    case binary(String, JinjaExpression, JinjaExpression)
    case conditional(JinjaExpression, then: JinjaExpression, otherwise: JinjaExpression?)
}

/// The arguments of a call, filter or test.
struct JinjaArguments: Sendable {
    var positional: [JinjaExpression] = []
    var keyword: [(String, JinjaExpression)] = []
}

/// A statement of a template.
indirect enum JinjaNode: Sendable {
    case text(String)
    case output(JinjaExpression)
    case conditional([(JinjaExpression, [JinjaNode])], otherwise: [JinjaNode])
    case forLoop(targets: [String], iterable: JinjaExpression, condition: JinjaExpression?, body: [JinjaNode], otherwise: [JinjaNode])
    /// `set name = …` or `set namespace.attribute = …`.
    case set(name: String, attribute: String?, JinjaExpression)
    case setBlock(name: String, body: [JinjaNode])
    case macro(name: String, parameters: [(String, JinjaExpression?)], body: [JinjaNode])
    case breakLoop
    case continueLoop
}
