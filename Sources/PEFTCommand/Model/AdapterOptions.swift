import ArgumentParser
import Foundation
import PEFT
import Transformer

/// `--adapter DIR`: an adapter folder in PEFT's layout, optional.
struct AdapterOptions: ParsableArguments {
    @Option(name: .long, help: "An adapter folder (adapter_config.json + adapter_model.safetensors).")
    var adapter: String?

    /// The adapter for `model`, if one was given.
    func load(for model: LlamaModel) throws -> (any Adapter)? {
        try adapter.map { try AdapterFiles.load(from: URL(fileURLWithPath: $0), model: model) }
    }
}
