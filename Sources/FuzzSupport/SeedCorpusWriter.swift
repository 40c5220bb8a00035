import Foundation
import PEFT
import Tensor
import Transformer

/// Writes the generated part of the seed corpus with the package itself (`peft-fuzz make-corpus`):
/// safetensors files in each dtype the writer has, the tiny model's config in several spellings and
/// its sharded index, a trained byte-level tokenizer, one adapter of every built-in method for the
/// tiny model (configuration and weights), instruction data and serving commands. It also copies a
/// few small test fixtures (the Python-written safetensors file, GGUF files, Hugging Face
/// tokenizers) when run from the package root.
public enum SeedCorpusWriter {
    /// Test fixtures copied into the corpus: package-relative source, target, file name.
    static let fixtures: [(source: String, target: String, name: String)] = [
        ("Tests/TransformerTests/Fixtures/safetensors/python-mixed.safetensors", "safetensors-header", "python-mixed.safetensors"),
        ("Tests/TransformerTests/Fixtures/gguf/quants.gguf", "gguf", "quants.gguf"),
        ("Tests/TransformerTests/Fixtures/gguf/tiny-llama-quant.gguf", "gguf", "tiny-llama-quant.gguf"),
        ("Tests/TransformerTests/Fixtures/tokenizers/gpt2-bytelevel/tokenizer.json", "tokenizer-json", "gpt2-bytelevel.json"),
        ("Tests/TransformerTests/Fixtures/tokenizers/llama2/tokenizer.json", "tokenizer-json", "llama2.json"),
        ("Tests/TransformerTests/Fixtures/tokenizers/llama3/tokenizer.json", "tokenizer-json", "llama3.json"),
    ]

