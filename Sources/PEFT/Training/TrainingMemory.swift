/// What a training run keeps in memory, traded against time. Results do not depend on it: the same
/// run gives the same losses and weights (up to the last bits of the products' rounding) whatever
/// is chosen.
///
/// For SmolLM2-135M, LoRA at 16 × 128 tokens (Documentation/RealModels.md has the figures): the
/// frozen weights take 540 MB as `Float`, each packed copy about as much again, and the layers'
/// saved activations about 3 GB unless recomputed.
public struct TrainingMemory: Sendable, Equatable {
    /// Which packed copies of the frozen weights to make (``LlamaModel/packFrozenWeights(inputGradient:)``).
    public enum Packing: Sendable, Equatable {
        /// Both products (forward and input gradient) against packed copies: two more copies of
        /// the weights, the fastest step.
        case forwardAndBackward
        /// The forward product only: one more copy; the input gradient goes through BLAS.
        case forward
        /// No copies: every product through BLAS.
        case none
    }

    /// Keep only each decoder layer's input and run the layer again in the backward pass
    /// (``LlamaModel/loss(_:hooks:targets:recomputingLayers:)``).
    public var recomputesActivations: Bool
    /// The packed copies to make.
    public var packing: Packing

    /// A setting; see each property.
    public init(recomputesActivations: Bool, packing: Packing) {
        self.recomputesActivations = recomputesActivations
        self.packing = packing
    }

    /// Every activation kept and both packed copies: the fastest step, the most memory.
    public static let fastest = TrainingMemory(recomputesActivations: false, packing: .forwardAndBackward)
    /// Activations recomputed and one packed copy: about a third of the memory of ``fastest`` on
    /// a real model, for a slower step.
    public static let lean = TrainingMemory(recomputesActivations: true, packing: .forward)
}
