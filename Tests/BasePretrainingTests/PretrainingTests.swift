import BasePretraining
import Foundation
import PEFT
import Testing
import Transformer

@Suite("Pre-training: every weight learns next tokens from a packed stream")
struct PretrainingTests {
    static func tinyModel(trainable: Bool = true) throws -> LlamaModel {
        let config = try LlamaConfig(
            vocabSize: ByteTokenizer().vocabularySize, hiddenSize: 32, intermediateSize: 64, numHiddenLayers: 2,
            numAttentionHeads: 4, numKeyValueHeads: 2, rmsNormEps: 1e-5, ropeTheta: 10_000)
        return try LlamaModel(randomWithConfig: config, seed: 3, trainable: trainable)
    }

    static let stream: [Int] = {
        let documents = (0..<40).map { "the cat sat on mat \($0 % 4)." }.map { ByteTokenizer().encode($0, addSpecialTokens: true) }
        return Pretraining.packedStream(documents, endToken: 257)
    }()

    static let options = PretrainingOptions(steps: 40, batchSize: 4, sequenceLength: 24, learningRate: 1e-2, seed: 1)

    @Test func packsDocumentsEachEndedByTheEndToken() {
        #expect(Pretraining.packedStream([[256, 1, 2], [256, 3]], endToken: 257) == [256, 1, 2, 257, 256, 3, 257])
    }

    @Test func theLossFallsAndTheRunIsReproducible() throws {
        let model = try Self.tinyModel()
        let before = try Pretraining.meanLoss(model, on: Self.stream, length: 24)
        let report = try Pretraining.train(model, on: Self.stream, heldOut: Self.stream, options: Self.options)
        print("pre-training a tiny model: held-out loss \(before) → \(report.heldOutLoss ?? .nan) in \(report.steps) steps")
        #expect(report.steps == 40 && report.tokens == 40 * 4 * 24)
        #expect(report.lossCurve.first?.step == 1 && report.lossCurve.last?.step == 40)
        #expect((report.heldOutLoss ?? .infinity) < 0.5 * before)

        let again = try Self.tinyModel()
        let second = try Pretraining.train(again, on: Self.stream, heldOut: Self.stream, options: Self.options)
        #expect(second.finalTrainLoss == report.finalTrainLoss && again.weights == model.weights)
    }

    @Test func aStopFromTheCallbackEndsTheRun() throws {
        let report = try Pretraining.train(try Self.tinyModel(), on: Self.stream, options: Self.options) { progress in
            progress.step == 3 ? .stop : .proceed
        }
        #expect(report.steps == 3)
    }

    @Test func badInputsThrowSayingWhat() throws {
        let model = try Self.tinyModel()
        #expect(throws: TrainingError.self) { try Pretraining.train(model, on: [256, 1, 2], options: Self.options) }
        #expect(throws: TrainingError.self) { try Pretraining.train(model, on: Self.stream + [9_999], options: Self.options) }
        var zeroSteps = Self.options
        zeroSteps.steps = 0
        #expect(throws: TrainingError.self) { try Pretraining.train(model, on: Self.stream, options: zeroSteps) }
        #expect(throws: TrainingError.nothingToTrain) { try Pretraining.train(try Self.tinyModel(trainable: false), on: Self.stream, options: Self.options) }
    }
}
