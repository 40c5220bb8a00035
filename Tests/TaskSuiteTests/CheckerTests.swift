import Testing
@testable import TaskSuite

struct CheckerTests {
    @Test func everyGeneratedExamplePassesTheChecker() throws {
        let examples = try suite().examples
        #expect(examples.allSatisfy(TaskSuite.check))
    }

    @Test func flippedLabelsAreRejected() throws {
        let flips = ["positive": "negative", "negative": "positive", "yes": "no", "no": "yes", "1": "2", "2": "1"]
        for example in try suite().examples(in: .train) where example.task.hasLabelAnswers {
            var corrupted = example
            corrupted.output = flips[example.output] ?? "?"
            #expect(!TaskSuite.check(corrupted), "\(example.input ?? "")")
        }
    }

    @Test func changedNumbersAreRejected() throws {
        for example in try suite().examples(in: .train) {
            guard let number = Int(example.output) else { continue }
            for changed in [number - 1, number + 1, number * 10] {
                var corrupted = example
                corrupted.output = String(changed)
                #expect(!TaskSuite.check(corrupted))
            }
        }
    }

    @Test func otherSpansOfThePassageAreRejected() throws {
        for example in try suite().examples(in: .train, task: .extractiveQuestion) {
            let passageWords = words(example.input ?? "").subtracting([example.output])
            let wrong = passageWords.filter { World.trainingNames.contains($0) || World.trainingTowns.contains($0) }
            #expect(!wrong.isEmpty)
            for span in wrong {
                var corrupted = example
                corrupted.output = span
                #expect(!TaskSuite.check(corrupted))
            }
            var lowercased = example
            lowercased.output = example.output.lowercased()
            #expect(lowercased.output == example.output || !TaskSuite.check(lowercased))
        }
    }

    @Test func textThatDisagreesWithTheFactsIsRejected() throws {
        let data = try suite()
        for example in data.examples(in: .dev) {
            var edited = example
            edited.input = example.input.map { $0.replacingOccurrences(of: ".", with: "!") }
            #expect(!TaskSuite.check(edited))
            var reworded = example
            reworded.wordingIndex = (example.wordingIndex + 1) % TaskSuite.seenWordingCount
            #expect(!TaskSuite.check(reworded))
            var heldOut = example
            heldOut.wordingIndex = 4
            heldOut.heldOutWording = true
            heldOut.instruction = TaskSuite.wordings(for: example.task)[4]
            #expect(!TaskSuite.check(heldOut), "a held-out wording in the dev split")
            var otherTask = example
            otherTask.task = example.task == .arithmetic ? .sentiment : .arithmetic
            #expect(!TaskSuite.check(otherTask))
        }
    }

    @Test(arguments: [
        (Review(brand: "Zorvo", item: "kettle", determiner: 0, clauses: [ReviewClause(phrase: 5, negated: true)], connective: .none),
         "The Zorvo kettle was not bad.", "positive"),
        (Review(brand: "Zorvo", item: "cafe", determiner: 1,
                clauses: [ReviewClause(phrase: 1, negated: false), ReviewClause(phrase: 15, negated: false)], connective: .but),
         "This Zorvo cafe was great, but it has rude staff.", "negative"),
    ])
    func reviewsAreLabelledByTheirClauses(review: Review, text: String, label: String) {
        #expect(review.text == text)
        #expect(TaskSuite.derivedAnswer(.sentiment(review: review)) == label)
    }

