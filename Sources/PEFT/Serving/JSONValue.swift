import Foundation

/// Any JSON value, integers kept exact: what the serving front ends parse a request into before
/// checking it field by field (``JSONFields``).
public enum JSONValue: Codable, Equatable, Sendable {
    case null, bool(Bool), integer(Int), double(Double), string(String), array([JSONValue]), object([String: JSONValue])

    /// Parses `data`, refusing input nested deeper than `maximumDepth` brackets and braces before
    /// decoding anything (so a hostile body's cost stays linear in its length).
    /// - Throws: ``JSONFieldError`` saying why the bytes are not JSON or are nested too deeply.
    public static func parse(_ data: Data, maximumDepth: Int) throws -> JSONValue {
        guard nestingDepth(of: data) <= maximumDepth else {
            throw JSONFieldError("nested deeper than \(maximumDepth) levels of arrays and objects")
        }
        do {
            return try JSONDecoder().decode(JSONValue.self, from: data)
        } catch {
            throw JSONFieldError("not JSON (\(JSONFieldError.describe(error)))")
        }
    }

    /// How deeply `bytes`' brackets and braces nest, outside strings (one linear scan).
    public static func nestingDepth<Bytes: Sequence>(of bytes: Bytes) -> Int where Bytes.Element == UInt8 {
        var depth = 0, deepest = 0, inString = false, escaped = false
        for byte in bytes {
            if inString {
                if escaped { escaped = false } else if byte == UInt8(ascii: "\\") { escaped = true } else if byte == UInt8(ascii: "\"") { inString = false }
                continue
            }
            switch byte {
            case UInt8(ascii: "\""): inString = true
            case UInt8(ascii: "["), UInt8(ascii: "{"):
                depth += 1
                deepest = max(deepest, depth)
            case UInt8(ascii: "]"), UInt8(ascii: "}"): depth -= 1
            default: break
            }
        }
        return deepest
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() { self = .null }
        else if let flag = try? container.decode(Bool.self) { self = .bool(flag) }
        else if let number = try? container.decode(Int.self) { self = .integer(number) }
        else if let number = try? container.decode(Double.self) { self = .double(number) }
        else if let text = try? container.decode(String.self) { self = .string(text) }
        else if let items = try? container.decode([JSONValue].self) { self = .array(items) }
        else { self = .object(try container.decode([String: JSONValue].self)) }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case let .bool(flag): try container.encode(flag)
        case let .integer(number): try container.encode(number)
        case let .double(number): try container.encode(number)
        case let .string(text): try container.encode(text)
        case let .array(items): try container.encode(items)
        case let .object(object): try container.encode(object)
        }
    }

    /// `a string`, `an array`, … for messages.
    public var kind: String {
        switch self {
        case .null: return "null"
        case .bool: return "a Boolean"
        case .integer, .double: return "a number"
        case .string: return "a string"
        case .array: return "an array"
        case .object: return "an object"
        }
    }

    /// The value as written, short, for messages.
    public var text: String {
        switch self {
        case let .integer(number): return String(number)
        case let .double(number): return "\(number)"
        case let .bool(flag): return String(flag)
        case let .string(text): return "\"\(text.prefix(40))\""
        default: return kind
        }
    }
}

/// A request field that is missing, of the wrong type or out of range; the message names the field.
public struct JSONFieldError: LocalizedError, Sendable {
    /// What is wrong, naming the field.
    public let reason: String

    public init(_ reason: String) { self.reason = reason }

    public var errorDescription: String? { reason }

    /// A short, path-naming description of a decoding error (or any error).
    public static func describe(_ error: any Error) -> String {
        if let error = error as? DecodingError {
            switch error {
            case let .typeMismatch(_, context), let .valueNotFound(_, context), let .keyNotFound(_, context),
                 let .dataCorrupted(context):
                let path = context.codingPath.map(\.stringValue).joined(separator: ".")
                return path.isEmpty ? context.debugDescription : "\(path): \(context.debugDescription)"
            @unknown default: return "\(error)"
            }
        }
        return (error as? LocalizedError)?.errorDescription ?? "\(error)"
    }
}

