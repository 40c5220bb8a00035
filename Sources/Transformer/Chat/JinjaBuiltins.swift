import Foundation

/// The operators, filters, tests, global functions and methods templates can use.
enum JinjaBuiltins {
    // MARK: Filters

    static func filter(
        _ name: String, _ value: JinjaValue, _ arguments: [JinjaValue], _ keyword: [String: JinjaValue],
        interpreter: JinjaInterpreter
    ) throws -> JinjaValue {
        switch name {
        case "trim": return .string(pythonStrip(try string(value, name), characters: nil, leading: true, trailing: true))
        case "length", "count":
            switch value {
            case .string(let text): return .integer(text.unicodeScalars.count)
            case .list(let values): return .integer(values.count)
            case .dict(let dict): return .integer(dict.entries.count)
            default: throw ChatTemplateError.evaluation("a \(value.typeName) has no length")
            }
        case "upper", "lower", "title", "capitalize":
            return try callMethod(name, on: .string(try string(value, name)), [], [:])
        case "first", "last":
            let elements = try interpreter.iterate(value)
            return (name == "first" ? elements.first : elements.last) ?? .undefined(name)
        case "join":
            let separator = try arguments.first.map { try string($0, name) } ?? ""
            var elements = try interpreter.iterate(value)
            if let attribute = keyword["attribute"] {
                elements = try elements.map { try interpreter.item(attribute, of: $0) }
            }
            return .string(elements.map(\.text).joined(separator: separator))
        case "default", "d":
            let fallback = arguments.first ?? .string("")
            let usesTruth = (arguments.count > 1 ? arguments[1] : keyword["boolean"] ?? .bool(false)).isTruthy
            return (usesTruth ? !value.isTruthy : value.isUndefined) ? fallback : value
        case "string": return .string(value.text)
        case "safe": return value
        case "int":
            switch value {
            case .integer: return value
            case .float(let number): return .integer(Int(exactly: number.rounded(.towardZero)) ?? 0)
            case .bool(let flag): return .integer(flag ? 1 : 0)
            case .string(let text): return .integer(Int(text.trimmingCharacters(in: .whitespaces)) ?? 0)
            default: return .integer(0)
            }
        case "float":
            if let number = value.number { return .float(number) }
            if case .string(let text) = value { return .float(Double(text.trimmingCharacters(in: .whitespaces)) ?? 0) }
            return .float(0)
        case "list": return .list(try interpreter.iterate(value))
        case "reverse":
            if case .string(let text) = value { return .string(String(String.UnicodeScalarView(text.unicodeScalars.reversed()))) }
            return .list(try interpreter.iterate(value).reversed())
        case "items":
            guard case .dict(let dict) = value else { throw ChatTemplateError.evaluation("items of a \(value.typeName)") }
            return .list(dict.entries.map { .list([.string($0.key), $0.value]) })
        case "replace":
            return try callMethod("replace", on: .string(try string(value, name)), arguments, keyword)
        case "tojson":
            guard arguments.isEmpty, keyword.isEmpty else { throw ChatTemplateError.unsupported("tojson with arguments") }
            return .string(try json(value))
        case "selectattr", "rejectattr":
            guard let attribute = arguments.first else { throw ChatTemplateError.evaluation("\(name) needs an attribute") }
            let elements = try interpreter.iterate(value)
            return .list(try elements.filter { element in
                let member = try interpreter.item(attribute, of: element)
                let passes = arguments.count > 1
                    ? try test(try string(arguments[1], name), member, Array(arguments.dropFirst(2)))
                    : member.isTruthy
                return passes == (name == "selectattr")
            })
        case "map":
            guard let attribute = keyword["attribute"] else { throw ChatTemplateError.unsupported("map without attribute=") }
            return .list(try interpreter.iterate(value).map { try interpreter.item(attribute, of: $0) })
        default:
            throw ChatTemplateError.unsupported("filter \(name)")
        }
    }

    // MARK: Tests

