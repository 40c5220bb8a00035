import ArgumentParser
import Foundation
import Transformer

/// `peft tokenize`: ids and decoded text of a string, as JSON.
struct TokenizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokenize",
        abstract: "Print {\"ids\": [Int], \"decoded\": String} for a text.")

    @Option(help: "A tokenizer.json file.")
    var tokenizer: String

    @Option(help: "The text to encode.")
    var text: String

    @Flag(inversion: .prefixedNo, help: "Add the tokenizer's special tokens (BOS) around the text.")
    var specialTokens = true

    func run() throws {
        let loaded = try BPETokenizer(contentsOf: URL(fileURLWithPath: tokenizer))
        let ids = loaded.encode(text, addSpecialTokens: specialTokens)
        let decoded = try loaded.decode(ids, skipSpecialTokens: false)
        print("{\"ids\": \(JSONOutput.array(ids)), \"decoded\": \(JSONOutput.string(decoded))}")
    }
}
