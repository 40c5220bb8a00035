/// Runs a parsed template: statements write text, expressions evaluate to ``JinjaValue``s.
///
/// Scopes follow Jinja: a `for` loop body and a macro body have their own, so `set` inside them
/// is not seen after them (which is why templates use `namespace`); `if` blocks share the
/// enclosing scope.
struct JinjaInterpreter {
    private var scopes: [[String: JinjaValue]]
    private var output = ""
    /// How many macro calls are under way: recursion is bounded so a template cannot overflow the stack.
    private var callDepth = 0
    static let maximumCallDepth = 64

    /// Loop control raised by `break` and `continue`, caught by the innermost loop.
    private enum LoopControl: Error {
        case breakLoop
        case continueLoop
    }

    init(globals: [String: JinjaValue]) {
        scopes = [globals]
    }

    mutating func render(_ nodes: [JinjaNode]) throws -> String {
        do {
            try execute(nodes)
        } catch is LoopControl {
            throw ChatTemplateError.syntax(position: 0, reason: "break or continue outside a loop")
        }
        return output
    }

    // MARK: Statements

    private mutating func execute(_ nodes: [JinjaNode]) throws {
        for node in nodes { try execute(node) }
    }

    private mutating func execute(_ node: JinjaNode) throws {
        switch node {
        case .text(let text):
            output += text
        case .output(let expression):
            output += try evaluate(expression).text
        case .conditional(let branches, let otherwise):
            for (condition, body) in branches where try evaluate(condition).isTruthy {
                try execute(body)
                return
            }
            try execute(otherwise)
        case let .forLoop(targets, iterable, condition, body, otherwise):
            try executeLoop(targets: targets, iterable: iterable, condition: condition, body: body, otherwise: otherwise)
        case let .set(name, attribute, expression):
            let value = try evaluate(expression)
            if let attribute {
                guard case .namespace(let namespace) = lookup(name) else {
                    throw ChatTemplateError.evaluation("cannot set \(attribute) on \(name), which is not a namespace")
                }
                namespace.attributes[attribute] = value
            } else {
                scopes[scopes.count - 1][name] = value
            }
        case let .setBlock(name, body):
            let saved = output
            output = ""
            try execute(body)
            let captured = output
            output = saved
            scopes[scopes.count - 1][name] = .string(captured)
        case let .macro(name, parameters, body):
            scopes[scopes.count - 1][name] = .macro(JinjaMacro(name: name, parameters: parameters, body: body))
        case .breakLoop:
            throw LoopControl.breakLoop
        case .continueLoop:
            throw LoopControl.continueLoop
        }
    }

    private mutating func executeLoop(
        targets: [String], iterable: JinjaExpression, condition: JinjaExpression?, body: [JinjaNode], otherwise: [JinjaNode]
    ) throws {
        let items = try iterate(try evaluate(iterable))
        scopes.append([:])
        defer { scopes.removeLast() }
        var selected: [JinjaValue] = []
        for item in items {
            try bind(targets, to: item)
            if try condition.map({ try evaluate($0).isTruthy }) ?? true { selected.append(item) }
        }
        for (position, item) in selected.enumerated() {
            try bind(targets, to: item)
            scopes[scopes.count - 1]["loop"] = .dict(JinjaDict([
                ("index", .integer(position + 1)), ("index0", .integer(position)),
                ("revindex", .integer(selected.count - position)), ("revindex0", .integer(selected.count - position - 1)),
                ("first", .bool(position == 0)), ("last", .bool(position == selected.count - 1)),
                ("length", .integer(selected.count)),
                ("previtem", position > 0 ? selected[position - 1] : .undefined("loop.previtem")),
                ("nextitem", position + 1 < selected.count ? selected[position + 1] : .undefined("loop.nextitem")),
            ]))
            do {
                try execute(body)
            } catch LoopControl.breakLoop {
                break
            } catch LoopControl.continueLoop {
                continue
            }
        }
        if selected.isEmpty { try execute(otherwise) }
    }