/// The fields of one JSON object, read with their types and ranges checked: each accessor returns
/// `nil` for a field that is absent or `null`, and throws ``JSONFieldError`` naming the field when
/// it has another type or lies outside its range.
public struct JSONFields: Sendable {
    /// The object's fields.
    public let object: [String: JSONValue]
    /// Put before each field's name in messages (`"messages[2]."`, say); empty at the top level.
    public let path: String

    /// The fields of `value`.
    /// - Throws: ``JSONFieldError`` if `value` is not an object, or has a field outside `allowed`
    ///   (when given), naming the first such field and the allowed ones.
    public init(_ value: JSONValue, allowed: [String]? = nil, path: String = "", what: String = "a request") throws {
        guard case let .object(object) = value else { throw JSONFieldError("\(path.isEmpty ? what : path) must be a JSON object, got \(value.kind)") }
        if let allowed, let unknown = object.keys.sorted().first(where: { !allowed.contains($0) }) {
            throw JSONFieldError("unknown field '\(path)\(unknown)' (the fields are \(allowed.joined(separator: ", ")))")
        }
        (self.object, self.path) = (object, path)
    }

    /// The field `key`, unless absent or `null`.
    public subscript(key: String) -> JSONValue? {
        guard let value = object[key], value != .null else { return nil }
        return value
    }

    /// A string field.
    public func string(_ key: String) throws -> String? {
        guard let field = self[key] else { return nil }
        guard case let .string(text) = field else { throw JSONFieldError("'\(path)\(key)' must be a string, got \(field.kind)") }
        return text
    }

    /// A whole number in `range`.
    public func integer(_ key: String, _ range: ClosedRange<Int>) throws -> Int? {
        guard let field = self[key] else { return nil }
        return try Self.integer(field, name: path + key, range)
    }

    /// A number (whole or not) in `range`, finite.
    public func number(_ key: String, _ range: ClosedRange<Double>) throws -> Double? {
        guard let field = self[key] else { return nil }
        let value: Double
        switch field {
        case let .integer(number): value = Double(number)
        case let .double(number): value = number
        default: value = .nan
        }
        guard value.isFinite, range.contains(value) else {
            throw JSONFieldError("'\(path)\(key)' must be a number in \(range.lowerBound)...\(range.upperBound), got \(field.text)")
        }
        return value
    }

    /// An array of at most `count` whole numbers, each in `range`.
    public func integers(_ key: String, _ range: ClosedRange<Int>, count: Int) throws -> [Int]? {
        guard let field = self[key] else { return nil }
        return try Self.integers(field, name: path + key, range, count: count)
    }

    /// `true` or `false`.
    public func flag(_ key: String) throws -> Bool? {
        guard let field = self[key] else { return nil }
        guard case let .bool(flag) = field else { throw JSONFieldError("'\(path)\(key)' must be true or false, got \(field.text)") }
        return flag
    }

    /// `field` as a whole number in `range`; `name` names it in the message.
    public static func integer(_ field: JSONValue, name: String, _ range: ClosedRange<Int>) throws -> Int {
        guard case let .integer(number) = field, range.contains(number) else {
            throw JSONFieldError("'\(name)' must be a whole number in \(range.lowerBound)...\(range.upperBound), got \(field.text)")
        }
        return number
    }

    /// `field` as an array of at most `count` whole numbers in `range`.
    public static func integers(_ field: JSONValue, name: String, _ range: ClosedRange<Int>, count: Int) throws -> [Int] {
        guard case let .array(items) = field, items.count <= count else {
            let got = if case let .array(items) = field { "\(items.count) of them" } else { field.kind }
            throw JSONFieldError("'\(name)' must be an array of at most \(count) whole numbers, got \(got)")
        }
        return try items.map { try integer($0, name: name, range) }
    }
}
