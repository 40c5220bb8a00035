/// An error reading or writing a model file (safetensors, `config.json`, a sharded index, a model
/// folder). Every case names the file and, where there is one, the key; `description` reads as one
/// line: "path: key 'name': what is wrong".
public enum ModelFileError: Error, Equatable, CustomStringConvertible {
    /// The file cannot be opened, read or memory-mapped. Associated values: the path, the reason.
    case unreadable(path: String, reason: String)
    /// The file or folder cannot be written. Associated values: the path, the reason.
    case unwritable(path: String, reason: String)
    /// A file the caller needs is not there. Associated values: the path looked at, what it is for.
    case missingFile(path: String, reason: String)
    /// A safetensors header is malformed: its length, JSON, fields, dtype, shape or offsets.
    /// Associated values: the path, the tensor name (`nil` for the header as a whole), the reason.
    case invalidHeader(path: String, key: String?, reason: String)
    /// A tensor's element type cannot be converted to `Float`, or cannot be written.
    /// Associated values: the path, the tensor name, the safetensors dtype (for example `U8`).
    case unsupportedDType(path: String, key: String, dtype: String)
    /// A tensor the caller asked for, or the model needs, is not there.
    /// Associated values: the path of the file (or sharded index) searched, the tensor name.
    case missingTensor(path: String, key: String)
    /// A tensor is not one the model has (refused when writing a model folder).
    /// Associated values: the path being written, the tensor name.
    case unexpectedTensor(path: String, key: String)
    /// A tensor's shape does not fit the model's config.
    /// Associated values: the path, the tensor name, the shape the config implies, the shape found.
    case shapeMismatch(path: String, key: String, expected: [Int], actual: [Int])
    /// A `config.json` value is missing, of the wrong type, out of range or unsupported.
    /// Associated values: the path, the JSON key (dotted for nested keys), the reason.
    case invalidConfig(path: String, key: String, reason: String)
    /// A `model.safetensors.index.json` is malformed. Associated values: the path, the key
    /// (`nil` for the index as a whole), the reason.
    case invalidIndex(path: String, key: String?, reason: String)
    /// A sharded index maps a tensor to a shard file that does not exist or cannot be opened.
    /// Associated values: the index path, the shard file name, the tensor name.
    case missingShard(index: String, shard: String, key: String)
    /// A sharded index maps a tensor to a shard that does not hold it.
    /// Associated values: the index path, the shard file name, the tensor name.
    case tensorNotInShard(index: String, shard: String, key: String)

    /// One line: the file, the key where there is one, and what is wrong.
    public var description: String {
        switch self {
        case let .unreadable(path, reason):
            return "\(path): cannot read: \(reason)"
        case let .unwritable(path, reason):
            return "\(path): cannot write: \(reason)"
        case let .missingFile(path, reason):
            return "\(path): missing: \(reason)"
        case let .invalidHeader(path, key?, reason):
            return "\(path): safetensors header, tensor '\(key)': \(reason)"
        case let .invalidHeader(path, nil, reason):
            return "\(path): safetensors header: \(reason)"
        case let .unsupportedDType(path, key, dtype):
            return "\(path): tensor '\(key)': dtype \(dtype) is not supported"
        case let .missingTensor(path, key):
            return "\(path): no tensor named '\(key)'"
        case let .unexpectedTensor(path, key):
            return "\(path): tensor '\(key)' is not a weight of this model"
        case let .shapeMismatch(path, key, expected, actual):
            return "\(path): tensor '\(key)' has shape \(actual), the config implies \(expected)"
        case let .invalidConfig(path, key, reason):
            return "\(path): key '\(key)': \(reason)"
        case let .invalidIndex(path, key?, reason):
            return "\(path): sharded index, key '\(key)': \(reason)"
        case let .invalidIndex(path, nil, reason):
            return "\(path): sharded index: \(reason)"
        case let .missingShard(index, shard, key):
            return "\(index): tensor '\(key)' is mapped to shard '\(shard)', which cannot be opened"
        case let .tensorNotInShard(index, shard, key):
            return "\(index): tensor '\(key)' is mapped to shard '\(shard)', which does not hold it"
        }
    }
}
