import Foundation
import Testing
import Tensor
import Autograd
import Transformer
import PEFT

/// The tensors `weights` in a temporary safetensors file, read back as a checkpoint.
private func checkpoint(_ weights: [String: Tensor]) throws -> SafetensorsFile {
    let url = temporaryFolder("builder").appendingPathExtension("safetensors")
    try SafetensorsWriter.write(weights, to: url, dtype: .f32)
    return try SafetensorsFile(contentsOf: url)
}

@Suite("ParameterBuilder: one call makes a parameter or reads it back")
struct ParameterBuilderTests {
    @Test("Scopes give checkpoint keys; parameters are recorded in order as named trainable leaves")
    func keysAndRecord() throws {
        let root = ParameterBuilder.initializing(seed: 3).scoped("base_model.model")
        let layer = root.scoped("model.layers.1")
        let a = try layer.parameter("a", shape: [2, 4], initializer: .kaimingUniform)
        let b = try root.parameter("b", shape: [3], initializer: .constant(0.5))
        #expect(try root.finish().map(\.name) == ["base_model.model.model.layers.1.a", "base_model.model.b"])
        #expect(a.requiresGradient && a.name == "base_model.model.model.layers.1.a")
        #expect(b.value.scalars == [0.5, 0.5, 0.5])
        #expect(a.value.scalars.allSatisfy { abs($0) <= 0.5 })
    }

    @Test("The same seed draws the same values; every initializer fills its shape")
    func initializers() throws {
        func draw(_ seed: UInt64) throws -> [Float] {
            let builder = ParameterBuilder.initializing(seed: seed)
            return try builder.parameter("x", shape: [4, 5], initializer: .normal(std: 2)).value.scalars
                + builder.parameter("y", shape: [3], initializer: .uniform(bound: 0.1)).value.scalars
        }
        #expect(try draw(1) == draw(1))
        #expect(try draw(1) != draw(2))
        let builder = ParameterBuilder.initializing(seed: 0)
        #expect(try builder.parameter("z", shape: [2], initializer: .zeros).value.scalars == [0, 0])
        #expect(try builder.parameter("o", shape: [2], initializer: .ones).value.scalars == [1, 1])
        #expect(try builder.parameter("v", shape: [2], initializer: .values([3, 4])).value.scalars == [3, 4])
        let custom = try builder.parameter("c", shape: [2, 2], initializer: .custom { shape, _ in try Tensor(repeating: 7, shape: shape) })
        #expect(custom.value.scalars == [7, 7, 7, 7])
        #expect(throws: AdapterError.self) { try builder.parameter("z", shape: [2], initializer: .zeros) }
        #expect(throws: (any Error).self) { try builder.parameter("w", shape: [3], initializer: .values([1])) }
        #expect(throws: AdapterError.self) {
            try builder.parameter("bad", shape: [2], initializer: .custom { _, _ in try Tensor.zeros([3]) })
        }
    }

    @Test("Reading checks presence and shape, ignores the initializer, and refuses tensors not asked for")
    func reading() throws {
        let file = try checkpoint(["p.w": Tensor(shape: [2], scalars: [1, 2]), "p.extra": Tensor.zeros([1])])
        let builder = ParameterBuilder.reading(file).scoped("p")
        #expect(builder.isReading)
        #expect(try builder.parameter("w", shape: [2], initializer: .zeros).value.scalars == [1, 2])
        #expect(throws: AdapterError.badTensor(file: file.url.lastPathComponent, key: "p.extra", reason: "not a tensor of this adapter's configuration")) {
            try builder.finish()
        }
        #expect(throws: AdapterError.badTensor(file: file.url.lastPathComponent, key: "p.missing", reason: "missing")) {
            try ParameterBuilder.reading(file).scoped("p").parameter("missing", shape: [1], initializer: .zeros)
        }
        #expect(throws: AdapterError.badTensor(file: file.url.lastPathComponent, key: "p.w", reason: "shape [2], expected [3]")) {
            try ParameterBuilder.reading(file).scoped("p").parameter("w", shape: [3], initializer: .zeros)
        }
    }

    @Test("Every built-in adapter read back through its builder equals the one it was saved from")
    func builtInRoundTrip() throws {
        let model = try tinyBackbone()
        for (name, adapter) in try everyAdapter(for: model) {
            let folder = temporaryFolder("roundtrip")
            try AdapterFiles.save(adapter, to: folder)
            let loaded = try AdapterFiles.load(from: folder, model: model)
            #expect(Set(loaded.namedParameters.map(\.name)) == Set(adapter.namedParameters.map(\.name)), "\(name)")
            #expect(loaded.weights == adapter.weights, "\(name)")
        }
    }
}

