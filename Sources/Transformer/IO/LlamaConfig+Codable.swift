import Foundation

extension LlamaConfig: Codable {
    private enum Key: String, CodingKey {
        case vocabSize = "vocab_size", hiddenSize = "hidden_size", intermediateSize = "intermediate_size"
        case numHiddenLayers = "num_hidden_layers", numAttentionHeads = "num_attention_heads"
        case numKeyValueHeads = "num_key_value_heads", headDim = "head_dim", rmsNormEps = "rms_norm_eps"
        case ropeTheta = "rope_theta", ropeParameters = "rope_parameters", ropeScaling = "rope_scaling"
        case maxPositionEmbeddings = "max_position_embeddings", tieWordEmbeddings = "tie_word_embeddings"
        case bosTokenId = "bos_token_id", eosTokenId = "eos_token_id", padTokenId = "pad_token_id"
        case hiddenAct = "hidden_act", attentionBias = "attention_bias", mlpBias = "mlp_bias"
        case modelType = "model_type", dtype, torchDtype = "torch_dtype", architectures
    }

    private enum RopeKey: String, CodingKey {
        case ropeTheta = "rope_theta", ropeType = "rope_type", type
    }

    /// Decodes a `config.json` object; the decoder's `userInfo` may name the file for errors.
    /// - Throws: ``ModelFileError/invalidConfig(path:key:reason:)``; see ``init(jsonData:source:)``.
    public init(from decoder: any Decoder) throws {
        let source = decoder.userInfo[Self.sourceKey] as? String ?? "config.json"
        func fail(_ key: String, _ reason: String) -> ModelFileError {
            .invalidConfig(path: source, key: key, reason: reason)
        }
        guard let container = try? decoder.container(keyedBy: Key.self) else {
            throw fail("(root)", "not a JSON object")
        }
        func optional<T: Decodable>(_ key: Key, _ type: T.Type, _ what: String) throws -> T? {
            do {
                return try container.decodeIfPresent(T.self, forKey: key)
            } catch {
                throw fail(key.rawValue, "expected \(what)")
            }
        }
        func required(_ key: Key) throws -> Int {
            guard let value = try optional(key, Int.self, "an integer") else { throw fail(key.rawValue, "missing") }
            return value
        }

        if let modelType = try optional(.modelType, String.self, "a string"), modelType != Self.modelType {
            throw fail(Key.modelType.rawValue, "'\(modelType)' is not supported, only '\(Self.modelType)'")
        }
        if let activation = try optional(.hiddenAct, String.self, "a string"), activation != "silu" {
            throw fail(Key.hiddenAct.rawValue, "'\(activation)' is not supported, only 'silu'")
        }
        for key in [Key.attentionBias, .mlpBias] where try optional(key, Bool.self, "a boolean") == true {
            throw fail(key.rawValue, "biases in linear layers are not supported")
        }

        let eosTokenIds: [Int]
        if let single = try? container.decodeIfPresent(Int.self, forKey: .eosTokenId) {
            eosTokenIds = [single]
        } else {
            eosTokenIds = try optional(.eosTokenId, [Int].self, "an integer or a list of integers") ?? []
        }
        let headDim = try optional(.headDim, Int.self, "an integer")

        self.vocabSize = try required(.vocabSize)
        self.hiddenSize = try required(.hiddenSize)
        self.intermediateSize = try required(.intermediateSize)
        self.numHiddenLayers = try required(.numHiddenLayers)
        self.numAttentionHeads = try required(.numAttentionHeads)
        self.numKeyValueHeads = try optional(.numKeyValueHeads, Int.self, "an integer") ?? numAttentionHeads
        self.headDim = headDim ?? (numAttentionHeads > 0 ? hiddenSize / numAttentionHeads : 0)
        self.rmsNormEps = try optional(.rmsNormEps, Double.self, "a number") ?? 1e-6
        self.ropeTheta = try Self.decodeRopeTheta(container, fail: fail)
        self.maxPositionEmbeddings = try optional(.maxPositionEmbeddings, Int.self, "an integer") ?? 2048
        self.tieWordEmbeddings = try optional(.tieWordEmbeddings, Bool.self, "a boolean") ?? false
        self.bosTokenId = try optional(.bosTokenId, Int.self, "an integer")
        self.eosTokenIds = eosTokenIds
        self.padTokenId = try optional(.padTokenId, Int.self, "an integer")
        self.dtype = try optional(.dtype, String.self, "a string") ?? optional(.torchDtype, String.self, "a string")
        try validate(source: source, headDimGiven: headDim != nil)
    }

