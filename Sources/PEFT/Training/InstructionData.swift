import Foundation

/// One training or evaluation example: an instruction with an optional input and the expected
/// output (Alpaca style), or a plain text to model as a whole.
public struct InstructionExample: Sendable, Equatable {
    /// What the example holds.
    public enum Content: Sendable, Equatable {
        /// An instruction, an optional input for it, and the response the model should give.
        case instruction(instruction: String, input: String?, output: String)
        /// A text learned as a whole (no prompt part).
        case text(String)
    }

    /// The instruction and response, or the plain text.
    public var content: Content
    /// Where the example came from, such as `train.jsonl:17`, for error messages; `nil` for
    /// examples built in code.
    public var origin: String?

    /// An Alpaca-style example; an empty `input` counts as none when rendered.
    public init(instruction: String, input: String? = nil, output: String, origin: String? = nil) {
        content = .instruction(instruction: instruction, input: input, output: output)
        self.origin = origin
    }

    /// A plain-text example.
    public init(text: String, origin: String? = nil) {
        content = .text(text)
        self.origin = origin
    }

    /// The expected response (`output`), or `nil` for a plain-text example.
    public var expectedOutput: String? {
        if case let .instruction(_, _, output) = content { return output }
        return nil
    }

    /// ``origin``, or `example <index>` when it is not known, for messages.
    func name(index: Int) -> String { origin ?? "example \(index)" }
}

/// An error in instruction data or in turning it into tokens: what is wrong and where.
public enum InstructionDataError: Error, Equatable, CustomStringConvertible {
    /// The file could not be read; associated values: the path and the reason.
    case unreadable(path: String, reason: String)
    /// A line is not a valid example; associated values: the path, the line number (from 1) and
    /// the reason.
    case badLine(path: String, line: Int, reason: String)
    /// An example's prompt alone leaves no room for its response within the maximum length;
    /// associated values: the example (its origin or index), the prompt's token count and the
    /// maximum length.
    case promptTooLong(example: String, promptTokens: Int, maxLength: Int)
    /// The encoder's settings cannot work with this tokenizer; the associated value says why.
    case invalidSettings(String)

    public var description: String {
        switch self {
        case let .unreadable(path, reason): return "\(path): cannot read instruction data: \(reason)"
        case let .badLine(path, line, reason): return "\(path):\(line): \(reason)"
        case let .promptTooLong(example, promptTokens, maxLength):
            return "\(example): the prompt is \(promptTokens) tokens, which leaves no room for a response within the maximum length of \(maxLength); shorten the prompt or raise the maximum length"
        case let .invalidSettings(detail): return detail
        }
    }
}

/// Reads instruction data in JSON Lines: one JSON object per line, either
/// `{"instruction": …, "input": …, "output": …}` (Alpaca style; `input` optional and may be `null`)
/// or `{"text": …}`.
///
/// Blank lines are skipped and keys other than these are ignored. Any other line — invalid JSON,
/// not an object, a missing field, a field that is not a string, or both `text` and `instruction`
/// — is an error naming the file and line, never skipped.
public enum InstructionData {
    /// The examples of the JSON Lines file at `url`, in file order, each with its `file:line` as
    /// ``InstructionExample/origin``.
    /// - Throws: ``InstructionDataError/unreadable(path:reason:)`` if the file cannot be read;
    ///   ``InstructionDataError/badLine(path:line:reason:)`` for the first bad line.
    public static func load(contentsOf url: URL) throws -> [InstructionExample] {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isFolder) else {
            throw InstructionDataError.unreadable(path: url.path, reason: "no such file")
        }
        guard !isFolder.boolValue else {
            throw InstructionDataError.unreadable(path: url.path, reason: "a folder, not a JSON Lines file")
        }
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw InstructionDataError.unreadable(path: url.path, reason: error.localizedDescription)
        }
        return try parse(data, source: url.path)
    }

    /// The examples of JSON Lines `data`, with `source` standing for the file in origins and errors.
    /// - Throws: ``InstructionDataError/badLine(path:line:reason:)`` for the first bad line.
    public static func parse(_ data: Data, source: String) throws -> [InstructionExample] {
        var bytes = [UInt8](data)
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes.removeFirst(3) }
        var examples: [InstructionExample] = []
        for (index, line) in bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).enumerated() {
            let isBlank = line.allSatisfy { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") || $0 == UInt8(ascii: "\r") }
            guard !isBlank else { continue }
            let lineNumber = index + 1
            do {
                examples.append(try example(from: Data(line), origin: "\(source):\(lineNumber)"))
            } catch let reason as LineProblem {
                throw InstructionDataError.badLine(path: source, line: lineNumber, reason: reason.text)
            }
        }
        return examples
    }

    /// Why one line is not an example.
    private struct LineProblem: Error {
        let text: String
    }

    private static func example(from line: Data, origin: String) throws -> InstructionExample {
        let parsed: Any
        do {
            parsed = try JSONSerialization.jsonObject(with: line, options: [.fragmentsAllowed])
        } catch {
            throw LineProblem(text: "not valid JSON")
        }
        guard let object = parsed as? [String: Any] else {
            throw LineProblem(text: "expected a JSON object with \"instruction\" and \"output\", or \"text\"")
        }
        if object["instruction"] == nil, let text = object["text"] {
            return InstructionExample(text: try string(text, key: "text"), origin: origin)
        }
        guard object["text"] == nil else {
            throw LineProblem(text: "has both \"text\" and \"instruction\"; an example is one or the other")
        }
        guard let instruction = object["instruction"] else {
            throw LineProblem(text: "missing \"instruction\" (or \"text\" for a plain-text example)")
        }
        guard let output = object["output"] else { throw LineProblem(text: "missing \"output\"") }
        let input: String?
        if let value = object["input"], !(value is NSNull) {
            input = try string(value, key: "input")
        } else {
            input = nil
        }
        return InstructionExample(
            instruction: try string(instruction, key: "instruction"), input: input,
            output: try string(output, key: "output"), origin: origin)
    }

    private static func string(_ value: Any, key: String) throws -> String {
        guard let text = value as? String else {
            throw LineProblem(text: "\"\(key)\" must be a string, found \(jsonKind(of: value))")
        }
        return text
    }

    private static func jsonKind(of value: Any) -> String {
        switch value {
        case is NSNull: return "null"
        case is [Any]: return "an array"
        case is [String: Any]: return "an object"
        case is Bool: return "a boolean"
        case is NSNumber: return "a number"
        default: return "a non-string value"
        }
    }
}
