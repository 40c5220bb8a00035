import ArgumentParser
import Foundation
import Transformer

/// `--model PATH`: a Hugging Face model folder or a GGUF file.
struct ModelOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(
        "A Hugging Face model folder (config.json, model.safetensors or shards, tokenizer.json) or a .gguf file.",
        valueName: "path"))
    var model: String

    var modelURL: URL { URL(fileURLWithPath: model) }

    /// Whether `--model` names a GGUF file (see ``ModelSource/isGGUF(_:)``).
    var isGGUF: Bool { ModelSource.isGGUF(modelURL) }

    func loadModel() throws -> LlamaModel { try LlamaModel(contentsOf: modelURL) }

    /// The folder's `tokenizer.json`, or `nil` when the folder has none or the model is a GGUF file.
    var tokenizerURL: URL? {
        guard !isGGUF else { return nil }
        let url = modelURL.appendingPathComponent(ModelFolder.FileName.tokenizer)
        return FileManager.default.fileExists(atPath: url.path) ? url : nil
    }

    /// The model's tokenizer.
    /// - Throws: `ValidationError` when a folder has no `tokenizer.json`; what reading it throws.
    func loadTokenizer() throws -> BPETokenizer {
        guard let tokenizer = try loadTokenizerIfPresent() else {
            throw ValidationError("\(model) has no tokenizer.json; pass token ids with --tokens instead")
        }
        return tokenizer
    }

    /// The model's tokenizer: a GGUF file's (from its metadata), or a folder's `tokenizer.json`
    /// with `tokenizer_config.json` and `chat_template.jinja` beside it; `nil` when a folder has no
    /// `tokenizer.json`.
    func loadTokenizerIfPresent() throws -> BPETokenizer? {
        guard isGGUF || tokenizerURL != nil else { return nil }
        return try BPETokenizer(modelAt: modelURL)
    }

    /// The model's tokenizer as Hugging Face files, by name, for a folder written from the model:
    /// a folder's `tokenizer.json`, `tokenizer_config.json` and `chat_template.jinja` (those it
    /// has), or the files a GGUF file's metadata makes (``BPETokenizer/huggingFaceFiles(ggufMetadata:source:)``).
    /// - Throws: what reading them throws.
    func tokenizerFiles() throws -> [String: Data] {
        if isGGUF {
            return try BPETokenizer.huggingFaceFiles(ggufMetadata: GGUFFile(contentsOf: modelURL).metadata, source: model)
        }
        var files: [String: Data] = [:]
        for name in [ModelFolder.FileName.tokenizer, "tokenizer_config.json", "chat_template.jinja"] {
            let url = modelURL.appendingPathComponent(name)
            guard FileManager.default.fileExists(atPath: url.path) else { continue }
            do {
                files[name] = try Data(contentsOf: url)
            } catch {
                throw ValidationError("cannot read \(url.path): \(error.localizedDescription)")
            }
        }
        return files
    }

    /// The tokens that end generation: the model's EOS ids and the tokenizer's.
    static func stopTokens(of model: LlamaModel, tokenizer: (any Tokenizer)?) -> Set<Int> {
        Set(model.config.eosTokenIds + (tokenizer?.eosTokenID.map { [$0] } ?? []))
    }
}

/// Parses a comma-separated list of token ids.
func parseTokenList(_ text: String, option: String) throws -> [Int] {
    let parts = text.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
    let ids = parts.compactMap { Int($0) }
    guard !text.isEmpty, ids.count == parts.count else {
        throw ValidationError("\(option) must be comma-separated integers, got '\(text)'")
    }
    return ids
}
