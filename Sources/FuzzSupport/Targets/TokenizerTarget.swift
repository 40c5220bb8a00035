import Foundation
import Transformer

/// `tokenizer.json`: ``BPETokenizer/init(contentsOf:)`` (the JSON parser, the model, normaliser,
/// pre-tokeniser, post-processor and decoder), then a few texts encoded and decoded back.
struct TokenizerJSONTarget: FuzzTarget {
    let name = "tokenizer-json"
    let summary = "tokenizer.json: BPETokenizer(contentsOf:), then texts encoded, decoded and streamed"
    let format = FuzzInputFormat.json

    /// Texts that reach the byte fallback, added tokens, spaces and non-ASCII scripts.
    static let texts = ["Hello, world!", "  two  spaces\n\ttab", "<s>[INST] ünïcödé 日本語 🙂 </s>", "", "a\u{0301}\u{FFFD}\0"]

    func makeExecutor(workspace: URL, corpus: SeedCorpus) throws -> any FuzzExecutor {
        Executor(file: workspace.appendingPathComponent("tokenizer.json"))
    }

    /// Encodes and decodes ``texts`` (with and without special tokens) and streams the ids through
    /// an ``IncrementalDecoder``.
    static func exercise(_ tokenizer: BPETokenizer) throws {
        for text in texts {
            for special in [false, true] {
                let ids = tokenizer.encode(text, addSpecialTokens: special)
                _ = try tokenizer.decode(ids, skipSpecialTokens: !special)
                var decoder = IncrementalDecoder(tokenizer: tokenizer)
                for id in ids { _ = decoder.append(id) }
            }
        }
    }

    private struct Executor: FuzzExecutor {
        let file: URL
        func run(_ input: FuzzInput) -> FuzzOutcome {
            outcome {
                try writeInput(input.bytes, to: file)
                try TokenizerJSONTarget.exercise(BPETokenizer(contentsOf: file))
            }
        }
    }
}
