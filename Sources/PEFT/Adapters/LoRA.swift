import Autograd
import Foundation
import Tensor
import Transformer

/// The settings of a LoRA adapter, read and written as PEFT's `LoraConfig`.
public struct LoRAConfiguration: Codable, Sendable, Equatable {
    /// `r`: the rank of the update.
    public var rank: Int
    /// `lora_alpha`: the update is scaled by `alpha / rank` (or `alpha / √rank` with rsLoRA).
    public var alpha: Float
    /// `lora_dropout`: dropout on the adapter's input while training.
    public var dropout: Float
    /// `target_modules`: the projections adapted, by module name (`q_proj`, `v_proj`, …).
    public var targetModules: [Projection]
    /// `use_rslora`: scale by `alpha / √rank` (Kalajdzievski 2023) instead of `alpha / rank`.
    public var useRSLoRA: Bool
    /// `layers_to_transform`: only these layers (`nil`: all).
    public var layers: [Int]?
    /// `base_model_name_or_path`, informational.
    public var baseModel: String?

    /// A LoRA configuration; the defaults are PEFT's, with the common q/v targets.
    public init(
        rank: Int = 8, alpha: Float = 16, dropout: Float = 0, targetModules: [Projection] = [.query, .value],
        useRSLoRA: Bool = false, layers: [Int]? = nil, baseModel: String? = nil
    ) {
        self.rank = rank
        self.alpha = alpha
        self.dropout = dropout
        self.targetModules = targetModules
        self.useRSLoRA = useRSLoRA
        self.layers = layers
        self.baseModel = baseModel
    }

    /// The factor applied to `B·A·x`.
    public var scale: Float { useRSLoRA ? alpha / Float(rank).squareRoot() : alpha / Float(rank) }

    enum CodingKeys: String, CodingKey {
        case peftType = "peft_type", taskType = "task_type", rank = "r", alpha = "lora_alpha", dropout = "lora_dropout"
        case targetModules = "target_modules", useRSLoRA = "use_rslora", layers = "layers_to_transform"
        case baseModel = "base_model_name_or_path", bias, fanInFanOut = "fan_in_fan_out", useDoRA = "use_dora"
        case inferenceMode = "inference_mode", initLoRAWeights = "init_lora_weights", modulesToSave = "modules_to_save"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        rank = try container.decodeIfPresent(Int.self, forKey: .rank) ?? 8
        alpha = try container.decodeIfPresent(Float.self, forKey: .alpha) ?? 8
        dropout = try container.decodeIfPresent(Float.self, forKey: .dropout) ?? 0
        useRSLoRA = try container.decodeIfPresent(Bool.self, forKey: .useRSLoRA) ?? false
        baseModel = try container.decodeIfPresent(String.self, forKey: .baseModel)
        if let single = try? container.decodeIfPresent(Int.self, forKey: .layers) {
            layers = [single]
        } else {
            layers = try container.decodeIfPresent([Int].self, forKey: .layers)
        }
        let names: [String]
        if let list = try? container.decode([String].self, forKey: .targetModules) {
            names = list
        } else if let text = try container.decodeIfPresent(String.self, forKey: .targetModules) {
            guard text == "all-linear" else {
                throw DecodingError.dataCorruptedError(
                    forKey: .targetModules, in: container,
                    debugDescription: "a regular expression (\"\(text)\") is not supported; list the module names")
            }
            names = Projection.allCases.map(\.rawValue)
        } else {
            names = ["q_proj", "v_proj"]
        }
        targetModules = try names.sorted().map { name in
            guard let projection = Projection(rawValue: name) else {
                throw DecodingError.dataCorruptedError(
                    forKey: .targetModules, in: container,
                    debugDescription: "'\(name)' is not a LLaMA projection (\(Projection.allCases.map(\.rawValue)))")
            }
            return projection
        }
        if let bias = try container.decodeIfPresent(String.self, forKey: .bias), bias != "none" {
            throw DecodingError.dataCorruptedError(forKey: .bias, in: container, debugDescription: "only bias \"none\" is supported")
        }
        for flag in [CodingKeys.fanInFanOut, .useDoRA] where try container.decodeIfPresent(Bool.self, forKey: flag) == true {
            throw DecodingError.dataCorruptedError(forKey: flag, in: container, debugDescription: "not supported")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(LoRAAdapter.peftType, forKey: .peftType)
        try container.encode("CAUSAL_LM", forKey: .taskType)
        try container.encode(rank, forKey: .rank)
        try container.encode(alpha, forKey: .alpha)
        try container.encode(dropout, forKey: .dropout)
        try container.encode(targetModules.map(\.rawValue).sorted(), forKey: .targetModules)
        try container.encode(useRSLoRA, forKey: .useRSLoRA)
        try container.encode(layers, forKey: .layers)
        try container.encode(baseModel, forKey: .baseModel)
        try container.encode("none", forKey: .bias)
        try container.encode(false, forKey: .fanInFanOut)
        try container.encode(false, forKey: .useDoRA)
        try container.encode(true, forKey: .inferenceMode)
        try container.encode(true, forKey: .initLoRAWeights)
        try container.encodeNil(forKey: .modulesToSave)
    }
}

/// LoRA (Hu et al. 2021): `h = W·x + scale · B·A·x` on the target projections, `A: [rank, in]`
/// drawn like a linear layer, `B: [out, rank]` zero, so training starts from the backbone.
///
/// Keys follow PEFT: `base_model.model.<module path>.lora_A.weight` and `.lora_B.weight`, so adapters
/// move both ways between this package and PEFT. Un-merged, the update costs two skinny products
/// per adapted projection (what multi-tenant batches need); ``merge(into:)`` folds it into the
/// backbone's weights for single-tenant use, and ``unmerge(from:)`` takes it out again.
public final class LoRAAdapter: Adapter {
    public static let peftType = "LORA"

