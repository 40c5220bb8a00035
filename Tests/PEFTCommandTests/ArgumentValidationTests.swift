import ArgumentParser
import Testing

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
