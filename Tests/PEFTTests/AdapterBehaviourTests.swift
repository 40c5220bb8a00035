import Foundation
import Testing
import Tensor
import Autograd
import Transformer
import PEFT

@Suite("Adapters: files, routing, training")
struct AdapterBehaviourTests {
    let batch = try! TokenBatch(rows: [[3, 7, 1, 9, 12, 5], [8, 2, 30], [4, 4, 4, 4]], instructionLengths: [4, 2, 3])

    @Test("Every adapter changes the model's output, and save → load reproduces it exactly")
    func saveLoadExact() throws {
        let model = try tinyBackbone()
        let plain = try logits(model, batch, adapter: nil)
        for (name, adapter) in try everyAdapter(for: model) {
            let before = try logits(model, batch, adapter: adapter)
            #expect(maxDifference(before, plain) > 1e-3, "\(name) should change the logits")
            let folder = temporaryFolder(name.replacingOccurrences(of: " ", with: "-"))
            defer { try? FileManager.default.removeItem(at: folder) }
            try AdapterFiles.save(adapter, to: folder)
            let loaded = try AdapterFiles.load(from: folder, model: model)
            #expect(type(of: loaded).peftType == type(of: adapter).peftType)
            #expect(loaded.weights == adapter.weights, "\(name)")
            #expect(try logits(model, batch, adapter: loaded) == before, "\(name): reloaded outputs differ")
        }
    }

    @Test("A batch routed to different adapters, and to none, equals running each row alone")
    func mixedRoutingEqualsSingleRows() throws {
        let model = try tinyBackbone()
        // A second LoRA on other projections, so two low-rank groups of several rows each share the
        // batch (the grouped products of serving) beside the prefix adapters.
        let secondLoRA = try LoRAAdapter(
            model: model, configuration: LoRAConfiguration(rank: 3, alpha: 3, targetModules: [.key, .value, .output, .up]), seed: 5)
        try perturb(secondLoRA, seed: 98)
        let adapters = try everyAdapter(for: model).map(\.adapter) + [secondLoRA]
        let rows: [[Int]] = [[3, 7, 1, 9], [8, 2, 30, 5, 6], [4, 4], [9, 1, 2], [5, 5, 5, 5, 5, 5], [11, 12, 13], [6, 2], [7, 7, 1], [2, 9, 4, 4]]
        let instruction = [2, 3, 2, 3, 4, 1, 1, 2, 3]
        let assignment: [Int?] = [0, 1, nil, 2, 3, 1, 4, 0, 4]
        let mixed = try GradientMode.withoutGradients {
            try model(TokenBatch(rows: rows, instructionLengths: instruction),
                      hooks: AdapterRouter(adapters: adapters, assignment: assignment)).value
        }
        let width = rows.map(\.count).max()!
        let vocabulary = model.config.vocabSize
        for (row, tokens) in rows.enumerated() {
            let alone = try logits(
                model, TokenBatch(rows: [tokens], instructionLengths: [instruction[row]]), adapter: assignment[row].map { adapters[$0] })
            // Left padding: the row's real tokens are its last `tokens.count` slots.
            let start = (row * width + width - tokens.count) * vocabulary
            let mixedRow = Array(mixed.scalars[start..<(start + tokens.count * vocabulary)])
            let worst = zip(mixedRow, alone.scalars).reduce(Float(0)) { max($0, abs($1.0 - $1.1)) }
            #expect(worst < 1e-5, "row \(row) (adapter \(assignment[row].map(String.init) ?? "none")): \(worst)")
        }
    }

    @Test("Cached generation with an adapter equals recomputing the sequence", arguments: 0..<6)
    func cachedGenerationWithAdapter(index: Int) throws {
        let model = try tinyBackbone()
        let adapter = try everyAdapter(for: model)[index].adapter
        let prompts = [[3, 7, 1, 9, 12], [8, 2]]
        let hooks = AdapterRouter(adapter)
        let cached = try model.generate(prompts: prompts, options: GenerationOptions(maxNewTokens: 6), hooks: hooks, instructionLengths: [3, 2])
        let uncached = try model.generate(
            prompts: prompts, options: GenerationOptions(maxNewTokens: 6, usesKVCache: false), hooks: hooks, instructionLengths: [3, 2])
        #expect(cached == uncached)
    }

