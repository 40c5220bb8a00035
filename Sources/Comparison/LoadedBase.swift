import Foundation
import PEFT
import TaskSuite
import Transformer

/// The suite's examples as the comparison uses them: generated once from the fixed data seed.
public struct ComparisonData: Sendable {
    /// The generated suite (only the compared tasks).
    public let suite: TaskSuiteData

    /// The suite of `settings`: ``ComparisonSettings/sizes`` examples of each compared task per split,
    /// from ``ComparisonSettings/dataSeed``.
    /// - Throws: ``TaskSuiteError`` if a size is out of range or the world runs out of distinct examples.
    public init(settings: ComparisonSettings) throws {
        suite = try TaskSuite.generate(seed: settings.dataSeed, sizes: settings.sizes, tasks: settings.tasks)
    }

    /// The examples of `split`, of one task or (for `nil`) every task, in the suite's order.
    public func examples(in split: TaskSplit, task: TaskKind?) -> [TaskExample] {
        suite.examples(in: split, task: task)
    }

    /// `example` as the trainer and evaluator take it, with its task as the origin. The template
    /// (``PromptTemplate/compact``) puts a space before the answer: byte-level BPE words carry the
    /// space before them (` negative` is one token of the bundled tokenizer, `negative` several), and
    /// exact match ignores surrounding spaces.
    public static func instruction(_ example: TaskExample) -> InstructionExample {
        InstructionExample(instruction: example.instruction, input: example.input, output: example.output, origin: example.task.rawValue)
    }
}

/// A base model ready for runs: the frozen model, the encoder of its tokenizer and its description.
final class LoadedBase {
    let model: LlamaModel
    let encoder: InstructionEncoder
    let description: BaseDescription

    /// Loads the base of `spec` (a Hugging Face folder or a GGUF file, relative to the current
    /// directory) and sizes its encoder on `data`.
    /// - Throws: ``ComparisonError/badBase(name:path:reason:)`` for a missing folder or file, a model or
    ///   tokenizer that cannot be read, or a tokenizer without EOS (answers must end).
    init(spec: BaseSpec, data: ComparisonData) throws {
        let url = URL(fileURLWithPath: spec.path)
        func fail(_ reason: String) -> ComparisonError { .badBase(name: spec.name, path: spec.path, reason: reason) }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else { throw fail("no such folder or file") }
        if isDirectory.boolValue {
            for file in [ModelFolder.FileName.config, ModelFolder.FileName.tokenizer] {
                guard FileManager.default.fileExists(atPath: url.appendingPathComponent(file).path) else { throw fail("no \(file)") }
            }
        } else if !ModelSource.isGGUF(url) {
            throw fail("not a model folder or a .gguf file")
        }
        let tokenizer: BPETokenizer
        do {
            model = try LlamaModel(contentsOf: url)
            tokenizer = try BPETokenizer(modelAt: url)
        } catch {
            throw fail("\(error)")
        }
        guard tokenizer.eosTokenID != nil else { throw fail("the tokenizer has no EOS token, so answers cannot end") }
        // Size the encoder so that no example is cut, and generation so that the longest answer fits.
        let unbounded = try InstructionEncoder(
            tokenizer: tokenizer, template: ComparisonSettings.template, maxLength: Int(Int32.max))
        var maxLength = 2, maxNewTokens = 1
        for example in data.suite.examples {
            let encoded = try unbounded.encode(ComparisonData.instruction(example))
            maxLength = max(maxLength, encoded.tokens.count)
            maxNewTokens = max(maxNewTokens, encoded.responseLength)
        }
        encoder = try InstructionEncoder(tokenizer: tokenizer, template: ComparisonSettings.template, maxLength: maxLength)

        let iaptParameters: Int
        let lora: (rank: Int, parameterCount: Int)
        do {
            iaptParameters = try IAPTAdapter(model: model, configuration: IAPTConfiguration()).trainableParameterCount
            lora = try LoRARankMatching.closestRank(toParameterCount: iaptParameters, model: model)
        } catch {
            throw fail("cannot build the adapters: \(error)")
        }
        let config = model.config
        description = BaseDescription(
            spec: spec, layers: config.numHiddenLayers, hiddenSize: config.hiddenSize, intermediateSize: config.intermediateSize,
            attentionHeads: config.numAttentionHeads, keyValueHeads: config.numKeyValueHeads, vocabularySize: config.vocabSize,
            parameterCount: model.parameterCount, iaptParameters: iaptParameters, loraRank: lora.rank,
            loraParameters: lora.parameterCount, maxNewTokens: maxNewTokens, maxLength: maxLength)
    }
}
