import PEFT
import Tensor

/// A small deterministic world for the examples: invented words, plain-text facts about them for
/// pre-training, and instruction tasks over them with several paraphrased wordings.
///
/// Tasks: the first letter of a word, its last letter, the word in capitals, the word twice, and its
/// length. Plain text states the same facts in sentences ("kalo starts with k."), never in the
/// instruction format, so an adapter has to learn to map an instruction onto what the model knows.
public struct ToyWorld: Sendable {
    /// One kind of instruction.
    public struct Task: Sendable {
        /// A short name for tables.
        public let name: String
        /// Paraphrased instructions; the last one is held out for testing unseen wordings.
        public let wordings: [String]
        /// The answer for a word.
        public let answer: @Sendable (String) -> String
    }

    /// The words of this world (letters only).
    public let words: [String]

    /// Words built from syllables, shuffled by `seed`.
    public init(seed: UInt64 = 7, count: Int = 240) {
        let syllables = ["ka", "lo", "mi", "ne", "ru", "ta", "so", "vi", "pe", "du", "ga", "fi", "zo", "be", "hu", "ja"]
        var generator = SeededGenerator(seed: seed)
        var seen = Set<String>()
        var words: [String] = []
        while words.count < count {
            let length = 2 + Int(generator.next() % 2)
            let word = (0..<length).map { _ in syllables[Int(generator.next() % UInt64(syllables.count))] }.joined()
            if seen.insert(word).inserted { words.append(word) }
        }
        self.words = words
    }

    /// The tasks, in a fixed order.
    public static let tasks: [Task] = [
        Task(name: "first letter",
             wordings: ["What is the first letter of the word?", "Give the first letter.", "Which letter does the word start with?"],
             answer: { String($0.prefix(1)) }),
        Task(name: "last letter",
             wordings: ["What is the last letter of the word?", "Give the last letter.", "Which letter does the word end with?"],
             answer: { String($0.suffix(1)) }),
        Task(name: "capitals",
             wordings: ["Write the word in capitals.", "Uppercase the word.", "Spell the word in capital letters."],
             answer: { $0.uppercased() }),
        Task(name: "twice",
             wordings: ["Write the word twice.", "Repeat the word two times.", "Say the word, then say it again."],
             answer: { "\($0) \($0)" }),
        Task(name: "length",
             wordings: ["How many letters does the word have?", "Count the letters of the word.", "What is the length of the word?"],
             answer: { String($0.count) }),
    ]

    /// Plain text for pre-training: one line of facts per word, in varied order.
    public func pretrainingText(seed: UInt64 = 1) -> [String] {
        var generator = SeededGenerator(seed: seed)
        return words.map { word in
            var facts = [
                "\(word) starts with \(word.prefix(1)).", "\(word) ends with \(word.suffix(1)).",
                "in capitals \(word) is \(word.uppercased()).", "\(word) \(word).", "\(word) has \(word.count) letters.",
            ]
            facts.shuffle(using: &generator)
            return facts.joined(separator: " ")
        }
    }

    /// Instruction examples: for each task in `tasks` and each word in `words`, one example with a
    /// wording drawn from the first `wordings` of the task's wordings (all but the held-out last one
    /// unless `heldOutWording`).
    public func examples(
        tasks: [Int], words: ArraySlice<String>, heldOutWording: Bool = false, seed: UInt64 = 3
    ) -> [InstructionExample] {
        var generator = SeededGenerator(seed: seed)
        var examples: [InstructionExample] = []
        for word in words {
            for taskIndex in tasks {
                let task = Self.tasks[taskIndex]
                let wording = heldOutWording
                    ? task.wordings[task.wordings.count - 1]
                    : task.wordings[Int(generator.next() % UInt64(task.wordings.count - 1))]
                examples.append(InstructionExample(instruction: wording, input: word, output: task.answer(word), origin: task.name))
            }
        }
        examples.shuffle(using: &generator)
        return examples
    }

    /// The words used for training (the first three quarters) and for testing (the rest).
    public var trainingWords: ArraySlice<String> { words[..<(words.count * 3 / 4)] }
    /// Words never seen in fine-tuning.
    public var testWords: ArraySlice<String> { words[(words.count * 3 / 4)...] }
}
