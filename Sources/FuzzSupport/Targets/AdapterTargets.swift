import Foundation
import PEFT
import Transformer

/// `adapter_config.json`, read through ``AdapterFiles/load(from:model:registry:)`` (the built-in
/// registry picks the type by `peft_type`) for the tiny model, beside the valid
/// `adapter_model.safetensors` of the seed it was mutated from; a loaded adapter runs a forward pass.
struct AdapterConfigTarget: FuzzTarget {
    let name = "adapter-config"
    let summary = "adapter_config.json beside valid weights: AdapterFiles.load for the tiny model, a forward pass"
    let format = FuzzInputFormat.json

    func makeExecutor(workspace: URL, corpus: SeedCorpus) throws -> any FuzzExecutor {
        try AdapterFolderExecutor(
            workspace: workspace, input: AdapterFiles.configurationFile,
            companion: AdapterFiles.weightsFile, companionFiles: corpus.files(for: AdapterWeightsTarget().name))
    }
}

/// `adapter_model.safetensors`, read through ``AdapterFiles/load(from:model:registry:)`` for the
/// tiny model beside the valid `adapter_config.json` of the seed it was mutated from; a loaded
/// adapter runs a forward pass.
struct AdapterWeightsTarget: FuzzTarget {
    let name = "adapter-weights"
    let summary = "adapter_model.safetensors beside a valid config: AdapterFiles.load for the tiny model, a forward pass"
    let format = FuzzInputFormat.binary

    func makeExecutor(workspace: URL, corpus: SeedCorpus) throws -> any FuzzExecutor {
        try AdapterFolderExecutor(
            workspace: workspace, input: AdapterFiles.weightsFile,
            companion: AdapterFiles.configurationFile, companionFiles: corpus.files(for: AdapterConfigTarget().name))
    }
}

/// An adapter folder in which one file is the input and the other is the companion seed file of
/// the same name (`lora.json` with `lora.safetensors`).
private final class AdapterFolderExecutor: FuzzExecutor {
    private let folder: URL
    private let input: URL
    private let companion: URL
    private let companionFiles: [String: [UInt8]]
    private let model: LlamaModel
    private var companionWritten: String?

    init(workspace: URL, input: String, companion: String, companionFiles: [CorpusFile]) throws {
        folder = workspace.appendingPathComponent("adapter")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        self.input = folder.appendingPathComponent(input)
        self.companion = folder.appendingPathComponent(companion)
        self.companionFiles = Dictionary(companionFiles.map { ($0.name, $0.bytes) }, uniquingKeysWith: { first, _ in first })
        model = try TinyModel.make()
    }

    func run(_ input: FuzzInput) -> FuzzOutcome {
        outcome {
            if companionWritten != input.seedName {
                guard let bytes = companionFiles[input.seedName] else {
                    throw FuzzError.corpus("no companion seed file \(input.seedName) for \(companion.lastPathComponent)")
                }
                try writeInput(bytes, to: companion)
                companionWritten = input.seedName
            }
            try writeInput(input.bytes, to: self.input)
            let adapter = try AdapterFiles.load(from: folder, model: model)
            try TinyModel.exercise(model, adapter: adapter)
        }
    }
}
