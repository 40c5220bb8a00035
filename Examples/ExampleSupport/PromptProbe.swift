import Autograd
import PEFT
import Tensor
import Transformer

/// Runs an adapter through the model like ``AdapterRouter`` does, and keeps the prompts it
/// generates at each layer, to look at what an instruction-aware adapter produces.
public final class PromptProbe: ForwardHooks {
    private let router: AdapterRouter
    /// The prompt vectors of the last forward pass, by layer (`[1, m, hidden]` each).
    public private(set) var prompts: [Tensor] = []

    /// A probe for one row routed to `adapter`.
    public init(_ adapter: any Adapter) { router = AdapterRouter(adapter) }

    public func layerPrefixLengths(for batch: TokenBatch) -> [Int] { router.layerPrefixLengths(for: batch) }

    public func layerPrefix(
        layer: Int, hiddenStates: Variable, normalizedHiddenStates: Variable, context: ForwardContext
    ) throws -> LayerPrefix? {
        let prefix = try router.layerPrefix(
            layer: layer, hiddenStates: hiddenStates, normalizedHiddenStates: normalizedHiddenStates, context: context)
        if let vectors = prefix?.prompts { prompts.append(vectors.value) }
        return prefix
    }

    /// The prompts `model` with the adapter generates for `tokens`, the first `instructionLength`
    /// of them the instruction.
    public func prompts(model: LlamaModel, tokens: [Int], instructionLength: Int) throws -> [Tensor] {
        prompts = []
        _ = try GradientMode.withoutGradients {
            try model(TokenBatch(rows: [tokens], instructionLengths: [instructionLength]), hooks: self)
        }
        return prompts
    }
}
