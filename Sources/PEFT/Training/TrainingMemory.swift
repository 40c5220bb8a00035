/// What a training run keeps in memory, traded against time. Results do not depend on it: the same
/// run gives the same losses and weights (up to the last bits of the products' rounding) whatever
/// is chosen.
///
/// For SmolLM2-135M, LoRA at 16 × 128 tokens (Documentation/RealModels.md has the figures): the
/// frozen weights take 540 MB as `Float`, each packed copy about as much again, and the layers'
/// saved activations about 3 GB unless recomputed. Activations grow with the rows of a micro-batch
/// (`TrainingOptions.batchSize`): the same step in more, smaller micro-batches
/// (`gradientAccumulationSteps`) keeps less, with the same result.
public struct TrainingMemory: Sendable, Equatable {
    /// Which packed copies of the frozen weights to make (``LlamaModel/packFrozenWeights(inputGradient:)``).
    public enum Packing: Sendable, Equatable {
        /// Both products (forward and input gradient) against packed copies: two more copies of
        /// the weights. It paid before products were split over ``Tensor/Parallel``'s own worker
        /// threads; measured since, BLAS on the `Float` weights is as fast (Performance.md).
        case forwardAndBackward
        /// The forward product only: one more copy; the input gradient goes through BLAS.
        case forward
        /// No copies: every product through BLAS, on the weights as they are (the default).
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

    /// Every activation kept, the frozen weights as they are (one copy): the fastest step.
    public static let fastest = TrainingMemory(recomputesActivations: false, packing: .none)
    /// Activations recomputed: about a quarter of the memory of ``fastest`` on a real model, for a
    /// step a quarter to a third slower.
    public static let lean = TrainingMemory(recomputesActivations: true, packing: .none)
}
