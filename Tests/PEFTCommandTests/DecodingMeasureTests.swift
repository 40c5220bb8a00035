import Testing
import Transformer

@testable import PEFTCommand

/// What `peft bench serve` derives from its timings: the decoding rate, the weights one decoding
/// step reads, and the streaming-read yardstick it is compared with.
@Suite("Decoding measures")
struct DecodingMeasureTests {
    @Test("A decoding step reads every layer, the final norm and the LM head, not an untied embedding", arguments: [false, true])
    func weightBytes(tied: Bool) throws {
        let (vocab, d, ff, layers) = (50, 16, 40, 3)
        let config = try LlamaConfig(
            vocabSize: vocab, hiddenSize: d, intermediateSize: ff, numHiddenLayers: layers, numAttentionHeads: 4,
            numKeyValueHeads: 2, tieWordEmbeddings: tied)
        let model = try LlamaModel(randomWithConfig: config, seed: 1)
        let keyValue = 2 * (d / 4)
        let perLayer = d * d + 2 * d * keyValue + d * d + 3 * d * ff + 2 * d
        #expect(ServeBenchmark.weightBytesPerStep(model) == 4 * (layers * perLayer + d + vocab * d))
    }

    @Test("The decoding rate counts the tokens after the first over the time after it")
    func decodingRate() {
        #expect(ServeBenchmark.decodingRate(rows: 8, newTokens: 32, seconds: 2, ttftSeconds: 0.5) == 31 * 8 / 1.5)
        #expect(ServeBenchmark.decodingRate(rows: 1, newTokens: 4, seconds: 0.5, ttftSeconds: 0.5) == 0)
    }
}
