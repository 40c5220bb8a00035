import Autograd
import Foundation
import Tensor
import Transformer

/// IAPT, Instruction-Aware Prompt Tuning (Zhu et al., ACL 2024): at every layer a small prompt
/// generator reads the hidden states of the instruction and produces that layer's `m` prompt
/// vectors, which enter as a key/value prefix (see `IAPT.md`).
///
/// Generator at layer `l`, on `H` (`n × d`, the instruction tokens entering the layer, after the
/// layer's input RMSNorm by default):
///
///     X = H·W_downᵀ + b_down                          n × r
///     A = softmax over positions of (X·Qᵀ)             n × m, Q the pool queries (m × r)
///     Z = Aᵀ·X                                          m × r
///     P = R_l(Z)·W_upᵀ + b_up                           m × d, R_l the layer's rational activation
///
/// Padding and response tokens are masked out of the softmax, so the response never leaks into
/// the prompts. The generators run during the prefill only; the prompts then live in the KV cache.
/// With ``IAPTConfiguration/generatorOutput`` `kv`, `W_up` emits the layer's `m` keys and values
/// directly (`m × 2·kvHeads·headDim`), used without norm, projection or RoPE, as prefix tuning's.
public final class IAPTAdapter: Adapter {
    public static let peftType = "IAPT"

    /// One layer's generator parameters.
    public struct Generator {
        /// `down_proj`: `[r, d]` and `[r]`.
        public let downWeight: Variable, downBias: Variable
        /// `pool_queries`: `[m, r]`, row `j` soft token `j`'s query (self-attention pooling only).
        public let poolQueries: Variable?
        /// `rational.numerator` `[p + 1]` and `rational.denominator` `[q]` (rational activation only).
        public let numerator: Variable?, denominator: Variable?
        /// `up_proj`: `[out, r]` and `[out]`, `out` the hidden size `d`, or `2 · kvHeads · headDim`
        /// for a generator that emits keys and values.
        public let upWeight: Variable, upBias: Variable
    }

    /// The settings.
    public let configuration: IAPTConfiguration
    /// The generators by layer index (only the configured layers have one).
    public let generators: [Int: Generator]
    public let namedParameters: [(name: String, variable: Variable)]
    public var isTraining = false
    /// `kvHeads · headDim` of the model: the width of each of the keys and values a `kv` generator emits.
    private let keyValueWidth: Int

    /// A new adapter for `model`, initialised as `IAPT.md` chooses: `W_down` like a linear layer,
    /// pool queries from `N(0, 0.02²)`, `W_up` zero and `b_up` zero (four empty prompt slots) or, as
    /// ``IAPTConfiguration/upBiasInit`` says, from `N(0, 1)`; rational coefficients fitted to GELU on
    /// ``IAPTConfiguration/rationalInterval``.
    /// - Throws: ``AdapterError/invalidConfiguration(file:key:reason:)`` for invalid settings;
    ///   ``RationalActivationError`` if the GELU fit fails.
    public convenience init(model: LlamaModel, configuration: IAPTConfiguration, seed: UInt64 = 0) throws {
        try self.init(model: model, configuration: configuration, parameters: .initializing(seed: seed))
    }

    public convenience init(configuration data: Data, weights: any TensorSource, model: LlamaModel) throws {
        let configuration = try ConfigurationCoding.decode(IAPTConfiguration.self, from: data, expectedType: Self.peftType)
        try self.init(model: model, configuration: configuration, parameters: .reading(weights))
    }

