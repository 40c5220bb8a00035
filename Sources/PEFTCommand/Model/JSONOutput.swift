import Foundation

/// Minimal JSON writing for command output: numbers in Swift's shortest round-trip form (so a
/// logit prints exactly), non-finite numbers as `null`, strings escaped.
enum JSONOutput {
    static func number(_ value: Float) -> String { value.isFinite ? "\(value)" : "null" }

    static func array(_ values: [Float]) -> String { "[" + values.map(number).joined(separator: ", ") + "]" }

    static func array(_ values: [Int]) -> String { "[" + values.map(String.init).joined(separator: ", ") + "]" }

    static func string(_ value: String) -> String {
        let data = (try? JSONSerialization.data(withJSONObject: [value], options: [.withoutEscapingSlashes])) ?? Data("[\"\"]".utf8)
        let wrapped = String(decoding: data, as: UTF8.self)
        return String(wrapped.dropFirst().dropLast())
    }
}
