import Autograd
import Foundation
import Tensor
import Testing
import Transformer

/// Loading LLaMA models from GGUF files: config, names, the Q/K permutation, logits against
/// transformers' GGUF loader, errors for models the package does not run, and SmolLM2 when present.
@Suite("GGUF models")
struct GGUFModelTests {
    struct Logits: Decodable {
        let tokens: [Int]
        let logits: [String: [[Float]]]
    }

    @Test("Tiny LLaMA GGUFs give transformers' logits", arguments: ["tiny-llama-f32.gguf", "tiny-llama-quant.gguf"])
    func logitsMatchTransformers(fileName: String) throws {
        let reference = try JSONDecoder().decode(Logits.self, from: Data(contentsOf: Fixtures.gguf("tiny-llama-logits.json")))
        let model = try LlamaModel(contentsOf: Fixtures.gguf(fileName))
        #expect(model.config.tieWordEmbeddings == (fileName == "tiny-llama-f32.gguf"))
        let logits = try GradientMode.withoutGradients { try model(TokenBatch(rows: [reference.tokens])) }.value
        let expected = try #require(reference.logits[fileName])
        let vocabulary = model.config.vocabSize
        var worst: Float = 0
        for (position, row) in expected.enumerated() {
            for (token, value) in row.enumerated() {
                worst = max(worst, abs(logits.scalars[position * vocabulary + token] - value))
            }
        }
        print("GGUF \(fileName): max |Δlogit| against transformers = \(worst)")
        #expect(worst <= 1e-4, "\(fileName): max |Δlogit| = \(worst)")
    }

    @Test("The config, tokens and names come from the metadata")
    func configFromMetadata() throws {
        let source = try ModelSource(contentsOf: Fixtures.gguf("tiny-llama-quant.gguf"))
        let gguf = try #require(source.gguf)
        #expect(source.tokenizerURL == nil)
        let config = source.config
        #expect(config.vocabSize == 100 && config.hiddenSize == 32 && config.intermediateSize == 64)
        #expect(config.numHiddenLayers == 2 && config.numAttentionHeads == 4 && config.numKeyValueHeads == 2)
        #expect(config.headDim == 8 && config.ropeTheta == 10000 && config.maxPositionEmbeddings == 128)
        #expect(abs(config.rmsNormEps - 1e-5) < 1e-12)
        #expect(config.bosTokenId == 0 && config.eosTokenIds == [0] && config.padTokenId == 1)
        #expect(!config.tieWordEmbeddings)
        #expect(gguf.metadata["tokenizer.ggml.model"]?.string == "gpt2")
        #expect(gguf.metadata["tokenizer.ggml.tokens"]?.strings?.count == 100)
        #expect(gguf.info("blk.1.ffn_up.weight")?.type == .q4_1)
        guard case .gguf(let checkpoint) = source.format else { Issue.record("not read as GGUF"); return }
        #expect(checkpoint.ggufNames[LlamaWeightNames.layer(1).keyProjection] == "blk.1.attn_k.weight")
        #expect(checkpoint.ggufNames.count == config.expectedWeightShapes.count)
    }

