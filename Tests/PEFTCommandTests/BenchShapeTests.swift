import Foundation
import Testing
import Transformer

@testable import PEFTCommand

/// `peft bench` and the PyTorch scripts of `Benchmarks/` must measure the same work: the shapes
/// and batches compiled into `peft` are those of `Benchmarks/shapes.json`, which the scripts read.
@Suite("Benchmark shapes")
struct BenchShapeTests {
    static let shapesFile = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Benchmarks/shapes.json")

    @Test("Every shape of peft bench equals Benchmarks/shapes.json's, batch included", arguments: BenchShape.allCases)
    func shapesMatchTheScripts(shape: BenchShape) throws {
        let file = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: Self.shapesFile)) as? [String: [String: Any]])
        let entry = try #require(file[shape.rawValue], "Benchmarks/shapes.json has no \(shape.rawValue)")
        let config = try shape.config()
        let number = { (key: String) in (entry[key] as? NSNumber)?.doubleValue }
        #expect(number("vocab_size") == Double(config.vocabSize))
        #expect(number("hidden_size") == Double(config.hiddenSize))
        #expect(number("intermediate_size") == Double(config.intermediateSize))
        #expect(number("num_hidden_layers") == Double(config.numHiddenLayers))
        #expect(number("num_attention_heads") == Double(config.numAttentionHeads))
        #expect(number("num_key_value_heads") == Double(config.numKeyValueHeads))
        #expect(number("rms_norm_eps") == Double(config.rmsNormEps))
        #expect(number("rope_theta") == Double(config.ropeTheta))
        #expect(number("max_position_embeddings") == Double(config.maxPositionEmbeddings))
        #expect((entry["tie_word_embeddings"] as? Bool) == config.tieWordEmbeddings)
        #expect(number("batch") == Double(shape.batch.rows) && number("seq") == Double(shape.batch.sequence))
    }
}
