import Foundation
import Tensor

/// A model on disk in either form `--model` takes: a Hugging Face folder (``ModelFolder``) or a
/// GGUF file (``GGUFCheckpoint``); the config and the weights by Hugging Face key either way.
public struct ModelSource: Sendable {
    /// The two forms.
    public enum Format: Sendable {
        /// A Hugging Face folder.
        case folder(ModelFolder)
        /// A GGUF file.
        case gguf(GGUFCheckpoint)
    }

    /// The folder or file.
    public let format: Format

    /// The model's config, validated.
    public var config: LlamaConfig {
        switch format {
        case .folder(let folder): return folder.config
        case .gguf(let checkpoint): return checkpoint.config
        }
    }

    /// The folder or the GGUF file.
    public var url: URL {
        switch format {
        case .folder(let folder): return folder.url
        case .gguf(let checkpoint): return checkpoint.url
        }
    }

    /// The GGUF file (its metadata holds the tokenizer), or `nil` for a folder.
    public var gguf: GGUFFile? {
        if case .gguf(let checkpoint) = format { return checkpoint.file }
        return nil
    }

    /// The folder's `tokenizer.json`, or `nil` if it has none or the model is a GGUF file.
    public var tokenizerURL: URL? {
        if case .folder(let folder) = format { return folder.tokenizerURL }
        return nil
    }

    /// Opens `url` as a GGUF file if it is a regular file that starts with `GGUF` or its name
    /// ends in `.gguf`, and as a Hugging Face folder otherwise.
    /// - Throws: what ``GGUFCheckpoint/init(contentsOf:)`` or ``ModelFolder/init(_:)`` throws.
    public init(contentsOf url: URL) throws {
        if Self.isGGUF(url) {
            format = .gguf(try GGUFCheckpoint(contentsOf: url))
        } else {
            format = .folder(try ModelFolder(url))
        }
    }

    /// Whether `url` is read as a GGUF file: a regular file starting with the magic `GGUF`, or
    /// any path whose extension is `gguf` (so that a damaged file reports a GGUF error).
    public static func isGGUF(_ url: URL) -> Bool {
        url.pathExtension.lowercased() == "gguf" || GGUFFile.hasMagic(at: url)
    }

    /// The weight with Hugging Face key `name`, converted to `Float` (names are in
    /// ``LlamaWeightNames``).
    /// - Throws: ``ModelFileError/missingTensor(path:key:)`` or ``GGUFError/missingTensor(path:tensor:)``
    ///   if there is no such weight; what reading it throws.
    public func tensor(named name: String) throws -> Tensor {
        switch format {
        case .folder(let folder): return try folder.tensor(named: name)
        case .gguf(let checkpoint): return try checkpoint.tensor(named: name)
        }
    }
}
