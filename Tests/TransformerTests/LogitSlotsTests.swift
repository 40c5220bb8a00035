import Autograd
import Tensor
import Testing
import Transformer

@Suite("Logits at chosen slots")
struct LogitSlotsTests {
    @Test("Logits at .slots are the rows of .all at those slots")
    func slotsMatchAll() throws {
        let model = try tinyModel(tied: true)
        let batch = try TokenBatch(rows: [[1, 5, 9, 12, 3], [7, 2, 4]], padding: .right)
        let slots = [1, 3, 4, 6, 7]
        let all = try model(batch).value.reshaped([-1, model.config.vocabSize])
        let chosen = try model(batch, logits: .slots(slots)).value
        #expect(chosen.shape == [slots.count, model.config.vocabSize])
        #expect(try chosen.scalars == all.gatherRows(slots).scalars)
    }

    @Test("The loss over .slots has the gradients of the loss over .all with the other targets ignored")
    func slotsGradient() throws {
        let batch = try TokenBatch(rows: [[1, 5, 9, 12, 3], [7, 2, 4]], padding: .right)
        let slots = [1, 3, 6]
        let targets = [11, 2, 40]
        func gradients(_ logits: LlamaModel.LogitPositions) throws -> [Float] {
            let model = try tinyModel(seed: 3, tied: true, trainable: true)
            let output = try model(batch, logits: logits)
            let loss: Variable
            if logits == .all {
                var all = [Int](repeating: CrossEntropy.ignoredTarget, count: batch.batch * batch.length)
                for (slot, target) in zip(slots, targets) { all[slot] = target }
                loss = try Variable.crossEntropy(logits: output.reshaped([-1, model.config.vocabSize]), targets: all)
            } else {
                loss = try Variable.crossEntropy(logits: output, targets: targets)
            }
            try loss.backward()
            return try #require(model.layers[0].queryProjection.gradient).scalars + #require(model.embedTokens.gradient).scalars
        }
        let (expected, actual) = (try gradients(.all), try gradients(.slots(slots)))
        let difference = zip(expected, actual).map { abs($0 - $1) }.max() ?? 0
        #expect(difference < 1e-6)
    }

    @Test("The model's chunked loss equals cross-entropy over all logits, with the same gradients")
    func chunkedLoss() throws {
        let batch = try TokenBatch(rows: [[1, 5, 9, 12, 3], [7, 2, 4]], padding: .right)
        var targets = [Int](repeating: CrossEntropy.ignoredTarget, count: 10)
        for (slot, target) in [(1, 11), (3, 2), (6, 40), (7, 0)] { targets[slot] = target }
        func run(chunked: Bool) throws -> (Float, [Float]) {
            let model = try tinyModel(seed: 3, tied: true, trainable: true)
            let loss = chunked
                ? try model.loss(batch, targets: targets)
                : try Variable.crossEntropy(logits: model(batch).reshaped([-1, model.config.vocabSize]), targets: targets)
            try loss.backward()
            return (loss.value.scalars[0], try #require(model.embedTokens.gradient).scalars)
        }
        let (expectedLoss, expected) = try run(chunked: false)
        let (loss, actual) = try run(chunked: true)
        #expect(abs(loss - expectedLoss) < 1e-5)
        #expect((zip(expected, actual).map { abs($0 - $1) }.max() ?? 1) < 1e-6)
        let model = try tinyModel()
        #expect(throws: ModelError.self) { try model.loss(batch, targets: [1, 2]) }
    }

    @Test("A slot outside the batch is an error that names it, before any work")
    func outOfRange() throws {
        let model = try tinyModel()
        let batch = try TokenBatch(rows: [[1, 5, 9]], padding: .right)
        #expect(throws: ModelError.invalidInput("logit slot 3 is outside the batch's 1 × 3 slots")) {
            try model(batch, logits: .slots([0, 3]))
        }
    }
}