    @Test("Changing a response token leaves IAPT's prompts unchanged; changing an instruction token changes them")
    func iaptReadsOnlyTheInstruction() throws {
        let model = try tinyBackbone()
        let adapter = try IAPTAdapter(model: model, configuration: IAPTConfiguration(virtualTokens: 4, bottleneck: 6), seed: 4)
        try perturb(adapter, seed: 5)
        let recorder = PromptRecorder(adapter)
        func prompts(_ tokens: [Int]) throws -> [Tensor] {
            recorder.recorded = []
            _ = try GradientMode.withoutGradients { try model(TokenBatch(rows: [tokens], instructionLengths: [3]), hooks: recorder) }
            return recorder.recorded
        }
        let original = try prompts([3, 7, 1, 9, 12, 5])
        #expect(original.count == model.config.numHiddenLayers)
        #expect(try prompts([3, 7, 1, 20, 2, 6]) == original)
        #expect(try prompts([3, 8, 1, 9, 12, 5]) != original)
    }

    @Test("Each adapter's loss goes down when trained on a small batch", arguments: 0..<6)
    func lossGoesDown(index: Int) throws {
        let model = try tinyBackbone()
        let (name, adapter) = try everyAdapter(for: model)[index]
        let rows: [[Int]] = [[3, 7, 1, 9, 12, 5], [8, 2, 30, 31], [4, 4, 4, 20, 21]]
        let batch = try TokenBatch(rows: rows, padding: .right, instructionLengths: [3, 2, 3])
        // Predict the next token on the response part only.
        var targets = [Int](repeating: CrossEntropy.ignoredTarget, count: batch.batch * batch.length)
        for row in 0..<batch.batch {
            for slot in 0..<(batch.length - 1) where batch.mask[row * batch.length + slot + 1] && !batch.instructionMask[row * batch.length + slot + 1] {
                targets[row * batch.length + slot] = batch.tokens[row * batch.length + slot + 1]
            }
        }
        let optimizer = AdamW(groups: adapter.parameterGroups(weightDecay: 0), learningRate: 5e-2)
        func loss() throws -> Variable {
            let output = try model(batch, adapter: adapter)
            return try Variable.crossEntropy(logits: output.reshaped([-1, model.config.vocabSize]), targets: targets)
        }
        adapter.isTraining = true
        let initial = try loss().value.scalars[0]
        for _ in 0..<30 {
            optimizer.zeroGradients()
            try loss().backward()
            try optimizer.step()
        }
        let final = try loss().value.scalars[0]
        #expect(model.embedTokens.gradient == nil && model.layers[0].queryProjection.gradient == nil, "the backbone stays frozen")
        #expect(final < 0.7 * initial, "\(name): loss \(initial) → \(final)")
    }

    @Test("Merged LoRA gives the un-merged outputs; unmerging restores the backbone")
    func loraMerge() throws {
        let model = try tinyBackbone()
        let lora = try everyAdapter(for: model)[0].adapter as! LoRAAdapter
        let original = model.weights
        let unmerged = try logits(model, batch, adapter: lora)
        try lora.merge(into: model)
        #expect(maxDifference(try logits(model, batch, adapter: nil), unmerged) < 1e-4)
        try lora.unmerge(from: model)
        for (key, tensor) in original { #expect(maxDifference(model.weights[key]!, tensor) < 1e-5, "\(key)") }
    }
}

/// Records the prompts an adapter generates, layer by layer, while forwarding every hook to it.
final class PromptRecorder: ForwardHooks {
    let router: AdapterRouter
    var recorded: [Tensor] = []
    init(_ adapter: any Adapter) { router = AdapterRouter(adapter) }
    func layerPrefixLengths(for batch: TokenBatch) -> [Int] { router.layerPrefixLengths(for: batch) }
    func layerPrefix(layer: Int, hiddenStates: Variable, normalizedHiddenStates: Variable, context: ForwardContext) throws -> LayerPrefix? {
        let prefix = try router.layerPrefix(layer: layer, hiddenStates: hiddenStates, normalizedHiddenStates: normalizedHiddenStates, context: context)
        if let prompts = prefix?.prompts { recorded.append(prompts.value) }
        return prefix
    }
}

@Suite("Prompt tuning initialisation")
struct PromptTuningInitializationTests {
    @Test("Text initialisation copies the text's token embeddings, repeated to the prompt length")
    func textInitialisation() throws {
        let model = try tinyBackbone()
        let adapter = try PromptTuningAdapter(
            model: model, configuration: PromptTuningConfiguration(virtualTokens: 5, initialization: .text("ab", tokenIDs: [7, 3])))
        #expect(adapter.embeddings.value == (try model.embedTokens.value.gatherRows([7, 3, 7, 3, 7])))
        #expect(throws: AdapterError.self) {
            try PromptTuningAdapter(model: model, configuration: PromptTuningConfiguration(virtualTokens: 2, initialization: .text("x", tokenIDs: [99])))
        }
    }

