import Autograd
import Foundation
import PEFT
import Tensor
import Testing
import Transformer

/// SmolLM2-135M-Instruct from its GGUF file, end to end. The model is fetched by
/// `Scripts/fetch-smollm2` (CI runs it); without it these tests are skipped with that reason.
enum SmolLM2 {
    static let repository = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let gguf = repository.appendingPathComponent(".models/SmolLM2-135M-Instruct.Q4_1.gguf")
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/smollm2")
    static let isPresent = FileManager.default.fileExists(atPath: gguf.path)
    static let skipReason: Comment = "absent: .models/SmolLM2-135M-Instruct.Q4_1.gguf (run Scripts/fetch-smollm2)"

    /// What transformers gave (`Fixtures/smollm2/make_smollm2_fixtures.py`).
    struct Expected: Decodable {
        struct Generation: Decodable {
            let ids: [Int]
            let generated: [Int]
            let text: String
        }
        struct Chat: Decodable {
            let rendered: String
            let ids: [Int]
            let generated: [Int]
            let text: String
        }
        let plain: Generation
        let chat: Chat
    }

    static func expected() throws -> Expected {
        try JSONDecoder().decode(Expected.self, from: Data(contentsOf: fixtures.appendingPathComponent("expected.json")))
    }

    /// A few instructions the model can learn to answer in a word, in SmolLM2's chat template.
    static let examples: [InstructionExample] = [
        ("Give the colour of the sky on a clear day.", "blue"), ("Name the opposite of hot.", "cold"),
        ("Say how many legs a spider has.", "eight"), ("Name the capital of Italy.", "Rome"),
        ("Give the first letter of the alphabet.", "A"), ("Name the largest planet.", "Jupiter"),
    ].map { InstructionExample(instruction: $0.0, output: $0.1) }
}

@Suite("SmolLM2-135M-Instruct from GGUF", .enabled(if: SmolLM2.isPresent, SmolLM2.skipReason), .serialized)
struct SmolLM2Tests {
    /// Products through OpenBLAS, which is optimised in every build, rather than our packed kernel,
    /// which a debug build (`swift test`) compiles without optimisation.
    static let unpacked = TrainingMemory(recomputesActivations: false, packing: .none)

    @Test("Greedy text, plain and in the chat template, is transformers' token for token")
    func greedyText() throws {
        let expected = try SmolLM2.expected()
        let model = try LlamaModel(contentsOf: SmolLM2.gguf)
        let tokenizer = try BPETokenizer(ggufContentsOf: SmolLM2.gguf)
        let stops = Set(model.config.eosTokenIds + [tokenizer.eosTokenID].compactMap { $0 })

        let plainIDs = tokenizer.encode("The capital of France is", addSpecialTokens: true)
        #expect(plainIDs == expected.plain.ids)
        let plain = try model.generate(
            prompts: [plainIDs], options: GenerationOptions(maxNewTokens: expected.plain.generated.count, stopTokens: stops))[0]
        #expect(plain == expected.plain.generated)
        #expect(try tokenizer.decode(plain, skipSpecialTokens: true) == expected.plain.text)

        let rendered = try tokenizer.applyChatTemplate(
            [ChatMessage(role: "user", content: "What is the capital of France?")], addGenerationPrompt: true)
        #expect(rendered == expected.chat.rendered)
        let chatIDs = tokenizer.encode(rendered, addSpecialTokens: false)
        #expect(chatIDs == expected.chat.ids)
        let answer = try model.generate(prompts: [chatIDs], options: GenerationOptions(maxNewTokens: 24, stopTokens: stops))[0]
        #expect(answer == expected.chat.generated)
        #expect(try tokenizer.decode(answer, skipSpecialTokens: true) == "The capital of France is Paris.")
        print("SmolLM2 greedy: '\(expected.plain.text)' and '\(try tokenizer.decode(answer, skipSpecialTokens: true))' as transformers")
    }

    /// Logits in the form the fixtures keep: per position, ids `0..<first.count` and the top ids.
    struct LogitRows: Decodable {
        let ids: [Int]?
        let first: [[Float]]
        let topIDs: [[Int]]
        let topValues: [[Float]]

        enum CodingKeys: String, CodingKey { case ids, first64 = "first_64", first512 = "first_512", topIDs = "top_ids", topValues = "top_values" }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            ids = try container.decodeIfPresent([Int].self, forKey: .ids)
            first = try container.decodeIfPresent([[Float]].self, forKey: .first64) ?? container.decode([[Float]].self, forKey: .first512)
            topIDs = try container.decode([[Int]].self, forKey: .topIDs)
            topValues = try container.decode([[Float]].self, forKey: .topValues)
        }

