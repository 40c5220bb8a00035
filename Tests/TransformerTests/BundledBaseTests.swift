import Foundation
import Tensor
import Testing
import Transformer
import Autograd

/// The bundled base model (`Examples/BundledBase`) against what transformers and tokenizers make of
/// it (`Fixtures/bundled-base/make_bundled_base_fixture.py`).
@Suite("The bundled base model matches transformers")
struct BundledBaseTests {
    static let folder = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Examples/BundledBase")

    struct Case: Decodable {
        let text: String
        let ids: [Int]
        let last_logits: [Float]
        let argmax: [Int]
        let greedy: [Int]
        let decoded: String
    }

    struct Expected: Decodable {
        let cases: [Case]
    }

    @Test func tokenizerLogitsAndGreedyContinuationsMatch() throws {
        let expected = try JSONDecoder().decode(
            Expected.self, from: Data(contentsOf: Fixtures.root.appendingPathComponent("bundled-base/expected.json")))
        let tokenizer = try BPETokenizer(contentsOf: Self.folder.appendingPathComponent("tokenizer.json"))
        let model = try LlamaModel(contentsOf: Self.folder)
        for testCase in expected.cases {
            let ids = tokenizer.encode(testCase.text, addSpecialTokens: true)
            #expect(ids == testCase.ids, "\(testCase.text)")
            #expect(try tokenizer.decode(ids, skipSpecialTokens: false) == testCase.decoded)
            let logits = try GradientMode.withoutGradients { try model(TokenBatch(rows: [ids])) }.value
            let vocabulary = model.config.vocabSize
            let last = Array(logits.scalars[((ids.count - 1) * vocabulary)...])
            let worst = zip(last, testCase.last_logits).map { abs($0 - $1) }.max() ?? .infinity
            print("bundled base \(testCase.text.debugDescription): max |Δlogit| at the last position = \(worst)")
            #expect(worst < 1e-3)
            let argmax = (0..<ids.count).map { position in
                (0..<vocabulary).max { logits.scalars[position * vocabulary + $0] < logits.scalars[position * vocabulary + $1] }!
            }
            #expect(argmax == testCase.argmax)
            let greedy = try model.generate(prompts: [ids], options: GenerationOptions(maxNewTokens: 8))[0]
            #expect(greedy == testCase.greedy, "\(testCase.text)")
        }
    }
}