    private mutating func bind(_ targets: [String], to item: JinjaValue) throws {
        guard targets.count > 1 else {
            scopes[scopes.count - 1][targets[0]] = item
            return
        }
        let parts = try iterate(item)
        guard parts.count == targets.count else {
            throw ChatTemplateError.evaluation("cannot unpack \(parts.count) values into \(targets.joined(separator: ", "))")
        }
        for (target, part) in zip(targets, parts) { scopes[scopes.count - 1][target] = part }
    }

    /// The elements a `for` loop visits: a list's elements, a string's characters, a dict's keys.
    func iterate(_ value: JinjaValue) throws -> [JinjaValue] {
        switch value {
        case .list(let values): return values
        case .string(let text): return text.unicodeScalars.map { .string(String($0)) }
        case .dict(let dict): return dict.entries.map { .string($0.key) }
        case .undefined: return []
        default: throw ChatTemplateError.evaluation("cannot iterate over a \(value.typeName)")
        }
    }

    private func lookup(_ name: String) -> JinjaValue {
        for scope in scopes.reversed() {
            if let value = scope[name] { return value }
        }
        if ["raise_exception", "namespace", "range", "dict", "strftime_now"].contains(name) { return .function(name) }
        return .undefined(name)
    }

    // MARK: Expressions

    mutating func evaluate(_ expression: JinjaExpression) throws -> JinjaValue {
        switch expression {
        case .literal(let literal):
            return JinjaValue(literal)
        case .name(let name):
            return lookup(name)
        case .list(let elements):
            return .list(try elements.map { try evaluate($0) })
        case .dict(let entries):
            var dict = JinjaDict([])
            for (keyExpression, valueExpression) in entries {
                guard case .string(let key) = try evaluate(keyExpression) else {
                    throw ChatTemplateError.unsupported("dict keys that are not strings")
                }
                dict[key] = try evaluate(valueExpression)
            }
            return .dict(dict)
        case .attribute(let base, let name):
            return try attribute(name, of: try evaluate(base))
        case .item(let base, let key):
            return try item(try evaluate(key), of: try evaluate(base))
        case let .slice(base, start, stop, step):
            return try JinjaBuiltins.slice(
                try evaluate(base), start: try start.map { try evaluate($0) }, stop: try stop.map { try evaluate($0) },
                step: try step.map { try evaluate($0) })
        case .call(let callee, let arguments):
            return try call(try evaluate(callee), arguments: arguments)
        case let .filter(base, name, arguments):
            let value = try evaluate(base)
            let (positional, keyword) = try evaluate(arguments)
            return try JinjaBuiltins.filter(name, value, positional, keyword, interpreter: self)
        case let .test(base, name, arguments, negated):
            let value = try evaluate(base)
            let (positional, _) = try evaluate(arguments)
            return .bool(try JinjaBuiltins.test(name, value, positional) != negated)
        case .unary(let op, let operand):
            let value = try evaluate(operand)
            switch op {
            case "not": return .bool(!value.isTruthy)
            case "-":
                switch value {
                case .integer(let number): return .integer(0 &- number)
                case .float(let number): return .float(-number)
                default: throw ChatTemplateError.evaluation("cannot negate a \(value.typeName)")
                }
            default:
                guard value.number != nil else { throw ChatTemplateError.evaluation("unary + of a \(value.typeName)") }
                return value
            }
        case .binary("and", let left, let right):
            let value = try evaluate(left)
            return value.isTruthy ? try evaluate(right) : value
        case .binary("or", let left, let right):
            let value = try evaluate(left)
            return value.isTruthy ? value : try evaluate(right)
        case .binary(let op, let left, let right):
            return try JinjaBuiltins.binary(op, try evaluate(left), try evaluate(right))
        case let .conditional(condition, value, otherwise):
            if try evaluate(condition).isTruthy { return try evaluate(value) }
            return try otherwise.map { try evaluate($0) } ?? .undefined("the else branch")
        }
    }