    /// An adapter whose parameters `parameters` makes or reads (a fresh builder: every parameter it
    /// has made becomes this adapter's).
    /// - Throws: ``AdapterError`` for invalid settings or a missing, misshaped or unexpected
    ///   tensor; ``RationalActivationError`` if the GELU fit fails.
    public init(model: LlamaModel, configuration: IAPTConfiguration, parameters: ParameterBuilder) throws {
        try configuration.validate(for: model)
        let (d, r, m) = (model.config.hiddenSize, configuration.bottleneck, configuration.virtualTokens)
        let keyValueWidth = model.config.numKeyValueHeads * model.config.headDim
        let outputWidth = configuration.generatorOutput == .hidden ? d : 2 * keyValueWidth
        let rational = configuration.activation == .rational
        let fit = rational && !parameters.isReading ? try RationalActivation.fitGELU(
            degrees: (configuration.rationalDegrees[0], configuration.rationalDegrees[1]),
            interval: configuration.rationalInterval[0]...configuration.rationalInterval[1]) : nil
        let layers = parameters.scoped("base_model.model.model.layers")
        var generators: [Int: Generator] = [:]
        for layer in (configuration.layers ?? Array(0..<model.config.numHiddenLayers)).sorted() {
            let generator = layers.scoped("\(layer).prompt_generator")
            let downWeight = try generator.parameter("down_proj.weight", shape: [r, d], initializer: .kaimingUniform)
            let downBias = try generator.parameter("down_proj.bias", shape: [r], initializer: .uniform(bound: 1 / Float(d).squareRoot()))
            let poolQueries = configuration.pooling == .selfAttention
                ? try generator.parameter("pool_queries", shape: [m, r], initializer: .normal(std: 0.02)) : nil
            let numerator = rational ? try generator.parameter(
                "rational.numerator", shape: [configuration.rationalDegrees[0] + 1], initializer: .values(fit?.activation.numerator ?? [])) : nil
            let denominator = rational ? try generator.parameter(
                "rational.denominator", shape: [configuration.rationalDegrees[1]], initializer: .values(fit?.activation.denominator ?? [])) : nil
            let upWeight = try generator.parameter("up_proj.weight", shape: [outputWidth, r], initializer: .zeros)
            let upBias = try generator.parameter(
                "up_proj.bias", shape: [outputWidth], initializer: configuration.upBiasInit == .zeros ? .zeros : .normal(std: 1))
            generators[layer] = Generator(
                downWeight: downWeight, downBias: downBias, poolQueries: poolQueries, numerator: numerator,
                denominator: denominator, upWeight: upWeight, upBias: upBias)
        }
        self.configuration = configuration
        self.generators = generators
        self.keyValueWidth = keyValueWidth
        namedParameters = try parameters.finish()
    }

    public func configurationData() throws -> Data { try ConfigurationCoding.encode(configuration) }

    /// Weights decay; biases, pool queries and rational coefficients do not, and the rational
    /// coefficients train at ``IAPTConfiguration/rationalLearningRateMultiplier``.
    public func parameterGroups(weightDecay: Float) -> [ParameterGroup] {
        let layers = generators.keys.sorted().compactMap { generators[$0] }
        return [
            ParameterGroup(layers.flatMap { [$0.downWeight, $0.upWeight] }, weightDecay: weightDecay),
            ParameterGroup(layers.flatMap { [$0.downBias, $0.upBias] + ($0.poolQueries.map { [$0] } ?? []) }),
            ParameterGroup(layers.flatMap { [$0.numerator, $0.denominator].compactMap { $0 } },
                           learningRateMultiplier: configuration.rationalLearningRateMultiplier),
        ].filter { !$0.parameters.isEmpty }
    }

    public var layerPrefixLength: Int { configuration.virtualTokens }

    public func layerPrefix(
        layer: Int, hiddenStates: Variable, normalizedHiddenStates: Variable, instructionMask: [Bool]
    ) throws -> PrefixVectors? {
        guard let generator = generators[layer] else { return nil }
        let input = configuration.generatorInput == .normalized ? normalizedHiddenStates : hiddenStates
        let output = try prompts(generator, input: input, instructionMask: instructionMask)
        switch configuration.generatorOutput {
        case .hidden: return .prompts(output)
        case .keysValues:
            return .keysValues(
                keys: try output.slice(alongAxis: 2, 0..<keyValueWidth),
                values: try output.slice(alongAxis: 2, keyValueWidth..<(2 * keyValueWidth)))
        }
    }

