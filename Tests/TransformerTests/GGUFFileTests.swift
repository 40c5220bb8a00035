import Foundation
import Tensor
import Testing
import Transformer

/// Parsing GGUF headers: every value type, tensor infos, and hostile or truncated files, which must
/// throw a `GGUFError` naming the key or tensor, never trap.
@Suite("GGUF file reader")
struct GGUFFileTests {
    @Test("A valid file gives every metadata value and tensor")
    func readsValidFile() throws {
        try withTemporaryFolder { folder in
            let url = folder.appendingPathComponent("sample.gguf")
            try Data(GGUFBytes.sample).write(to: url)
            let file = try GGUFFile(contentsOf: url)
            #expect(file.version == 3)
            #expect(file.alignment == 32)
            let metadata = file.metadata
            #expect(metadata["general.architecture"] == .string("test"))
            #expect(metadata["u8"] == .uint8(200) && metadata["i8"] == .int8(-2))
            #expect(metadata["u16"] == .uint16(60000) && metadata["i16"] == .int16(-300))
            #expect(metadata["u32"]?.int == 4_000_000_000 && metadata["i32"]?.int == -70000)
            #expect(metadata["u64"]?.int == 1 << 40 && metadata["i64"] == .int64(-5))
            #expect(metadata["f32"] == .float32(1.5) && metadata["f64"]?.double == -2.25)
            #expect(metadata["yes"] == .bool(true))
            #expect(metadata["words"]?.strings == ["a", "ünï"])
            #expect(metadata["nested"] == .array([.array([.int8(1), .int8(2)]), .array([])]))
            #expect(file.tensorInfos.map(\.name) == ["a", "b"])
            let a = try #require(file.info("a"))
            #expect(a.shape == [2, 3] && a.type == .f32 && a.byteCount == 24)
            #expect(try file.tensor(named: "a") == Tensor(shape: [2, 3], scalars: [0, 1, 2, 3, 4, 5]))
            let b = try file.tensor(named: "b")
            #expect(b.shape == [1, 32])
            #expect(b.scalars == (0..<32).map { Float($0 - 16) * 0.5 })
            #expect(throws: GGUFError.missingTensor(path: url.path, tensor: "c")) { try file.tensor(named: "c") }
            #expect(GGUFFile.hasMagic(at: url))
            #expect(!GGUFFile.hasMagic(at: folder))
        }
    }

    @Test("general.alignment places the data section and must be a positive power of two")
    func alignment() throws {
        try withTemporaryFolder { folder in
            let url = folder.appendingPathComponent("aligned.gguf")
            let tensors = [GGUFBytes.tensorInfo("a", ne: [3, 2], type: 0, offset: 0),
                           GGUFBytes.tensorInfo("b", ne: [32, 1], type: 8, offset: 64)]
            let data = Array(GGUFBytes.sampleData[0..<24]) + [UInt8](repeating: 0, count: 40) + GGUFBytes.sampleData[32...]
            let entry = GGUFBytes.entry("general.alignment", .uint32, GGUFBytes.integer(UInt32(64)))
            try Data(GGUFBytes.file(entries: [entry], tensors: tensors, data: data, alignment: 64)).write(to: url)
            let file = try GGUFFile(contentsOf: url)
            #expect(file.alignment == 64)
            #expect(try file.tensor(named: "b").scalars[31] == 7.5)
            for bad in [UInt32(0), 3, 48] {
                let entry = GGUFBytes.entry("general.alignment", .uint32, GGUFBytes.integer(bad))
                let error = try ggufOpenError(GGUFBytes.file(entries: [entry], tensors: [], data: []), at: url)
                #expect(error?.key == "general.alignment", "alignment \(bad): \(String(describing: error))")
            }
            let text = GGUFBytes.entry("general.alignment", .string, GGUFBytes.string("32"))
            #expect(try ggufOpenError(GGUFBytes.file(entries: [text], tensors: [], data: []), at: url)?.key == "general.alignment")
        }
    }

