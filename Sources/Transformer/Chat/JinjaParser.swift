/// A recursive-descent parser for the Jinja subset ``ChatTemplate`` documents, with Jinja's
/// operator precedence (lowest first): `x if c else y`, `or`, `and`, `not`, comparisons and `in`,
/// `+ -`, `~`, `* / // %`, `**`, unary `-`, then filters (`|`), tests (`is`), and postfix access.
struct JinjaParser {
    private let tokens: [JinjaToken]
    private var index = 0
    /// How deeply blocks and expressions nest: bounded so a hostile template cannot overflow the stack.
    private var depth = 0
    static let maximumDepth = 128

    init(tokens: [JinjaToken]) {
        self.tokens = tokens
    }

    mutating func parseTemplate() throws -> [JinjaNode] {
        let (nodes, end) = try parseBlock(until: [])
        if let end { throw syntax("unexpected {% \(end) %}") }
        return nodes
    }

    // MARK: Statements

    /// Nodes up to one of the statements in `terminators` (whose keyword is returned, the parser
    /// then standing after it), or to the end of the template (`nil`).
    private mutating func parseBlock(until terminators: Set<String>) throws -> ([JinjaNode], String?) {
        try enter()
        defer { depth -= 1 }
        var nodes: [JinjaNode] = []
        while index < tokens.count {
            let token = tokens[index]
            switch token.kind {
            case .text(let text):
                nodes.append(.text(text))
                index += 1
            case .outputStart:
                index += 1
                nodes.append(.output(try parseExpression()))
                try expectTagEnd()
            case .statementStart:
                index += 1
                guard case .name(let keyword) = current?.kind else { throw syntax("expected a statement") }
                if terminators.contains(keyword) {
                    index += 1
                    return (nodes, keyword)
                }
                index += 1
                nodes.append(contentsOf: try parseStatement(keyword))
            default:
                throw syntax("unexpected token")
            }
        }
        if !terminators.isEmpty { throw syntax("missing {% \(terminators.sorted().joined(separator: " or ")) %}") }
        return (nodes, nil)
    }

    private mutating func parseStatement(_ keyword: String) throws -> [JinjaNode] {
        switch keyword {
        case "if":
            return [try parseIf()]
        case "for":
            return [try parseFor()]
        case "set":
            return [try parseSet()]
        case "macro":
            return [try parseMacro()]
        case "break", "continue":
            try expectTagEnd()
            return [keyword == "break" ? .breakLoop : .continueLoop]
        case "generation":
            try expectTagEnd()
            let (body, _) = try parseBlock(until: ["endgeneration"])
            try expectTagEnd()
            return body
        default:
            throw ChatTemplateError.unsupported("statement {% \(keyword) %}")
        }
    }

    private mutating func parseIf() throws -> JinjaNode {
        var branches: [(JinjaExpression, [JinjaNode])] = []
        var condition = try parseExpression()
        while true {
            try expectTagEnd()
            let (body, end) = try parseBlock(until: ["elif", "else", "endif"])
            branches.append((condition, body))
            switch end {
            case "elif":
                condition = try parseExpression()
            case "else":
                try expectTagEnd()
                let (otherwise, _) = try parseBlock(until: ["endif"])
                try expectTagEnd()
                return .conditional(branches, otherwise: otherwise)
            default:
                try expectTagEnd()
                return .conditional(branches, otherwise: [])
            }
        }
    }

    private mutating func parseFor() throws -> JinjaNode {
        var targets = [try expectName()]
        while consume(symbol: ",") { targets.append(try expectName()) }
        guard consume(name: "in") else { throw syntax("expected `in` in a for loop") }
        let iterable = try parseOr()
        let condition = consume(name: "if") ? try parseOr() : nil
        if consume(name: "recursive") { throw ChatTemplateError.unsupported("recursive for loops") }
        try expectTagEnd()
        let (body, end) = try parseBlock(until: ["else", "endfor"])
        var otherwise: [JinjaNode] = []
        if end == "else" {
            try expectTagEnd()
            (otherwise, _) = try parseBlock(until: ["endfor"])
        }
        try expectTagEnd()
        return .forLoop(targets: targets, iterable: iterable, condition: condition, body: body, otherwise: otherwise)
    }

    private mutating func parseSet() throws -> JinjaNode {
        let name = try expectName()
        let attribute = consume(symbol: ".") ? try expectName() : nil
        if attribute == nil, case .tagEnd = current?.kind {
            index += 1
            let (body, _) = try parseBlock(until: ["endset"])
            try expectTagEnd()
            return .setBlock(name: name, body: body)
        }
        guard consume(symbol: "=") else { throw syntax("expected `=` in set") }
        let value = try parseExpression()
        try expectTagEnd()
        return .set(name: name, attribute: attribute, value)
    }