    @Test func theCheckerDerivesAnswersFromFactsAlone() {
        let ada = PersonFact(name: "Ada", age: 34, job: "baker", town: "Brindle")
        let ben = PersonFact(name: "Ben", age: 29, job: "nurse", town: "Brindle")
        let premises: [(Hypothesis, String)] = [
            (.jobIsFrom(job: "nurse", town: "Brindle"), "yes"), (.isYounger(name: "Ada", than: "Ben"), "no"),
            (.shareTown(first: "Ben", second: "Ada"), "yes"), (.hasJob(name: "Ben", job: "baker"), "no"),
        ]
        for (hypothesis, answer) in premises {
            #expect(TaskSuite.derivedAnswer(.entailment(premise: PeoplePremise(people: [ada, ben], hypothesis: hypothesis))) == answer)
        }
        let shop = ShopPassage(
            owner: "Cora", shop: "bakery", town: "Hollin", homeTown: "Ashford", opens: 8, closes: 17, closedDay: "Sunday",
            goods: ["bread", "cakes"], hoursFirst: true, question: .opensBefore(hour: 8))
        #expect(shop.text == "Cora runs a bakery in Hollin. It is open 8 to 17, except on Sundays. It sells bread and cakes. "
            + "Cora lives in Ashford.\nDoes the bakery open before 8?")
        #expect(TaskSuite.derivedAnswer(.yesNoQuestion(passage: shop)) == "no")
        let effect = CausalQuestion(chain: 0, name: "Ada", asks: .effect, causeFirst: true)
        #expect(effect.text == "Ada was tired in the morning. What happened as a result?\n1. Ada stayed up very late.\n2. Ada drank a strong coffee.")
        #expect(TaskSuite.derivedAnswer(.plausibleAlternative(question: effect)) == "2")
        let trip = ShoppingTrip(
            names: ["Ada", "Ben"], things: ["egg", "pear"], counts: [12, 7], shoppingTown: "Brindle", nextTown: "Corwen",
            question: .howMany(name: "Ben"))
        #expect(ExtractivePassage.shopping(trip).text
            == "Ada and Ben shopped in Brindle. Ada bought 12 eggs and Ben bought 7 pears. Then they went to Corwen.\nHow many pears did Ben buy?")
        #expect(TaskSuite.derivedAnswer(.extractiveQuestion(passage: .shopping(trip))) == "7")
        let problem = WordProblem.gainsAndLosses(
            name: "Ada", thing: "marble", start: 23,
            steps: [ProblemStep(gained: true, amount: 15, verb: 0), ProblemStep(gained: false, amount: 8, verb: 2)])
        #expect(problem.text == "Ada had 23 marbles, found 15 more and then sold 8. How many marbles does Ada have now?")
        #expect(TaskSuite.derivedAnswer(.arithmetic(problem: problem)) == "30")
        #expect(TaskSuite.derivedAnswer(.arithmetic(problem: .change(name: "Ada", thing: "pen", price: 3, quantity: 7, paid: 50))) == "29")
    }

    @Test func malformedFactsFailTheCheckWithoutTrapping() throws {
        let malformed: [TaskFacts] = [
            .sentiment(review: Review(brand: "Zorvo", item: "kettle", determiner: 0, clauses: [ReviewClause(phrase: 99, negated: false)], connective: .none)),
            .sentiment(review: Review(brand: "Zorvo", item: "kettle", determiner: 0, clauses: [ReviewClause(phrase: 12, negated: true)], connective: .none)),
            .sentiment(review: Review(brand: "Zorvo", item: "spaceship", determiner: 0, clauses: [], connective: .and)),
            .entailment(premise: PeoplePremise(people: [], hypothesis: .isOlder(name: "Ada", than: "Ada"))),
            .plausibleAlternative(question: CausalQuestion(chain: -1, name: "Ada", asks: .cause, causeFirst: true)),
            .extractiveQuestion(passage: .careers(Careers(names: [], jobs: [], towns: [], years: [], mover: "", newTown: "", question: .whoMoved))),
            .arithmetic(problem: .groups(name: "Ada", thing: "pen", container: 0, groups: Int.max, perGroup: Int.max, extra: 0)),
            .arithmetic(problem: .gainsAndLosses(name: "Ada", thing: "pen", start: 3, steps: [ProblemStep(gained: false, amount: 5, verb: 0)])),
            .arithmetic(problem: .sharing(name: "Ada", thing: "pen", total: 7, friends: 0)),
        ]
        for facts in malformed {
            let example = TaskExample(
                task: facts.task, split: .train, wordingIndex: 0, heldOutWording: false,
                instruction: TaskSuite.wordings(for: facts.task)[0], input: facts.renderedInput, output: "0", facts: facts)
            #expect(!TaskSuite.check(example), "\(facts)")
        }
    }

    @Test func labelAnswersAreComparedCaseInsensitivelyAndSpansExactly() throws {
        #expect(TaskSuite.normalizeAnswer(" Yes\n", task: .entailment) == "yes")
        #expect(TaskSuite.normalizeAnswer("\tPOSITIVE ", task: .sentiment) == "positive")
        #expect(TaskSuite.normalizeAnswer(" Brindle\n", task: .extractiveQuestion) == "Brindle")
        #expect(TaskSuite.normalizeAnswer("brindle", task: .extractiveQuestion) == "brindle")
        let examples = try suite().examples(in: .testSeen)
        for example in examples {
            // Upper case is still right for labels and numbers, wrong for names and towns.
            let shouted = " \(example.output.uppercased())\n"
            let stillRight = example.task.hasLabelAnswers || example.output.uppercased() == example.output
            #expect(TaskSuite.isCorrect(shouted, for: example) == stillRight)
            #expect(!TaskSuite.isCorrect(example.output + "0", for: example))
        }
    }
}
