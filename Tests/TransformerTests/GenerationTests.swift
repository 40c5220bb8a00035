import Testing
import Tensor
import Autograd
import Transformer

/// A tiny random model with grouped-query attention.
func tinyModel(seed: UInt64 = 7, tied: Bool = false, trainable: Bool = false) throws -> LlamaModel {
    let config = try LlamaConfig(
        vocabSize: 48, hiddenSize: 32, intermediateSize: 64, numHiddenLayers: 2, numAttentionHeads: 4,
        numKeyValueHeads: 2, rmsNormEps: 1e-5, ropeTheta: 10_000, tieWordEmbeddings: tied)
    return try LlamaModel(randomWithConfig: config, seed: seed, initializerRange: 0.3, trainable: trainable)
}

@Suite("Generation")
struct GenerationTests {
    let prompts = [[1, 5, 9, 12, 3], [7, 2], [30, 31, 32]]

    @Test("Moving the weights onto huge pages changes no logit")
    func hugePagesKeepLogits() throws {
        let config = try LlamaConfig(
            vocabSize: 4096, hiddenSize: 256, intermediateSize: 512, numHiddenLayers: 2, numAttentionHeads: 4,
            numKeyValueHeads: 2, rmsNormEps: 1e-5, ropeTheta: 10_000, tieWordEmbeddings: false)
        let model = try LlamaModel(randomWithConfig: config, seed: 4)
        let batch = try TokenBatch(rows: [[1, 900, 4000, 17], [3, 2]], padding: .right, padToken: 0)
        let before = try GradientMode.withoutGradients { try model(batch) }.value
        let weights = model.weights
        let collapsed = model.adviseHugePages()
        #expect(collapsed % HugePages.size == 0)
        #expect(model.weights == weights)
        #expect(try GradientMode.withoutGradients { try model(batch) }.value == before)
        print("huge pages: \(collapsed >> 20) MiB of the model's \((model.parameterCount * 4) >> 20) MiB")
    }

    @Test("Cached decoding gives the same tokens as recomputing the whole sequence")
    func cachedEqualsUncached() throws {
        let model = try tinyModel()
        let cached = try model.generate(prompts: prompts, options: GenerationOptions(maxNewTokens: 10))
        let uncached = try model.generate(prompts: prompts, options: GenerationOptions(maxNewTokens: 10, usesKVCache: false))
        #expect(cached == uncached)
        #expect(cached.allSatisfy { $0.count == 10 })
    }

    @Test("A batch of prompts of different lengths generates what each prompt generates alone")
    func batchedEqualsOneByOne() throws {
        let model = try tinyModel()
        let options = GenerationOptions(maxNewTokens: 8)
        let batched = try model.generate(prompts: prompts, options: options)
        for (row, prompt) in prompts.enumerated() {
            #expect(try model.generate(prompts: [prompt], options: options)[0] == batched[row])
        }
    }

    @Test("Seeded sampling is reproducible; top-k 1 is greedy")
    func sampling() throws {
        let model = try tinyModel()
        let sample = GenerationOptions(maxNewTokens: 8, sampling: .sample(temperature: 1.5, topK: 20, topP: 0.95), seed: 3)
        #expect(try model.generate(prompts: prompts, options: sample) == model.generate(prompts: prompts, options: sample))
        let topOne = GenerationOptions(maxNewTokens: 8, sampling: .sample(temperature: 0.7, topK: 1))
        #expect(try model.generate(prompts: prompts, options: topOne) == model.generate(prompts: prompts, options: GenerationOptions(maxNewTokens: 8)))
        #expect(throws: ModelError.self) { try Sampler(.sample(temperature: 0), seed: 0) }
        #expect(throws: ModelError.self) { try Sampler(.sample(temperature: 1, topP: 1.5), seed: 0) }
    }

    @Test("A stop token ends its row and is included; streaming sees every token and can stop")
    func stopAndStream() throws {
        let model = try tinyModel()
        let free = try model.generate(prompts: [prompts[0]], options: GenerationOptions(maxNewTokens: 10))[0]
        let stop = free[3]
        let stopped = try model.generate(prompts: [prompts[0]], options: GenerationOptions(maxNewTokens: 10, stopTokens: [stop]))[0]
        #expect(stopped == Array(free.prefix(through: free.firstIndex(of: stop)!)))
        var streamed: [Int] = []
        let early = try model.generate(prompts: [prompts[0]], options: GenerationOptions(maxNewTokens: 10)) { _, token in
            streamed.append(token)
            return streamed.count < 4
        }
        #expect(streamed == Array(free.prefix(4)) && early[0] == streamed)
    }

    @Test("Bad prompts throw: empty, or a token outside the vocabulary, naming row and slot")
    func badPrompts() throws {
        let model = try tinyModel()
        #expect(throws: ModelError.self) { try model.generate(prompts: []) }
        #expect(throws: ModelError.self) { try model.generate(prompts: [[]]) }
        #expect(throws: ModelError.invalidInput("token id 48 at row 1, slot 1 is outside the vocabulary of 48")) {
            try model.generate(prompts: [[1], [2, 48]])
        }
    }

    @Test("A cache that is too small for the request throws instead of overflowing")
    func cacheCapacity() throws {
        let model = try tinyModel()
        let cache = try KVCache(config: model.config, batch: 1, capacity: 3)
        #expect(throws: ModelError.self) {
            try GradientMode.withoutGradients { try model(TokenBatch(rows: [[1, 2, 3, 4]]), cache: cache) }
        }
    }

    @Test("A decoding step that throws leaves every row's cache as it was")
    func failedStepRollsBack() throws {
        let model = try tinyModel()
        func prefilled(_ prompt: [Int]) throws -> KVCache {
            let cache = try KVCache(config: model.config, batch: 1, capacity: 16)
            _ = try GradientMode.withoutGradients { try model(TokenBatch(rows: [prompt]), cache: cache, logits: .last) }
            return cache
        }
        let (first, second) = (try prefilled([1, 5, 9]), try prefilled([7, 2]))
        let expected = try model.decodeStep(tokens: [4, 8], caches: [prefilled([1, 5, 9]), prefilled([7, 2])])
        #expect(throws: ModelError.self) { try model.decodeStep(tokens: [4, 8], caches: [first, second], hooks: ThrowingHooks()) }
        #expect(first.length == 3 && second.length == 2)
        #expect(try model.decodeStep(tokens: [4, 8], caches: [first, second]).scalars == expected.scalars)
    }
}

/// Hooks whose projection delta always throws (halfway through a forward pass).
final class ThrowingHooks: ForwardHooks {
    func projectionDelta(layer: Int, projection: Projection, input: Variable, context: ForwardContext) throws -> Variable? {
        guard layer == 0, projection == .up else { return nil }
        throw ModelError.invalidInput("this hook always fails")
    }
}
