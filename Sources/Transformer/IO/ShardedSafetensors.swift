import Foundation
import Tensor

/// A checkpoint split over several safetensors files ("shards") in one folder, listed by a
/// `model.safetensors.index.json` whose `weight_map` maps each tensor name to its shard's file name.
///
/// Every shard is mapped and every listed tensor is checked to be in its shard when the index is
/// opened, so a broken checkpoint fails at once, naming the index, the shard and the tensor.
/// Tensors that a shard holds but the index does not list are ignored, as transformers does.
public struct ShardedSafetensors: TensorSource {
    /// The index file.
    public let url: URL
    /// Every tensor name the index lists, sorted.
    public let names: [String]
    private let shardByName: [String: SafetensorsFile]

    /// Reads the index at `indexURL` and opens the shards it names, in the same folder.
    /// - Throws: ``ModelFileError/unreadable(path:reason:)`` if the index cannot be read;
    ///   ``ModelFileError/invalidIndex(path:key:reason:)`` if it is not JSON, lacks `weight_map`, or
    ///   names a shard that is not a plain file name; ``ModelFileError/missingShard(index:shard:key:)``
    ///   if a shard cannot be opened; ``ModelFileError/tensorNotInShard(index:shard:key:)`` if a
    ///   shard lacks a tensor mapped to it; what ``SafetensorsFile/init(contentsOf:)`` throws for
    ///   a shard whose header is invalid.
    public init(indexURL: URL) throws {
        let path = indexURL.path
        let index = try Self.readIndex(at: indexURL)
        let folder = indexURL.deletingLastPathComponent()
        var shards: [String: SafetensorsFile] = [:]
        var shardByName: [String: SafetensorsFile] = [:]
        for (name, shardName) in index.weightMap.sorted(by: { $0.key < $1.key }) {
            guard !shardName.isEmpty, shardName != ".", shardName != "..", !shardName.contains("/") else {
                throw ModelFileError.invalidIndex(path: path, key: name, reason: "shard '\(shardName)' is not a file name in the index's folder")
            }
            if shards[shardName] == nil {
                let shardURL = folder.appendingPathComponent(shardName)
                do {
                    shards[shardName] = try SafetensorsFile(contentsOf: shardURL)
                } catch ModelFileError.unreadable {
                    throw ModelFileError.missingShard(index: path, shard: shardName, key: name)
                }
            }
            guard let shard = shards[shardName], shard.contains(name) else {
                throw ModelFileError.tensorNotInShard(index: path, shard: shardName, key: name)
            }
            shardByName[name] = shard
        }
        self.url = indexURL
        self.names = shardByName.keys.sorted()
        self.shardByName = shardByName
    }

    /// The dtype, shape and byte range (within its shard) of the tensor `name`, or `nil`.
    public func info(_ name: String) -> SafetensorsTensorInfo? { shardByName[name]?.info(name) }

    /// The tensor `name`, read from its shard and converted to `Float`.
    /// - Throws: ``ModelFileError/missingTensor(path:key:)`` naming the index if it lists no such
    ///   tensor; ``ModelFileError/unsupportedDType(path:key:dtype:)`` naming the shard.
    public func tensor(named name: String) throws -> Tensor {
        guard let shard = shardByName[name] else { throw ModelFileError.missingTensor(path: url.path, key: name) }
        return try shard.tensor(named: name)
    }

    /// The URL of the shard that holds `name`, or `nil` if the index does not list it.
    public func shardURL(of name: String) -> URL? { shardByName[name]?.url }

    /// The decoded index file; its `metadata` (`total_size`, …) is not needed and not read.
    private struct Index: Decodable {
        let weightMap: [String: String]

        private enum CodingKeys: String, CodingKey { case weightMap = "weight_map" }
    }

    private static func readIndex(at url: URL) throws -> Index {
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw ModelFileError.unreadable(path: url.path, reason: error.localizedDescription)
        }
        do {
            return try JSONDecoder().decode(Index.self, from: data)
        } catch DecodingError.keyNotFound(let key, _) {
            throw ModelFileError.invalidIndex(path: url.path, key: key.stringValue, reason: "missing")
        } catch DecodingError.typeMismatch(_, let context) {
            throw ModelFileError.invalidIndex(
                path: url.path, key: context.codingPath.first?.stringValue,
                reason: "wrong type: \(context.debugDescription)")
        } catch {
            throw ModelFileError.invalidIndex(path: url.path, key: nil, reason: "not a JSON object with a weight_map")
        }
    }
}