    @Test("q_proj and k_proj rows are put back in Hugging Face order")
    func reversesPermutation() throws {
        let checkpoint = try GGUFCheckpoint(contentsOf: Fixtures.gguf("tiny-llama-f32.gguf"))
        for (name, heads) in [("attn_q", 4), ("attn_k", 2)] {
            let stored = try checkpoint.file.tensor(named: "blk.0.\(name).weight")
            let key = name == "attn_q" ? LlamaWeightNames.layer(0).queryProjection : LlamaWeightNames.layer(0).keyProjection
            let restored = try checkpoint.tensor(named: key)
            #expect(restored.shape == stored.shape && restored.shape[0] == heads * 8)
            let width = stored.shape[1]
            for row in 0..<stored.shape[0] {
                // llama.cpp's stored row h·8 + 2i + j is Hugging Face row h·8 + 4j + i.
                let (head, within) = row.quotientAndRemainder(dividingBy: 8)
                let target = head * 8 + (within % 2) * 4 + within / 2
                #expect(Array(stored.scalars[(row * width)..<((row + 1) * width)])
                        == Array(restored.scalars[(target * width)..<((target + 1) * width)]))
            }
        }
    }

    @Test("A folder still loads through ModelSource")
    func folderStillLoads() throws {
        let source = try ModelSource(contentsOf: Fixtures.model("llama-gqa-f32"))
        #expect(source.gguf == nil)
        guard case .folder = source.format else { Issue.record("not read as a folder"); return }
        _ = try LlamaModel(source: source)
    }

    /// The metadata of a valid tiny model, to be edited.
    private static let modelEntries: [String: [UInt8]] = {
        typealias B = GGUFBytes
        return [
            "general.architecture": B.entry("general.architecture", .string, B.string("llama")),
            "llama.block_count": B.entry("llama.block_count", .uint32, B.integer(UInt32(1))),
            "llama.embedding_length": B.entry("llama.embedding_length", .uint32, B.integer(UInt32(32))),
            "llama.feed_forward_length": B.entry("llama.feed_forward_length", .uint32, B.integer(UInt32(64))),
            "llama.attention.head_count": B.entry("llama.attention.head_count", .uint32, B.integer(UInt32(4))),
            "llama.attention.layer_norm_rms_epsilon":
                B.entry("llama.attention.layer_norm_rms_epsilon", .float32, B.integer(Float(1e-5).bitPattern)),
            "llama.vocab_size": B.entry("llama.vocab_size", .uint32, B.integer(UInt32(64))),
        ]
    }()

    @Test("Models the package does not run are refused, naming the key or tensor")
    func unsupportedModelsNamed() throws {
        typealias B = GGUFBytes
        let cases: [(String, [String: [UInt8]?], String)] = [
            ("another architecture", ["general.architecture": B.entry("general.architecture", .string, B.string("qwen2"))], "general.architecture"),
            ("no architecture", ["general.architecture": nil], "general.architecture"),
            ("no block count", ["llama.block_count": nil], "llama.block_count"),
            ("head count as a string", ["llama.attention.head_count": B.entry("llama.attention.head_count", .string, B.string("4"))],
             "llama.attention.head_count"),
            ("zero layers", ["llama.block_count": B.entry("llama.block_count", .uint32, B.integer(UInt32(0)))], "llama.block_count"),
            ("heads that do not divide the width",
             ["llama.attention.head_count": B.entry("llama.attention.head_count", .uint32, B.integer(UInt32(5)))], "llama.attention.head_count"),
            ("linear RoPE scaling", ["llama.rope.scaling.type": B.entry("llama.rope.scaling.type", .string, B.string("linear"))],
             "llama.rope.scaling.type"),
            ("RoPE scaling factor", ["llama.rope.scaling.factor": B.entry("llama.rope.scaling.factor", .float32, B.integer(Float(4).bitPattern))],
             "llama.rope.scaling.factor"),
            ("partial RoPE", ["llama.rope.dimension_count": B.entry("llama.rope.dimension_count", .uint32, B.integer(UInt32(4)))],
             "llama.rope.dimension_count"),
            ("no weights", [:], "token_embd.weight"),
        ]
        try withTemporaryFolder { folder in
            let url = folder.appendingPathComponent("model.gguf")
            for (name, edits, key) in cases {
                var entries = Self.modelEntries
                for (entryKey, bytes) in edits { entries[entryKey] = bytes }
                try Data(B.file(entries: entries.keys.sorted().compactMap { entries[$0] }, tensors: [], data: [])).write(to: url)
                do {
                    _ = try LlamaModel(contentsOf: url)
                    Issue.record("\(name): loaded")
                } catch let error as GGUFError {
                    #expect(error.key == key, "\(name): \(error)")
                    #expect(error.description.hasPrefix(url.path), "\(name): \(error)")
                }
            }
        }
    }

    @Test("A damaged .gguf reports a GGUF error, not a missing folder")
    func damagedFileReportsGGUF() throws {
        try withTemporaryFolder { folder in
            let url = folder.appendingPathComponent("model.gguf")
            try Data("not gguf".utf8).write(to: url)
            #expect(throws: GGUFError.self) { try LlamaModel(contentsOf: url) }
        }
    }

    struct Samples: Decodable {
        struct Sample: Decodable {
            let tensor: String
            let type: String
            let rows: [Int]
            let columns: [Int]
            let values: [Float]
        }
        let samples: [Sample]
        let tokens: [Int]
        let vocabulary: [Int]
        let logits: [[Float]]
        let argmax: [Int]
    }

    @Test("SmolLM2-135M's GGUF: config and values as gguf-py reads them",
          .enabled(if: FileManager.default.fileExists(atPath: Fixtures.smolLM2.path),
                   "absent: .models/SmolLM2-135M-Instruct.Q4_1.gguf (run Scripts/fetch-smollm2)"))
    func smolLM2() throws {
        let checkpoint = try GGUFCheckpoint(contentsOf: Fixtures.smolLM2)
        let config = checkpoint.config
        #expect(config.numHiddenLayers == 30 && config.hiddenSize == 576 && config.intermediateSize == 1536)
        #expect(config.numAttentionHeads == 9 && config.numKeyValueHeads == 3 && config.headDim == 64)
        #expect(config.vocabSize == 49152 && config.ropeTheta == 100000 && config.tieWordEmbeddings)
        #expect(config.bosTokenId == 1 && config.eosTokenIds == [2] && config.maxPositionEmbeddings == 8192)
        #expect(checkpoint.file.metadata["tokenizer.ggml.tokens"]?.array?.count == 49152)
        let samples = try JSONDecoder().decode(Samples.self, from: Data(contentsOf: Fixtures.gguf("smollm2-samples.json")))
        for sample in samples.samples {
            let parts = sample.tensor.split(separator: "#").map(String.init)
            let tensor = parts.count == 2 ? try checkpoint.tensor(named: parts[1]) : try checkpoint.file.tensor(named: parts[0])
            #expect(checkpoint.file.info(parts[0])?.type.name == sample.type)
            let width = tensor.shape[1]
            var worst: Float = 0
            for (index, value) in sample.values.enumerated() {
                worst = max(worst, abs(tensor.scalars[sample.rows[index] * width + sample.columns[index]] - value))
            }
            print("SmolLM2 \(sample.tensor) (\(sample.type)): max |Δ| at \(sample.values.count) samples = \(worst)")
            #expect(worst == 0, "\(sample.tensor): max |Δ| = \(worst)")
        }
        let start = Date()
        let model = try LlamaModel(gguf: checkpoint)
        print("SmolLM2 GGUF: \(model.parameterCount) parameters dequantised in \(Date().timeIntervalSince(start)) s "
              + "on \(Parallel.workerCount) threads")
        let logits = try GradientMode.withoutGradients { try model(TokenBatch(rows: [samples.tokens])) }.value
        var worst: Float = 0
        for position in samples.tokens.indices {
            let row = Array(logits.scalars[(position * config.vocabSize)..<((position + 1) * config.vocabSize)])
            for (index, token) in samples.vocabulary.enumerated() {
                worst = max(worst, abs(row[token] - samples.logits[position][index]))
            }
            #expect(row.indices.max { row[$0] < row[$1] } == samples.argmax[position], "argmax at position \(position)")
        }
        print("SmolLM2 GGUF: max |Δlogit| against transformers at \(samples.vocabulary.count) token ids × \(samples.tokens.count) positions = \(worst)")
        #expect(worst <= 1e-3, "max |Δlogit| = \(worst)")
    }
}
