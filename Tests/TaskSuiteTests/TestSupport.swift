import Foundation
@testable import TaskSuite

/// The sizes most tests use: small enough to generate in a fraction of a second in a debug build.
let testSizes = SplitSizes(train: 200, dev: 40, testSeen: 80, testUnseen: 80)

/// One suite shared by the tests that only read it (a global `let` is computed once, thread-safely).
private let sharedSuite = Result { try TaskSuite.generate(seed: 7, sizes: testSizes) }

/// The shared suite, or the error generating it threw.
func suite() throws -> TaskSuiteData { try sharedSuite.get() }

/// The prompt a model sees: the instruction and, when there is one, the input.
func prompt(_ example: TaskExample) -> String {
    example.input.map { "\(example.instruction)\n\($0)" } ?? example.instruction
}

/// The words (runs of letters) of `text`, for entity checks that must not match inside longer words.
func words(_ text: String) -> Set<String> {
    Set(text.split { !$0.isLetter }.map(String.init))
}

/// Every name, town and brand reserved for the test splits.
let testPoolWords = Set(World.testNames + World.testTowns + World.testBrands)
