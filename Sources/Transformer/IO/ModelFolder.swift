import Foundation
import Tensor

/// A Hugging Face model folder: `config.json`, the weights as `model.safetensors` or as a sharded
/// checkpoint (`model.safetensors.index.json` and its shards), and optionally `tokenizer.json`.
///
/// Opening reads the config and the safetensors headers and checks that every weight the config
/// implies (``LlamaConfig/expectedWeightShapes``) is stored with that shape and a dtype that
/// converts to `Float`; tensor data is read only when asked for. Other files and extra tensors in
/// the folder are ignored.
public struct ModelFolder: Sendable {
    /// The file names this type reads and writes.
    public enum FileName {
        /// `config.json`.
        public static let config = "config.json"
        /// `model.safetensors`, the single-file checkpoint (preferred when both forms are present).
        public static let weights = "model.safetensors"
        /// `model.safetensors.index.json`, the index of a sharded checkpoint.
        public static let shardIndex = "model.safetensors.index.json"
        /// `tokenizer.json`.
        public static let tokenizer = "tokenizer.json"
    }

    /// The folder.
    public let url: URL
    /// The model's config, validated.
    public let config: LlamaConfig
    /// The stored tensors: a ``SafetensorsFile`` or a ``ShardedSafetensors``.
    public let weights: any TensorSource
    /// `tokenizer.json`, if the folder has one.
    public let tokenizerURL: URL?

    /// Opens the model folder at `url` and checks its weights against its config.
    /// - Throws: ``ModelFileError/missingFile(path:reason:)`` without `config.json` or weights;
    ///   what ``LlamaConfig/init(contentsOf:)``, ``SafetensorsFile/init(contentsOf:)`` and
    ///   ``ShardedSafetensors/init(indexURL:)`` throw; ``ModelFileError/missingTensor(path:key:)``,
    ///   ``ModelFileError/shapeMismatch(path:key:expected:actual:)`` or
    ///   ``ModelFileError/unsupportedDType(path:key:dtype:)`` for the first weight (in name order)
    ///   that is absent, misshaped or not convertible.
    public init(_ url: URL) throws {
        let files = FileManager.default
        let configURL = url.appendingPathComponent(FileName.config)
        guard files.fileExists(atPath: configURL.path) else {
            throw ModelFileError.missingFile(path: configURL.path, reason: "a model folder needs a config.json")
        }
        let config = try LlamaConfig(contentsOf: configURL)
        let singleURL = url.appendingPathComponent(FileName.weights)
        let indexURL = url.appendingPathComponent(FileName.shardIndex)
        let weights: any TensorSource
        if files.fileExists(atPath: singleURL.path) {
            weights = try SafetensorsFile(contentsOf: singleURL)
        } else if files.fileExists(atPath: indexURL.path) {
            weights = try ShardedSafetensors(indexURL: indexURL)
        } else {
            throw ModelFileError.missingFile(
                path: singleURL.path, reason: "a model folder needs \(FileName.weights) or \(FileName.shardIndex)")
        }
        for (name, expected) in config.expectedWeightShapes.sorted(by: { $0.key < $1.key }) {
            guard let info = weights.info(name) else {
                throw ModelFileError.missingTensor(path: weights.url.path, key: name)
            }
            guard info.shape == expected else {
                throw ModelFileError.shapeMismatch(path: weights.url.path, key: name, expected: expected, actual: info.shape)
            }
            guard info.dtype.convertsToFloat else {
                throw ModelFileError.unsupportedDType(path: weights.url.path, key: name, dtype: info.dtype.rawValue)
            }
        }
        let tokenizerURL = url.appendingPathComponent(FileName.tokenizer)
        self.url = url
        self.config = config
        self.weights = weights
        self.tokenizerURL = files.fileExists(atPath: tokenizerURL.path) ? tokenizerURL : nil
    }

    /// The weight with Hugging Face key `name` (for example `model.layers.0.self_attn.q_proj.weight`),
    /// converted to `Float`; names are in ``LlamaWeightNames``.
    /// - Throws: ``ModelFileError/missingTensor(path:key:)`` if it is not stored.
    public func tensor(named name: String) throws -> Tensor { try weights.tensor(named: name) }