        /// The largest difference from `logits` (`[positions, vocab]`), and whether every row's
        /// largest logit is at the same id.
        func compare(_ logits: Tensor) -> (difference: Float, sameArgmax: Bool) {
            let vocabulary = logits.shape[1]
            var worst: Float = 0
            var sameArgmax = true
            for (position, row) in first.enumerated() {
                let ours = logits.scalars[(position * vocabulary)..<((position + 1) * vocabulary)]
                for (id, value) in row.enumerated() { worst = max(worst, abs(ours[ours.startIndex + id] - value)) }
                for (id, value) in zip(topIDs[position], topValues[position]) { worst = max(worst, abs(ours[ours.startIndex + id] - value)) }
                sameArgmax = sameArgmax && ours.indices.max { ours[$0] < ours[$1] }.map { $0 - ours.startIndex } == topIDs[position][0]
            }
            return (worst, sameArgmax)
        }
    }

    @Test("Logits of the base and of LoRA and prompt-tuning adapters trained here equal transformers + PEFT's")
    func adapterLogits() throws {
        struct Fixture: Decodable { let logits: LogitRows }
        struct AdapterFixture: Decodable {
            let ids: [Int]
            let lora: LogitRows
            let prompt: LogitRows
        }
        let model = try LlamaModel(contentsOf: SmolLM2.gguf)
        let base = try JSONDecoder().decode(Fixture.self, from: Data(contentsOf: SmolLM2.fixtures.appendingPathComponent("expected.json")))
        let baseIDs = try #require(base.logits.ids)
        let baseLogits = try GradientMode.withoutGradients { try model(TokenBatch(rows: [baseIDs])) }.value
        let (baseDifference, baseArgmax) = base.logits.compare(try baseLogits.reshaped([baseIDs.count, -1]))
        let adapters = try JSONDecoder().decode(
            AdapterFixture.self, from: Data(contentsOf: SmolLM2.fixtures.appendingPathComponent("adapter-logits.json")))
        var report = ["base \(baseDifference)"]
        #expect(baseArgmax && baseDifference < 2e-4, "base: max |Δ| \(baseDifference)")
        for (name, expected) in [("lora", adapters.lora), ("prompt", adapters.prompt)] {
            let adapter = try AdapterFiles.load(from: SmolLM2.fixtures.appendingPathComponent(name), model: model)
            let logits = try GradientMode.withoutGradients {
                try model(TokenBatch(rows: [adapters.ids]), adapter: adapter)
            }.value
            let (difference, sameArgmax) = expected.compare(try logits.reshaped([adapters.ids.count, -1]))
            report.append("\(name) \(difference)")
            #expect(sameArgmax && difference < 2e-4, "\(name): max |Δ| \(difference)")
        }
        print("SmolLM2 logits against transformers + PEFT, max |Δ|: \(report.joined(separator: ", "))")
    }

    @Test("A few steps of every method lower the loss on instructions in the chat template", arguments: [
        ("lora", #"{"r": 8, "lora_alpha": 16}"#, 3e-3), ("iapt", "{}", 1e-3), ("iapt", #"{"generator_output": "kv"}"#, 1e-2),
        ("prompt", #"{"num_virtual_tokens": 8}"#, 3e-2), ("ptuning2", "{}", 1e-2), ("prefix", "{}", 1e-2),
    ] as [(String, String, Float)])
    func trainingLowersLoss(method: String, settings: String, learningRate: Float) throws {
        let model = try LlamaModel(contentsOf: SmolLM2.gguf)
        let tokenizer = try BPETokenizer(ggufContentsOf: SmolLM2.gguf)
        let encoder = try InstructionEncoder(tokenizer: tokenizer, template: .chat, maxLength: 96)
        let examples = try encoder.encode(SmolLM2.examples)
        #expect(examples.allSatisfy { $0.tokens.first == tokenizer.id(forToken: "<|im_start|>") && $0.tokens.last == 2 })
        let adapter = try AdapterRegistry.builtIn.makeAdapter(method: method, for: model, settings: Data(settings.utf8))
        // IAPT's default generator starts from zero prompts, which the layer's RMSNorm turns into
        // unit-scale keys at the first update whatever its size: its loss jumps before it falls
        // (over about 25 steps of 16 at 3e-3 here). A generator already away from zero shows the
        // descent within a few steps. (Emitting keys and values directly, there is no norm to jump.)
        if method == "iapt" && settings == "{}" { try perturb(adapter, seed: 4, scale: 0.02) }
        let options = TrainingOptions(
            epochs: 3, batchSize: 6, learningRate: learningRate, warmupFraction: 0, decay: .constant, seed: 1)
        let trainer = try Trainer(model: model, adapter: adapter, options: options, memory: Self.unpacked)
        let before = try trainer.evaluateLoss(examples)
        let report = try trainer.train(on: examples)
        let after = try trainer.evaluateLoss(examples)
        print("SmolLM2 \(method) \(settings): response loss \(before) → \(after) in \(report.steps) steps of 6 at learning rate \(learningRate)")
        #expect(after < 0.8 * before, "\(method) \(settings): \(before) → \(after)")
    }
}
