import Foundation
import Transformer

/// A base model as the report describes it: where it came from, its shape and size, and the sizes
/// that depend on it.
public struct BaseDescription: Codable, Equatable, Sendable {
    /// The base's name and folder.
    public var spec: BaseSpec
    /// Decoder layers.
    public var layers: Int
    /// Model width.
    public var hiddenSize: Int
    /// The MLP's inner width.
    public var intermediateSize: Int
    /// Query heads.
    public var attentionHeads: Int
    /// Key/value heads.
    public var keyValueHeads: Int
    /// The vocabulary's size.
    public var vocabularySize: Int
    /// The backbone's parameters (frozen).
    public var parameterCount: Int
    /// The trainable parameters of ``ComparisonMethod/iapt`` on this base.
    public var iaptParameters: Int
    /// The LoRA rank whose count is closest to ``iaptParameters``, and that count.
    public var loraRank: Int, loraParameters: Int
    /// The most tokens generated per answer: the longest answer of the suite in this tokenizer, plus EOS.
    public var maxNewTokens: Int
    /// The longest example in tokens (BOS, prompt, answer, EOS), the encoder's maximum length.
    public var maxLength: Int

    /// A description with the given values; see each property for its meaning.
    public init(
        spec: BaseSpec, layers: Int, hiddenSize: Int, intermediateSize: Int, attentionHeads: Int, keyValueHeads: Int,
        vocabularySize: Int, parameterCount: Int, iaptParameters: Int, loraRank: Int, loraParameters: Int,
        maxNewTokens: Int, maxLength: Int
    ) {
        self.spec = spec
        self.layers = layers
        self.hiddenSize = hiddenSize
        self.intermediateSize = intermediateSize
        self.attentionHeads = attentionHeads
        self.keyValueHeads = keyValueHeads
        self.vocabularySize = vocabularySize
        self.parameterCount = parameterCount
        self.iaptParameters = iaptParameters
        self.loraRank = loraRank
        self.loraParameters = loraParameters
        self.maxNewTokens = maxNewTokens
        self.maxLength = maxLength
    }
}

/// What a work directory holds besides the runs: the settings of the latest session, the bases, the
/// command and how long each session took. Written as `comparison.json`.
public struct ComparisonManifest: Codable, Equatable, Sendable {
    /// The settings of the latest session (the training recipe is the same for every session).
    public var settings: ComparisonSettings
    /// Every base's description, in the order of ``ComparisonSettings/bases``.
    public var bases: [BaseDescription]
    /// The command of the latest session that ran, as typed (`peft compare …`).
    public var command: String
    /// Wall-clock seconds of each session, end to end (the current one updated after every run; a
    /// session stopped before its first run finished keeps 0, and the report does not count it).
    public var sessionSeconds: [Double]

    /// A manifest with the given values; see each property for its meaning.
    public init(settings: ComparisonSettings, bases: [BaseDescription], command: String, sessionSeconds: [Double]) {
        self.settings = settings
        self.bases = bases
        self.command = command
        self.sessionSeconds = sessionSeconds
    }
}

/// The work directory: one JSON file per finished run under `runs/` (``RunKey/relativePath``) and the
/// ``ComparisonManifest`` in `comparison.json`. Files are written atomically, so an interrupted
/// comparison leaves only whole results, and a run with a file is finished.
public struct ResultStore: Sendable {
    /// The work directory.
    public let directory: URL

    /// The store in `directory` (created when the first file is written).
    public init(directory: URL) {
        self.directory = directory
    }

    private var runsDirectory: URL { directory.appendingPathComponent("runs", isDirectory: true) }
    private var manifestURL: URL { directory.appendingPathComponent("comparison.json") }

    /// The stored result of `key`, or `nil` if the run has not finished.
    /// - Throws: ``ComparisonError/fileError(path:reason:)`` if the file is not a result of `key`.
    public func result(for key: RunKey) throws -> RunResult? {
        let url = runsDirectory.appendingPathComponent(key.relativePath)
        guard FileManager.default.fileExists(atPath: url.path) else { return nil }
        let result = try Self.decode(RunResult.self, from: url)
        guard result.key == key else {
            throw ComparisonError.fileError(path: url.path, reason: "holds the result of another run (\(result.key))")
        }
        return result
    }

    /// Writes `result` to its file, atomically.
    /// - Throws: ``ComparisonError/fileError(path:reason:)`` if the file cannot be written.
    public func save(_ result: RunResult) throws {
        try Self.write(result, to: runsDirectory.appendingPathComponent(result.key.relativePath))
    }

    /// Every stored result, in a stable order (by file path).
    /// - Throws: ``ComparisonError/fileError(path:reason:)`` for a file that is not a result.
    public func allResults() throws -> [RunResult] {
        guard let enumerator = FileManager.default.enumerator(at: runsDirectory, includingPropertiesForKeys: nil) else { return [] }
        let files = enumerator.compactMap { $0 as? URL }.filter { $0.pathExtension == "json" }.sorted { $0.path < $1.path }
        return try files.map { try Self.decode(RunResult.self, from: $0) }
    }

    /// The manifest, or `nil` when the directory holds none yet.
    /// - Throws: ``ComparisonError/fileError(path:reason:)`` if it cannot be read.
    public func manifest() throws -> ComparisonManifest? {
        guard FileManager.default.fileExists(atPath: manifestURL.path) else { return nil }
        return try Self.decode(ComparisonManifest.self, from: manifestURL)
    }

    /// Writes the manifest, atomically.
    /// - Throws: ``ComparisonError/fileError(path:reason:)`` if it cannot be written.
    public func save(_ manifest: ComparisonManifest) throws {
        try Self.write(manifest, to: manifestURL)
    }

    private static func decode<Value: Decodable>(_ type: Value.Type, from url: URL) throws -> Value {
        do {
            let decoder = JSONDecoder()
            decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
            return try decoder.decode(type, from: Data(contentsOf: url))
        } catch {
            throw ComparisonError.fileError(path: url.path, reason: "cannot be read (\(error)); delete it to redo the run")
        }
    }

    private static func write<Value: Encodable>(_ value: Value, to url: URL) throws {
        do {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try AtomicFile.write(encoder.encode(value), to: url)
        } catch {
            throw ComparisonError.fileError(path: url.path, reason: "cannot be written (\(error))")
        }
    }
}
