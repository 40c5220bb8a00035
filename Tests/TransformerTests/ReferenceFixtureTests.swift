import Foundation
import Testing
import Transformer

/// The layout of `expected.json` in each model fixture (see `make_model_fixtures.py`), checked
/// against its model folder so that parity tests can rely on it.
@Suite("PyTorch reference fixtures")
struct ReferenceFixtureTests {
    struct Expected: Decodable {
        struct Case: Decodable {
            let name: String
            let input_ids: [[Int]]
            let attention_mask: [[Int]]
            let position_ids: [[Int]]
            let logits: [[[Float]?]]
        }
        struct Greedy: Decodable {
            let prompt_ids: [Int]
            let max_new_tokens: Int
            let stop_tokens: [Int]
            let new_token_ids: [Int]
        }
        let format: Int
        let weights_dtype: String
        let compute_dtype: String
        let cases: [Case]
        let greedy: Greedy
    }

    @Test(arguments: Fixtures.modelNames)
    func expectedLogitsMatchTheFolderShapes(name: String) throws {
        let folder = try ModelFolder(Fixtures.model(name))
        let url = Fixtures.model(name).appendingPathComponent("expected.json")
        let expected = try JSONDecoder().decode(Expected.self, from: Data(contentsOf: url))
        #expect(expected.format == 1 && expected.compute_dtype == "float32")
        #expect(expected.weights_dtype == (folder.config.dtype ?? "float32"))
        #expect(expected.cases.map(\.name) == ["single", "left_padded_batch"])
        for testCase in expected.cases {
            for (row, ids) in testCase.input_ids.enumerated() {
                #expect(testCase.attention_mask[row].count == ids.count && testCase.position_ids[row].count == ids.count)
                #expect(ids.allSatisfy { (0..<folder.config.vocabSize).contains($0) })
                for (position, logits) in testCase.logits[row].enumerated() {
                    #expect((logits == nil) == (testCase.attention_mask[row][position] == 0))
                    #expect(logits.map { $0.count == folder.config.vocabSize } ?? true)
                }
            }
        }
        #expect(expected.greedy.prompt_ids == expected.cases[0].input_ids[0])
        #expect(expected.greedy.new_token_ids.count == expected.greedy.max_new_tokens)
    }
}