    /// Every weight the config implies, by Hugging Face key, converted to `Float`
    /// (no `lm_head.weight` when embeddings are tied).
    /// - Throws: what ``tensor(named:)`` throws.
    public func loadWeights() throws -> [String: Tensor] {
        var tensors: [String: Tensor] = [:]
        for name in config.expectedWeightShapes.keys { tensors[name] = try weights.tensor(named: name) }
        return tensors
    }

    /// Writes a model folder that transformers and ``init(_:)`` load: `config.json` (with its
    /// `dtype` set to the one the weights are stored in), `model.safetensors` in `dtype`, and a copy
    /// of `tokenizer` as `tokenizer.json` if given.
    ///
    /// A new folder is built beside `url` under a temporary name and renamed into place, so it
    /// appears whole or not at all. Into an existing folder, each file is replaced atomically,
    /// weights before config; other files there are left alone (a single-file checkpoint is read
    /// in preference to a sharded one).
    /// - Parameters:
    ///   - weights: exactly the tensors of ``LlamaConfig/expectedWeightShapes``.
    ///   - dtype: `.f32`, `.bf16` or `.f16`.
    ///   - extraFiles: more files to write into the folder, by name (a tokenizer's
    ///     `tokenizer_config.json`, `chat_template.jinja`, or a `tokenizer.json` made in memory).
    /// - Throws: ``ModelFileError/missingTensor(path:key:)``,
    ///   ``ModelFileError/unexpectedTensor(path:key:)`` or
    ///   ``ModelFileError/shapeMismatch(path:key:expected:actual:)`` before anything is written if
    ///   `weights` do not fit `config`; ``ModelFileError/unwritable(path:reason:)``,
    ///   ``ModelFileError/unreadable(path:reason:)`` for the tokenizer, or
    ///   ``ModelFileError/unsupportedDType(path:key:dtype:)`` while writing.
    public static func write(
        config: LlamaConfig, weights: [String: Tensor], to url: URL, dtype: SafetensorsDType = .f32,
        tokenizer: URL? = nil, extraFiles: [String: Data] = [:]
    ) throws {
        if let bad = extraFiles.keys.sorted().first(where: { $0.isEmpty || $0.contains("/") || $0.hasPrefix(".") || $0 == FileName.config || $0 == FileName.weights }) {
            throw ModelFileError.unwritable(path: url.appendingPathComponent(bad).path, reason: "not a file name the folder can take beside the model")
        }
        let expected = config.expectedWeightShapes
        for (name, shape) in expected.sorted(by: { $0.key < $1.key }) {
            guard let tensor = weights[name] else { throw ModelFileError.missingTensor(path: url.path, key: name) }
            guard tensor.shape == shape else {
                throw ModelFileError.shapeMismatch(path: url.path, key: name, expected: shape, actual: tensor.shape)
            }
        }
        if let extra = weights.keys.sorted().first(where: { expected[$0] == nil }) {
            throw ModelFileError.unexpectedTensor(path: url.path, key: extra)
        }
        let tokenizerData = try tokenizer.map { source in
            do {
                return try Data(contentsOf: source)
            } catch {
                throw ModelFileError.unreadable(path: source.path, reason: error.localizedDescription)
            }
        }
        func writeFiles(into folder: URL) throws {
            try SafetensorsWriter.write(
                weights, to: folder.appendingPathComponent(FileName.weights), dtype: dtype, metadata: ["format": "pt"])
            if let tokenizerData {
                try AtomicFile.write(tokenizerData, to: folder.appendingPathComponent(FileName.tokenizer))
            }
            for (name, data) in extraFiles.sorted(by: { $0.key < $1.key }) {
                try AtomicFile.write(data, to: folder.appendingPathComponent(name))
            }
            try config.declaring(storage: dtype).write(to: folder.appendingPathComponent(FileName.config))
        }

        try AtomicFolder.write(to: url, writeFiles)
    }
}
