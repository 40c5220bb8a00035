import Foundation
import Transformer

/// `model.safetensors`: the header (length, JSON, dtypes, shapes, offsets) through
/// ``SafetensorsFile/init(contentsOf:)``, then every tensor read and converted.
struct SafetensorsHeaderTarget: FuzzTarget {
    let name = "safetensors-header"
    let summary = "a safetensors file: SafetensorsFile(contentsOf:), then every tensor read"
    let format = FuzzInputFormat.binary

    func makeExecutor(workspace: URL, corpus: SeedCorpus) throws -> any FuzzExecutor {
        Executor(file: workspace.appendingPathComponent("model.safetensors"))
    }

    private struct Executor: FuzzExecutor {
        let file: URL
        func run(_ input: FuzzInput) -> FuzzOutcome {
            outcome {
                try writeInput(input.bytes, to: file)
                let safetensors = try SafetensorsFile(contentsOf: file)
                for name in safetensors.names where safetensors.info(name)?.dtype.convertsToFloat == true {
                    _ = try safetensors.tensor(named: name)
                }
            }
        }
    }
}

/// `model.safetensors.index.json` of a model folder whose config and two shards are the tiny
/// model's: ``ModelFolder/init(_:)``, then the model loaded and run.
struct ShardedIndexTarget: FuzzTarget {
    let name = "sharded-index"
    let summary = "model.safetensors.index.json beside two valid shards: ModelFolder, LlamaModel, a forward pass"
    let format = FuzzInputFormat.json

    func makeExecutor(workspace: URL, corpus: SeedCorpus) throws -> any FuzzExecutor {
        let model = try TinyModel.make()
        try model.config.write(to: workspace.appendingPathComponent(ModelFolder.FileName.config))
        for (shard, name) in zip(TinyModel.shards(of: model), TinyModel.shardNames) {
            try SafetensorsWriter.write(shard, to: workspace.appendingPathComponent(name), metadata: ["format": "pt"])
        }
        return ModelFolderExecutor(folder: workspace, input: workspace.appendingPathComponent(ModelFolder.FileName.shardIndex))
    }
}

/// `config.json` of a model folder whose `model.safetensors` is the tiny model's:
/// ``ModelFolder/init(_:)`` (which reads ``LlamaConfig``), then the model loaded and run.
struct ConfigJSONTarget: FuzzTarget {
    let name = "config-json"
    let summary = "config.json beside a valid model.safetensors: LlamaConfig, ModelFolder, LlamaModel, a forward pass"
    let format = FuzzInputFormat.json

    func makeExecutor(workspace: URL, corpus: SeedCorpus) throws -> any FuzzExecutor {
        let model = try TinyModel.make()
        try SafetensorsWriter.write(
            model.weights, to: workspace.appendingPathComponent(ModelFolder.FileName.weights), metadata: ["format": "pt"])
        return ModelFolderExecutor(folder: workspace, input: workspace.appendingPathComponent(ModelFolder.FileName.config))
    }
}

/// Writes the input to one file of a model folder, opens the folder as `peft` does
/// (``LlamaModel/init(contentsOf:trainable:)``) and runs a short forward pass.
private struct ModelFolderExecutor: FuzzExecutor {
    let folder: URL
    let input: URL

    func run(_ input: FuzzInput) -> FuzzOutcome {
        outcome {
            try writeInput(input.bytes, to: self.input)
            try TinyModel.exercise(LlamaModel(contentsOf: folder))
        }
    }
}

/// A GGUF file: ``GGUFFile/init(contentsOf:)`` (header, metadata, tensor infos), every tensor
/// dequantised, then the GGUF tokenizer built and used and ``GGUFCheckpoint``, the model loaded and
/// run, as `peft` does with a `.gguf` model. The input counts as accepted when the file opens and
/// every tensor dequantises (a GGUF file need not hold a LLaMA model or a tokenizer).
struct GGUFTarget: FuzzTarget {
    let name = "gguf"
    let summary = "a GGUF file: GGUFFile, every tensor dequantised, GGUFCheckpoint, LlamaModel, the GGUF tokenizer"
    let format = FuzzInputFormat.binary

    func makeExecutor(workspace: URL, corpus: SeedCorpus) throws -> any FuzzExecutor {
        Executor(file: workspace.appendingPathComponent("model.gguf"))
    }

    private struct Executor: FuzzExecutor {
        let file: URL
        func run(_ input: FuzzInput) -> FuzzOutcome {
            outcome {
                try writeInput(input.bytes, to: file)
                let gguf = try GGUFFile(contentsOf: file)
                for info in gguf.tensorInfos where info.type.isDequantizable {
                    _ = try gguf.tensor(named: info.name)
                }
                // What the file describes is used as far as it goes; the outcome is the parser's.
                if let tokenizer = try? BPETokenizer(ggufMetadata: gguf.metadata, source: file.path) {
                    try? TokenizerJSONTarget.exercise(tokenizer)
                }
                if let checkpoint = try? GGUFCheckpoint(file: gguf), let model = try? LlamaModel(gguf: checkpoint) {
                    try? TinyModel.exercise(model)
                }
            }
        }
    }
}