    private mutating func parseMacro() throws -> JinjaNode {
        let name = try expectName()
        var parameters: [(String, JinjaExpression?)] = []
        guard consume(symbol: "(") else { throw syntax("expected `(` after the macro's name") }
        while !consume(symbol: ")") {
            if !parameters.isEmpty, !consume(symbol: ",") { throw syntax("expected `,` between parameters") }
            if consume(symbol: ")") { break }
            let parameter = try expectName()
            parameters.append((parameter, consume(symbol: "=") ? try parseExpression() : nil))
        }
        try expectTagEnd()
        let (body, _) = try parseBlock(until: ["endmacro"])
        try expectTagEnd()
        return .macro(name: name, parameters: parameters, body: body)
    }

    // MARK: Expressions

    mutating func parseExpression() throws -> JinjaExpression {
        try enter()
        defer { depth -= 1 }
        let value = try parseOr()
        guard consume(name: "if") else { return value }
        let condition = try parseOr()
        let otherwise = consume(name: "else") ? try parseExpression() : nil
        return .conditional(condition, then: value, otherwise: otherwise)
    }

    private mutating func parseOr() throws -> JinjaExpression {
        var left = try parseAnd()
        while consume(name: "or") { left = .binary("or", left, try parseAnd()) }
        return left
    }

    private mutating func parseAnd() throws -> JinjaExpression {
        var left = try parseNot()
        while consume(name: "and") { left = .binary("and", left, try parseNot()) }
        return left
    }

    private mutating func parseNot() throws -> JinjaExpression {
        try enter()
        defer { depth -= 1 }
        if consume(name: "not") { return .unary("not", try parseNot()) }
        return try parseComparison()
    }

    private mutating func parseComparison() throws -> JinjaExpression {
        let first = try parseSum()
        var comparisons: [JinjaExpression] = []
        var left = first
        while true {
            let op: String
            if case .symbol(let symbol) = current?.kind, ["==", "!=", "<", ">", "<=", ">="].contains(symbol) {
                index += 1
                op = symbol
            } else if consume(name: "in") {
                op = "in"
            } else if case .name("not") = current?.kind, case .name("in") = peek(1)?.kind {
                index += 2
                op = "not in"
            } else {
                break
            }
            let right = try parseSum()
            comparisons.append(.binary(op, left, right))
            left = right
        }
        guard var result = comparisons.first else { return first }
        for comparison in comparisons.dropFirst() { result = .binary("and", result, comparison) }
        return result
    }

    private mutating func parseSum() throws -> JinjaExpression {
        var left = try parseConcatenation()
        while let op = consume(symbols: ["+", "-"]) { left = .binary(op, left, try parseConcatenation()) }
        return left
    }

    private mutating func parseConcatenation() throws -> JinjaExpression {
        var left = try parseProduct()
        while consume(symbol: "~") { left = .binary("~", left, try parseProduct()) }
        return left
    }

    private mutating func parseProduct() throws -> JinjaExpression {
        var left = try parsePower()
        while let op = consume(symbols: ["*", "/", "//", "%"]) { left = .binary(op, left, try parsePower()) }
        return left
    }

    private mutating func parsePower() throws -> JinjaExpression {
        var left = try parseUnary()
        while consume(symbol: "**") { left = .binary("**", left, try parseUnary()) }
        return left
    }

    private mutating func parseUnary() throws -> JinjaExpression {
        try enter()
        defer { depth -= 1 }
        if let op = consume(symbols: ["-", "+"]) { return try parseFiltersAndTests(.unary(op, try parseUnary())) }
        return try parseFiltersAndTests(try parsePostfix(try parsePrimary()))
    }

    private mutating func parseFiltersAndTests(_ base: JinjaExpression) throws -> JinjaExpression {
        var value = base
        while true {
            if consume(symbol: "|") {
                let name = try expectName()
                value = .filter(value, name: name, try parseArgumentsIfPresent())
            } else if consume(name: "is") {
                let negated = consume(name: "not")
                let name = try expectName()
                var arguments = try parseArgumentsIfPresent()
                if arguments.positional.isEmpty, startsBareTestArgument {
                    arguments.positional.append(try parsePostfix(try parsePrimary()))
                }
                value = .test(value, name: name, arguments, negated: negated)
            } else {
                return value
            }
        }
    }

    /// Whether the next token can be the one argument of a test written without parentheses
    /// (`is divisibleby 3`, `is equalto 'x'`).
    private var startsBareTestArgument: Bool {
        switch current?.kind {
        case .string, .integer, .float: return true
        case .name(let name): return !["and", "or", "else", "if", "not", "in", "is"].contains(name)
        case .symbol(let symbol): return symbol == "[" || symbol == "{"
        default: return false
        }
    }

    private mutating func parsePostfix(_ base: JinjaExpression) throws -> JinjaExpression {
        var value = base
        while true {
            if consume(symbol: ".") {
                if case .integer(let position) = current?.kind {
                    index += 1
                    value = .item(value, .literal(.integer(position)))
                } else {
                    value = .attribute(value, try expectName())
                }
            } else if consume(symbol: "[") {
                value = try parseSubscript(of: value)
            } else if case .symbol("(") = current?.kind {
                value = .call(value, try parseArgumentsIfPresent())
            } else {
                return value
            }
        }
    }