@Suite("Prefix tuning files")
struct PrefixTuningFileTests {
    @Test("A PEFT prefix whose token_dim is not the model's key/value width is refused, naming the key")
    func tokenDimension() throws {
        let base = try LlamaModel(contentsOf: adapterFixtures.appendingPathComponent("base"))
        let folder = temporaryFolder("prefix-token-dim")
        defer { try? FileManager.default.removeItem(at: folder) }
        try FileManager.default.copyItem(at: adapterFixtures.appendingPathComponent("prefix"), to: folder)
        let configuration = folder.appendingPathComponent(AdapterFiles.configurationFile)
        let text = try String(contentsOf: configuration, encoding: .utf8)
        try text.replacingOccurrences(of: #""token_dim": 16"#, with: #""token_dim": 32"#).write(to: configuration, atomically: true, encoding: .utf8)
        do {
            _ = try AdapterFiles.load(from: folder, model: base)
            Issue.record("a prefix for another key/value width was accepted")
        } catch let AdapterError.invalidConfiguration(_, key, reason) {
            #expect(key == "token_dim" && reason.contains("key/value width (kvHeads · headDim) is 16"), "\(reason)")
        }
    }
}

@Suite("Adapter methods: new adapters by name and settings")
struct AdapterMethodTests {
    @Test("The built-in registry creates every method by name, and reads every type back")
    func builtIn() throws {
        let registry = AdapterRegistry.builtIn
        #expect(registry.methodNames == ["iapt", "lora", "prefix", "prompt", "ptuning2"])
        #expect(registry.peftTypes == ["IAPT", "LORA", "PREFIX_TUNING", "PROMPT_TUNING", "P_TUNING_V2"])
        let model = try tinyBackbone()
        for name in registry.methodNames {
            let adapter = try registry.makeAdapter(method: name, for: model, seed: 5)
            #expect(type(of: adapter).peftType == registry.method(named: name)?.adapterType.peftType)
        }
        #expect(throws: AdapterError.unknownMethod("ia3", known: registry.methodNames)) {
            try registry.makeAdapter(method: "ia3", for: model)
        }
    }

    @Test("With no settings a method makes what the configuration's defaults make")
    func defaults() throws {
        let model = try tinyBackbone()
        let viaMethod = try AdapterMethod.iapt.makeAdapter(for: model, seed: 9)
        let direct = try IAPTAdapter(model: model, configuration: IAPTConfiguration(), seed: 9)
        #expect(viaMethod.weights == direct.weights)
        #expect(try viaMethod.configurationData() == direct.configurationData())
    }

    @Test("Settings are laid over the defaults; unknown keys and bad values are refused by name")
    func settings() throws {
        let model = try tinyBackbone()
        let lora = try AdapterMethod.lora.makeAdapter(
            for: model, settings: Data(#"{"r": 3, "target_modules": ["k_proj"], "lora_alpha": 6}"#.utf8))
        let configuration = try #require(lora as? LoRAAdapter).configuration
        #expect(configuration.rank == 3 && configuration.alpha == 6 && configuration.targetModules == [.key])
        #expect(AdapterMethod.lora.settingKeys.contains("r") && !AdapterMethod.lora.settingKeys.contains("peft_type"))
        do {
            _ = try AdapterMethod.iapt.makeAdapter(for: model, settings: Data(#"{"r": 3}"#.utf8))
            Issue.record("an unknown key was accepted")
        } catch let AdapterError.invalidConfiguration(_, key, reason) {
            #expect(key == "r" && reason.hasPrefix("not a setting of iapt"))
        }
        #expect(throws: AdapterError.self) { try AdapterMethod.iapt.makeAdapter(for: model, settings: Data(#"{"bottleneck": "wide"}"#.utf8)) }
        #expect(throws: AdapterError.self) { try AdapterMethod.iapt.makeAdapter(for: model, settings: Data(#"{"bottleneck": 0}"#.utf8)) }
        #expect(throws: AdapterError.self) { try AdapterMethod.iapt.makeAdapter(for: model, settings: Data("[1]".utf8)) }
        #expect(throws: AdapterError.self) { try AdapterMethod.iapt.makeAdapter(for: model, settings: Data("{".utf8)) }
    }

    @Test("Prompt tuning's text initialisation takes the tokenizer from the context, and needs one")
    func promptText() throws {
        let config = try LlamaConfig(
            vocabSize: ByteTokenizer().vocabularySize, hiddenSize: 8, intermediateSize: 16, numHiddenLayers: 1,
            numAttentionHeads: 2, numKeyValueHeads: 2, rmsNormEps: 1e-5, ropeTheta: 10_000)
        let model = try LlamaModel(randomWithConfig: config, seed: 1)
        let settings = Data(#"{"prompt_tuning_init": "TEXT", "prompt_tuning_init_text": "ab", "num_virtual_tokens": 3}"#.utf8)
        #expect(throws: AdapterError.self) { try AdapterMethod.prompt.makeAdapter(for: model, settings: settings) }
        let adapter = try AdapterMethod.prompt.makeAdapter(for: model, settings: settings, tokenizer: ByteTokenizer())
        let embeddings = try #require(adapter as? PromptTuningAdapter).embeddings.value
        let ids = ByteTokenizer().encode("ab", addSpecialTokens: false)
        #expect(embeddings == (try model.embedTokens.value.gatherRows([ids[0], ids[1], ids[0]])))
    }

    @Test("A registered outside method is created by name and read back by its peft_type")
    func outsideMethod() throws {
        let method = AdapterMethod(
            name: "scaled-lora", adapterType: LoRAAdapter.self, summary: "LoRA under another name",
            defaults: LoRAConfiguration(rank: 2)
        ) { configuration, context in try LoRAAdapter(model: context.model, configuration: configuration, seed: context.seed) }
        let registry = AdapterRegistry(methods: [method])
        let adapter = try registry.makeAdapter(method: "scaled-lora", for: try tinyBackbone())
        #expect((adapter as? LoRAAdapter)?.configuration.rank == 2)
        #expect(registry.type(for: "LORA") != nil && registry.methodNames == ["scaled-lora"])
    }
}
