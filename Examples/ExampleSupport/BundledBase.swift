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

    /// Prompts as `{instruction} {input} Answer:`. The base model saw only single-line text, so
    /// the template uses no line breaks (whose embeddings it never learned, and which stay frozen).
    public static let template = PromptTemplate(withInput: "{instruction} {input} Answer:", withoutInput: "{instruction} Answer:")

    /// Encodes task-suite examples for this model (BOS, prompt, answer, EOS; at most 256 tokens).
    public static func encoder() throws -> InstructionEncoder {
        try InstructionEncoder(tokenizer: tokenizer(), template: template, maxLength: 256)
    }
}

extension TaskExample {
    /// The example as the trainer and evaluator take it, its task's name as the origin. The answer
    /// gets a leading space: byte-level BPE words carry the space before them (` negative` is one
    /// token of the bundled tokenizer, `negative` six), and exact match ignores it.
    public var instructionExample: InstructionExample {
        InstructionExample(instruction: instruction, input: input, output: " " + output, origin: task.rawValue)
    }
}
