import Autograd
import Foundation
import Tensor

/// A LLaMA-family decoder-only language model (`LlamaForCausalLM`): token embedding, decoder
/// layers of RMSNorm → grouped-query attention with RoPE → RMSNorm → SwiGLU MLP, a final RMSNorm
/// and the LM head (or the tied embedding).
///
/// Parameters are `Variable` leaves named by their Hugging Face keys (``namedParameters``), so a
/// checkpoint loads by name and adapters address modules by the same paths. The weights are frozen
/// (no gradient) unless the model is built with `trainable: true` (full fine-tuning).
public final class LlamaModel {
    /// The weights of one decoder layer.
    public struct Layer {
        /// Attention's projections, `[out, in]` as in PyTorch: `q_proj` `[heads · d, hidden]`,
        /// `k_proj` and `v_proj` `[kvHeads · d, hidden]`, `o_proj` `[hidden, heads · d]`.
        public let queryProjection, keyProjection, valueProjection, outputProjection: Variable
        /// The SwiGLU MLP's projections: `gate_proj` and `up_proj` `[intermediate, hidden]`,
        /// `down_proj` `[hidden, intermediate]`.
        public let gateProjection, upProjection, downProjection: Variable
        /// The RMSNorm weights before attention and before the MLP, `[hidden]`.
        public let inputNorm, postAttentionNorm: Variable

        /// The weight of `projection`, `[out, in]`.
        public func weight(of projection: Projection) -> Variable {
            switch projection {
            case .query: return queryProjection
            case .key: return keyProjection
            case .value: return valueProjection
            case .output: return outputProjection
            case .gate: return gateProjection
            case .up: return upProjection
            case .down: return downProjection
            }
        }
    }

    /// The model's shape and constants.
    public let config: LlamaConfig
    /// RoPE with the config's base and head width, half-split like transformers' LLaMA.
    public let rotary: RotaryEmbedding
    /// `model.embed_tokens.weight`, `[vocab, hidden]`.
    public let embedTokens: Variable
    /// The decoder layers.
    public let layers: [Layer]
    /// `model.norm.weight`, `[hidden]`.
    public let finalNorm: Variable
    /// `lm_head.weight`, `[vocab, hidden]`; the embedding itself when tied.
    public let lmHead: Variable
    /// Every parameter by Hugging Face key (without `lm_head.weight` when tied), in a stable order.
    public let namedParameters: [(name: String, variable: Variable)]

    /// A model with the given weights.
    ///
    /// - Parameters:
    ///   - weights: a tensor per Hugging Face key; extra keys are ignored, `lm_head.weight` is not
    ///     needed when the config ties embeddings.
    ///   - trainable: whether the weights require gradients (full fine-tuning).
    /// - Throws: ``ModelError/badWeight(_:_:)`` naming the first missing or misshaped key;
    ///   ``ModelError/invalidConfiguration(_:)`` for a head width RoPE cannot use.
    public init(config: LlamaConfig, weights: (String) throws -> Tensor?, trainable: Bool = false) throws {
        self.config = config
        do {
            rotary = try RotaryEmbedding(headDimension: config.headDim, theta: Float(config.ropeTheta))
        } catch {
            throw ModelError.invalidConfiguration("head_dim \(config.headDim) must be even for RoPE")
        }
        let shapes = config.expectedWeightShapes
        var named: [(String, Variable)] = []
        func load(_ name: String) throws -> Variable {
            guard let tensor = try weights(name) else { throw ModelError.badWeight(name, "missing") }
            guard let expected = shapes[name], tensor.shape == expected else {
                throw ModelError.badWeight(name, "shape \(tensor.shape), expected \(shapes[name] ?? [])")
            }
            let variable = Variable(tensor, requiresGradient: trainable, name: name)
            named.append((name, variable))
            return variable
        }
        embedTokens = try load(LlamaWeightNames.embedTokens)
        layers = try (0..<config.numHiddenLayers).map { index in
            let names = LlamaWeightNames.layer(index)
            return Layer(
                queryProjection: try load(names.queryProjection), keyProjection: try load(names.keyProjection),
                valueProjection: try load(names.valueProjection), outputProjection: try load(names.outputProjection),
                gateProjection: try load(names.gateProjection), upProjection: try load(names.upProjection),
                downProjection: try load(names.downProjection), inputNorm: try load(names.inputNorm),
                postAttentionNorm: try load(names.postAttentionNorm))
        }
        finalNorm = try load(LlamaWeightNames.finalNorm)
        lmHead = config.tieWordEmbeddings ? embedTokens : try load(LlamaWeightNames.lmHead)
        namedParameters = named
    }

    /// A model read from a safetensors file or sharded checkpoint.
    /// - Throws: what the source throws while reading, and ``ModelError/badWeight(_:_:)``.
    public convenience init(config: LlamaConfig, source: any TensorSource, trainable: Bool = false) throws {
        try self.init(config: config, weights: { source.contains($0) ? try source.tensor(named: $0) : nil },
                      trainable: trainable)
    }