    /// The generator's output `[rows, m, out]` for `input: [rows, n, d]`, pooling over the positions
    /// where `instructionMask` is `true`: prompt vectors (`out = d`) or keys and values side by side
    /// (`out = 2 · kvHeads · headDim`), as ``IAPTConfiguration/generatorOutput`` says.
    func prompts(_ generator: Generator, input: Variable, instructionMask: [Bool]) throws -> Variable {
        let (rows, length, m) = (input.shape[0], input.shape[1], configuration.virtualTokens)
        let projected = try Variable.linear(input, weight: generator.downWeight, bias: generator.downBias)  // [rows, n, r]
        let pooled = try pool(projected, generator: generator, mask: instructionMask, rows: rows, length: length, tokens: m)
        let activated: Variable
        switch configuration.activation {
        case .rational:
            guard let numerator = generator.numerator, let denominator = generator.denominator else {
                throw AdapterError.mismatch("IAPT generator without rational coefficients")
            }
            activated = try Variable.rational(pooled, numerator: numerator, denominator: denominator)
        case .gelu: activated = pooled.gelu()
        case .relu: activated = pooled.relu()
        }
        return try Variable.linear(activated, weight: generator.upWeight, bias: generator.upBias)  // [rows, m, out]
    }

    /// Pools `x: [rows, n, r]` over the instruction positions into `[rows, m, r]`.
    private func pool(
        _ x: Variable, generator: Generator, mask: [Bool], rows: Int, length: Int, tokens m: Int
    ) throws -> Variable {
        let r = x.shape[2]
        switch configuration.pooling {
        case .selfAttention:
            guard let queries = generator.poolQueries else { throw AdapterError.mismatch("IAPT generator without pool queries") }
            let maskBias = Variable(try Tensor(shape: [rows, length, 1], scalars: mask.map { $0 ? 0 : -.infinity }))
            let scores = try Variable.matmul(x, queries, transposeB: true) + maskBias         // [rows, n, m]
            let weights = try scores.permuted([0, 2, 1]).softmax()                              // [rows, m, n]
            return try Variable.matmul(weights, x)                                              // [rows, m, r]
        case .mean, .lastToken:
            var weights = [Float](repeating: 0, count: rows * m * length)
            for row in 0..<rows {
                let positions = (0..<length).filter { mask[row * length + $0] }
                guard let last = positions.last else { continue }
                for j in 0..<m {
                    let base = (row * m + j) * length
                    if configuration.pooling == .lastToken {
                        weights[base + last] = 1
                    } else {
                        for t in positions { weights[base + t] = 1 / Float(positions.count) }
                    }
                }
            }
            return try Variable.matmul(Variable(Tensor(shape: [rows, m, length], scalars: weights)), x)
        case .max:
            let maxima = try x.maskedMaxOverPositions(mask: mask)                               // [rows, r]
            return try maxima.reshaped([rows, 1, r]) + Variable(Tensor.zeros([rows, m, r]))
        }
    }
}

extension Variable {
    /// The per-channel maximum of `[rows, n, c]` over the positions where `mask` (`rows · n` flags)
    /// is `true`, `[rows, c]` (zeros for a row with no position); the gradient goes to the maxima.
    func maskedMaxOverPositions(mask: [Bool]) throws -> Variable {
        let (rows, length, channels) = (shape[0], shape[1], shape[2])
        var argmax = [Int](repeating: -1, count: rows * channels)
        var maxima = [Float](repeating: 0, count: rows * channels)
        value.withUnsafeBufferPointer { x in
            for row in 0..<rows {
                for t in 0..<length where mask[row * length + t] {
                    for c in 0..<channels {
                        let index = row * channels + c, value = x[(row * length + t) * channels + c]
                        if argmax[index] < 0 || value > maxima[index] { (argmax[index], maxima[index]) = (t, value) }
                    }
                }
            }
        }
        let inputShape = shape
        return Variable.operation(try Tensor(shape: [rows, channels], scalars: maxima), inputs: [self]) { grad in
            var dx = [Float](repeating: 0, count: rows * length * channels)
            for row in 0..<rows {
                for c in 0..<channels where argmax[row * channels + c] >= 0 {
                    dx[(row * length + argmax[row * channels + c]) * channels + c] += grad.scalars[row * channels + c]
                }
            }
            try self.accumulateGradient(Tensor(shape: inputShape, scalars: dx))
        }
    }
}

extension AdapterMethod {
    /// IAPT (``IAPTAdapter``) with the defaults of `IAPT.md`.
    public static let iapt = AdapterMethod(
        name: "iapt", adapterType: IAPTAdapter.self, summary: "IAPT: prompts generated from the instruction at every layer",
        defaults: IAPTConfiguration()
    ) { configuration, context in
        try IAPTAdapter(model: context.model, configuration: configuration, seed: context.seed)
    }
}
