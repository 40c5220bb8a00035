import ArgumentParser
import Foundation
import Transformer

/// `--model DIR`: a Hugging Face model folder.
struct ModelOptions: ParsableArguments {
    @Option(name: .long, help: "A Hugging Face model folder (config.json, model.safetensors or shards, tokenizer.json).")
    var model: String

    var folderURL: URL { URL(fileURLWithPath: model) }

    func loadModel() throws -> LlamaModel { try LlamaModel(contentsOf: folderURL) }

    /// The folder's `tokenizer.json`.
    func loadTokenizer() throws -> BPETokenizer {
        let url = folderURL.appendingPathComponent(ModelFolder.FileName.tokenizer)
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw ValidationError("\(model) has no tokenizer.json; pass token ids with --tokens instead")
        }
        return try BPETokenizer(contentsOf: url)
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
