import Foundation
import Testing
import Tensor
import Transformer
import PEFT

@Suite("Checkpoints: resuming reproduces the uninterrupted run")
struct CheckpointTests {
    /// 6 examples in steps of 2: 3 steps per epoch, 9 in all; dev evaluated every 2 steps; early
    /// stopping on with a patience that does not run out, so the best weights are restored.
    func options(checkpoints: URL?) -> TrainingOptions {
        TrainingOptions(
            epochs: 3, batchSize: 1, gradientAccumulationSteps: 2, learningRate: 2e-2, warmupFraction: 0.2, seed: 9,
            evaluateEvery: 2, earlyStoppingPatience: 100, checkpointDirectory: checkpoints, checkpointEvery: 3)
    }

    let encoder = try! byteEncoder()
    var train: [EncodedExample] { try! encoder.encode(animalSounds) }
    var dev: [EncodedExample] { try! encoder.encode(animalPairs.map { InstructionExample(instruction: $0.0, output: $0.1 + "!") }) }

    @Test("A run interrupted at step 5 and resumed from its step-3 checkpoint ends with exactly the uninterrupted weights")
    func resumedEqualsUninterrupted() throws {
        let model = try byteBackbone()
        let uninterrupted = try smallIAPT(model)
        let expected = try Trainer(model: model, adapter: uninterrupted, options: options(checkpoints: nil)).train(on: train, dev: dev)

        let folder = temporaryFolder("checkpoints")
        defer { try? FileManager.default.removeItem(at: folder) }
        let interrupted = try smallIAPT(model)
        let partial = try Trainer(model: model, adapter: interrupted, options: options(checkpoints: folder))
            .train(on: train, dev: dev) { $0.step == 5 ? .stop : .proceed }
        #expect(partial.steps == 5 && partial.stoppedByCallback)
        let names = try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
        #expect(names == ["checkpoint-3", "checkpoint-5"])
        let checkpoint = folder.appendingPathComponent("checkpoint-3")
        for file in ["adapter/adapter_config.json", "adapter/adapter_model.safetensors", Trainer.optimizerFile,
                     Trainer.bestWeightsFile, Trainer.stateFile] {
            #expect(FileManager.default.fileExists(atPath: checkpoint.appendingPathComponent(file).path), "\(file)")
        }
        #expect(Trainer.latestCheckpoint(in: folder)?.lastPathComponent == "checkpoint-5")

        // A fresh adapter with other initial weights: everything must come from the checkpoint.
        for (resumeFrom, label) in [(checkpoint, "step 3"), (folder, "latest")] {
            let resumedAdapter = try smallIAPT(model, seed: 77)
            let trainer = try Trainer(model: model, adapter: resumedAdapter, options: options(checkpoints: nil))
            try trainer.resume(from: resumeFrom)
            var resumedSteps: [Int] = []
            let resumed = try trainer.train(on: train, dev: dev) { progress in
                resumedSteps.append(progress.step)
                return .proceed
            }
            #expect(resumedSteps.first == (label == "latest" ? 6 : 4), "\(label)")
            let difference = largestDifference(snapshot(resumedAdapter), snapshot(uninterrupted))
            #expect(difference == 0, "\(label): weights differ from the uninterrupted run")
            #expect(resumed.history == expected.history, "\(label)")
            #expect(resumed.evaluations == expected.evaluations, "\(label)")
            #expect(resumed.bestDevLoss == expected.bestDevLoss && resumed.bestStep == expected.bestStep, "\(label)")
            #expect(resumed.restoredBestWeights && resumed.steps == 9, "\(label)")
        }
        // The checkpoint's adapter folder is an ordinary adapter.
        let loaded = try AdapterFiles.load(from: checkpoint.appendingPathComponent(Trainer.adapterFolder), model: model)
        #expect(type(of: loaded).peftType == IAPTAdapter.peftType)
    }

    @Test("LoRA with dropout: a resumed run draws the uninterrupted run's masks, so it ends with exactly its weights")
    func resumedDropoutEqualsUninterrupted() throws {
        let model = try byteBackbone()
        let configuration = LoRAConfiguration(rank: 2, alpha: 4, dropout: 0.3)
        func lora(seed: UInt64) throws -> LoRAAdapter {
            try LoRAAdapter(model: model, configuration: configuration, seed: seed)
        }
        var plain = options(checkpoints: nil)
        plain.shuffle = false
        let uninterrupted = try lora(seed: 1)
        _ = try Trainer(model: model, adapter: uninterrupted, options: plain).train(on: train, dev: dev)

        // The masks are drawn: the same run under another seed (same order, no shuffle) ends elsewhere.
        var otherSeed = plain
        otherSeed.seed = 10
        let reseeded = try lora(seed: 1)
        _ = try Trainer(model: model, adapter: reseeded, options: otherSeed).train(on: train, dev: dev)
        #expect(largestDifference(snapshot(reseeded), snapshot(uninterrupted)) > 1e-4)

        let folder = temporaryFolder("checkpoints-dropout")
        defer { try? FileManager.default.removeItem(at: folder) }
        var checkpointed = plain
        checkpointed.checkpointDirectory = folder
        _ = try Trainer(model: model, adapter: try lora(seed: 1), options: checkpointed)
            .train(on: train, dev: dev) { $0.step == 5 ? .stop : .proceed }
        // A fresh adapter under another construction seed: its own dropout stream must not matter.
        let resumedAdapter = try lora(seed: 77)
        let trainer = try Trainer(model: model, adapter: resumedAdapter, options: plain)
        try trainer.resume(from: folder)
        _ = try trainer.train(on: train, dev: dev)
        #expect(largestDifference(snapshot(resumedAdapter), snapshot(uninterrupted)) == 0)
    }

    @Test("Resuming with other options, other data or another adapter type is an error; old checkpoints are pruned")
    func resumeChecksFit() throws {
        let model = try byteBackbone()
        let folder = temporaryFolder("checkpoints-fit")
        defer { try? FileManager.default.removeItem(at: folder) }
        var pruning = options(checkpoints: folder)
        pruning.checkpointEvery = 1
        pruning.checkpointsToKeep = 2
        pruning.maxSteps = 4
        _ = try Trainer(model: model, adapter: try smallIAPT(model), options: pruning).train(on: train, dev: dev)
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted() == ["checkpoint-3", "checkpoint-4"])

        var otherOptions = pruning
        otherOptions.seed = 10
        #expect {
            try Trainer(model: model, adapter: try smallIAPT(model), options: otherOptions).resume(from: folder)
        } throws: { error in
            guard case let .badCheckpoint(_, reason)? = error as? TrainingError else { return false }
            return reason.contains("seed 9 in the checkpoint, 10 now")
        }
        let trainer = try Trainer(model: model, adapter: try smallIAPT(model), options: pruning)
        try trainer.resume(from: folder)
        #expect(throws: TrainingError.self) { try trainer.train(on: Array(train.dropFirst()), dev: dev) }
        #expect(throws: TrainingError.self) { try trainer.train(on: train, dev: nil) }

        let lora = try LoRAAdapter(model: model, configuration: LoRAConfiguration(rank: 2), seed: 1)
        #expect(throws: TrainingError.self) { try Trainer(model: model, adapter: lora, options: pruning).resume(from: folder) }
        #expect(throws: TrainingError.self) {
            try Trainer(model: model, adapter: try smallIAPT(model), options: pruning).resume(from: folder.appendingPathComponent("nothing"))
        }
    }
}
