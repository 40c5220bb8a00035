import Testing
import Tensor
import Autograd
import Transformer
import PEFT

@Suite("Gradient checks through the model: adapter parameters against finite differences")
struct AdapterGradientTests {
    /// Right-padded rows with instructions shorter than the rows, so masks matter.
    let batch = try! TokenBatch(rows: [[3, 7, 1, 9, 12], [8, 2, 30]], padding: .right, instructionLengths: [3, 2])

    func check(_ adapter: any Adapter, model: LlamaModel, epsilon: Float = 1e-2) throws -> [GradientCheck.Result] {
        let parameters = adapter.namedParameters.map(\.variable)
        return try GradientCheck.check(parameters, epsilon: epsilon) { _ in
            try model(batch, adapter: adapter)
        }
    }

    @Test("IAPT generator: pooling with masks, activation, prefix path through attention",
          arguments: [
            (IAPTConfiguration.Pooling.selfAttention, IAPTConfiguration.ActivationKind.rational),
            (.selfAttention, .gelu), (.mean, .rational), (.lastToken, .relu), (.max, .rational),
          ])
    func iapt(pooling: IAPTConfiguration.Pooling, activation: IAPTConfiguration.ActivationKind) throws {
        let model = try tinyBackbone()
        let configuration = IAPTConfiguration(virtualTokens: 2, bottleneck: 3, pooling: pooling, activation: activation)
        let adapter = try IAPTAdapter(model: model, configuration: configuration, seed: 8)
        try perturb(adapter, seed: 21)
        let results = try check(adapter, model: model, epsilon: pooling == .max ? 1e-3 : 1e-2)
        for (result, (name, _)) in zip(results, adapter.namedParameters) {
            print("gradient check IAPT \(pooling.rawValue)/\(activation.rawValue) \(name): \(result)")
            #expect(result.relativeError < 2e-2, "\(name): \(result)")
        }
    }

    @Test("IAPT whose generator emits keys and values directly")
    func iaptKeysValues() throws {
        let model = try tinyBackbone()
        let configuration = IAPTConfiguration(virtualTokens: 2, bottleneck: 3, generatorOutput: .keysValues)
        let adapter = try IAPTAdapter(model: model, configuration: configuration, seed: 8)
        try perturb(adapter, seed: 23)
        for (result, (name, _)) in zip(try check(adapter, model: model), adapter.namedParameters) {
            print("gradient check IAPT kv \(name): \(result)")
            #expect(result.relativeError < 2e-2, "\(name): \(result)")
        }
    }

    @Test("LoRA factors, with rsLoRA scaling, through every targeted projection")
    func lora() throws {
        let model = try tinyBackbone()
        let configuration = LoRAConfiguration(rank: 2, alpha: 4, targetModules: [.query, .key, .output, .gate], useRSLoRA: true, layers: [1])
        let adapter = try LoRAAdapter(model: model, configuration: configuration, seed: 3)
        try perturb(adapter, seed: 22)
        for (result, (name, _)) in zip(try check(adapter, model: model), adapter.namedParameters) {
            print("gradient check LoRA \(name): \(result)")
            #expect(result.relativeError < 2e-2, "\(name): \(result)")
        }
    }

    @Test("Prompt tuning and P-tuning v2 prompts")
    func prompts() throws {
        let model = try tinyBackbone()
        let adapters: [any Adapter] = [
            try PromptTuningAdapter(model: model, configuration: PromptTuningConfiguration(virtualTokens: 2), seed: 1),
            try PTuningV2Adapter(model: model, configuration: PTuningV2Configuration(virtualTokens: 2), seed: 2),
            try PrefixTuningAdapter(model: model, configuration: PrefixTuningConfiguration(virtualTokens: 2), seed: 3),
        ]
        for adapter in adapters {
            for result in try check(adapter, model: model) {
                print("gradient check \(type(of: adapter).peftType): \(result)")
                #expect(result.relativeError < 2e-2, "\(type(of: adapter).peftType): \(result)")
            }
        }
    }
}
