/// One metadata value of a GGUF file: a scalar, a string or an array, as the file's value type says.
///
/// Accessors convert where the meaning is unambiguous: ``int`` reads any integer type that fits an
/// `Int`, ``double`` any float or integer, and the array accessors the same per element, so a
/// reader of `llama.context_length` does not care whether the writer chose `u32` or `u64`.
public enum GGUFValue: Sendable, Equatable {
    case uint8(UInt8)
    case int8(Int8)
    case uint16(UInt16)
    case int16(Int16)
    case uint32(UInt32)
    case int32(Int32)
    case uint64(UInt64)
    case int64(Int64)
    case float32(Float)
    case float64(Double)
    case bool(Bool)
    case string(String)
    /// An array of values of one type (GGUF arrays are homogeneous; nested arrays are allowed).
    case array([GGUFValue])

    /// The value as an `Int` if it is an integer of any width that fits; `nil` otherwise.
    public var int: Int? {
        switch self {
        case .uint8(let value): return Int(value)
        case .int8(let value): return Int(value)
        case .uint16(let value): return Int(value)
        case .int16(let value): return Int(value)
        case .uint32(let value): return Int(value)
        case .int32(let value): return Int(value)
        case .uint64(let value): return Int(exactly: value)
        case .int64(let value): return Int(value)
        default: return nil
        }
    }

    /// The value as a `Double` if it is a float or an integer; `nil` otherwise.
    public var double: Double? {
        switch self {
        case .float32(let value): return Double(value)
        case .float64(let value): return value
        default: return int.map(Double.init)
        }
    }

    /// The value if it is a `bool`; `nil` otherwise.
    public var bool: Bool? {
        if case .bool(let value) = self { return value }
        return nil
    }

    /// The value if it is a string; `nil` otherwise.
    public var string: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    /// The elements if the value is an array; `nil` otherwise.
    public var array: [GGUFValue]? {
        if case .array(let values) = self { return values }
        return nil
    }

    /// The elements as strings if the value is an array of strings; `nil` otherwise.
    public var strings: [String]? { elements(\.string) }

    /// The elements as `Int`s if the value is an array of integers that fit; `nil` otherwise.
    public var ints: [Int]? { elements(\.int) }

    /// The elements as `Double`s if the value is an array of numbers; `nil` otherwise.
    public var doubles: [Double]? { elements(\.double) }

    /// Every element converted by `convert`, or `nil` if the value is not an array or an element
    /// does not convert.
    private func elements<Element>(_ convert: (GGUFValue) -> Element?) -> [Element]? {
        guard let array else { return nil }
        var result: [Element] = []
        result.reserveCapacity(array.count)
        for element in array {
            guard let converted = convert(element) else { return nil }
            result.append(converted)
        }
        return result
    }
}

extension GGUFValue {
    /// A short rendering for error messages: the value itself, or an array's element count.
    var summary: String {
        switch self {
        case .string(let value): return value.count <= 80 ? value.debugDescription : "a string of \(value.count) characters"
        case .array(let values): return "an array of \(values.count) values"
        case .bool(let value): return String(value)
        case .float32(let value): return String(value)
        case .float64(let value): return String(value)
        default: return int.map(String.init) ?? "\(self)"
        }
    }
}
