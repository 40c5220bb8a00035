import Foundation
import Testing
@testable import TaskSuite

struct FileTests {
    @Test func instructionLinesRoundTripThroughJSONDecoder() throws {
        let examples = try suite().examples(in: .testUnseen)
        let lines = try TaskSuite.jsonLines(examples.map(InstructionLine.init)).split(separator: "\n")
        #expect(lines.count == examples.count)
        for (line, example) in zip(lines, examples) {
            let decoded = try JSONDecoder().decode(InstructionLine.self, from: Data(line.utf8))
            #expect(decoded == InstructionLine(example))
            #expect(decoded.instruction == example.instruction && decoded.input == example.input && decoded.output == example.output)
            #expect(decoded.task == example.task.rawValue && decoded.wording == example.wordingIndex)
        }
    }

    @Test func theLineFormatIsTheTrainers() throws {
        var example = try #require(try suite().examples(in: .train, task: .arithmetic).first)
        let line = try TaskSuite.jsonLines([InstructionLine(example)])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        #expect(Set(object.keys) == ["instruction", "input", "output", "task", "wording"])
        #expect(line.hasSuffix("}\n") && line.filter { $0 == "\n" }.count == 1)
        example.input = nil
        let withoutInput = try TaskSuite.jsonLines([InstructionLine(example)])
        #expect(!withoutInput.contains("\"input\""))
    }

    @Test func examplesWithTheirFactsRoundTrip() throws {
        let examples = try suite().examples(in: .dev)
        let decoded = try JSONDecoder().decode([TaskExample].self, from: JSONEncoder().encode(examples))
        #expect(decoded == examples)
        #expect(decoded.allSatisfy(TaskSuite.check))
    }

    @Test func writingMakesMixedAndPerTaskFiles() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("TaskSuiteTests-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let data = try TaskSuite.generate(seed: 2, sizes: SplitSizes(train: 8, dev: 2, testSeen: 4, testUnseen: 4), tasks: [.sentiment, .arithmetic])
        let files = try data.write(to: directory)
        #expect(files.count == 3 * TaskSplit.allCases.count)
        let relativePaths = files.map { $0.path.replacingOccurrences(of: directory.path + "/", with: "") }
        #expect(relativePaths.prefix(4) == ["train.jsonl", "dev.jsonl", "test-seen.jsonl", "test-unseen.jsonl"])
        #expect(relativePaths.contains("arithmetic/test-unseen.jsonl") && relativePaths.contains("sentiment/train.jsonl"))
        let mixedTrain = try String(contentsOf: directory.appendingPathComponent("train.jsonl"), encoding: .utf8)
        #expect(mixedTrain == (try TaskSuite.jsonLines(data.examples(in: .train).map(InstructionLine.init))))
        let sentimentDev = try String(contentsOf: directory.appendingPathComponent("sentiment/dev.jsonl"), encoding: .utf8)
        #expect(sentimentDev.split(separator: "\n").count == 2)
    }

    @Test func pretrainingLinesRoundTrip() throws {
        let texts = try TaskSuite.pretrainingText(seed: 1, count: 20)
        let lines = try TaskSuite.jsonLines(texts.map(TextLine.init)).split(separator: "\n")
        let decoded = try lines.map { try JSONDecoder().decode(TextLine.self, from: Data($0.utf8)).text }
        #expect(decoded == texts)
    }
}
