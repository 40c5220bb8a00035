import Foundation
import Tensor

/// Named tensors stored on disk and read on demand: a safetensors file or a sharded checkpoint.
public protocol TensorSource: Sendable {
    /// The file the tensors are read from, or the sharded index that lists them.
    var url: URL { get }
    /// Every tensor name, sorted.
    var names: [String] { get }
    /// The dtype, shape and byte range of the tensor `name`, or `nil` if there is none.
    func info(_ name: String) -> SafetensorsTensorInfo?
    /// The tensor `name`, converted to `Float`.
    /// - Throws: ``ModelFileError/missingTensor(path:key:)`` if there is none,
    ///   ``ModelFileError/unsupportedDType(path:key:dtype:)`` if its dtype does not convert to `Float`.
    func tensor(named name: String) throws -> Tensor
}

extension TensorSource {
    /// Whether a tensor called `name` is stored.
    public func contains(_ name: String) -> Bool { info(name) != nil }

    /// Every tensor, converted to `Float`, by name.
    /// - Throws: what ``tensor(named:)`` throws, for the first tensor that fails.
    public func allTensors() throws -> [String: Tensor] {
        var tensors: [String: Tensor] = [:]
        for name in names { tensors[name] = try tensor(named: name) }
        return tensors
    }
}