    private mutating func parseSubscript(of value: JinjaExpression) throws -> JinjaExpression {
        var parts: [JinjaExpression?] = [nil]
        var isSlice = false
        while !consume(symbol: "]") {
            if consume(symbol: ":") {
                isSlice = true
                parts.append(nil)
            } else {
                guard parts[parts.count - 1] == nil else { throw syntax("expected `]`") }
                parts[parts.count - 1] = try parseExpression()
            }
        }
        guard isSlice else {
            guard let key = parts[0] else { throw syntax("empty subscript") }
            return .item(value, key)
        }
        guard parts.count <= 3 else { throw syntax("a slice has at most three parts") }
        return .slice(value, start: parts[0], stop: parts.count > 1 ? parts[1] : nil, step: parts.count > 2 ? parts[2] : nil)
    }

    private mutating func parseArgumentsIfPresent() throws -> JinjaArguments {
        var arguments = JinjaArguments()
        guard consume(symbol: "(") else { return arguments }
        while !consume(symbol: ")") {
            if !(arguments.positional.isEmpty && arguments.keyword.isEmpty) {
                guard consume(symbol: ",") else { throw syntax("expected `,` between arguments") }
                if consume(symbol: ")") { break }
            }
            if case .name(let name) = current?.kind, case .symbol("=") = peek(1)?.kind {
                index += 2
                arguments.keyword.append((name, try parseExpression()))
            } else {
                arguments.positional.append(try parseExpression())
            }
        }
        return arguments
    }

    private mutating func parsePrimary() throws -> JinjaExpression {
        guard let token = current else { throw syntax("unexpected end of the template") }
        index += 1
        switch token.kind {
        case .string(var text):
            // Adjacent string literals are joined, as in Python.
            while case .string(let more) = current?.kind {
                text += more
                index += 1
            }
            return .literal(.string(text))
        case .integer(let value): return .literal(.integer(value))
        case .float(let value): return .literal(.float(value))
        case .name(let name):
            switch name {
            case "true", "True": return .literal(.bool(true))
            case "false", "False": return .literal(.bool(false))
            case "none", "None": return .literal(.none)
            default: return .name(name)
            }
        case .symbol("("):
            let value = try parseExpression()
            if case .symbol(",") = current?.kind { throw ChatTemplateError.unsupported("tuples") }
            guard consume(symbol: ")") else { throw syntax("expected `)`") }
            return value
        case .symbol("["):
            var elements: [JinjaExpression] = []
            while !consume(symbol: "]") {
                if !elements.isEmpty {
                    guard consume(symbol: ",") else { throw syntax("expected `,` in a list") }
                    if consume(symbol: "]") { break }
                }
                elements.append(try parseExpression())
            }
            return .list(elements)
        case .symbol("{"):
            var entries: [(JinjaExpression, JinjaExpression)] = []
            while !consume(symbol: "}") {
                if !entries.isEmpty {
                    guard consume(symbol: ",") else { throw syntax("expected `,` in a dict") }
                    if consume(symbol: "}") { break }
                }
                let key = try parseExpression()
                guard consume(symbol: ":") else { throw syntax("expected `:` in a dict") }
                entries.append((key, try parseExpression()))
            }
            return .dict(entries)
        default:
            index -= 1
            throw syntax("expected a value")
        }
    }

    // MARK: Tokens

    private mutating func enter() throws {
        depth += 1
        guard depth <= Self.maximumDepth else { throw syntax("nesting deeper than \(Self.maximumDepth) levels") }
    }

    private var current: JinjaToken? { index < tokens.count ? tokens[index] : nil }

    private func peek(_ offset: Int) -> JinjaToken? {
        index + offset < tokens.count ? tokens[index + offset] : nil
    }

    private func syntax(_ reason: String) -> ChatTemplateError {
        .syntax(position: current?.position ?? tokens.last?.position ?? 0, reason: reason)
    }

    private mutating func consume(symbol: String) -> Bool {
        guard case .symbol(symbol) = current?.kind else { return false }
        index += 1
        return true
    }

    private mutating func consume(symbols: [String]) -> String? {
        guard case .symbol(let symbol) = current?.kind, symbols.contains(symbol) else { return nil }
        index += 1
        return symbol
    }

    private mutating func consume(name: String) -> Bool {
        guard case .name(name) = current?.kind else { return false }
        index += 1
        return true
    }

    private mutating func expectName() throws -> String {
        guard case .name(let name) = current?.kind else { throw syntax("expected a name") }
        index += 1
        return name
    }

    private mutating func expectTagEnd() throws {
        guard case .tagEnd = current?.kind else { throw syntax("expected the end of the tag") }
        index += 1
    }
}
