import Foundation
import Testing
import Tensor
import Transformer
import PEFT

/// Every size a caller chooses is bounded by what it means, and the library throws (naming the value
/// and the bound) instead of allocating what the machine does not have.
@Suite("Sizes are bounded in the library")
struct BoundsTests {
    @Test("New tokens are bounded by the context the prompt leaves")
    func newTokens() throws {
        let model = try tinyBackbone()
        let context = model.config.maxPositionEmbeddings
        #expect(throws: ModelError.invalidInput("maxNewTokens is \(context), more than the \(context - 3) the model's context of \(context) positions leaves after a prompt of 3")) {
            try model.generate(prompts: [[1, 2, 3]], options: GenerationOptions(maxNewTokens: context))
        }
        let prompt = try PromptTuningAdapter(model: model, configuration: PromptTuningConfiguration(virtualTokens: 5), seed: 1)
        #expect(throws: ModelError.self) {
            try model.generate(prompts: [[1, 2, 3]], options: GenerationOptions(maxNewTokens: context - 4), hooks: AdapterRouter(prompt))
        }
        #expect(try model.generate(prompts: [[1, 2, 3]], options: GenerationOptions(maxNewTokens: 2))[0].count == 2)
    }

    @Test("Caches and serving engines larger than the machine's memory are refused with the estimate")
    func memory() throws {
        let model = try tinyBackbone()
        let error = try #require(throws: ModelError.self) { try KVCache(config: model.config, batch: 1 << 20, capacity: 1 << 30) }
        #expect("\(error)".contains("a KV cache of 1048576 rows × 1073741824 slots needs"), "\(error)")
        #expect(KVCache.bytes(config: model.config, batch: Int.max / 2, capacity: Int.max / 2) == nil, "an overflowing size is no size")
        #expect(throws: ServingError.self) { try ServingEngine(model: try tinyBackbone(), maximumBatch: 4096, cacheCapacity: 1 << 30) }
        #expect(SystemMemory.physicalBytes > 0 && SystemMemory.budgetBytes < SystemMemory.physicalBytes)
        #expect(SystemMemory.describe(6_553_600_000_000) == "6553.6 GB")
    }

    @Test("Virtual tokens, bottlenecks and ranks are bounded by the model")
    func adapterSizes() throws {
        let model = try tinyBackbone()
        let cases = [
            ("prompt", #"{"num_virtual_tokens": 100000}"#, "num_virtual_tokens"),
            ("ptuning2", #"{"num_virtual_tokens": 100000}"#, "num_virtual_tokens"),
            ("prefix", #"{"num_virtual_tokens": 100000}"#, "num_virtual_tokens"),
            ("iapt", #"{"num_virtual_tokens": 100000}"#, "num_virtual_tokens"),
            ("iapt", #"{"bottleneck": 100000000}"#, "bottleneck"),
            ("iapt", #"{"rational_degrees": [5, 400]}"#, "rational_degrees"),
            ("lora", #"{"r": 100000}"#, "r"),
        ]
        for (method, settings, key) in cases {
            do {
                _ = try AdapterRegistry.builtIn.makeAdapter(method: method, for: model, settings: Data(settings.utf8))
                Issue.record("\(method) \(settings) was accepted")
            } catch let AdapterError.invalidConfiguration(_, reportedKey, _) {
                #expect(reportedKey == key, "\(method) \(settings)")
            }
        }
    }
}
