extension TaskSuite {
    /// How many of each task's wordings training may use: wordings `0..<seenWordingCount` are seen
    /// (train, dev, test-seen), the rest are held out (test-unseen only).
    public static let seenWordingCount = 4

    /// The paraphrased instructions of `task`: six per task, the last two held out of training.
    public static func wordings(for task: TaskKind) -> [String] {
        switch task {
        case .sentiment:
            return [
                "Is this review positive or negative?",
                "Classify the review: positive or negative.",
                "Say if the review is positive or negative.",
                "Label the review as positive or negative.",
                "Did the writer like it? positive or negative",
                "Tell the tone of this review.",
            ]
        case .entailment:
            return [
                "Does the premise entail the hypothesis?",
                "Is the hypothesis true given the premise?",
                "Does the hypothesis follow? Answer yes or no.",
                "Is the hypothesis entailed? yes or no",
                "Can the hypothesis be concluded from the premise?",
                "Must the hypothesis hold, given the premise?",
            ]
        case .yesNoQuestion:
            return [
                "Answer the question with yes or no.",
                "Answer yes or no using the passage.",
                "Read the text, then answer yes or no.",
                "Based on the passage: yes or no?",
                "According to the passage, yes or no?",
                "Check the passage and reply yes or no.",
            ]
        case .plausibleAlternative:
            return [
                "Choose the more plausible alternative.",
                "Which option is more likely? 1 or 2.",
                "Pick the better alternative: 1 or 2.",
                "Select the more sensible choice.",
                "Which of the two makes more sense?",
                "Decide which alternative is more plausible.",
            ]
        case .extractiveQuestion:
            return [
                "Answer with words copied from the passage.",
                "Find the answer in the passage and copy it.",
                "Give the exact answer span from the text.",
                "Extract the answer from the passage.",
                "Quote the words that answer the question.",
                "Reply with the answer phrase from the text.",
            ]
        case .arithmetic:
            return [
                "Solve the word problem. Give only the number.",
                "Work out the answer and reply with a number.",
                "Calculate the result of this problem.",
                "Solve this math problem.",
                "Compute the answer to the story problem.",
                "How many is it? Answer with the number only.",
            ]
        }
    }

    /// The indices of `task`'s wordings that `split` uses.
    static func wordingIndices(for task: TaskKind, in split: TaskSplit) -> Range<Int> {
        split.usesHeldOutWordings ? seenWordingCount..<wordings(for: task).count : 0..<seenWordingCount
    }
}
