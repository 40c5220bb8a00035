import Foundation
import ArgumentParser
import Testing
import Comparison

@testable import PEFTCommand

/// Options are checked when the command line is parsed, before any model is loaded: each of these
/// names a model that does not exist, so only parsing could have produced the error.
@Suite("Command-line options are validated before any work")
struct ArgumentValidationTests {
    static let training = ["train", "--model", "/nonexistent/model.gguf", "--data", "/nonexistent/data.jsonl", "--out", "/tmp/out"]

    /// The message ArgumentParser gives for `arguments`, or `nil` if they parse.
    func message(_ arguments: [String]) -> String? {
        do {
            _ = try PEFTTool.parseAsRoot(arguments)
            return nil
        } catch {
            return PEFTTool.message(for: error)
        }
    }

    @Test("Enumerated options list their values", arguments: [
        (["--method", "iapt", "--decay", "bogus"], "Please provide one of 'linear', 'cosine' or 'constant'"),
        (["--method", "iapt", "--pooling", "nope"], "'self_attention', 'mean', 'max' or 'last_token'"),
        (["--method", "iapt", "--activation", "tanh"], "'rational', 'gelu' or 'relu'"),
        (["--method", "prompt", "--prompt-init", "zeros"], "'random', 'vocab' or 'text'"),
        (["--method", "adapters"], "--method: 'adapters' is not one of iapt, lora, prefix, prompt, ptuning2"),
    ])
    func enumerated(extra: [String], expected: String) throws {
        let text = try #require(message(Self.training + extra))
        #expect(text.contains(expected), "\(text)")
    }

    @Test("Templates, LoRA layers and prompt texts are checked", arguments: [
        (["--method", "lora", "--template", "jinja"], "--template must be alpaca, plain, chat, compact or a format with {instruction}"),
        (["--method", "lora", "--template", "{input} only"], "{instruction} exactly once"),
        (["--method", "lora", "--lora-layers", "1,x"], "--lora-layers must be comma-separated integers, got '1,x'"),
        (["--method", "prompt", "--prompt-init", "text"], "--prompt-init text needs --prompt-init-text"),
        (["--method", "lora", "--max-length", "1"], "--max-length must be at least 2"),
        (["--method", "iapt", "--rank", "4"], "--rank (r) is not a setting of iapt"),
        (["--method", "lora", "--set", "bottleneck=8"], "--set bottleneck (bottleneck) is not a setting of lora"),
        (["--method", "lora", "--set", "=8"], "--set '=8': expected KEY=VALUE"),
        (["--method", "lora", "--target-modules", "q_proj,qk_proj"], "--target-modules: 'qk_proj' is not one of"),
    ])
    func checked(extra: [String], expected: String) throws {
        let text = try #require(message(Self.training + extra))
        #expect(text.contains(expected), "\(text)")
    }

