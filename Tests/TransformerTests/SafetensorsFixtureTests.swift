import Foundation
import Tensor
import Testing
import Transformer

@Suite("Reading safetensors files written by Python")
struct SafetensorsFixtureTests {
    private struct Expected: Decodable {
        struct Entry: Decodable {
            let dtype: String
            let shape: [Int]
            let values: [Float]
        }
        let metadata: [String: String]
        let tensors: [String: Entry]
    }

    @Test func pythonWrittenTensorsOfEveryDTypeMatchTheirValues() throws {
        let expected = try JSONDecoder().decode(Expected.self, from: Data(contentsOf: Fixtures.pythonSafetensorsValues))
        let file = try SafetensorsFile(contentsOf: Fixtures.pythonSafetensors)
        #expect(file.metadata == expected.metadata)
        #expect(file.names == expected.tensors.keys.sorted())
        for (name, entry) in expected.tensors {
            let info = try #require(file.info(name))
            #expect(info.dtype.rawValue == entry.dtype, "\(name)")
            #expect(info.shape == entry.shape, "\(name)")
            guard info.dtype.convertsToFloat else { continue }
            let tensor = try file.tensor(named: name)
            #expect(tensor.shape == entry.shape)
            #expect(tensor.scalars.map(\.bitPattern) == entry.values.map(\.bitPattern), "\(name)")
        }
    }

    @Test func unsupportedDTypeIsNamedWithFileAndKey() throws {
        let file = try SafetensorsFile(contentsOf: Fixtures.pythonSafetensors)
        let path = Fixtures.pythonSafetensors.path
        #expect(throws: ModelFileError.unsupportedDType(path: path, key: "u8.bytes", dtype: "U8")) {
            try file.tensor(named: "u8.bytes")
        }
        #expect(throws: ModelFileError.missingTensor(path: path, key: "nope")) {
            try file.tensor(named: "nope")
        }
        let message = ModelFileError.unsupportedDType(path: path, key: "u8.bytes", dtype: "U8").description
        #expect(message.contains("python-mixed.safetensors") && message.contains("u8.bytes") && message.contains("U8"))
    }

    @Test func transformersCheckpointsOpenWithTheirDTypes() throws {
        let f32 = try SafetensorsFile(contentsOf: Fixtures.model("llama-mha-f32").appendingPathComponent("model.safetensors"))
        #expect(f32.names.count == 21)
        #expect(f32.info("model.embed_tokens.weight")?.shape == [96, 32])
        #expect(f32.info("model.embed_tokens.weight")?.dtype == .f32)
        let bf16 = try SafetensorsFile(contentsOf: Fixtures.model("llama-bf16").appendingPathComponent("model.safetensors"))
        #expect(bf16.info("model.norm.weight")?.dtype == .bf16)
        let norm = try bf16.tensor(named: "model.norm.weight")
        #expect(norm.scalars.allSatisfy { $0.bitPattern & 0xFFFF == 0 }, "bf16 widened exactly")
        #expect(norm.scalars.contains { $0 != 0 })
    }
}
