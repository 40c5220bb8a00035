import Foundation

/// Command output as JSON through `Codable`: each command's output is a struct, printed as one line.
/// Floats print in their shortest round-trip form, so a logit prints exactly.
enum JSONOutput {
    /// Prints `value` as one line of JSON, keys sorted and in snake case
    /// (`tokensPerS` → `tokens_per_s`).
    /// - Throws: `EncodingError` if a value cannot be encoded (non-finite numbers must be ``FiniteOrNull``).
    static func printLine<Value: Encodable>(_ value: Value) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        print(String(decoding: try encoder.encode(value), as: UTF8.self))
    }
}

/// A number written as JSON `null` when it is not finite (JSON has no NaN or infinity).
struct FiniteOrNull<Value: BinaryFloatingPoint & Encodable>: Encodable {
    let value: Value

    init(_ value: Value) { self.value = value }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        if value.isFinite { try container.encode(value) } else { try container.encodeNil() }
    }
}
