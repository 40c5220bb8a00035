import ArgumentParser
import Foundation
import PEFT
import Transformer

/// The adapter methods `peft train` can create.
enum AdapterMethod: String, ExpressibleByArgument, CaseIterable {
    case iapt, lora, prompt, ptuning2
}

/// How prompt tuning's virtual tokens start (`--prompt-init`).
enum PromptInitialization: String, ExpressibleByArgument, CaseIterable {
    case random, vocab, text
}

extension IAPTConfiguration.Pooling: ExpressibleByArgument {}
extension IAPTConfiguration.ActivationKind: ExpressibleByArgument {}

/// Per-method settings of `peft train`.
struct AdapterMethodOptions: ParsableArguments {
    @Option(help: "Adapter method: iapt, lora, prompt or ptuning2.")
    var method: AdapterMethod

    @Option(help: "Virtual tokens: IAPT's prompts per layer (4), prompt tuning's tokens (20), P-tuning v2's per layer (4).")
    var virtualTokens: Int?

    @Option(help: "IAPT: the generator's bottleneck width.")
    var bottleneck = 32

    @Option(help: "IAPT: pooling (self_attention, mean, max, last_token).")
    var pooling = IAPTConfiguration.Pooling.selfAttention

    @Option(help: "IAPT: activation (rational, gelu, relu).")
    var activation = IAPTConfiguration.ActivationKind.rational

    @Option(help: "LoRA: rank.")
    var rank = 8

    @Option(help: "LoRA: alpha (the update is scaled by alpha / rank).")
    var alpha: Float = 16

    @Option(help: "LoRA: dropout on the adapter's input while training.")
    var loraDropout: Float = 0

    @Option(help: "LoRA: comma-separated target projections (q_proj,k_proj,v_proj,o_proj,gate_proj,up_proj,down_proj).")
    var targetModules = "q_proj,v_proj"

    @Flag(help: "LoRA: scale by alpha / sqrt(rank) (rsLoRA).")
    var rslora = false

    @Option(help: "LoRA: comma-separated layer indices to adapt (layers_to_transform; default: every layer).")
    var loraLayers: String?

    @Option(help: "Prompt tuning: initialisation (random, vocab, text).")
    var promptInit = PromptInitialization.random

    @Option(help: "Prompt tuning: the text whose token embeddings start the prompt (with --prompt-init text).")
    var promptInitText: String?

    func validate() throws {
        if promptInit == .text && promptInitText == nil { throw ValidationError("--prompt-init text needs --prompt-init-text") }
        if let loraLayers { _ = try parseTokenList(loraLayers, option: "--lora-layers") }
    }

    /// A new adapter of the chosen method for `model`.
    func makeAdapter(for model: LlamaModel, tokenizer: any Tokenizer, seed: UInt64) throws -> any Adapter {
        switch method {
        case .iapt:
            return try IAPTAdapter(model: model, configuration: IAPTConfiguration(
                virtualTokens: virtualTokens ?? 4, bottleneck: bottleneck, pooling: pooling, activation: activation), seed: seed)
        case .lora:
            let targets = try targetModules.split(separator: ",").map { name in
                guard let projection = Projection(rawValue: name.trimmingCharacters(in: .whitespaces)) else {
                    throw ValidationError("--target-modules: '\(name)' is not one of \(Projection.allCases.map(\.rawValue))")
                }
                return projection
            }
            var configuration = LoRAConfiguration(
                rank: rank, alpha: alpha, dropout: loraDropout, targetModules: targets, useRSLoRA: rslora)
            if let loraLayers {
                configuration.layers = try parseTokenList(loraLayers, option: "--lora-layers")
            }
            return try LoRAAdapter(model: model, configuration: configuration, seed: seed)
        case .prompt:
            let initialization: PromptTuningConfiguration.Initialization
            switch promptInit {
            case .random: initialization = .random
            case .vocab: initialization = .sampledVocabulary
            case .text:
                let text = promptInitText ?? ""
                initialization = .text(text, tokenIDs: tokenizer.encode(text, addSpecialTokens: false))
            }
            return try PromptTuningAdapter(model: model, configuration: PromptTuningConfiguration(
                virtualTokens: virtualTokens ?? 20, initialization: initialization), seed: seed)
        case .ptuning2:
            return try PTuningV2Adapter(model: model, configuration: PTuningV2Configuration(virtualTokens: virtualTokens ?? 4), seed: seed)
        }
    }
}