    @Test("Every truncation of a valid file throws before its last tensor's data ends")
    func everyTruncationThrows() throws {
        try withTemporaryFolder { folder in
            let url = folder.appendingPathComponent("truncated.gguf")
            let bytes = GGUFBytes.sample
            for length in 0..<bytes.count {
                let error = try ggufOpenError(Array(bytes[0..<length]), at: url)
                #expect(error != nil, "a prefix of \(length) of \(bytes.count) bytes opened")
                if let error { #expect(!error.description.contains("\n")) }
            }
            #expect(try ggufOpenError(bytes, at: url) == nil)
            // Every prefix of a fixture written by gguf-py, up to the end of its last tensor.
            let fixture = try [UInt8](Data(contentsOf: Fixtures.gguf("quants.gguf")))
            let end = try GGUFFile(contentsOf: Fixtures.gguf("quants.gguf")).tensorInfos.map(\.byteRange.upperBound).max() ?? 0
            for length in stride(from: 0, to: end, by: 7) {
                #expect(try ggufOpenError(Array(fixture[0..<length]), at: url) != nil, "prefix \(length)")
            }
        }
    }

    /// Files that differ from ``GGUFBytes/sample`` in one field, and the key or tensor (or `nil`
    /// for the fixed header) their error must name.
    private static var hostileFiles: [(String, [UInt8], String?)] {
        typealias B = GGUFBytes
        let entries = B.sampleEntries, tensors = B.sampleTensors, data = B.sampleData
        let huge = UInt64(1) << 63
        func nested(_ depth: Int) -> [UInt8] {
            depth == 0 ? B.array(.uint8, [[1]]) : B.array(.array, [nested(depth - 1)])
        }
        return [
            ("wrong magic", Array("GGUB".utf8) + B.sample.dropFirst(4), nil),
            ("version 1", B.file(version: 1, entries: entries, tensors: tensors, data: data), nil),
            ("version 4", B.file(version: 4, entries: entries, tensors: tensors, data: data), nil),
            ("big-endian", B.file(version: UInt32(3).byteSwapped, entries: entries, tensors: tensors, data: data), nil),
            ("tensor count 2^62", B.file(entries: entries, tensors: tensors, data: data, tensorCount: 1 << 62), nil),
            ("metadata count 2^63", B.file(entries: entries, tensors: tensors, data: data, entryCount: huge), nil),
            ("key length 2^63", B.file(entries: [B.string("k", declaredLength: huge)] + entries, tensors: tensors, data: data),
             "metadata key #0"),
            ("string length 2^63", B.file(entries: [B.entry("s", .string, B.string("x", declaredLength: huge))], tensors: tensors, data: data), "s"),
            ("string length past the end", B.file(entries: [B.entry("s", .string, B.string("x", declaredLength: 100_000))], tensors: [], data: []), "s"),
            ("array count 2^63", B.file(entries: [B.entry("a", .array, B.array(.uint32, [], declaredCount: huge))], tensors: tensors, data: data), "a"),
            ("array of 2^40 strings", B.file(entries: [B.entry("a", .array, B.array(.string, [], declaredCount: 1 << 40))], tensors: [], data: []), "a"),
            ("nested array bomb", B.file(entries: [B.entry("bomb", .array, B.array(.array, [
                B.array(.array, [], declaredCount: UInt64(1) << 60)], declaredCount: 1000))], tensors: [], data: []), "bomb"),
            ("arrays nested 100 deep", B.file(entries: [B.entry("deep", .array, nested(100))], tensors: [], data: []), "deep"),
            ("unknown value type", B.file(entries: [B.string("t") + B.integer(UInt32(13)) + [0]], tensors: [], data: []), "t"),
            ("unknown array element type", B.file(entries: [B.entry("a", .array, B.integer(UInt32(99)) + B.integer(UInt64(0)))], tensors: [], data: []), "a"),
            ("bool 2", B.file(entries: [B.entry("flag", .bool, [2])], tensors: [], data: []), "flag"),
            ("duplicate key", B.file(entries: [B.entry("k", .uint8, [1]), B.entry("k", .uint8, [2])], tensors: [], data: []), "k"),
            ("invalid UTF-8 key", B.file(entries: [B.integer(UInt64(2)) + [0xC3, 0x28] + B.integer(UInt32(0)) + [1]], tensors: [], data: []), "metadata key #0"),
            ("duplicate tensor", B.file(entries: [], tensors: [tensors[0], B.tensorInfo("a", ne: [32, 1], type: 8, offset: 32)], data: data), "a"),
            ("no dimensions", B.file(entries: [], tensors: [B.tensorInfo("t", ne: [], type: 0, offset: 0)], data: data), "t"),
            ("five dimensions", B.file(entries: [], tensors: [B.tensorInfo("t", ne: [1, 1, 1, 1, 1], type: 0, offset: 0)], data: data), "t"),
            ("element count overflows", B.file(entries: [], tensors: [B.tensorInfo("t", ne: [1 << 40, 1 << 40], type: 0, offset: 0)], data: data), "t"),
            ("byte count overflows", B.file(entries: [], tensors: [B.tensorInfo("t", ne: [1 << 61, 2], type: 0, offset: 0)], data: data), "t"),
            ("dimension 2^63", B.file(entries: [], tensors: [B.tensorInfo("t", ne: [huge], type: 0, offset: 0)], data: data), "t"),
            ("absurd dimensions", B.file(entries: [], tensors: [B.tensorInfo("t", ne: [1 << 20, 1 << 20, 1 << 10], type: 0, offset: 0)], data: data), "t"),
            ("unknown ggml type", B.file(entries: [], tensors: [B.tensorInfo("t", ne: [3, 2], type: 99, offset: 0)], data: data), "t"),
            ("retired ggml type Q4_2", B.file(entries: [], tensors: [B.tensorInfo("t", ne: [32], type: 4, offset: 0)], data: data), "t"),
            ("row not whole blocks", B.file(entries: [], tensors: [B.tensorInfo("t", ne: [33, 1], type: 8, offset: 0)], data: data), "t"),
            ("offset past the end", B.file(entries: [], tensors: [B.tensorInfo("t", ne: [3, 2], type: 0, offset: 1 << 20)], data: data), "t"),
            ("offset 2^64 − 32", B.file(entries: [], tensors: [B.tensorInfo("t", ne: [3, 2], type: 0, offset: UInt64.max - 31)], data: data), "t"),
            ("data runs past the end", B.file(entries: [], tensors: [B.tensorInfo("t", ne: [32, 3], type: 8, offset: 32)], data: data), "t"),
            ("misaligned offset", B.file(entries: [], tensors: [B.tensorInfo("t", ne: [3, 2], type: 0, offset: 4)], data: data), "t"),
            ("overlapping tensors", B.file(entries: [], tensors: [B.tensorInfo("a", ne: [16], type: 0, offset: 0),
                                                                  B.tensorInfo("c", ne: [3], type: 0, offset: 32)], data: data), "c"),
        ]
    }

    @Test("Hostile files throw an error that names the key or tensor")
    func hostileFilesThrow() throws {
        try withTemporaryFolder { folder in
            let url = folder.appendingPathComponent("hostile.gguf")
            for (name, bytes, key) in Self.hostileFiles {
                let error = try ggufOpenError(bytes, at: url)
                #expect(error != nil, "\(name) opened")
                guard let error else { continue }
                #expect(error.key == key, "\(name): \(error)")
                #expect(error.description.hasPrefix(url.path) && !error.description.contains("\n"), "\(name): \(error)")
            }
        }
    }

    @Test("A valid file of a type that does not dequantise opens, and reading it names the type")
    func unsupportedTypeNamed() throws {
        try withTemporaryFolder { folder in
            let url = folder.appendingPathComponent("q2k.gguf")
            let info = GGUFBytes.tensorInfo("blk.0.ffn_up.weight", ne: [256, 1], type: GGMLType.q2_K.rawValue, offset: 0)
            try Data(GGUFBytes.file(entries: [], tensors: [info], data: [UInt8](repeating: 0, count: 84))).write(to: url)
            let file = try GGUFFile(contentsOf: url)
            #expect(file.info("blk.0.ffn_up.weight")?.type == .q2_K)
            #expect(throws: GGUFError.unsupportedType(path: url.path, tensor: "blk.0.ffn_up.weight", type: "Q2_K")) {
                try file.tensor(named: "blk.0.ffn_up.weight")
            }
        }
    }
}
