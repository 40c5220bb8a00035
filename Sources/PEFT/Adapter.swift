import Autograd
import Foundation
import Tensor
import Transformer

/// A parameter-efficient adapter: a small set of trainable parameters that changes what a frozen
/// ``LlamaModel`` computes.
///
/// An adapter changes the backbone through up to three hooks, chosen by what it needs (see
/// ``ForwardHooks`` for where each enters the model):
/// - ``projectionDelta(layer:projection:input:)``: add to a linear layer's output (LoRA, IA³);
/// - ``inputPrefix(rows:)``: virtual tokens in front of the input (prompt tuning);
/// - ``layerPrefix(layer:hiddenStates:normalizedHiddenStates:instructionMask:)``: a key/value prefix
///   at every layer, static or computed from the instruction (P-tuning v2, prefix tuning, IAPT).
///
/// Each hook is called on the sub-batch of rows routed to this adapter (``AdapterRouter``), so an
/// adapter never sees rows of another adapter, and training, evaluation and multi-tenant serving
/// share one code path. Every hook has a default that changes nothing.
///
/// An adapter owns its parameters (named as in its `adapter_model.safetensors`), its
/// configuration (`adapter_config.json`, with `peft_type` ``peftType``) and how it is read back
/// (``init(configuration:weights:model:)``). Types defined outside this package plug in by
/// conforming and being added to an ``AdapterRegistry`` (with an ``AdapterMethod`` to be created
/// by name); ``ParameterBuilder`` makes and reads their parameters, ``ConfigurationCoding`` their
/// configuration.
public protocol Adapter: AnyObject {
    /// The `peft_type` of `adapter_config.json` that identifies this kind of adapter.
    static var peftType: String { get }

    /// Reads an adapter saved in PEFT's layout for `model`.
    /// - Parameters:
    ///   - configuration: the bytes of `adapter_config.json`.
    ///   - weights: the tensors of `adapter_model.safetensors`.
    /// - Throws: ``AdapterError`` if the configuration is invalid or does not fit `model`, or a
    ///   tensor is missing or misshaped (naming the key).
    init(configuration: Data, weights: any TensorSource, model: LlamaModel) throws

    /// The bytes of `adapter_config.json`.
    /// - Throws: ``AdapterError`` if the configuration cannot be encoded.
    func configurationData() throws -> Data

    /// The trainable parameters, by their key in `adapter_model.safetensors`, in a stable order.
    var namedParameters: [(name: String, variable: Variable)] { get }

    /// The parameters grouped for the optimizer, with `weightDecay` where it applies and any
    /// per-group learning-rate multipliers the adapter needs.
    func parameterGroups(weightDecay: Float) -> [ParameterGroup]

    /// Whether the adapter is training (dropout active) or evaluating.
    var isTraining: Bool { get set }

    /// Called by ``Trainer`` before each training forward pass (each micro-batch of each optimizer
    /// step), with a seed for whatever the adapter draws at random during that pass (dropout
    /// masks). The seed depends only on the run's seed, the step's number and the micro-batch's, so
    /// an adapter that draws from it, rather than from a stream carried from pass to pass, draws in
    /// a resumed run exactly what it drew in the uninterrupted one. Derive each layer's draws from
    /// the seed and the layer afresh at every call (``SeededGenerator/stream(seed:_:)``), so that a
    /// layer recomputed in the backward pass draws the same. The default ignores it.
    func beginTrainingStep(randomSeed: UInt64)

    /// The number of virtual tokens this adapter puts in front of the input (0 for none).
    var inputPrefixLength: Int { get }
    /// The number of key/value prefix vectors this adapter puts in front of every layer's keys.
    var layerPrefixLength: Int { get }

    /// The virtual token embeddings for `rows` rows, `[rows, inputPrefixLength, hidden]`.
    func inputPrefix(rows: Int) throws -> Variable?

    /// The key/value prefix of layer `layer` for these rows, `layerPrefixLength` vectors per row:
    /// prompt vectors `[rows, m, hidden]` that enter through the layer's norm and projections, or
    /// keys and values `[rows, m, kvHeads · headDim]` used as they are (``PrefixVectors``); `nil`
    /// when this adapter has no prefix at that layer.
    /// - Parameters:
    ///   - hiddenStates: the residual stream entering the layer, `[rows, length, hidden]`.
    ///   - normalizedHiddenStates: the same after the layer's input RMSNorm.
    ///   - instructionMask: `rows · length` flags, `true` on instruction tokens (never on padding
    ///     or response tokens).
    func layerPrefix(
        layer: Int, hiddenStates: Variable, normalizedHiddenStates: Variable, instructionMask: [Bool]
    ) throws -> PrefixVectors?

    /// A change added to the output of `projection` in layer `layer`, `[rows, sequence, out]`, from
    /// the projection's input `[rows, sequence, in]`; `nil` where the adapter does not act.
    func projectionDelta(layer: Int, projection: Projection, input: Variable) throws -> Variable?
}

extension Adapter {
    public var inputPrefixLength: Int { 0 }
    public var layerPrefixLength: Int { 0 }
    public func inputPrefix(rows: Int) throws -> Variable? { nil }
    public func layerPrefix(
        layer: Int, hiddenStates: Variable, normalizedHiddenStates: Variable, instructionMask: [Bool]
    ) throws -> PrefixVectors? { nil }
    public func projectionDelta(layer: Int, projection: Projection, input: Variable) throws -> Variable? { nil }
    public func beginTrainingStep(randomSeed: UInt64) {}

    /// One group of every parameter with `weightDecay`.
    public func parameterGroups(weightDecay: Float) -> [ParameterGroup] {
        [ParameterGroup(namedParameters.map(\.variable), weightDecay: weightDecay)]
    }

    /// The number of trainable scalars.
    public var trainableParameterCount: Int { namedParameters.reduce(0) { $0 + $1.variable.value.count } }

    /// The current parameter values by name (what `adapter_model.safetensors` holds).
    public var weights: [String: Tensor] {
        Dictionary(uniqueKeysWithValues: namedParameters.map { ($0.name, $0.variable.value) })
    }
}
