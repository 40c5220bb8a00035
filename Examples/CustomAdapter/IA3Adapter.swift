import Autograd
import Foundation
import PEFT
import Tensor
import Transformer

/// The settings of an IA³ adapter, read and written as PEFT's `IA3Config`.
struct IA3Configuration: Codable {
    /// `target_modules`: the projections rescaled.
    var targetModules: [Projection] = [.key, .value, .down]
    /// `feedforward_modules`: the targets whose input, not output, is rescaled.
    var feedforwardModules: [Projection] = [.down]

    init() {}

    enum CodingKeys: String, CodingKey {
        case peftType = "peft_type", taskType = "task_type", targetModules = "target_modules"
        case feedforwardModules = "feedforward_modules", initIA3Weights = "init_ia3_weights"
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        targetModules = try container.decode([Projection].self, forKey: .targetModules)
        feedforwardModules = try container.decodeIfPresent([Projection].self, forKey: .feedforwardModules) ?? []
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(IA3Adapter.peftType, forKey: .peftType)
        try container.encode("CAUSAL_LM", forKey: .taskType)
        try container.encode(targetModules, forKey: .targetModules)
        try container.encode(feedforwardModules, forKey: .feedforwardModules)
        try container.encode(true, forKey: .initIA3Weights)
    }
}

/// IA³ (Liu et al. 2022, "Few-Shot Parameter-Efficient Fine-Tuning is Better and Cheaper than
/// In-Context Learning"), written outside the library with its public API only: learned vectors
/// that rescale the keys, the values, and the input of the MLP's down-projection.
///
///     k = l_k ⊙ (W_k·x),   v = l_v ⊙ (W_v·x),   y = W_down·(l_ff ⊙ h)
///
/// All vectors start at one, so training starts from the backbone. Through the library's
/// projection-delta hook these become `(l − 1) ⊙ W·x` and `W·((l − 1) ⊙ h)`. Keys follow PEFT's IA³:
/// `base_model.model.<module path>.ia3_l`, `[out, 1]` for rescaled outputs, `[1, in]` for inputs.
final class IA3Adapter: Adapter {
    static let peftType = "IA3"

    /// `peft train`-style creation by name: register it with `AdapterRegistry.builtIn.registering(IA3Adapter.method)`.
    static let method = AdapterMethod(
        name: "ia3", adapterType: IA3Adapter.self, summary: "IA³: learned rescaling of keys, values and MLP inputs",
        defaults: IA3Configuration()
    ) { configuration, context in try IA3Adapter(model: context.model, configuration: configuration) }

    let configuration: IA3Configuration
    /// The rescaling vectors by `(layer, projection)`.
    private var scales: [String: Variable] = [:]
    /// The backbone's weights the deltas need.
    private let model: LlamaModel
    let namedParameters: [(name: String, variable: Variable)]
    var isTraining = false

    /// A new adapter for `model` with every vector at one.
    convenience init(model: LlamaModel, configuration: IA3Configuration = IA3Configuration()) throws {
        try self.init(model: model, configuration: configuration, parameters: .initializing(seed: 0))
    }

    convenience init(configuration data: Data, weights: any TensorSource, model: LlamaModel) throws {
        let configuration = try ConfigurationCoding.decode(IA3Configuration.self, from: data, expectedType: Self.peftType)
        try self.init(model: model, configuration: configuration, parameters: .reading(weights))
    }

    private init(model: LlamaModel, configuration: IA3Configuration, parameters: ParameterBuilder) throws {
        try ConfigurationCoding.require(!configuration.targetModules.isEmpty, "target_modules", "must name at least one projection")
        self.model = model
        self.configuration = configuration
        let root = parameters.scoped("base_model.model")
        for layer in model.layers.indices {
            for projection in configuration.targetModules {
                let path = projection.modulePath(layer: layer)
                let weight = model.layers[layer].weight(of: projection).shape  // [out, in]
                let shape = configuration.feedforwardModules.contains(projection) ? [1, weight[1]] : [weight[0], 1]
                scales[path] = try root.scoped(path).parameter("ia3_l", shape: shape, initializer: .ones)
            }
        }
        namedParameters = try parameters.finish()
    }

    func configurationData() throws -> Data { try ConfigurationCoding.encode(configuration) }

    func projectionDelta(layer: Int, projection: Projection, input: Variable) throws -> Variable? {
        guard let scale = scales[projection.modulePath(layer: layer)] else { return nil }
        let weight = model.layers[layer].weight(of: projection)
        let offset = try scale - Variable(Tensor.ones(scale.shape))              // l − 1
        if configuration.feedforwardModules.contains(projection) {
            let rows = try offset.reshaped([weight.shape[1]])
            return try Variable.linear(input * rows, weight: weight)           // W·((l − 1) ⊙ h)
        }
        let columns = try offset.reshaped([weight.shape[0]])
        return try Variable.linear(input, weight: weight) * columns             // (l − 1) ⊙ W·x
    }
}