    static func test(_ name: String, _ value: JinjaValue, _ arguments: [JinjaValue]) throws -> Bool {
        switch name {
        case "defined": return !value.isUndefined
        case "undefined": return value.isUndefined
        case "none": if case .none = value { return true } else { return false }
        case "string": if case .string = value { return true } else { return false }
        case "boolean": return value.isBool
        case "true": if case .bool(true) = value { return true } else { return false }
        case "false": if case .bool(false) = value { return true } else { return false }
        case "number":
            switch value {
            case .integer, .float: return true
            default: return false
            }
        case "integer": if case .integer = value { return true } else { return false }
        case "float": if case .float = value { return true } else { return false }
        case "mapping": if case .dict = value { return true } else { return false }
        case "sequence", "iterable":
            switch value {
            case .list, .string, .dict: return true
            default: return false
            }
        case "callable":
            switch value {
            case .macro, .function, .method: return true
            default: return false
            }
        case "even", "odd":
            guard case .integer(let number) = value else { throw ChatTemplateError.evaluation("\(name) of a \(value.typeName)") }
            return (number % 2 == 0) == (name == "even")
        case "divisibleby":
            guard case .integer(let number) = value, case .integer(let divisor)? = arguments.first, divisor != 0 else {
                throw ChatTemplateError.evaluation("divisibleby needs two integers")
            }
            return number % divisor == 0
        case "equalto", "eq", "==", "sameas":
            guard let other = arguments.first else { throw ChatTemplateError.evaluation("\(name) needs a value") }
            return value.equals(other)
        case "ne", "!=":
            guard let other = arguments.first else { throw ChatTemplateError.evaluation("\(name) needs a value") }
            return !value.equals(other)
        case "in":
            guard let container = arguments.first else { throw ChatTemplateError.evaluation("in needs a value") }
            return try contains(container, value)
        case "lower", "upper":
            guard case .string(let text) = value else { return false }
            return name == "lower" ? text == text.lowercased() : text == text.uppercased()
        default:
            throw ChatTemplateError.unsupported("test \(name)")
        }
    }

    // MARK: Functions and methods

    static func callGlobal(_ name: String, _ arguments: [JinjaValue], _ keyword: [String: JinjaValue]) throws -> JinjaValue {
        switch name {
        case "raise_exception":
            throw ChatTemplateError.raised(arguments.first?.text ?? "")
        case "namespace", "dict":
            var attributes = JinjaDict([])
            if case .dict(let initial)? = arguments.first { attributes = initial }
            for (key, value) in keyword.sorted(by: { $0.key < $1.key }) { attributes[key] = value }
            return name == "dict" ? .dict(attributes) : .namespace(JinjaNamespace(attributes))
        case "range":
            let bounds = try arguments.map { value -> Int in
                guard case .integer(let number) = value else { throw ChatTemplateError.evaluation("range needs integers") }
                return number
            }
            let (start, end, step) = switch bounds.count {
            case 1: (0, bounds[0], 1)
            case 2: (bounds[0], bounds[1], 1)
            case 3: (bounds[0], bounds[1], bounds[2])
            default: throw ChatTemplateError.evaluation("range takes one to three integers")
            }
            guard step != 0 else { throw ChatTemplateError.evaluation("range step cannot be zero") }
            let span = Double(end) - Double(start)
            try checkSize(Int(max(0, min(span / Double(step), Double(maximumSize + 1))).rounded(.up)), times: 1)
            return .list(Array(stride(from: start, to: end, by: step)).map(JinjaValue.integer))
        case "strftime_now":
            guard case .string(let format)? = arguments.first else { throw ChatTemplateError.evaluation("strftime_now needs a format") }
            return .string(localTime(format: format))
        default:
            throw ChatTemplateError.unsupported("function \(name)")
        }
    }

