import ArgumentParser
import Foundation
import PEFT
import Transformer

/// `peft inspect`: an adapter's configuration and trainable parameters, like PEFT's
/// `print_trainable_parameters`.
struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Print an adapter's configuration, tensors and trainable-parameter count.")

    @Option(help: "The adapter folder.")
    var adapter: String

    @Option(help: "The base model folder; with it the adapter is loaded and checked against the model.")
    var model: String?

    func run() throws {
        let folder = URL(fileURLWithPath: adapter)
        let configurationURL = folder.appendingPathComponent(AdapterFiles.configurationFile)
        guard let configuration = FileManager.default.contents(atPath: configurationURL.path) else {
            throw ValidationError("cannot read \(configurationURL.path)")
        }
        guard let object = (try? JSONSerialization.jsonObject(with: configuration)) as? [String: Any] else {
            throw ValidationError("\(configurationURL.path) is not a JSON object")
        }
        guard let peftType = object["peft_type"] as? String else {
            throw ValidationError("\(configurationURL.path) has no \"peft_type\" string")
        }
        guard AdapterRegistry.builtIn.type(for: peftType) != nil else {
            throw ValidationError(
                "\(configurationURL.path): peft_type '\(peftType)' is not an adapter type this tool reads (\(AdapterRegistry.builtIn.peftTypes.joined(separator: ", ")))")
        }
        print(String(decoding: configuration, as: UTF8.self))
        let weights = try SafetensorsFile(contentsOf: folder.appendingPathComponent(AdapterFiles.weightsFile))
        var total = 0
        for name in weights.names {
            guard let info = weights.info(name) else { continue }
            total += info.elementCount
            print("  \(name)  \(info.dtype.rawValue) \(info.shape)")
        }
        guard let model else {
            print("trainable params: \(total)")
            return
        }
        let backbone = try LlamaModel(contentsOf: URL(fileURLWithPath: model))
        let loaded = try AdapterFiles.load(from: folder, model: backbone)
        let trainable = loaded.trainableParameterCount
        let all = trainable + backbone.parameterCount
        let share = String(format: "%.4f", 100 * Double(trainable) / Double(all))
        print("trainable params: \(trainable) || all params: \(all) || trainable%: \(share)")
    }
}
