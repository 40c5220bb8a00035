import Foundation

/// One line of an instruction-data file, in the trainer's format:
/// `{"instruction": …, "input": …, "output": …, "task": …, "wording": …}`, `input` omitted when
/// there is none. The trainer reads the first three keys and ignores the others.
public struct InstructionLine: Codable, Equatable, Sendable {
    /// The instruction wording.
    public var instruction: String
    /// The passage, premise, review or problem with its question; omitted from the JSON when `nil`.
    public var input: String?
    /// The answer the model is trained to produce.
    public var output: String
    /// The task's raw value (`"sentiment"`, `"yes_no_question"`, …), for per-task evaluation.
    public var task: String?
    /// The index of the instruction wording (4 and 5 are held out of training).
    public var wording: Int?

    /// The line for `example`.
    public init(_ example: TaskExample) {
        instruction = example.instruction
        input = example.input
        output = example.output
        task = example.task.rawValue
        wording = example.wordingIndex
    }
}

/// One line of a pre-training text file, `{"text": …}`, the trainer's plain-text format.
public struct TextLine: Codable, Equatable, Sendable {
    /// One document of plain text.
    public var text: String

    /// A line holding `text`.
    public init(text: String) { self.text = text }
}

extension TaskSuite {
    /// `lines` as JSON Lines: one compact JSON object per line (keys sorted, so the bytes are
    /// reproducible), each line ending in a newline.
    /// - Throws: an `EncodingError` from `JSONEncoder` (not expected for these types).
    public static func jsonLines<Line: Encodable>(_ lines: [Line]) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var text = ""
        for line in lines {
            text += String(decoding: try encoder.encode(line), as: UTF8.self) + "\n"
        }
        return text
    }

    /// The file name of a split's JSON Lines file: `train.jsonl`, `dev.jsonl`, `test-seen.jsonl`, `test-unseen.jsonl`.
    public static func fileName(for split: TaskSplit) -> String { "\(split.rawValue).jsonl" }
}

extension TaskSuiteData {
    /// Writes the suite as JSON Lines into `directory` (created if needed): one file per split with
    /// every task mixed (`train.jsonl`, …), and the same per task in a subdirectory named after the
    /// task (`sentiment/train.jsonl`, …). Each file is written atomically.
    /// - Returns: the files written, mixed ones first.
    /// - Throws: a file-system error from creating a directory or writing a file.
    @discardableResult
    public func write(to directory: URL) throws -> [URL] {
        let tasks = TaskKind.allCases.filter { task in examples.contains { $0.task == task } }
        var written: [URL] = []
        for folder in [nil] + tasks.map(Optional.some) {
            let folderURL = folder.map { directory.appendingPathComponent($0.rawValue, isDirectory: true) } ?? directory
            try FileManager.default.createDirectory(at: folderURL, withIntermediateDirectories: true)
            for split in TaskSplit.allCases {
                let url = folderURL.appendingPathComponent(TaskSuite.fileName(for: split))
                let lines = examples(in: split, task: folder).map(InstructionLine.init)
                try Data(TaskSuite.jsonLines(lines).utf8).write(to: url, options: .atomic)
                written.append(url)
            }
        }
        return written
    }
}