    private mutating func evaluate(_ arguments: JinjaArguments) throws -> ([JinjaValue], [String: JinjaValue]) {
        let positional = try arguments.positional.map { try evaluate($0) }
        var keyword: [String: JinjaValue] = [:]
        for (name, expression) in arguments.keyword { keyword[name] = try evaluate(expression) }
        return (positional, keyword)
    }

    /// `value.name`: an attribute, else the item `name` (Jinja's `getattr`).
    func attribute(_ name: String, of value: JinjaValue) throws -> JinjaValue {
        switch value {
        case .undefined(let undefinedName):
            throw ChatTemplateError.evaluation("'\(undefinedName)' is undefined (reading .\(name))")
        case .dict(let dict):
            if let member = dict[name] { return member }
            if ["items", "keys", "values", "get"].contains(name) { return .method(.dict(dict), name) }
            return .undefined(name)
        case .namespace(let namespace):
            return namespace.attributes[name] ?? .undefined(name)
        case .string(let text):
            return .method(.string(text), name)
        default:
            return .undefined(name)
        }
    }

    /// `value[key]` (Jinja's `getitem`); an absent key or index is undefined.
    func item(_ key: JinjaValue, of value: JinjaValue) throws -> JinjaValue {
        switch (value, key) {
        case (.undefined(let name), _):
            throw ChatTemplateError.evaluation("'\(name)' is undefined (reading [\(key.representation)])")
        case (.dict(let dict), .string(let name)):
            return dict[name] ?? .undefined(name)
        case (.namespace(let namespace), .string(let name)):
            return namespace.attributes[name] ?? .undefined(name)
        case (.list(let values), .integer(let position)):
            let resolved = position < 0 ? values.count + position : position
            return values.indices.contains(resolved) ? values[resolved] : .undefined("[\(position)]")
        case (.string(let text), .integer(let position)):
            let scalars = Array(text.unicodeScalars)
            let resolved = position < 0 ? scalars.count + position : position
            return scalars.indices.contains(resolved) ? .string(String(scalars[resolved])) : .undefined("[\(position)]")
        case (_, .string(let name)):
            return try attribute(name, of: value)
        default:
            return .undefined("[\(key.representation)]")
        }
    }

    private mutating func call(_ callee: JinjaValue, arguments: JinjaArguments) throws -> JinjaValue {
        let (positional, keyword) = try evaluate(arguments)
        switch callee {
        case .function(let name):
            return try JinjaBuiltins.callGlobal(name, positional, keyword)
        case .method(let receiver, let name):
            return try JinjaBuiltins.callMethod(name, on: receiver, positional, keyword)
        case .macro(let macro):
            return try callMacro(macro, positional, keyword)
        case .undefined(let name):
            throw ChatTemplateError.unsupported("function \(name)")
        default:
            throw ChatTemplateError.evaluation("a \(callee.typeName) cannot be called")
        }
    }

    private mutating func callMacro(_ macro: JinjaMacro, _ positional: [JinjaValue], _ keyword: [String: JinjaValue]) throws -> JinjaValue {
        guard callDepth < Self.maximumCallDepth else {
            throw ChatTemplateError.evaluation("macro \(macro.name) nests deeper than \(Self.maximumCallDepth) calls")
        }
        guard positional.count <= macro.parameters.count else {
            throw ChatTemplateError.evaluation("macro \(macro.name) takes \(macro.parameters.count) arguments, got \(positional.count)")
        }
        var scope: [String: JinjaValue] = [:]
        for (position, (name, defaultValue)) in macro.parameters.enumerated() {
            if position < positional.count {
                scope[name] = positional[position]
            } else if let value = keyword[name] {
                scope[name] = value
            } else {
                scope[name] = try defaultValue.map { try evaluate($0) } ?? .undefined(name)
            }
        }
        let savedOutput = output
        output = ""
        scopes.append(scope)
        callDepth += 1
        defer {
            scopes.removeLast()
            callDepth -= 1
        }
        try execute(macro.body)
        let rendered = output
        output = savedOutput
        return .string(rendered)
    }
}
