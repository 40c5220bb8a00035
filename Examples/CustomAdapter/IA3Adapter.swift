import Autograd
import Foundation
import PEFT
import Tensor
import Transformer

/// IA³ (Liu et al. 2022, "Few-Shot Parameter-Efficient Fine-Tuning is Better and Cheaper than
/// In-Context Learning"), written outside the library with its public API only: learned vectors
/// that rescale the keys, the values, and the input of the MLP's down-projection.
///
///     k = l_k ⊙ (W_k·x),   v = l_v ⊙ (W_v·x),   y = W_down·(l_ff ⊙ h)
///
/// All vectors start at one, so training starts from the backbone. Through the library's
/// projection-delta hook these become `(l − 1) ⊙ W·x` and `W·((l − 1) ⊙ h)`. Keys follow PEFT's IA³:
/// `base_model.model.<module path>.ia3_l`, `[out, 1]` for keys and values, `[1, in]` for the MLP.
final class IA3Adapter: Adapter {
    static let peftType = "IA3"

    /// The rescaling vectors by `(layer, projection)`.
    private var scales: [String: Variable] = [:]
    /// The backbone's weights the deltas need.
    private let model: LlamaModel
    let namedParameters: [(name: String, variable: Variable)]
    var isTraining = false

    private static let targets: [Projection] = [.key, .value, .down]

    /// A new adapter for `model` with every vector at one.
    convenience init(model: LlamaModel) throws {
        try self.init(model: model) { _, shape in try Tensor.ones(shape) }
    }

    convenience init(configuration: Data, weights: any TensorSource, model: LlamaModel) throws {
        try self.init(model: model) { key, shape in
            guard weights.contains(key) else { throw AdapterError.badTensor(file: weights.url.path, key: key, reason: "missing") }
            let tensor = try weights.tensor(named: key)
            guard tensor.shape == shape else {
                throw AdapterError.badTensor(file: weights.url.path, key: key, reason: "shape \(tensor.shape), expected \(shape)")
            }
            return tensor
        }
    }

    private init(model: LlamaModel, initial: (String, [Int]) throws -> Tensor) throws {
        self.model = model
        var named: [(String, Variable)] = []
        for layer in model.layers.indices {
            for projection in Self.targets {
                let path = projection.modulePath(layer: layer)
                let weight = model.layers[layer].weight(of: projection).shape  // [out, in]
                let shape = projection == .down ? [1, weight[1]] : [weight[0], 1]
                let key = "base_model.model.\(path).ia3_l"
                let vector = Variable(try initial(key, shape), requiresGradient: true, name: key)
                scales[path] = vector
                named.append((key, vector))
            }
        }
        namedParameters = named
    }

    func configurationData() throws -> Data {
        let json: [String: Any] = [
            "peft_type": Self.peftType, "task_type": "CAUSAL_LM", "target_modules": ["k_proj", "v_proj", "down_proj"],
            "feedforward_modules": ["down_proj"], "init_ia3_weights": true,
        ]
        return try JSONSerialization.data(withJSONObject: json, options: [.prettyPrinted, .sortedKeys])
    }

    func projectionDelta(layer: Int, projection: Projection, input: Variable) throws -> Variable? {
        guard let scale = scales[projection.modulePath(layer: layer)] else { return nil }
        let weight = model.layers[layer].weight(of: projection)
        let offset = try scale - Variable(Tensor.ones(scale.shape))              // l − 1
        if projection == .down {
            let rows = try offset.reshaped([weight.shape[1]])
            return try Variable.linear(input * rows, weight: weight)           // W·((l − 1) ⊙ h)
        }
        let columns = try offset.reshaped([weight.shape[0]])
        return try Variable.linear(input, weight: weight) * columns             // (l − 1) ⊙ W·x
    }
}
