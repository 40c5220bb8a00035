import ArgumentParser
import Foundation
import Transformer

/// `--model DIR`: a Hugging Face model folder.
struct ModelOptions: ParsableArguments {
    @Option(name: .long, help: "A Hugging Face model folder (config.json, model.safetensors or shards, tokenizer.json).")
    var model: String

    var folderURL: URL { URL(fileURLWithPath: model) }

    func loadModel() throws -> LlamaModel { try LlamaModel(contentsOf: folderURL) }

    /// The folder's `tokenizer.json`, or `nil` when the folder has none.
    var tokenizerURL: URL? {
        let url = folderURL.appendingPathComponent(ModelFolder.FileName.tokenizer)
        return FileManager.default.fileExists(atPath: url.path) ? url : nil
    }

    /// The folder's tokenizer.
    /// - Throws: `ValidationError` when the folder has no `tokenizer.json`; what reading it throws.
    func loadTokenizer() throws -> BPETokenizer {
        guard let tokenizer = try loadTokenizerIfPresent() else {
            throw ValidationError("\(model) has no tokenizer.json; pass token ids with --tokens instead")
        }
        return tokenizer
    }

    /// The folder's tokenizer, or `nil` when the folder has no `tokenizer.json`.
    func loadTokenizerIfPresent() throws -> BPETokenizer? {
        try tokenizerURL.map { try BPETokenizer(contentsOf: $0) }
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
