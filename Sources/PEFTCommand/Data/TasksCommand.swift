import ArgumentParser
import Foundation
import TaskSuite

/// `peft tasks`: writes the task suite's splits as instruction JSON Lines, for `peft train` and
/// `peft eval` (and any other tool).
struct TasksCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tasks",
        abstract: "Write the instruction task suite's splits as JSON Lines (train, dev, test-seen, test-unseen).",
        discussion: """
            Writes OUT/train.jsonl, dev.jsonl, test-seen.jsonl and test-unseen.jsonl with every chosen task mixed, \
            and the same per task in OUT/<task>/. Each line is {"instruction", "input"?, "output", "task", "wording"}; \
            test-unseen uses instruction wordings never seen in training. The same seed and sizes write the same bytes.
            """)

    @Option(help: "The folder to write into (created if needed).")
    var out: String

    @Option(help: "Comma-separated tasks (default: all): \(TaskKind.allCases.map(\.rawValue).joined(separator: ", ")).")
    var tasks: String?

    @Option(help: "Training examples per task.") var train = 300
    @Option(help: "Dev examples per task.") var dev = 20
    @Option(help: "Test examples per task, in each of the two test splits.") var test = 40
    @Option(help: "The suite's seed.") var seed: UInt64 = 0

    func validate() throws {
        for (name, value) in [("--train", train), ("--dev", dev), ("--test", test)] {
            guard (0...TaskSuite.maximumCount).contains(value) else {
                throw ValidationError("\(name) must be in 0...\(TaskSuite.maximumCount), got \(value)")
            }
        }
        _ = try chosenTasks()
    }

    func chosenTasks() throws -> [TaskKind] {
        guard let tasks else { return TaskKind.allCases }
        let names = tasks.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        return try names.map { name in
            guard let task = TaskKind(rawValue: name) else {
                throw ValidationError("--tasks: unknown task '\(name)'; the tasks are \(TaskKind.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            return task
        }
    }

    func run() throws {
        let data = try TaskSuite.generate(
            seed: seed, sizes: SplitSizes(train: train, dev: dev, testSeen: test, testUnseen: test), tasks: try chosenTasks())
        let written = try data.write(to: URL(fileURLWithPath: out, isDirectory: true))
        print("wrote \(written.count) files (\(data.examples(in: .train).count) training examples) to \(out)")
    }
}
