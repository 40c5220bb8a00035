// A new adapter type written outside the library: IA³ (IA3Adapter.swift in this folder, its
// parameters made and read by the library's ParameterBuilder), registered with an AdapterMethod,
// created by name, trained by the library's trainer, saved in PEFT's layout and read back. Nothing
// in the library was edited to make this work.
import Autograd
import ExampleSupport
import Foundation
import PEFT
import Transformer

let world = ToyWorld()
let model = try TinyBase.load()
let registry = AdapterRegistry.builtIn.registering(IA3Adapter.method)
let ia3 = try registry.makeAdapter(method: "ia3", for: model)
try Workflow.fineTuneAndCompare(ia3, name: "IA³ (custom adapter: rescaled keys, values and MLP inputs)", model: model, world: world, tasks: [0, 2], epochs: 8, learningRate: 3e-2)

Workflow.heading("Saving and loading a type the library does not know")
let folder = FileManager.default.temporaryDirectory.appendingPathComponent("swift-peft-example-ia3")
try AdapterFiles.save(ia3, to: folder)
do {
    _ = try AdapterFiles.load(from: folder, model: model)
} catch {
    print("  with the built-in registry: \(error)")
}
let reloaded = try AdapterFiles.load(from: folder, model: model, registry: registry)
let test = world.examples(tasks: [0, 2], words: world.testWords, seed: 5)
let original = try Workflow.accuracy(model: model, adapter: ia3, on: test).accuracy
let again = try Workflow.accuracy(model: model, adapter: reloaded, on: test).accuracy
print("  with IA3Adapter.method registered: loaded a \(type(of: reloaded).peftType) adapter; accuracy \(original) before saving, \(again) after loading")
