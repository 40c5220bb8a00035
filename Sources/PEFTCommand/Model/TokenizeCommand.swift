import ArgumentParser
import Foundation
import Transformer

/// `peft tokenize`: ids and decoded text of a string, as JSON.
struct TokenizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokenize",
        abstract: "Print {\"ids\": [Int], \"decoded\": String} for a text.")

    @Option(help: "A tokenizer.json file (with tokenizer_config.json beside it, if any), or a .gguf file.")
    var tokenizer: String

    @Option(help: "The text to encode.")
    var text: String

    @Flag(inversion: .prefixedNo, help: "Add the tokenizer's special tokens (BOS) around the text.")
    var specialTokens = true

    func run() throws {
        let url = URL(fileURLWithPath: tokenizer)
        let isGGUF = url.pathExtension.lowercased() == "gguf" || GGUFFile.hasMagic(at: url)
        let loaded = isGGUF ? try BPETokenizer(ggufContentsOf: url) : try BPETokenizer(contentsOf: url)
        let ids = loaded.encode(text, addSpecialTokens: specialTokens)
        let decoded = try loaded.decode(ids, skipSpecialTokens: false)
        struct Output: Encodable { let ids: [Int], decoded: String }
        try JSONOutput.printLine(Output(ids: ids, decoded: decoded))
    }
}