    /// The local time now written with C's `strftime` format (as Python's `datetime.now().strftime`).
    private static func localTime(format: String) -> String {
        var now = time(nil)
        var parts = tm()
        localtime_r(&now, &parts)
        var buffer = [CChar](repeating: 0, count: 256)
        let length = strftime(&buffer, buffer.count, format, &parts)
        return String(decoding: buffer.prefix(length).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    static func callMethod(
        _ name: String, on receiver: JinjaMethodReceiver, _ arguments: [JinjaValue], _ keyword: [String: JinjaValue]
    ) throws -> JinjaValue {
        switch receiver {
        case .dict(let dict):
            switch name {
            case "items": return .list(dict.entries.map { .list([.string($0.key), $0.value]) })
            case "keys": return .list(dict.entries.map { .string($0.key) })
            case "values": return .list(dict.entries.map(\.value))
            case "get":
                guard case .string(let key)? = arguments.first else { throw ChatTemplateError.evaluation("get needs a string key") }
                return dict[key] ?? (arguments.count > 1 ? arguments[1] : .none)
            default: throw ChatTemplateError.unsupported("dict method \(name)")
            }
        case .string(let text):
            let characters = try arguments.first.flatMap { value -> String? in
                if case .none = value { return nil }
                return try string(value, name)
            }
            switch name {
            case "strip", "lstrip", "rstrip":
                return .string(pythonStrip(text, characters: characters, leading: name != "rstrip", trailing: name != "lstrip"))
            case "upper": return .string(text.uppercased())
            case "lower": return .string(text.lowercased())
            case "title": return .string(text.capitalized)
            case "capitalize": return .string(text.prefix(1).uppercased() + text.dropFirst().lowercased())
            case "startswith", "endswith":
                guard let characters else { throw ChatTemplateError.evaluation("\(name) needs a string") }
                return .bool(name == "startswith" ? text.unicodeScalars.starts(with: characters.unicodeScalars)
                                                  : text.unicodeScalars.reversed().starts(with: characters.unicodeScalars.reversed()))
            case "replace":
                guard arguments.count >= 2 else { throw ChatTemplateError.evaluation("replace needs two strings") }
                let old = try string(arguments[0], name)
                let new = try string(arguments[1], name)
                return .string(text.replacingOccurrences(of: old, with: new))
            case "split":
                if let characters {
                    return .list(text.components(separatedBy: characters).map(JinjaValue.string))
                }
                return .list(text.split(whereSeparator: { $0.isWhitespace }).map { .string(String($0)) })
            default: throw ChatTemplateError.unsupported("string method \(name)")
            }
        }
    }

    // MARK: Helpers

    private static func string(_ value: JinjaValue, _ context: String) throws -> String {
        guard case .string(let text) = value else {
            throw ChatTemplateError.evaluation("\(context) needs a string, not a \(value.typeName)")
        }
        return text
    }

    /// Python's `str.strip`: whitespace, or the given characters, removed from the ends.
    static func pythonStrip(_ text: String, characters: String?, leading: Bool, trailing: Bool) -> String {
        let set = characters.map { Set($0.unicodeScalars) }
        func removable(_ scalar: Unicode.Scalar) -> Bool { set?.contains(scalar) ?? scalar.properties.isWhitespace }
        var scalars = Substring(text).unicodeScalars
        if leading { scalars = scalars.drop(while: removable) }
        if trailing {
            while let last = scalars.last, removable(last) { scalars.removeLast() }
        }
        return String(scalars)
    }

    /// `json.dumps(value, ensure_ascii=False)`.
    static func json(_ value: JinjaValue) throws -> String {
        switch value {
        case .none, .undefined: return "null"
        case .bool(let flag): return flag ? "true" : "false"
        case .integer(let number): return String(number)
        case .float(let number): return JinjaValue.pythonFloat(number)
        case .string(let text): return JSONStringLiteral.quoted(text)
        case .list(let values): return "[" + (try values.map(json)).joined(separator: ", ") + "]"
        case .dict(let dict):
            return "{" + (try dict.entries.map { try json(.string($0.key)) + ": " + json($0.value) }).joined(separator: ", ") + "}"
        default:
            throw ChatTemplateError.evaluation("a \(value.typeName) cannot be written as JSON")
        }
    }
}

extension JinjaValue {
    /// The integer of an `.integer` (0 otherwise).
    var integerValue: Int {
        if case .integer(let value) = self { return value }
        return 0
    }

    var isBool: Bool {
        if case .bool = self { return true }
        return false
    }
}