    /// A randomly initialised model, as transformers initialises `LlamaForCausalLM`: linear and
    /// embedding weights from `N(0, initializerRange²)`, norms at one.
    /// - Throws: ``ModelError`` if the config is unusable.
    public convenience init(
        randomWithConfig config: LlamaConfig, seed: UInt64, initializerRange: Float = 0.02, trainable: Bool = false
    ) throws {
        var generator = SeededGenerator(seed: seed)
        var tensors: [String: Tensor] = [:]
        for (name, shape) in config.expectedWeightShapes.sorted(by: { $0.key < $1.key }) {
            tensors[name] = shape.count == 1
                ? try Tensor.ones(shape)
                : try Tensor.normal(shape, std: initializerRange, generator: &generator)
        }
        try self.init(config: config, weights: { tensors[$0] }, trainable: trainable)
    }

    /// The current weights by Hugging Face key, for saving.
    public var weights: [String: Tensor] {
        Dictionary(uniqueKeysWithValues: namedParameters.map { ($0.name, $0.variable.value) })
    }

    /// Moves the weights onto 2 MiB pages where the kernel allows (``Tensor/adviseHugePages(_:)``),
    /// for a process that keeps the model and decodes with it for long: decoding reads every weight
    /// per token, and huge pages spare it a page walk per 4 KiB. The values are unchanged. It costs a
    /// copy of the weights now (for SmolLM2's 540 MB, 0.3–1.9 s on a 2-core virtual machine, where
    /// fresh memory is slow to touch), which a short command would not win back.
    /// - Returns: the bytes now on huge pages (0 off Linux or where transparent huge pages are off).
    @discardableResult
    public func adviseHugePages() -> Int {
        Tensor.adviseHugePages(namedParameters.map(\.variable.value))
    }

    /// The number of scalar parameters.
    public var parameterCount: Int { namedParameters.reduce(0) { $0 + $1.variable.value.count } }

    /// The projection weights and the LM head: every weight used through a linear layer.
    public var linearWeights: [Variable] {
        layers.flatMap { layer in Projection.allCases.map { layer.weight(of: $0) } } + [lmHead]
    }

    /// Packs the frozen linear weights for faster products (``Variable/packForLinear(inputGradient:)``),
    /// as training with a frozen backbone wants: each step multiplies by every weight twice
    /// (forward and input gradient), and BLAS would re-pack it each time. Trainable weights and
    /// CPUs without AVX2 + FMA are left as they are.
    ///
    /// Memory: one more copy of each packed weight (two with `inputGradient`).
    /// - Parameter inputGradient: pack for the backward pass too (training).
    public func packFrozenWeights(inputGradient: Bool) throws {
        for weight in linearWeights { try weight.packForLinear(inputGradient: inputGradient) }
    }

    /// Drops the copies made by ``packFrozenWeights(inputGradient:)``.
    public func unpackWeights() {
        for weight in linearWeights { weight.unpack() }
    }
}

extension LlamaModel {
    /// Loads the model of a Hugging Face folder (see ``ModelFolder``).
    /// - Throws: ``ModelFileError`` for unreadable or inconsistent files, ``ModelError/badWeight(_:_:)``.
    public convenience init(folder: ModelFolder, trainable: Bool = false) throws {
        try self.init(config: folder.config, source: folder.weights, trainable: trainable)
    }

    /// Loads the model of a GGUF file, dequantising one weight at a time into the model's
    /// parameters (see ``GGUFCheckpoint``).
    /// - Throws: ``GGUFError`` while reading a weight, ``ModelError/badWeight(_:_:)``.
    public convenience init(gguf checkpoint: GGUFCheckpoint, trainable: Bool = false) throws {
        try self.init(config: checkpoint.config, weights: { try checkpoint.tensor(named: $0) }, trainable: trainable)
    }

    /// Loads the model of a Hugging Face folder or a GGUF file.
    /// - Throws: what ``init(folder:trainable:)`` or ``init(gguf:trainable:)`` throws.
    public convenience init(source: ModelSource, trainable: Bool = false) throws {
        switch source.format {
        case .folder(let folder): try self.init(folder: folder, trainable: trainable)
        case .gguf(let checkpoint): try self.init(gguf: checkpoint, trainable: trainable)
        }
    }

    /// Loads the model at `url`: a Hugging Face folder, or a GGUF file (a regular file that starts
    /// with `GGUF` or is named `*.gguf`; see ``ModelSource``).
    /// - Throws: what ``ModelSource/init(contentsOf:)`` and ``init(source:trainable:)`` throw.
    public convenience init(contentsOf url: URL, trainable: Bool = false) throws {
        try self.init(source: ModelSource(contentsOf: url), trainable: trainable)
    }

    /// Writes the model as a Hugging Face folder that transformers loads (`config.json` and
    /// `model.safetensors` in `dtype`, plus `tokenizer` copied as `tokenizer.json` if given, and
    /// `extraFiles` by name),
    /// atomically (see ``ModelFolder/write(config:weights:to:dtype:tokenizer:)``).
    /// - Throws: ``ModelFileError`` if a file cannot be written.
    public func save(to url: URL, dtype: SafetensorsDType = .f32, tokenizer: URL? = nil, extraFiles: [String: Data] = [:]) throws {
        try ModelFolder.write(config: config, weights: weights, to: url, dtype: dtype, tokenizer: tokenizer, extraFiles: extraFiles)
    }
}
