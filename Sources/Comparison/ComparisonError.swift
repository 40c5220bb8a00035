/// An error from planning, running or rendering a comparison: what is wrong, and where.
public enum ComparisonError: Error, Equatable, CustomStringConvertible {
    /// A setting is out of range or malformed; associated values: the option (as the command spells
    /// it, such as `--seeds`) and why.
    case invalidOption(option: String, reason: String)
    /// A base model folder is missing or lacks a file; associated values: the base's name, its path
    /// and what is missing.
    case badBase(name: String, path: String, reason: String)
    /// The work directory holds runs made with another training recipe; associated values: the
    /// directory and the settings that differ (`name: stored → requested`).
    case workDirectoryMismatch(path: String, differences: [String])
    /// There is nothing to render: the work directory has no comparison manifest.
    case nothingToRender(path: String)
    /// A file cannot be read or written; associated values: the path and why.
    case fileError(path: String, reason: String)

    public var description: String {
        switch self {
        case let .invalidOption(option, reason): return "\(option): \(reason)"
        case let .badBase(name, path, reason):
            return "base '\(name)' at \(path): \(reason) (pass --base NAME=PATH with a Hugging Face folder: config.json, model.safetensors, tokenizer.json)"
        case let .workDirectoryMismatch(path, differences):
            return "\(path) holds runs made with other settings (\(differences.joined(separator: "; "))); "
                + "use another --work-directory, or delete it to start over"
        case let .nothingToRender(path):
            return "\(path) holds no comparison (no comparison.json); run `peft compare` without --render-only first"
        case let .fileError(path, reason): return "\(path): \(reason)"
        }
    }
}
