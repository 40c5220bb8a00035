/// An error reading a GGUF file (llama.cpp's format) or mapping it onto a LLaMA model.
///
/// Every case names the file and, where there is one, the metadata key or tensor name;
/// `description` reads as one line: "path: GGUF …, key 'name': what is wrong".
public enum GGUFError: Error, Equatable, CustomStringConvertible {
    /// The header, a metadata entry or a tensor info is malformed: wrong magic or version,
    /// truncated, a count, length or alignment out of range, an unknown value type, a duplicate key.
    /// Associated values: the path, the metadata key or tensor name being read (`nil` for the
    /// header's fixed fields), the reason.
    case invalidHeader(path: String, key: String?, reason: String)
    /// A tensor's description does not fit the file: unknown ggml type, bad dimensions, a row
    /// that is not whole blocks, data outside the file, misaligned or overlapping.
    /// Associated values: the path, the tensor name, the reason.
    case invalidTensor(path: String, tensor: String, reason: String)
    /// A tensor's ggml type is valid but cannot be dequantised by this package.
    /// Associated values: the path, the tensor name, the type's name (for example `Q2_K`).
    case unsupportedType(path: String, tensor: String, type: String)
    /// A tensor the caller asked for, or the model needs, is not in the file.
    /// Associated values: the path, the tensor's GGUF name.
    case missingTensor(path: String, tensor: String)
    /// The metadata does not describe a LLaMA model this package runs: another architecture, a
    /// missing or out-of-range hyperparameter, RoPE scaling, a tensor of the wrong shape.
    /// Associated values: the path, the metadata key or tensor name, the reason.
    case unsupportedModel(path: String, key: String, reason: String)

    /// One line: the file, the key or tensor where there is one, and what is wrong.
    public var description: String {
        switch self {
        case let .invalidHeader(path, key?, reason):
            return "\(path): GGUF header, key '\(key)': \(reason)"
        case let .invalidHeader(path, nil, reason):
            return "\(path): GGUF header: \(reason)"
        case let .invalidTensor(path, tensor, reason):
            return "\(path): GGUF tensor '\(tensor)': \(reason)"
        case let .unsupportedType(path, tensor, type):
            return "\(path): GGUF tensor '\(tensor)': ggml type \(type) is not supported "
                + "(supported: \(GGMLType.dequantizable.map(\.name).joined(separator: ", ")))"
        case let .missingTensor(path, tensor):
            return "\(path): GGUF file has no tensor named '\(tensor)'"
        case let .unsupportedModel(path, key, reason):
            return "\(path): GGUF model, key '\(key)': \(reason)"
        }
    }
}
