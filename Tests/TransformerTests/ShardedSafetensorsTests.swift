import Foundation
import Tensor
import Testing
import Transformer

@Suite("Sharded safetensors checkpoints")
struct ShardedSafetensorsTests {
    private let fixture = Fixtures.model("llama-sharded-f32")
    private let indexName = "model.safetensors.index.json"

    /// Copies the sharded fixture into `folder` and returns the copy's index URL.
    private func copyFixture(into folder: URL) throws -> URL {
        let copy = folder.appendingPathComponent("sharded")
        try FileManager.default.copyItem(at: fixture, to: copy)
        return copy.appendingPathComponent(indexName)
    }

    @Test func readsEveryTensorAcrossShards() throws {
        let sharded = try ShardedSafetensors(indexURL: fixture.appendingPathComponent(indexName))
        #expect(sharded.names.count == 21)
        let shards = Set(sharded.names.compactMap { sharded.shardURL(of: $0)?.lastPathComponent })
        #expect(shards.count == 4)
        let embed = try sharded.tensor(named: "model.embed_tokens.weight")
        #expect(embed.shape == [64, 32])
        let down = try sharded.tensor(named: "model.layers.1.mlp.down_proj.weight")
        #expect(down.shape == [32, 96])
        let shardURL = try #require(sharded.shardURL(of: "model.layers.1.mlp.down_proj.weight"))
        #expect(try SafetensorsFile(contentsOf: shardURL).tensor(named: "model.layers.1.mlp.down_proj.weight") == down)
        #expect(throws: ModelFileError.missingTensor(path: sharded.url.path, key: "absent")) {
            try sharded.tensor(named: "absent")
        }
    }

    @Test func missingShardNamesIndexShardAndTensor() throws {
        try withTemporaryFolder { folder in
            let index = try copyFixture(into: folder)
            let shard = "model-00002-of-00004.safetensors"
            try FileManager.default.removeItem(at: index.deletingLastPathComponent().appendingPathComponent(shard))
            #expect {
                try ShardedSafetensors(indexURL: index)
            } throws: { error in
                guard case .missingShard(let indexPath, let shardName, let key) = error as? ModelFileError else { return false }
                return indexPath == index.path && shardName == shard && !key.isEmpty
                    && "\(error)".contains(shard) && "\(error)".contains(indexName)
            }
        }
    }

    @Test func tensorListedButAbsentFromItsShardIsNamed() throws {
        try withTemporaryFolder { folder in
            let index = try copyFixture(into: folder)
            var object = try jsonObject(at: index)
            var map = try #require(object["weight_map"] as? [String: String])
            map["model.extra.weight"] = "model-00001-of-00004.safetensors"
            object["weight_map"] = map
            try writeJSON(object, to: index)
            #expect(throws: ModelFileError.tensorNotInShard(
                index: index.path, shard: "model-00001-of-00004.safetensors", key: "model.extra.weight")) {
                try ShardedSafetensors(indexURL: index)
            }
        }
    }

    @Test func malformedIndexesThrowInvalidIndex() throws {
        try withTemporaryFolder { folder in
            let index = try copyFixture(into: folder)
            let cases: [(text: String, key: String?)] = [
                (#"{"metadata":{}}"#, "weight_map"),
                (#"{"weight_map":{"a":1}}"#, "weight_map"),
                (#"{"weight_map":{"a":"../elsewhere.safetensors"}}"#, "a"),
                (#"{"weight_map":{"a":""}}"#, "a"),
                ("[]", nil),
                ("{", nil),
            ]
            for (text, key) in cases {
                try Data(text.utf8).write(to: index)
                do {
                    _ = try ShardedSafetensors(indexURL: index)
                    Issue.record("accepted \(text)")
                } catch let ModelFileError.invalidIndex(path, errorKey, _) {
                    #expect(path == index.path)
                    #expect(errorKey == key, "\(text)")
                } catch {
                    Issue.record("\(text): unexpected \(error)")
                }
            }
        }
    }
}