    @Test("Sizes and rates a user types are bounded before any work", arguments: [
        (Self.training + ["--method", "lora", "--learning-rate", "1e30"], "--learning-rate must be a number in 1e-09...10.0, got 1e+30"),
        (Self.training + ["--method", "lora", "--learning-rate", "nan"], "--learning-rate must be a number"),
        (Self.training + ["--method", "lora", "--early-stopping", "3"], "--early-stopping needs --eval"),
        (Self.training + ["--method", "lora", "--evaluate-every", "3"], "--evaluate-every needs --eval"),
        (Self.training + ["--method", "lora", "--batch-size", "100000"], "--batch-size must be in 1...4096, got 100000"),
        (Self.training + ["--method", "lora", "--warmup", "1"], "--warmup must be a number in 0.0...0.999"),
        (["serve", "--model", "/nonexistent", "--max-batch", "100000000"], "--max-batch must be in 1...4096, got 100000000"),
        (["serve", "--model", "/nonexistent", "--port", "9000"], "--port goes with --http"),
        (["serve", "--http", "--model", "/nonexistent", "--host", "0.0.0.0"], "--http: listening on 0.0.0.0, reachable from other machines, needs an API key"),
        (["serve", "--http", "--model", "/nonexistent", "--port", "70000"], "--http: the port must be in 0...65535, got 70000"),
        (["serve", "--http", "--model", "/nonexistent", "--adapter-dir", "/nonexistent"], "--http: the adapter directory /nonexistent is not a folder"),
        (["serve", "--http", "--model", "/nonexistent", "--api-key", "short"], "--http: the API key must be 8 to 512 characters with no spaces"),
        (["serve", "--http", "--model", "/nonexistent", "--max-queue=-1"], "--http: the queue bound must be in 0...100000, got -1"),
        (["serve", "--http", "--model", "/nonexistent", "--request-timeout", "nan"], "--http: the request timeout must be in 0.001...86400.0 seconds, got nan"),
        (["serve", "--http", "--model", "/nonexistent", "--adapter", "nonexistent=x"], "--adapter nonexistent: a name is 1 to 128 letters"),
        (["serve", "--http", "--model", "/x/tiny", "--adapter", "bad name=x"], "--adapter bad name: a name is 1 to 128 letters"),
        (["generate", "--model", "/nonexistent", "--prompt", "x", "--temperature", "1e30"], "--temperature must be in 0...100"),
        (["eval", "--model", "/nonexistent", "--data", "/nonexistent", "--labels", ""], "--labels needs two or more non-empty answers"),
        (["eval", "--model", "/nonexistent", "--data", "/nonexistent", "--labels", "yes,"], "--labels needs two or more non-empty answers"),
    ] as [([String], String)])
    func bounded(arguments: [String], expected: String) throws {
        let text = try #require(message(arguments))
        #expect(text.contains(expected), "\(text)")
    }

    @Test("Generation and benchmark options are checked")
    func generationAndBenchmarks() throws {
        let generate = ["generate", "--model", "/nonexistent"]
        #expect(message(generate + ["--chat", "--tokens", "1,2"])?.contains("--chat needs --prompt") == true)
        #expect(message(generate + ["--prompt", "hi", "--system", "be brief"])?.contains("--system needs --chat") == true)
        #expect(message(["bench", "train", "--config", "small", "--model", "/nonexistent"])?.contains("give --config or --model, not both") == true)
        #expect(message(["tasks", "--out", "/tmp/x", "--tasks", "poetry"])?.contains("unknown task 'poetry'") == true)
        #expect(message(Self.training + ["--method", "lora", "--template", "{instruction} {input} Answer:"]) == nil)
        #expect(message(Self.training + ["--method", "iapt", "--set", "generator_input=residual", "--bottleneck", "8"]) == nil)
        #expect(message(["bench", "train", "--method", "lora", "--set", "pooling=mean"])?.contains("--set pooling: not a setting of lora") == true)
        #expect(message(["bench", "serve", "--method", "adapters"])?.contains("is not base or one of") == true)
    }
}

/// What a new user types by mistake, run as the command runs it: each ends with an error naming the
/// option and nothing is allocated or written beyond the check.
@Suite("Mistyped sizes and folders end in clear errors")
struct UserMistakeTests {
    static let bundled = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Examples/BundledBase").path

    /// The error `arguments` end with when run, or `nil` if they succeed.
    func failure(_ arguments: [String]) throws -> String? {
        var command = try PEFTTool.parseAsRoot(arguments)
        do {
            try command.run()
            return nil
        } catch {
            return PEFTTool.message(for: error)
        }
    }

