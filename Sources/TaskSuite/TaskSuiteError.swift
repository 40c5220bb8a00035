/// An error from generating the task suite or its pre-training text.
public enum TaskSuiteError: Error, Equatable, CustomStringConvertible {
    /// A split size or text count is negative or above ``TaskSuite/maximumCount``; associated values:
    /// what was sized and the size asked for.
    case invalidCount(what: String, count: Int)
    /// The world ran out of distinct examples for a task and split (the test entity pool is small);
    /// associated values: the task, the split, how many were asked for and how many were made.
    case notEnoughDistinctExamples(task: TaskKind, split: TaskSplit, requested: Int, generated: Int)
    /// The checker rejected an example the generator made: a bug in the suite, never bad input.
    case checkerRejected(task: TaskKind, input: String)

    /// What went wrong, in one line.
    public var description: String {
        switch self {
        case let .invalidCount(what, count):
            return "\(what): \(count) is not a valid count (0...\(TaskSuite.maximumCount))"
        case let .notEnoughDistinctExamples(task, split, requested, generated):
            return "\(task.rawValue) \(split.rawValue): only \(generated) distinct examples of the \(requested) asked for; ask for fewer"
        case let .checkerRejected(task, input):
            return "\(task.rawValue): the checker rejected a generated example (a bug in TaskSuite): \(input)"
        }
    }
}