    /// The settings.
    public let configuration: LoRAConfiguration
    /// Per adapted module path (`model.layers.3.self_attn.q_proj`), its `A` and `B`.
    public let factors: [String: (a: Variable, b: Variable)]
    /// ``factors`` by layer and projection, for lookups without building module-path strings.
    private let factorTable: [Int: [Projection: (a: Variable, b: Variable)]]
    public let namedParameters: [(name: String, variable: Variable)]
    public var isTraining = false
    /// The seed of the current training pass (``beginTrainingStep(randomSeed:)``): each adapted
    /// projection draws its dropout mask from a stream of this seed named by its layer and
    /// projection, so a layer run again (``LlamaModel/loss(_:hooks:targets:recomputingLayers:)``)
    /// draws the same mask.
    private var passSeed: UInt64

    /// A new adapter for `model`: `A` Kaiming-uniform, `B` zero.
    /// - Throws: ``AdapterError/invalidConfiguration(file:key:reason:)`` for a non-positive rank,
    ///   dropout outside `[0, 1)`, no targets or a layer outside the model.
    public convenience init(model: LlamaModel, configuration: LoRAConfiguration, seed: UInt64 = 0) throws {
        try self.init(model: model, configuration: configuration, parameters: .initializing(seed: seed), seed: seed)
    }

    public convenience init(configuration data: Data, weights: any TensorSource, model: LlamaModel) throws {
        let configuration = try ConfigurationCoding.decode(LoRAConfiguration.self, from: data, expectedType: Self.peftType)
        try self.init(model: model, configuration: configuration, parameters: .reading(weights))
    }

