import Autograd
import Transformer

/// The model's calls with one adapter for every row: the everyday form of passing
/// `hooks: AdapterRouter(adapter)`. A `nil` adapter is the plain backbone.
extension LlamaModel {
    /// Logits with `adapter` applied to every row (see ``Transformer/LlamaModel/callAsFunction(_:hooks:cache:logits:)``).
    /// - Throws: what the model and the adapter throw.
    public func callAsFunction(
        _ batch: TokenBatch, adapter: (any Adapter)?, cache: KVCache? = nil, logits: LogitPositions = .all
    ) throws -> Variable {
        try self(batch, hooks: adapter.map(AdapterRouter.init), cache: cache, logits: logits)
    }

    /// The mean next-token cross-entropy with `adapter` applied to every row (see
    /// ``Transformer/LlamaModel/loss(_:hooks:targets:recomputingLayers:)``).
    /// - Throws: what the model and the adapter throw.
    public func loss(
        _ batch: TokenBatch, adapter: (any Adapter)?, targets: [Int], recomputingLayers: Bool = false
    ) throws -> Variable {
        try loss(batch, hooks: adapter.map(AdapterRouter.init), targets: targets, recomputingLayers: recomputingLayers)
    }

    /// Generated tokens per prompt with `adapter` applied to every row (see
    /// ``Transformer/LlamaModel/generate(prompts:options:hooks:instructionLengths:onToken:)``).
    /// - Throws: what the model and the adapter throw.
    public func generate(
        prompts: [[Int]], options: GenerationOptions = GenerationOptions(), adapter: (any Adapter)?,
        instructionLengths: [Int]? = nil, onToken: ((_ row: Int, _ token: Int) -> Bool)? = nil
    ) throws -> [[Int]] {
        try generate(
            prompts: prompts, options: options, hooks: adapter.map(AdapterRouter.init),
            instructionLengths: instructionLengths, onToken: onToken)
    }
}
