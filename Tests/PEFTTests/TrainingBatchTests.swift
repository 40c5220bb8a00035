import Testing
import Tensor
import Transformer
import PEFT

@Suite("Training batches and example order")
struct TrainingBatchTests {
    @Test("Rows are right-padded, instruction lengths are prompt lengths, targets cover the response only")
    func masksAndTargets() throws {
        let ignored = CrossEntropy.ignoredTarget
        let batch = try TrainingBatch([
            EncodedExample(tokens: [1, 2, 3, 4, 5], promptLength: 3),
            EncodedExample(tokens: [6, 7, 8], promptLength: 1),
            EncodedExample(tokens: [9, 10], promptLength: 0),
        ], padToken: 0)
        #expect(batch.tokens.length == 5 && batch.tokens.batch == 3)
        #expect(batch.tokens.tokens == [1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 9, 10, 0, 0, 0])
        #expect(batch.tokens.mask == [true, true, true, true, true, true, true, true, false, false, true, true, false, false, false])
        #expect(batch.tokens.instructionMask
                == [true, true, true, false, false, true, false, false, false, false, false, false, false, false, false])
        // Slot t predicts token t + 1 when that token is a response token.
        #expect(batch.targets == [
            ignored, ignored, 4, 5, ignored,
            7, 8, ignored, ignored, ignored,
            10, ignored, ignored, ignored, ignored,
        ])
        #expect(batch.targetCount == 5)
        #expect(batch.tokenCount == 10)
    }

    @Test("An example that is all prompt has no targets")
    func promptOnly() throws {
        let batch = try TrainingBatch([EncodedExample(tokens: [1, 2, 3], promptLength: 3)])
        #expect(batch.targetCount == 0 && batch.targets.allSatisfy { $0 == CrossEntropy.ignoredTarget })
    }

    @Test("The order is a permutation fixed by seed and epoch, different across epochs and seeds")
    func order() {
        let first = ExampleOrder.indices(count: 50, epoch: 0, seed: 42)
        #expect(first.sorted() == Array(0..<50))
        #expect(first == ExampleOrder.indices(count: 50, epoch: 0, seed: 42))
        #expect(first != ExampleOrder.indices(count: 50, epoch: 1, seed: 42))
        #expect(first != ExampleOrder.indices(count: 50, epoch: 0, seed: 43))
        #expect(ExampleOrder.indices(count: 5, epoch: 3, seed: 1, shuffled: false) == [0, 1, 2, 3, 4])
    }
}