    /// An adapter whose factors `parameters` makes or reads (a fresh builder: every parameter it
    /// has made becomes this adapter's); `seed` seeds dropout until the trainer sets a pass seed.
    /// - Throws: ``AdapterError`` for invalid settings or a missing, misshaped or unexpected tensor.
    public init(model: LlamaModel, configuration: LoRAConfiguration, parameters: ParameterBuilder, seed: UInt64 = 0) throws {
        let layerCount = model.config.numHiddenLayers
        let width = model.config.hiddenSize
        try ConfigurationCoding.require(
            (1...4 * width).contains(configuration.rank), "r",
            "must be in 1...\(4 * width) (4 × the model's width; beyond the width the update is full-rank anyway), got \(configuration.rank)")
        try ConfigurationCoding.require(configuration.alpha.isFinite, "lora_alpha", "must be a finite number, got \(configuration.alpha)")
        try ConfigurationCoding.require((0..<1).contains(configuration.dropout), "lora_dropout", "must be in [0, 1)")
        try ConfigurationCoding.require(!configuration.targetModules.isEmpty, "target_modules", "must name at least one projection")
        let layers = configuration.layers ?? Array(0..<layerCount)
        try ConfigurationCoding.require(
            layers.allSatisfy { (0..<layerCount).contains($0) }, "layers_to_transform", "layers must be in 0..<\(layerCount)")
        let root = parameters.scoped("base_model.model")
        var factors: [String: (a: Variable, b: Variable)] = [:]
        var factorTable: [Int: [Projection: (a: Variable, b: Variable)]] = [:]
        for layer in layers.sorted() {
            for projection in configuration.targetModules {
                let path = projection.modulePath(layer: layer)
                let module = root.scoped(path)
                let weightShape = model.layers[layer].weight(of: projection).shape  // [out, in]
                let a = try module.parameter("lora_A.weight", shape: [configuration.rank, weightShape[1]], initializer: .kaimingUniform)
                let b = try module.parameter("lora_B.weight", shape: [weightShape[0], configuration.rank], initializer: .zeros)
                factors[path] = (a, b)
                factorTable[layer, default: [:]][projection] = (a, b)
            }
        }
        self.configuration = configuration
        self.factors = factors
        self.factorTable = factorTable
        namedParameters = try parameters.finish()
        passSeed = seed &+ 0x10BA
    }

    public func configurationData() throws -> Data { try ConfigurationCoding.encode(configuration) }

    public func beginTrainingStep(randomSeed: UInt64) { passSeed = randomSeed }

    public func projectionDelta(layer: Int, projection: Projection, input: Variable) throws -> Variable? {
        guard let (a, b) = factorTable[layer]?[projection] else { return nil }
        var dropped = input
        if isTraining && configuration.dropout > 0 {
            var generator = SeededGenerator.stream(
                seed: passSeed, UInt64(layer), UInt64(Projection.allCases.firstIndex(of: projection) ?? 0))
            dropped = try input.dropout(probability: configuration.dropout, generator: &generator)
        }
        // The scale is applied to the rank-r intermediate, r / out of the work of scaling the output.
        return try Variable.linear(Variable.linear(dropped, weight: a) * configuration.scale, weight: b)
    }

    /// Adds `scale · B·A` to every adapted weight of `model`; its outputs then equal the un-merged
    /// adapter's (up to rounding) with no extra cost per token. Do not also route rows to this
    /// adapter while it is merged.
    /// - Throws: ``TensorError`` if the model's shapes do not match.
    public func merge(into model: LlamaModel) throws { try applyUpdate(to: model, sign: 1) }

    /// Subtracts what ``merge(into:)`` added.
    /// - Throws: ``TensorError`` if the model's shapes do not match.
    public func unmerge(from model: LlamaModel) throws { try applyUpdate(to: model, sign: -1) }

    private func applyUpdate(to model: LlamaModel, sign: Float) throws {
        for layer in model.layers.indices {
            for projection in Projection.allCases {
                guard let (a, b) = factorTable[layer]?[projection] else { continue }
                let update = try Tensor.matmul(b.value, a.value)
                try model.layers[layer].weight(of: projection).value.addScaled(update, by: sign * configuration.scale)
            }
        }
    }
}

extension AdapterMethod {
    /// LoRA (``LoRAAdapter``), `r` 8, alpha 16 on `q_proj` and `v_proj` by default.
    public static let lora = AdapterMethod(
        name: "lora", adapterType: LoRAAdapter.self, summary: "LoRA: low-rank updates of the target projections",
        defaults: LoRAConfiguration()
    ) { configuration, context in
        try LoRAAdapter(model: context.model, configuration: configuration, seed: context.seed)
    }
}
