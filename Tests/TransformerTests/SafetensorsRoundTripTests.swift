import Foundation
import Tensor
import Testing
import Transformer

@Suite("Safetensors writer and reader round trip")
struct SafetensorsRoundTripTests {
    @Test func float32RoundTripIsExact() throws {
        try withTemporaryFolder { folder in
            let url = folder.appendingPathComponent("a.safetensors")
            let tensors = try sampleTensors(seed: 1)
            try SafetensorsWriter.write(tensors, to: url, metadata: ["format": "pt", "note": "ünïcode / slash"])
            let file = try SafetensorsFile(contentsOf: url)
            #expect(file.names == tensors.keys.sorted())
            #expect(file.metadata == ["format": "pt", "note": "ünïcode / slash"])
            #expect(try file.allTensors() == tensors)
            #expect(file.info("layer.weight")?.dtype == .f32)
            #expect(file.info("layer.weight")?.shape == [3, 5])
        }
    }

    @Test(arguments: [SafetensorsDType.bf16, .f16])
    func halfPrecisionRoundTripRoundsToNearest(dtype: SafetensorsDType) throws {
        try withTemporaryFolder { folder in
            let url = folder.appendingPathComponent("half.safetensors")
            let tensors = try sampleTensors(seed: 2)
            try SafetensorsWriter.write(tensors, to: url, dtype: dtype)
            let file = try SafetensorsFile(contentsOf: url)
            #expect(file.metadata.isEmpty)
            for (name, original) in tensors {
                let read = try file.tensor(named: name)
                #expect(file.info(name)?.dtype == dtype)
                #expect(read.shape == original.shape)
                let rounded = original.scalars.map { value in
                    dtype == .bf16
                        ? HalfPrecision.float(fromBFloat16: HalfPrecision.bfloat16(from: value))
                        : HalfPrecision.float(fromFloat16: HalfPrecision.float16(from: value))
                }
                #expect(read.scalars == rounded, "\(name)")
            }
        }
    }

    @Test func headerIsPaddedToEightBytesAndDataFollowsSortedNames() throws {
        try withTemporaryFolder { folder in
            let url = folder.appendingPathComponent("layout.safetensors")
            let tensors = ["b": Tensor([1, 2, 3]), "a": Tensor([4]), "c": try Tensor(rows: [[5, 6], [7, 8]])]
            try SafetensorsWriter.write(tensors, to: url, metadata: ["k": "v"])
            let bytes = try [UInt8](Data(contentsOf: url))
            let headerLength = Int(bytes[0..<8].reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) })
            #expect(headerLength % 8 == 0)
            let header = try #require(String(bytes: bytes[8..<(8 + headerLength)], encoding: .utf8))
            #expect(header.hasPrefix("{"))
            #expect(header.trimmingCharacters(in: .whitespaces).hasSuffix("}"))
            #expect(bytes.count == 8 + headerLength + 4 * 8)
            let file = try SafetensorsFile(contentsOf: url)
            #expect(file.info("a")?.dataOffsets == 0..<4)
            #expect(file.info("b")?.dataOffsets == 4..<16)
            #expect(file.info("c")?.dataOffsets == 16..<32)
        }
    }

    @Test func writingReplacesTheFileAndLeavesNoTemporaryFile() throws {
        try withTemporaryFolder { folder in
            let url = folder.appendingPathComponent("model.safetensors")
            try SafetensorsWriter.write(["x": Tensor([1, 2])], to: url)
            let before = try SafetensorsFile(contentsOf: url)
            try SafetensorsWriter.write(["y": Tensor([3])], to: url)
            #expect(try SafetensorsFile(contentsOf: url).names == ["y"])
            #expect(try before.tensor(named: "x") == Tensor([1, 2]), "an open mapping keeps the old bytes")
            #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == ["model.safetensors"])
        }
    }

    @Test func writingIntoAMissingFolderThrowsUnwritable() throws {
        let url = URL(fileURLWithPath: "/nonexistent-\(UUID().uuidString)/a.safetensors")
        #expect {
            try SafetensorsWriter.write(["x": Tensor([1])], to: url)
        } throws: { error in
            guard case .unwritable(let path, _) = error as? ModelFileError else { return false }
            return path == url.path
        }
    }

    @Test func writerRefusesReservedNameAndNonFloatDType() throws {
        try withTemporaryFolder { folder in
            let url = folder.appendingPathComponent("bad.safetensors")
            #expect(throws: ModelFileError.self) {
                try SafetensorsWriter.write(["__metadata__": Tensor([1])], to: url)
            }
            #expect(throws: ModelFileError.unsupportedDType(path: url.path, key: "*", dtype: "I32")) {
                try SafetensorsWriter.write(["x": Tensor([1])], to: url, dtype: .i32)
            }
            let leftBehind = try FileManager.default.contentsOfDirectory(atPath: folder.path)
            #expect(leftBehind.isEmpty)
        }
    }
}