    /// Writes the corpus into `url` (one folder per target), replacing the files it owns.
    /// - Parameter packageRoot: where the fixtures are copied from; skipped if they are absent.
    /// - Throws: if a file cannot be made or written.
    public static func write(into url: URL, packageRoot: URL) throws {
        var files: [String: [String: Data]] = [:]
        let model = try TinyModel.make()

        var generator = SeededGenerator(seed: 3)
        let small = [
            "a": try Tensor.normal([2, 3], generator: &generator), "b": try Tensor.normal([4], generator: &generator),
            "scalar": try Tensor(shape: [], scalars: [1.5]),
        ]
        for (name, dtype) in [("f32", SafetensorsDType.f32), ("bf16", .bf16), ("f16", .f16)] {
            files["safetensors-header", default: [:]]["\(name).safetensors"] = try written { url in
                try SafetensorsWriter.write(small, to: url, dtype: dtype, metadata: dtype == .f32 ? ["format": "pt"] : nil)
            }
        }
        files["safetensors-header", default: [:]]["empty.safetensors"] = try written { url in
            try SafetensorsWriter.write(["none": try Tensor.zeros([0]), "rows": try Tensor.zeros([2, 0])], to: url)
        }

        let shards = TinyModel.shards(of: model)
        var weightMap: [String: String] = [:]
        for (shard, name) in zip(shards, TinyModel.shardNames) { for key in shard.keys { weightMap[key] = name } }
        let totalSize = model.parameterCount * 4
        files["sharded-index", default: [:]]["index.json"] = try json(["metadata": ["total_size": totalSize], "weight_map": weightMap])
        files["sharded-index", default: [:]]["index-map-only.json"] = try json(["weight_map": weightMap])

        let config = try model.config.jsonData()
        files["config-json", default: [:]]["config.json"] = config
        files["config-json", default: [:]]["config-4x.json"] = Data("""
            {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "vocab_size": 259, "hidden_size": 16,
             "intermediate_size": 32, "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2,
             "hidden_act": "silu", "rms_norm_eps": 1e-05, "rope_theta": 10000.0, "rope_scaling": null,
             "max_position_embeddings": 64, "tie_word_embeddings": false, "bos_token_id": 256,
             "eos_token_id": [257, 256], "pad_token_id": null, "torch_dtype": "float32"}

            """.utf8)
        files["config-json", default: [:]]["config-minimal.json"] = Data("""
            {"vocab_size": 259, "hidden_size": 16, "intermediate_size": 32, "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2}

            """.utf8)
        files["config-json", default: [:]]["config-5x.json"] = Data("""
            {"model_type": "llama", "vocab_size": 259, "hidden_size": 16, "intermediate_size": 32, "num_hidden_layers": 2,
             "num_attention_heads": 4, "num_key_value_heads": 2, "head_dim": 4, "rope_parameters": {"rope_type": "default", "rope_theta": 500000.0},
             "max_position_embeddings": 64, "tie_word_embeddings": true, "dtype": "bfloat16"}

            """.utf8)

        let text = "the quick brown fox jumps over the lazy dog. The dog sleeps; the fox runs away, quickly!"
        files["tokenizer-json", default: [:]]["trained-bytelevel.json"] = try BPETrainer(vocabularySize: 300, minimumPairCount: 2)
            .tokenizerJSON(learnedFrom: [text, text.uppercased()])

        for method in AdapterRegistry.builtIn.methodNames {
            let adapter = try AdapterRegistry.builtIn.makeAdapter(method: method, for: model, tokenizer: ByteTokenizer(), seed: 5)
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent("peft-fuzz-corpus-\(UUID().uuidString)")
            defer { try? FileManager.default.removeItem(at: folder) }
            try AdapterFiles.save(adapter, to: folder)
            files["adapter-config", default: [:]]["\(method).json"] = try Data(contentsOf: folder.appendingPathComponent(AdapterFiles.configurationFile))
            files["adapter-weights", default: [:]]["\(method).safetensors"] = try Data(contentsOf: folder.appendingPathComponent(AdapterFiles.weightsFile))
        }

        files["instruction-jsonl"] = [
            "alpaca.jsonl": Data("""
                {"instruction": "Add the numbers.", "input": "2 and 3", "output": "5"}
                {"instruction": "Name a colour.", "output": "blue"}
                {"instruction": "Reverse the word.", "input": null, "output": "olleh", "extra": 1}

                """.utf8),
            "text.jsonl": Data("{\"text\": \"Once upon a time.\"}\n\n{\"text\": \"ünïcödé \\u00e9 \\ud83d\\ude42 e\\u0301\"}\n".utf8),
            "mixed-crlf-bom.jsonl": Data([0xEF, 0xBB, 0xBF] + Array("{\"instruction\": \"Say hi.\", \"input\": \"\", \"output\": \"hi\"}\r\n  \r\n{\"text\": \"plain\"}\r\n".utf8)),
        ]
        files["serve-command"] = [
            "generate.jsonl": Data("""
                {"id": "r1", "prompt": "Hello", "max_tokens": 4}
                {"id": 2, "tokens": [256, 72, 105], "max_tokens": 3, "stream": true}

                {"id": "r3", "prompt": "abc", "instruction_length": 2, "max_tokens": 2, "stop": [10, 32]}

                """.utf8),
            "sampling.jsonl": Data("""
                {"id": "s1", "prompt": "Once", "max_tokens": 5, "temperature": 0.8, "top_k": 5, "top_p": 0.9, "seed": 42}
                {"id": "s2", "tokens": [256], "max_tokens": 2, "temperature": 1.5, "seed": 0, "stream": true}

                """.utf8),
            "adapters.jsonl": Data("""
                {"id": "a", "load": "l", "path": "@adapters/lora"}
                {"id": "b", "status": true}

                """.utf8),
            "adapter-requests.jsonl": Data("""
                {"id": "a", "load": "l", "path": "@adapters/iapt"}
                {"id": "g", "prompt": "Hi", "adapter": "l", "instruction_length": 0, "max_tokens": 2}
                {"id": "u", "unload": "l"}

                """.utf8),
        ]

        for (target, targetFiles) in files {
            let folder = url.appendingPathComponent(target)
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            for (name, data) in targetFiles { try data.write(to: folder.appendingPathComponent(name)) }
        }
        for fixture in fixtures {
            let source = packageRoot.appendingPathComponent(fixture.source)
            guard let data = FileManager.default.contents(atPath: source.path) else { continue }
            let folder = url.appendingPathComponent(fixture.target)
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            try data.write(to: folder.appendingPathComponent(fixture.name))
        }
    }

    /// The bytes `write` puts in a temporary file.
    private static func written(_ write: (URL) throws -> Void) throws -> Data {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("peft-fuzz-corpus-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: url) }
        try write(url)
        return try Data(contentsOf: url)
    }

    private static func json(_ object: Any) throws -> Data {
        try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys]) + Data("\n".utf8)
    }
}