    /// RoPE's base from `rope_theta` at the top level and/or `rope_parameters.rope_theta`
    /// (10000 if neither); refuses rope types other than `default` in `rope_parameters` or the
    /// 4.x `rope_scaling`.
    private static func decodeRopeTheta(
        _ container: KeyedDecodingContainer<Key>, fail: (String, String) -> ModelFileError
    ) throws -> Double {
        func ropeObject(_ key: Key) throws -> KeyedDecodingContainer<RopeKey>? {
            guard container.contains(key), (try? container.decodeNil(forKey: key)) == false else { return nil }
            guard let nested = try? container.nestedContainer(keyedBy: RopeKey.self, forKey: key) else {
                throw fail(key.rawValue, "expected an object or null")
            }
            let ropeType = try? nested.decodeIfPresent(String.self, forKey: .ropeType)
            let legacyType = try? nested.decodeIfPresent(String.self, forKey: .type)
            if let kind = ropeType ?? legacyType, kind != "default" {
                throw fail("\(key.rawValue).rope_type", "'\(kind)' is not supported, only 'default'")
            }
            return nested
        }
        _ = try ropeObject(.ropeScaling)
        var topLevel: Double?
        if container.contains(.ropeTheta), (try? container.decodeNil(forKey: .ropeTheta)) == false {
            guard let value = try? container.decode(Double.self, forKey: .ropeTheta) else {
                throw fail(Key.ropeTheta.rawValue, "expected a number")
            }
            topLevel = value
        }
        var nested: Double?
        if let parameters = try ropeObject(.ropeParameters) {
            do {
                nested = try parameters.decodeIfPresent(Double.self, forKey: .ropeTheta)
            } catch {
                throw fail("rope_parameters.rope_theta", "expected a number")
            }
        }
        if let topLevel, let nested, topLevel != nested {
            throw fail("rope_parameters.rope_theta", "\(nested) differs from the top-level rope_theta \(topLevel)")
        }
        return nested ?? topLevel ?? 10000
    }

    /// Writes the keys transformers needs: `architectures` (`LlamaForCausalLM`), `model_type`, the
    /// sizes, `head_dim`, `hidden_act` (`silu`), `rms_norm_eps`, RoPE's base both as top-level
    /// `rope_theta` (read by 4.x) and in `rope_parameters` (read by 5.x), `max_position_embeddings`,
    /// `tie_word_embeddings`, the token ids that are set (`eos_token_id` as a number when there is
    /// one, a list when several), `attention_bias` and `mlp_bias` (false), and `dtype` with its 4.x
    /// spelling `torch_dtype` when set.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Key.self)
        try container.encode(["LlamaForCausalLM"], forKey: .architectures)
        try container.encode(Self.modelType, forKey: .modelType)
        try container.encode(vocabSize, forKey: .vocabSize)
        try container.encode(hiddenSize, forKey: .hiddenSize)
        try container.encode(intermediateSize, forKey: .intermediateSize)
        try container.encode(numHiddenLayers, forKey: .numHiddenLayers)
        try container.encode(numAttentionHeads, forKey: .numAttentionHeads)
        try container.encode(numKeyValueHeads, forKey: .numKeyValueHeads)
        try container.encode(headDim, forKey: .headDim)
        try container.encode("silu", forKey: .hiddenAct)
        try container.encode(rmsNormEps, forKey: .rmsNormEps)
        try container.encode(ropeTheta, forKey: .ropeTheta)
        var rope = container.nestedContainer(keyedBy: RopeKey.self, forKey: .ropeParameters)
        try rope.encode(ropeTheta, forKey: .ropeTheta)
        try rope.encode("default", forKey: .ropeType)
        try container.encode(maxPositionEmbeddings, forKey: .maxPositionEmbeddings)
        try container.encode(tieWordEmbeddings, forKey: .tieWordEmbeddings)
        try container.encodeIfPresent(bosTokenId, forKey: .bosTokenId)
        if eosTokenIds.count == 1 {
            try container.encode(eosTokenIds[0], forKey: .eosTokenId)
        } else if !eosTokenIds.isEmpty {
            try container.encode(eosTokenIds, forKey: .eosTokenId)
        }
        try container.encodeIfPresent(padTokenId, forKey: .padTokenId)
        try container.encode(false, forKey: .attentionBias)
        try container.encode(false, forKey: .mlpBias)
        try container.encodeIfPresent(dtype, forKey: .dtype)
        try container.encodeIfPresent(dtype, forKey: .torchDtype)
    }
}
