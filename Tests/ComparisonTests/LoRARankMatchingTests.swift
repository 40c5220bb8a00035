import XCTest
@testable import Comparison
import PEFT
import Transformer

final class LoRARankMatchingTests: XCTestCase {
    private func count(_ rank: Int, _ model: LlamaModel) throws -> Int {
        try LoRAAdapter(model: model, configuration: LoRARankMatching.configuration(rank: rank)).trainableParameterCount
    }

    func testPicksTheRankWhoseCountIsClosestToIAPTs() throws {
        let model = try tinyModel()
        let target = try IAPTAdapter(model: model, configuration: IAPTConfiguration()).trainableParameterCount
        let (rank, parameters) = try LoRARankMatching.closestRank(toParameterCount: target, model: model)
        XCTAssertEqual(parameters, try count(rank, model))
        for other in Set([max(1, rank - 1), rank + 1, rank + 2]) where other != rank {
            XCTAssertLessThanOrEqual(abs(parameters - target), abs(try count(other, model) - target), "rank \(other)")
        }
    }

    func testRoundsToTheNearerRankAndStartsAtOne() throws {
        let model = try tinyModel()
        let step = try count(1, model)  // 2 layers × (q: 16 + 16, v: 16 + 8) = 112 per rank
        XCTAssertEqual(step, 112)
        XCTAssertEqual(try LoRARankMatching.closestRank(toParameterCount: 3 * step, model: model).rank, 3)
        XCTAssertEqual(try LoRARankMatching.closestRank(toParameterCount: 3 * step + step / 2 - 1, model: model).rank, 3)
        XCTAssertEqual(try LoRARankMatching.closestRank(toParameterCount: 3 * step + step / 2 + 1, model: model).rank, 4)
        XCTAssertEqual(try LoRARankMatching.closestRank(toParameterCount: 3 * step + step / 2, model: model).rank, 3, "a tie takes the smaller rank")
        XCTAssertEqual(try LoRARankMatching.closestRank(toParameterCount: 5, model: model).rank, 1)
    }

    func testLoRAUsesAlphaTwiceTheRankOnQueryAndValue() throws {
        let configuration = LoRARankMatching.configuration(rank: 6)
        XCTAssertEqual(configuration.alpha, 12)
        XCTAssertEqual(configuration.targetModules, [.query, .value])
        let adapter = try ComparisonMethod.lora.makeAdapter(for: tinyModel(), loraRank: 6, seed: 0) as? LoRAAdapter
        XCTAssertEqual(adapter?.configuration.rank, 6)
    }

    func testEachMethodBuildsItsAdapter() throws {
        let model = try tinyModel()
        XCTAssertNil(try ComparisonMethod.base.makeAdapter(for: model, loraRank: 1, seed: 0))
        let prompt32 = try ComparisonMethod.prompt32.makeAdapter(for: model, loraRank: 1, seed: 0)
        XCTAssertEqual(prompt32?.inputPrefixLength, 32)
        let mean = try ComparisonMethod.iaptMean.makeAdapter(for: model, loraRank: 1, seed: 0) as? IAPTAdapter
        XCTAssertEqual(mean?.configuration.pooling, .mean)
        let gelu = try ComparisonMethod.iaptGELU.makeAdapter(for: model, loraRank: 1, seed: 0) as? IAPTAdapter
        XCTAssertEqual(gelu?.configuration.activation, .gelu)
        XCTAssertEqual(try ComparisonMethod.pTuningV2.makeAdapter(for: model, loraRank: 1, seed: 0)?.layerPrefixLength, 4)
    }
}
