import Comparison
import Foundation
import PEFT
import TaskSuite
import Transformer

/// The bundled base model in `Examples/BundledBase`: a 4.3-million-parameter LLaMA-shaped model with
/// its own 1,774-token byte-level BPE tokenizer, pre-trained by `peft pretrain` on the task suite's
/// plain-text world (see that folder's `README.md` and `pretraining.json`).
public enum BundledBase {
    /// The model folder, found next to this source file so it works from any working directory.
    public static let folder = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("BundledBase")

    /// The frozen model.
    /// - Throws: ``ModelFileError`` if the folder is missing or damaged.
    public static func load() throws -> LlamaModel {
        try LlamaModel(contentsOf: folder)
    }

    /// The model's tokenizer.
    /// - Throws: ``TokenizerError`` if `tokenizer.json` is missing or damaged.
    public static func tokenizer() throws -> BPETokenizer {
        try BPETokenizer(contentsOf: folder.appendingPathComponent("tokenizer.json"))
    }

    /// Encodes task-suite examples for this model as the comparison does (``ComparisonSettings/template``:
    /// BOS, prompt, answer, EOS; at most 256 tokens).
    public static func encoder() throws -> InstructionEncoder {
        try InstructionEncoder(tokenizer: tokenizer(), template: ComparisonSettings.template, maxLength: 256)
    }
}

extension TaskExample {
    /// The example as the trainer and evaluator take it (see ``ComparisonData/instruction(_:)``).
    public var instructionExample: InstructionExample { ComparisonData.instruction(self) }
}
