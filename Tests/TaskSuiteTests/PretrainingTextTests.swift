import Testing
@testable import TaskSuite

struct PretrainingTextTests {
    @Test func theTextIsDeterministicForASeed() throws {
        let text = try TaskSuite.pretrainingText(seed: 9, count: 200)
        #expect(text.count == 200)
        #expect(try TaskSuite.pretrainingText(seed: 9, count: 200) == text)
        #expect(try TaskSuite.pretrainingText(seed: 10, count: 200) != text)
        #expect(try TaskSuite.pretrainingText(seed: 9, count: 0).isEmpty)
    }

    @Test func theTextIsPlainProseNotInstructions() throws {
        let allWordings = TaskKind.allCases.flatMap(TaskSuite.wordings(for:))
        for document in try TaskSuite.pretrainingText(seed: 4, count: 500) {
            #expect(!document.isEmpty && !document.contains("\n") && !document.contains("?"), "\(document)")
            #expect(!document.contains("Premise:") && !document.contains("Hypothesis:"))
            #expect(!allWordings.contains { document.contains($0) })
        }
    }

    @Test func theTextCoversEveryKindOfDocumentAndBothEntityPools() throws {
        let text = try TaskSuite.pretrainingText(seed: 4, count: 500).joined(separator: " ")
        for marker in [" plus ", "Because ", " runs a", " shopped in ", " moved to ", " is from ", " coins", " it "] {
            #expect(text.contains(marker), "\(marker)")
        }
        let textWords = words(text)
        #expect(!textWords.isDisjoint(with: testPoolWords))
        #expect(!textWords.isDisjoint(with: World.trainingNames))
    }

    @Test func aNegativeCountThrows() {
        #expect(throws: TaskSuiteError.invalidCount(what: "pre-training text count", count: -1)) {
            try TaskSuite.pretrainingText(seed: 0, count: -1)
        }
    }
}