    @Test("Sampled-vocabulary initialisation uses rows of the embedding table; random draws N(0, 1)")
    func sampledAndRandom() throws {
        let model = try tinyBackbone()
        let sampled = try PromptTuningAdapter(
            model: model, configuration: PromptTuningConfiguration(virtualTokens: 6, initialization: .sampledVocabulary), seed: 3)
        let table = model.embedTokens.value
        let width = model.config.hiddenSize
        for row in 0..<6 {
            let vector = Array(sampled.embeddings.value.scalars[(row * width)..<((row + 1) * width)])
            #expect((0..<model.config.vocabSize).contains { Array(table.scalars[($0 * width)..<(($0 + 1) * width)]) == vector })
        }
        let random = try PromptTuningAdapter(model: model, configuration: PromptTuningConfiguration(virtualTokens: 40), seed: 4)
        let (mean, variance) = moments(random.embeddings.value.scalars)
        #expect(abs(mean) < 0.1 && abs(variance - 1) < 0.15)
    }
}

@Suite("IAPT initialisation")
struct IAPTInitializationTests {
    @Test("b_up starts at zero, or from N(0, 1) with up_bias_init normal; W_up starts at zero either way",
          arguments: [IAPTConfiguration.GeneratorOutput.hidden, .keysValues])
    func upBias(output: IAPTConfiguration.GeneratorOutput) throws {
        // Wide enough for 256 draws of b_up per adapter, so the moments below are checked 4 σ wide.
        let model = try LlamaModel(randomWithConfig: LlamaConfig(
            vocabSize: 40, hiddenSize: 64, intermediateSize: 64, numHiddenLayers: 4, numAttentionHeads: 4,
            numKeyValueHeads: 2, rmsNormEps: 1e-5, ropeTheta: 10_000), seed: 3, initializerRange: 0.3)
        let empty = try IAPTAdapter(model: model, configuration: IAPTConfiguration(bottleneck: 6, generatorOutput: output), seed: 4)
        let drawn = try IAPTAdapter(
            model: model, configuration: IAPTConfiguration(bottleneck: 6, generatorOutput: output, upBiasInit: .normal), seed: 4)
        let batch = try TokenBatch(rows: [[3, 7, 1, 9, 12, 5]], instructionLengths: [4])
        #expect(try logits(model, batch, adapter: drawn) != (try logits(model, batch, adapter: empty)))
        var values: [Float] = []
        for layer in 0..<model.config.numHiddenLayers {
            let (zero, normal) = try (#require(empty.generators[layer]), #require(drawn.generators[layer]))
            #expect(zero.upBias.value.scalars.allSatisfy { $0 == 0 })
            #expect(zero.upWeight.value.scalars.allSatisfy { $0 == 0 } && normal.upWeight.value.scalars.allSatisfy { $0 == 0 })
            values += normal.upBias.value.scalars
        }
        let (mean, variance) = moments(values)
        #expect(abs(mean) < 0.25 && abs(variance - 1) < 0.35, "mean \(mean), variance \(variance) over \(values.count) draws")
    }

    @Test("up_bias_init is saved in adapter_config.json and read back; a file without it reads as zeros")
    func configurationKey() throws {
        let model = try tinyBackbone()
        let adapter = try AdapterMethod.iapt.makeAdapter(for: model, settings: Data(#"{"up_bias_init": "normal", "bottleneck": 5}"#.utf8), seed: 2)
        let saved = try JSONSerialization.jsonObject(with: adapter.configurationData()) as? [String: Any]
        #expect(saved?["up_bias_init"] as? String == "normal")
        let folder = temporaryFolder("iapt-up-bias-init")
        defer { try? FileManager.default.removeItem(at: folder) }
        try AdapterFiles.save(adapter, to: folder)
        let loaded = try #require(try AdapterFiles.load(from: folder, model: model) as? IAPTAdapter)
        #expect(loaded.configuration.upBiasInit == .normal && loaded.weights == adapter.weights)
        let older = try JSONDecoder().decode(IAPTConfiguration.self, from: Data(#"{"peft_type": "IAPT", "bottleneck": 5}"#.utf8))
        #expect(older.upBiasInit == .zeros)
        #expect(throws: (any Error).self) {
            try AdapterMethod.iapt.makeAdapter(for: model, settings: Data(#"{"up_bias_init": "ones"}"#.utf8))
        }
    }
}
