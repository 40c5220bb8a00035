import Foundation

/// Python's (and Jinja's) operators on template values, and slicing.
extension JinjaBuiltins {
    static func binary(_ op: String, _ left: JinjaValue, _ right: JinjaValue) throws -> JinjaValue {
        switch op {
        case "~":
            return .string(left.text + right.text)
        case "==":
            return .bool(left.equals(right))
        case "!=":
            return .bool(!left.equals(right))
        case "in", "not in":
            return .bool(try contains(right, left) == (op == "in"))
        case "<", ">", "<=", ">=":
            return .bool(try compare(op, left, right))
        default:
            break
        }
        for value in [left, right] {
            if case .undefined(let name) = value {
                throw ChatTemplateError.evaluation("'\(name)' is undefined (in an expression with \(op))")
            }
        }
        switch (op, left, right) {
        case let ("+", .string(a), .string(b)): return .string(a + b)
        case let ("+", .list(a), .list(b)): return .list(a + b)
        case let ("*", .string(a), .integer(count)), let ("*", .integer(count), .string(a)):
            try checkSize(a.utf8.count, times: count)
            return .string(String(repeating: a, count: max(count, 0)))
        case let ("*", .list(a), .integer(count)):
            try checkSize(a.count, times: count)
            return .list(Array([[JinjaValue]](repeating: a, count: max(count, 0)).joined()))
        case let (_, .integer(a), .integer(b)):
            if let result = try integerArithmetic(op, a, b) { return result }
        default:
            if let a = left.number, let b = right.number, !(left.isBool && right.isBool) {
                switch op {
                case "+": return .float(a + b)
                case "-": return .float(a - b)
                case "*": return .float(a * b)
                case "/": return .float(a / b)
                case "//": return .float((a / b).rounded(.down))
                case "%": return .float(a - (a / b).rounded(.down) * b)
                case "**": return .float(pow(a, b))
                default: break
                }
            }
        }
        if op == "%", case .string = left { throw ChatTemplateError.unsupported("string formatting with %") }
        throw ChatTemplateError.evaluation("cannot apply \(op) to a \(left.typeName) and a \(right.typeName)")
    }

    /// The most elements or bytes a repetition or `range` may make: templates come from model
    /// files, and one must not exhaust memory.
    static let maximumSize = 1 << 24

    static func checkSize(_ count: Int, times repetitions: Int) throws {
        let (total, overflow) = count.multipliedReportingOverflow(by: max(repetitions, 0))
        guard !overflow, total <= maximumSize else {
            throw ChatTemplateError.evaluation("a repetition of more than \(maximumSize) elements")
        }
    }

    /// Python's integer `+ - * / // % **`, or `nil` for another operator; results that do not fit
    /// 64 bits are an error, not wrapped.
    private static func integerArithmetic(_ op: String, _ a: Int, _ b: Int) throws -> JinjaValue? {
        func checked(_ result: (partialValue: Int, overflow: Bool)) throws -> JinjaValue {
            guard !result.overflow else { throw ChatTemplateError.evaluation("integer \(op) overflows 64 bits") }
            return .integer(result.partialValue)
        }
        switch op {
        case "+": return try checked(a.addingReportingOverflow(b))
        case "-": return try checked(a.subtractingReportingOverflow(b))
        case "*": return try checked(a.multipliedReportingOverflow(by: b))
        case "/":
            guard b != 0 else { throw ChatTemplateError.evaluation("division by zero") }
            return .float(Double(a) / Double(b))
        case "//", "%":
            guard b != 0 else { throw ChatTemplateError.evaluation("division by zero") }
            let (quotient, overflow) = a.dividedReportingOverflow(by: b)
            guard !overflow else { throw ChatTemplateError.evaluation("integer \(op) overflows 64 bits") }
            let remainder = a - quotient * b
            let floors = remainder != 0 && (remainder < 0) != (b < 0)
            return .integer(op == "//" ? quotient - (floors ? 1 : 0) : remainder + (floors ? b : 0))
        case "**":
            guard b >= 0 else { return .float(pow(Double(a), Double(b))) }
            var result = 1
            for _ in 0..<min(b, 64) {
                result = try checked(result.multipliedReportingOverflow(by: a)).integerValue
            }
            if b > 64 && abs(a) > 1 { throw ChatTemplateError.evaluation("integer ** overflows 64 bits") }
            if b > 64 && a == -1 { return .integer(b % 2 == 0 ? 1 : -1) }
            return .integer(result)
        default:
            return nil
        }
    }

    private static func compare(_ op: String, _ left: JinjaValue, _ right: JinjaValue) throws -> Bool {
        let order: ComparisonResult
        if let a = left.number, let b = right.number {
            order = a < b ? .orderedAscending : a > b ? .orderedDescending : .orderedSame
        } else if case .string(let a) = left, case .string(let b) = right {
            let (x, y) = (Array(a.unicodeScalars.map(\.value)), Array(b.unicodeScalars.map(\.value)))
            order = x.lexicographicallyPrecedes(y) ? .orderedAscending : y.lexicographicallyPrecedes(x) ? .orderedDescending : .orderedSame
        } else {
            throw ChatTemplateError.evaluation("cannot compare a \(left.typeName) with a \(right.typeName)")
        }
        switch op {
        case "<": return order == .orderedAscending
        case ">": return order == .orderedDescending
        case "<=": return order != .orderedDescending
        default: return order != .orderedAscending
        }
    }

    static func contains(_ container: JinjaValue, _ element: JinjaValue) throws -> Bool {
        switch (container, element) {
        case let (.string(text), .string(part)): return part.isEmpty || text.contains(part)
        case let (.list(values), _): return values.contains { $0.equals(element) }
        case let (.dict(dict), .string(key)): return dict[key] != nil
        case (.dict, _): return false
        case (.undefined(let name), _): throw ChatTemplateError.evaluation("'\(name)' is undefined (tested with in)")
        default: throw ChatTemplateError.evaluation("cannot look for a \(element.typeName) in a \(container.typeName)")
        }
    }

    static func slice(_ value: JinjaValue, start: JinjaValue?, stop: JinjaValue?, step: JinjaValue?) throws -> JinjaValue {
        func bound(_ value: JinjaValue?) throws -> Int? {
            switch value {
            case nil, .none?: return nil
            case .integer(let number)?: return number
            default: throw ChatTemplateError.evaluation("slice bounds must be integers")
            }
        }
        let stride = try bound(step) ?? 1
        guard stride != 0 else { throw ChatTemplateError.evaluation("slice step cannot be zero") }
        func indices(count: Int) throws -> [Int] {
            func clamp(_ bound: Int?, _ fallback: Int) -> Int {
                guard var bound else { return fallback }
                if bound < 0 { bound += count }
                return stride > 0 ? min(max(bound, 0), count) : min(max(bound, -1), count - 1)
            }
            let first = clamp(try bound(start), stride > 0 ? 0 : count - 1)
            let end = clamp(try bound(stop), stride > 0 ? count : -1)
            return Array(Swift.stride(from: first, to: end, by: stride))
        }
        switch value {
        case .list(let values): return .list(try indices(count: values.count).map { values[$0] })
        case .string(let text):
            let scalars = Array(text.unicodeScalars)
            return .string(String(String.UnicodeScalarView(try indices(count: scalars.count).map { scalars[$0] })))
        default: throw ChatTemplateError.evaluation("cannot slice a \(value.typeName)")
        }
    }
}
