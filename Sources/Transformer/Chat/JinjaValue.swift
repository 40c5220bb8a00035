import Foundation

/// A dict of a template, keyed by strings in insertion order (as Python's dicts keep them).
struct JinjaDict {
    private(set) var entries: [(key: String, value: JinjaValue)]

    init(_ entries: [(String, JinjaValue)]) {
        self.entries = []
        for (key, value) in entries { self[key] = value }
    }

    subscript(key: String) -> JinjaValue? {
        get { entries.first { $0.key == key }?.value }
        set {
            if let position = entries.firstIndex(where: { $0.key == key }) {
                if let newValue { entries[position].value = newValue } else { entries.remove(at: position) }
            } else if let newValue {
                entries.append((key, newValue))
            }
        }
    }
}

/// The object `namespace()` makes: attributes that `set ns.attribute = …` can change from inside a
/// loop, where a plain `set` would only change a copy.
final class JinjaNamespace {
    var attributes: JinjaDict

    init(_ attributes: JinjaDict) {
        self.attributes = attributes
    }
}

/// A macro: its parameters with their defaults, and its body.
struct JinjaMacro {
    let name: String
    let parameters: [(String, JinjaExpression?)]
    let body: [JinjaNode]
}

/// A value while a template runs, with Python's (and Jinja's) meaning for each operation.
enum JinjaValue {
    /// A name that is not defined, or an absent key; its name is kept for error messages.
    case undefined(String)
    case none
    case bool(Bool)
    case integer(Int)
    case float(Double)
    case string(String)
    case list([JinjaValue])
    case dict(JinjaDict)
    case namespace(JinjaNamespace)
    case macro(JinjaMacro)
    /// A global function (`raise_exception`, `namespace`, `range`).
    case function(String)
    /// A method of a value (`content.strip`), to be called.
    case method(JinjaMethodReceiver, String)

    init(_ literal: JinjaLiteral) {
        switch literal {
        case .none: self = .none
        case .bool(let value): self = .bool(value)
        case .integer(let value): self = .integer(value)
        case .float(let value): self = .float(value)
        case .string(let value): self = .string(value)
        }
    }

    /// A value from Swift: `String`, `Bool`, `Int`, `Double`, arrays and `[String: Any]` of them.
    /// - Throws: ``ChatTemplateError/evaluation(_:)`` for any other type.
    init(converting value: Any) throws {
        switch value {
        case let value as String: self = .string(value)
        case let value as Bool: self = .bool(value)
        case let value as Int: self = .integer(value)
        case let value as Double: self = .float(value)
        case let value as [Any]: self = .list(try value.map(JinjaValue.init(converting:)))
        case let value as [String: Any]:
            self = .dict(JinjaDict(try value.sorted { $0.key < $1.key }.map { ($0.key, try JinjaValue(converting: $0.value)) }))
        default: throw ChatTemplateError.evaluation("a variable of type \(type(of: value)) cannot be passed to a template")
        }
    }

    /// Python's truth value; undefined is false.
    var isTruthy: Bool {
        switch self {
        case .undefined, .none: return false
        case .bool(let value): return value
        case .integer(let value): return value != 0
        case .float(let value): return value != 0
        case .string(let value): return !value.isEmpty
        case .list(let values): return !values.isEmpty
        case .dict(let dict): return !dict.entries.isEmpty
        case .namespace, .macro, .function, .method: return true
        }
    }

    var isUndefined: Bool {
        if case .undefined = self { return true }
        return false
    }

    /// The type's name, for errors.
    var typeName: String {
        switch self {
        case .undefined(let name): return "undefined (\(name))"
        case .none: return "none"
        case .bool: return "bool"
        case .integer: return "int"
        case .float: return "float"
        case .string: return "string"
        case .list: return "list"
        case .dict: return "dict"
        case .namespace: return "namespace"
        case .macro: return "macro"
        case .function, .method: return "function"
        }
    }

    /// What `{{ value }}` writes: Python's `str()`, with undefined written as nothing.
    var text: String {
        switch self {
        case .undefined: return ""
        case .string(let value): return value
        default: return representation
        }
    }

    /// Python's `repr()`, used for values inside lists and dicts.
    var representation: String {
        switch self {
        case .undefined: return ""
        case .none: return "None"
        case .bool(let value): return value ? "True" : "False"
        case .integer(let value): return String(value)
        case .float(let value): return Self.pythonFloat(value)
        case .string(let value): return Self.pythonQuoted(value)
        case .list(let values): return "[" + values.map(\.representation).joined(separator: ", ") + "]"
        case .dict(let dict):
            return "{" + dict.entries.map { Self.pythonQuoted($0.key) + ": " + $0.value.representation }.joined(separator: ", ") + "}"
        case .namespace: return "<Namespace>"
        case .macro(let macro): return "<Macro '\(macro.name)'>"
        case .function(let name), .method(_, let name): return "<function \(name)>"
        }
    }

    static func pythonFloat(_ value: Double) -> String {
        if value.isNaN { return "nan" }
        if value.isInfinite { return value > 0 ? "inf" : "-inf" }
        if value == value.rounded(), abs(value) < 1e16 { return String(format: "%.1f", value) }
        return "\(value)"
    }

    private static func pythonQuoted(_ text: String) -> String {
        let quote = text.contains("'") && !text.contains("\"") ? "\"" : "'"
        var result = quote
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            case "\t": result += "\\t"
            case "\r": result += "\\r"
            default:
                if String(scalar) == quote { result += "\\" + quote } else { result.unicodeScalars.append(scalar) }
            }
        }
        return result + quote
    }

    /// Python's `==`: numbers compare by value across int and float; lists and dicts deeply.
    func equals(_ other: JinjaValue) -> Bool {
        switch (self, other) {
        case (.undefined, .undefined), (.none, .none): return true
        case let (.bool(a), .bool(b)): return a == b
        case let (.string(a), .string(b)): return a.unicodeScalars.elementsEqual(b.unicodeScalars)
        case let (.list(a), .list(b)): return a.count == b.count && zip(a, b).allSatisfy { $0.equals($1) }
        case let (.dict(a), .dict(b)):
            return a.entries.count == b.entries.count && a.entries.allSatisfy { entry in b[entry.key].map(entry.value.equals) ?? false }
        case let (.namespace(a), .namespace(b)): return a === b
        default:
            if let a = number, let b = other.number { return a == b }
            return false
        }
    }

    /// The value as a number if it is a number or a bool (as in Python, `True == 1`).
    var number: Double? {
        switch self {
        case .integer(let value): return Double(value)
        case .float(let value): return value
        case .bool(let value): return value ? 1 : 0
        default: return nil
        }
    }
}

/// What a method is called on.
enum JinjaMethodReceiver {
    case string(String)
    case dict(JinjaDict)
}
