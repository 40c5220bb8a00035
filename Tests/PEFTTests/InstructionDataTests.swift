import Foundation
import Testing
import PEFT

@Suite("Instruction data: JSON Lines reading")
struct InstructionDataTests {
    func parse(_ text: String) throws -> [InstructionExample] {
        try InstructionData.parse(Data(text.utf8), source: "data.jsonl")
    }

    func badLine(_ text: String) -> InstructionDataError? {
        do {
            _ = try parse(text)
            return nil
        } catch {
            return error as? InstructionDataError
        }
    }

    @Test("Alpaca and text lines are read in order; blank lines, CRLF, null input and unknown keys are fine")
    func readsBothKinds() throws {
        let text = """
            {"instruction": "Add", "input": "2 and 3", "output": "5", "source": "math"}

            {"instruction": "Greet", "input": null, "output": "Hello"}\r
              \t
            {"text": "Once upon a time", "id": 4}
            {"instruction": "Say yes", "output": "yes"}
            """
        let examples = try parse(text)
        #expect(examples == [
            InstructionExample(instruction: "Add", input: "2 and 3", output: "5", origin: "data.jsonl:1"),
            InstructionExample(instruction: "Greet", output: "Hello", origin: "data.jsonl:3"),
            InstructionExample(text: "Once upon a time", origin: "data.jsonl:5"),
            InstructionExample(instruction: "Say yes", output: "yes", origin: "data.jsonl:6"),
        ])
        #expect(examples[2].expectedOutput == nil && examples[0].expectedOutput == "5")
    }

    @Test("A bad line is an error naming the file and line, with the reason",
          arguments: [
            ("{\"instruction\": \"a\", \"output\": \"b\"}\n{\"instruction\": \"a\", \"output\": }", 2, "not valid JSON"),
            ("\n\n{\"instruction\": \"a\"}", 3, "missing \"output\""),
            ("{\"output\": \"b\"}", 1, "missing \"instruction\""),
            ("{\"instruction\": \"a\", \"output\": 5}", 1, "\"output\" must be a string, found a number"),
            ("{\"instruction\": \"a\", \"input\": true, \"output\": \"b\"}", 1, "\"input\" must be a string, found a boolean"),
            ("{\"text\": [\"a\"]}", 1, "\"text\" must be a string, found an array"),
            ("{\"text\": \"a\", \"instruction\": \"b\", \"output\": \"c\"}", 1, "has both"),
            ("[1, 2]", 1, "expected a JSON object"),
            ("{\"text\": \"ok\"}\n\"just a string\"", 2, "expected a JSON object"),
          ])
    func badLinesAreReported(text: String, line: Int, reason: String) throws {
        guard case let .badLine(path, reportedLine, reportedReason)? = badLine(text) else {
            Issue.record("no bad-line error for \(text)")
            return
        }
        #expect(path == "data.jsonl")
        #expect(reportedLine == line)
        #expect(reportedReason.contains(reason), "\(reportedReason)")
        #expect("\(InstructionDataError.badLine(path: path, line: reportedLine, reason: reportedReason))".hasPrefix("data.jsonl:\(line): "))
    }

    @Test("A file is read with its path as the origin; a missing file is an unreadable error")
    func loadsFiles() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("peft-data-\(UUID().uuidString).jsonl")
        defer { try? FileManager.default.removeItem(at: url) }
        try Data("\u{FEFF}{\"text\": \"héllo\"}\n".utf8).write(to: url)
        #expect(try InstructionData.load(contentsOf: url) == [InstructionExample(text: "héllo", origin: "\(url.path):1")])
        let missing = url.appendingPathExtension("missing")
        #expect {
            try InstructionData.load(contentsOf: missing)
        } throws: { error in
            guard case let .unreadable(path, _)? = error as? InstructionDataError else { return false }
            return path == missing.path
        }
    }
}
