import Testing
@testable import TaskSuite

struct GenerationTests {
    @Test func theSameSeedGivesTheSameSuiteAndAnotherSeedAnother() throws {
        let sizes = SplitSizes(train: 30, dev: 10, testSeen: 10, testUnseen: 10)
        let first = try TaskSuite.generate(seed: 42, sizes: sizes)
        #expect(try TaskSuite.generate(seed: 42, sizes: sizes) == first)
        let other = try TaskSuite.generate(seed: 43, sizes: sizes)
        #expect(other.examples.map(prompt) != first.examples.map(prompt))
    }

    @Test func theTestSplitsDoNotDependOnTheTrainSize() throws {
        let small = try TaskSuite.generate(seed: 5, sizes: SplitSizes(train: 10, dev: 5, testSeen: 20, testUnseen: 20))
        let large = try TaskSuite.generate(seed: 5, sizes: SplitSizes(train: 60, dev: 5, testSeen: 20, testUnseen: 20))
        for split in [TaskSplit.testSeen, .testUnseen] {
            #expect(small.examples(in: split) == large.examples(in: split))
        }
    }

    @Test func everyTaskAndSplitHasTheRequestedSize() throws {
        let data = try suite()
        for task in TaskKind.allCases {
            for split in TaskSplit.allCases {
                #expect(data.examples(in: split, task: task).count == testSizes.count(for: split))
            }
        }
        let onlyArithmetic = try TaskSuite.generate(seed: 1, sizes: testSizes, tasks: [.arithmetic, .arithmetic])
        #expect(onlyArithmetic.examples.allSatisfy { $0.task == .arithmetic })
        #expect(onlyArithmetic.examples(in: .train).count == testSizes.train)
    }

    @Test func noTwoExamplesShareAPromptOrAnInput() throws {
        let examples = try suite().examples
        #expect(Set(examples.map(prompt)).count == examples.count)
        #expect(Set(examples.compactMap(\.input)).count == examples.count)
    }

    @Test func testNamesTownsAndBrandsNeverAppearInTrainOrDev() throws {
        let data = try suite()
        for example in data.examples(in: .train) + data.examples(in: .dev) {
            #expect(words(prompt(example) + " " + example.output).isDisjoint(with: testPoolWords), "\(example.input ?? "")")
        }
        for example in data.examples(in: .testSeen) + data.examples(in: .testUnseen) {
            #expect(!words(example.input ?? "").isDisjoint(with: testPoolWords), "\(example.input ?? "")")
        }
    }

    @Test func heldOutWordingsAppearOnlyInTestUnseen() throws {
        let data = try suite()
        for task in TaskKind.allCases {
            let heldOut = Array(TaskSuite.wordings(for: task)[TaskSuite.seenWordingCount...])
            #expect(heldOut.count == 2)
            for split in TaskSplit.allCases {
                let examples = data.examples(in: split, task: task)
                let usesHeldOut = split == .testUnseen
                #expect(examples.allSatisfy { heldOut.contains($0.instruction) == usesHeldOut })
                #expect(examples.allSatisfy { $0.heldOutWording == usesHeldOut })
                // Every wording the split may use is used.
                let expected = usesHeldOut ? Set(4..<6) : Set(0..<4)
                #expect(Set(examples.map(\.wordingIndex)) == expected)
            }
        }
    }

    @Test(arguments: [TaskKind.sentiment, .entailment, .yesNoQuestion, .plausibleAlternative])
    func labelsAreBalanced(task: TaskKind) throws {
        let first = ["sentiment": "positive", "plausible_alternative": "1"][task.rawValue] ?? "yes"
        for split in TaskSplit.allCases {
            let examples = try suite().examples(in: split, task: task)
            let share = Double(examples.filter { $0.output == first }.count) / Double(examples.count)
            #expect((0.4...0.6).contains(share), "\(split): \(share)")
        }
    }

    @Test func plausibleAlternativesAskForCausesAndEffectsEqually() throws {
        let questions = try suite().examples(in: .train, task: .plausibleAlternative).compactMap { example in
            if case let .plausibleAlternative(question) = example.facts { return question }
            return nil
        }
        #expect(questions.filter { $0.asks == .cause }.count * 2 == questions.count)
    }

    @Test func promptsAndAnswersAreShort() throws {
        let examples = try TaskSuite.generate(seed: 3, sizes: .standard).examples
        let prompts = examples.map { prompt($0).count }
        #expect(Double(prompts.filter { $0 <= 200 }.count) >= 0.95 * Double(examples.count))
        #expect(prompts.allSatisfy { $0 <= 240 })
        #expect(examples.allSatisfy { $0.output.count <= 20 })
    }

    @Test(arguments: [-1, TaskSuite.maximumCount + 1])
    func outOfRangeSizesThrow(size: Int) {
        #expect(throws: TaskSuiteError.invalidCount(what: "dev size", count: size)) {
            try TaskSuite.generate(seed: 0, sizes: SplitSizes(train: 1, dev: size, testSeen: 1, testUnseen: 1))
        }
    }

    @Test func askingForMoreThanTheTestPoolCanMakeThrows() {
        // 12 test names × 32 causal chains × 4 (direction, order) = 1,536 distinct test inputs.
        let sizes = SplitSizes(train: 0, dev: 0, testSeen: 1_600, testUnseen: 0)
        #expect {
            try TaskSuite.generate(seed: 0, sizes: sizes, tasks: [.plausibleAlternative])
        } throws: { error in
            guard case let .notEnoughDistinctExamples(task, split, requested, generated)? = error as? TaskSuiteError else { return false }
            return task == .plausibleAlternative && split == .testSeen && requested == 1_600 && generated <= 1_536
        }
    }
}
