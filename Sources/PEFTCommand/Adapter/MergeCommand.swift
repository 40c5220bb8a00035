import ArgumentParser
import Foundation
import PEFT
import Transformer

/// `peft merge`: fold a LoRA adapter into the base weights and write a plain model folder.
struct MergeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge",
        abstract: "Merge a LoRA adapter into the model's weights and save the result as a model folder.")

    @OptionGroup var model: ModelOptions

    @Option(help: "The LoRA adapter folder.")
    var adapter: String

    @Option(help: "Where to write the merged model folder.")
    var out: String

    func run() throws {
        let outURL = URL(fileURLWithPath: out)
        try OutputFolder.checkWritable(outURL, option: "--out")
        try OutputFolder.requireEmpty(outURL, option: "--out")
        let backbone = try model.loadModel()
        let loaded = try AdapterFiles.load(from: URL(fileURLWithPath: adapter), model: backbone)
        guard let lora = loaded as? LoRAAdapter else {
            throw ValidationError(
                "only LoRA adapters can be merged into the weights; a \(type(of: loaded).peftType) adapter adds prompts, which no weight can hold")
        }
        try lora.merge(into: backbone)
        try backbone.save(to: URL(fileURLWithPath: out), extraFiles: try model.tokenizerFiles())
        print("merged \(lora.factors.count) projections into \(out)")
    }
}