    @Test("Too many new tokens, too many virtual tokens, bad folders and bad adapters are refused")
    func mistakes() throws {
        let data = FileManager.default.temporaryDirectory.appendingPathComponent("mistakes-\(UInt64.random(in: 0...UInt64.max))")
        try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: data) }
        let jsonl = data.appendingPathComponent("train.jsonl")
        try Data(#"{"instruction": "Say yes.", "output": "yes"}"#.utf8).write(to: jsonl)
        let generate = try #require(try failure(["generate", "--model", Self.bundled, "--prompt", "hi", "--max-new-tokens", "100000000"]))
        #expect(generate.contains("--max-new-tokens must be at most 509 here: the model's context is 512 tokens"), "\(generate)")
        let prompt = try #require(try failure(["train", "--model", Self.bundled, "--method", "prompt", "--virtual-tokens", "100000",
                                               "--data", jsonl.path, "--out", data.appendingPathComponent("out").path]))
        #expect(prompt.contains("--virtual-tokens (num_virtual_tokens): must be in 1...512 (the model's context), got 100000"), "\(prompt)")
        let busy = try #require(try failure(["train", "--model", Self.bundled, "--method", "lora", "--data", jsonl.path, "--out", data.path]))
        #expect(busy.contains("already holds 'train.jsonl'"), "\(busy)")
        let folder = try #require(try failure(["train", "--model", Self.bundled, "--method", "lora", "--data", data.path,
                                               "--out", data.appendingPathComponent("out2").path]))
        #expect(folder.contains("a folder, not a JSON Lines file"), "\(folder)")
        let adapter = data.appendingPathComponent("adapter")
        try FileManager.default.createDirectory(at: adapter, withIntermediateDirectories: true)
        try Data("garbage".utf8).write(to: adapter.appendingPathComponent("adapter_config.json"))
        #expect(try failure(["inspect", "--adapter", adapter.path])?.contains("is not a JSON object") == true)
        try Data(#"{"peft_type": "FOO"}"#.utf8).write(to: adapter.appendingPathComponent("adapter_config.json"))
        #expect(try failure(["inspect", "--adapter", adapter.path])?.contains("peft_type 'FOO' is not an adapter type") == true)
    }

    @Test("The comparison records its command as typed, quoted, without where the report went")
    func comparisonCommandLine() {
        #expect(CompareCommand.commandLine(["compare", "--seeds", "1", "--output-directory", "/tmp/x", "--methods", "a b"])
            == "peft compare --seeds 1 --methods 'a b'")
        #expect(CompareCommand.commandLine(["compare", "--output-directory=/tmp/x", "--render-only"]) == "peft compare --render-only")
    }

    @Test("A base's own settings name a base and a value in range")
    func comparisonBaseSettings() throws {
        func settings(_ arguments: [String]) throws -> Comparison.ComparisonSettings {
            try CompareCommand.parse(["--base", "b=/nonexistent/model.gguf"] + arguments).settings()
        }
        #expect(try settings(["--base-micro-batch", "b=8"]).bases.first?.microBatch == 8)
        #expect(try settings([]).bases.first?.microBatch == nil)
        let narrow = try settings(["--base-methods", "b=base,lora,iapt", "--base-seeded-methods", "b=lora"]).bases.first
        #expect(narrow?.methods == [.base, .lora, .iapt] && narrow?.seededMethods == [.lora])
        #expect(try settings(["--base-grid", "b=1e-3,3e-3", "--base-steps", "b=600"]).bases.first
            == BaseSpec(name: "b", path: "/nonexistent/model.gguf", learningRates: [1e-3, 3e-3], mixedSteps: 600))
        for (arguments, expected) in [
            (["--base-micro-batch", "b=5"], "must divide --batch-size 16, got 5"),
            (["--base-micro-batch", "c=8"], "'c=8' is not NAME=ROWS with NAME a --base"),
            (["--base-micro-batch", "b=many"], "'b=many' is not NAME=ROWS"),
            (["--base-steps", "b"], "'b' is not NAME=STEPS"),
            (["--base-grid", "c=1e-3"], "'c=1e-3' is not NAME=RATES with NAME a --base"),
            (["--base-methods", "b=lora,adapters"], "'adapters' is not one of base, prompt-4"),
            (["--base-seeded-methods", "c=lora"], "'c=lora' is not NAME=METHODS with NAME a --base"),
            (["--base-methods", "b=lora", "--base-seeded-methods", "b=iapt"], "iapt not among the base's methods"),
            (["--base-grid", "b=1e-3,fast"], "'fast' is not a number"),
        ] {
            let error = try #require(throws: Comparison.ComparisonError.self) { try settings(arguments) }
            #expect("\(error)".contains(expected), "\(arguments): \(error)")
        }
    }
}
