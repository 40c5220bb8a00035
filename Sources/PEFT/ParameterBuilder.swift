import Autograd
import Foundation
import Tensor
import Transformer

/// How a new parameter starts.
public enum ParameterInitializer {
    /// Every element 0.
    case zeros
    /// Every element 1.
    case ones
    /// Every element `value`.
    case constant(Float)
    /// Drawn from `N(0, std²)`.
    case normal(std: Float)
    /// Drawn uniformly from `[−bound, bound)`.
    case uniform(bound: Float)
    /// A linear layer's weight `[out, in]` as PyTorch starts it (`kaiming_uniform_(a: √5)`): uniform
    /// in `±1/√in`.
    case kaimingUniform
    /// Exactly these values, in row-major order (their count must fit the shape).
    case values([Float])
    /// Whatever the closure returns for the shape, drawing from the builder's generator; it must
    /// return a tensor of that shape.
    case custom((_ shape: [Int], _ generator: inout SeededGenerator) throws -> Tensor)
}

/// Makes an adapter's parameters, or reads them back from a checkpoint, with one call per
/// parameter: the same code builds a new adapter and loads a saved one (in the spirit of candle's
/// `VarBuilder`).
///
/// A builder has a key prefix; ``scoped(_:)`` adds a component, and ``parameter(_:shape:initializer:)``
/// names the parameter `prefix.name`. A builder made by ``initializing(seed:)`` creates the tensor
/// with its initializer, drawing from one generator in call order; one made by ``reading(_:)``
/// reads the tensor of that key from the checkpoint and checks its shape, and ignores the
/// initializer. Either way the parameter is a trainable leaf named by its key, and the builder
/// records it (``parameters``), so an adapter's `namedParameters` is what its builder made.
///
///     let builder = ParameterBuilder.initializing(seed: 0).scoped("base_model.model")
///     let layer = builder.scoped("model.layers.3.self_attn.q_proj")
///     let a = try layer.parameter("lora_A.weight", shape: [8, 576], initializer: .kaimingUniform)
///     let b = try layer.parameter("lora_B.weight", shape: [576, 8], initializer: .zeros)
///     try builder.finish()   // [("base_model.model.model.layers.3.self_attn.q_proj.lora_A.weight", a), …]
///
/// Builders derived by ``scoped(_:)`` share the record and the generator of the one they came from.
public struct ParameterBuilder {
    private final class Store {
        enum Source {
            case fresh(SeededGenerator)
            case checkpoint(any TensorSource)
        }
        var source: Source
        var made: [(name: String, variable: Variable)] = []
        var keys: Set<String> = []
        init(_ source: Source) { self.source = source }
    }

    private let store: Store
    /// The key prefix of this builder's parameters (empty at the root).
    public let prefix: String

    private init(store: Store, prefix: String) {
        self.store = store
        self.prefix = prefix
    }

    /// A builder that creates new parameters, drawing random initial values from a generator
    /// seeded with `seed`.
    public static func initializing(seed: UInt64) -> ParameterBuilder {
        ParameterBuilder(store: Store(.fresh(SeededGenerator(seed: seed))), prefix: "")
    }

    /// A builder that reads each parameter from `checkpoint` by its key.
    public static func reading(_ checkpoint: any TensorSource) -> ParameterBuilder {
        ParameterBuilder(store: Store(.checkpoint(checkpoint)), prefix: "")
    }

    /// Whether parameters are read from a checkpoint rather than created.
    public var isReading: Bool {
        if case .checkpoint = store.source { return true }
        return false
    }

    /// A builder whose keys are `prefix.component.…`, sharing this one's record and generator.
    public func scoped(_ component: String) -> ParameterBuilder {
        ParameterBuilder(store: store, prefix: key(component))
    }

    /// The checkpoint key of a parameter called `name` here.
    public func key(_ name: String) -> String { prefix.isEmpty ? name : name.isEmpty ? prefix : prefix + "." + name }

    /// The parameter `name` of `shape`: created with `initializer`, or read from the checkpoint
    /// (and `initializer` ignored).
    /// - Throws: ``AdapterError/badTensor(file:key:reason:)`` if the checkpoint has no such tensor,
    ///   or one of another shape, or the key was already made; ``TensorError`` if the initializer
    ///   cannot make `shape`.
    public func parameter(_ name: String, shape: [Int], initializer: ParameterInitializer) throws -> Variable {
        let key = key(name)
        guard !store.keys.contains(key) else {
            throw AdapterError.badTensor(file: fileName, key: key, reason: "made twice")
        }
        let tensor: Tensor
        switch store.source {
        case .checkpoint(let checkpoint):
            guard checkpoint.contains(key) else { throw AdapterError.badTensor(file: fileName, key: key, reason: "missing") }
            tensor = try checkpoint.tensor(named: key)
        case .fresh(var generator):
            tensor = try Self.make(shape, initializer, generator: &generator)
            store.source = .fresh(generator)
        }
        guard tensor.shape == shape else {
            throw AdapterError.badTensor(file: fileName, key: key, reason: "shape \(tensor.shape), expected \(shape)")
        }
        let variable = Variable(tensor, requiresGradient: true, name: key)
        store.made.append((key, variable))
        store.keys.insert(key)
        return variable
    }

    /// Every parameter made so far by this builder and those derived from it, in order.
    public var parameters: [(name: String, variable: Variable)] { store.made }

    /// Ends building: when reading, checks that the checkpoint holds no tensor that was not asked
    /// for. Returns ``parameters``.
    /// - Throws: ``AdapterError/badTensor(file:key:reason:)`` naming the first unexpected tensor.
    @discardableResult
    public func finish() throws -> [(name: String, variable: Variable)] {
        if case .checkpoint(let checkpoint) = store.source,
           let extra = checkpoint.names.first(where: { !store.keys.contains($0) }) {
            throw AdapterError.badTensor(file: fileName, key: extra, reason: "not a tensor of this adapter's configuration")
        }
        return store.made
    }

    private var fileName: String {
        if case .checkpoint(let checkpoint) = store.source { return checkpoint.url.lastPathComponent }
        return "new adapter"
    }

    private static func make(_ shape: [Int], _ initializer: ParameterInitializer, generator: inout SeededGenerator) throws -> Tensor {
        switch initializer {
        case .zeros: return try Tensor.zeros(shape)
        case .ones: return try Tensor.ones(shape)
        case .constant(let value): return try Tensor(repeating: value, shape: shape)
        case .normal(let std): return try Tensor.normal(shape, std: std, generator: &generator)
        case .uniform(let bound): return try Tensor.uniform(shape, low: -bound, high: bound, generator: &generator)
        case .kaimingUniform: return try Tensor.kaimingUniform(shape, generator: &generator)
        case .values(let values): return try Tensor(shape: shape, scalars: values)
        case .custom(let make): return try make(shape, &generator)
        }
    }
}
