import Foundation
import Tensor
import Testing
import Transformer

/// Truncated, corrupted and lying files must throw a `ModelFileError`, never crash or read out of
/// bounds; a corruption that leaves a valid file must give tensors of consistent size.
@Suite("Safetensors reader on truncated and hostile files")
struct SafetensorsFuzzTests {
    /// The bytes of a valid file with non-empty tensors, written by the writer.
    private func validFileBytes(in folder: URL) throws -> [UInt8] {
        var generator = SeededGenerator(seed: 7)
        let tensors = [
            "a": try Tensor.normal([4, 3], generator: &generator),
            "b": try Tensor.normal([5], generator: &generator),
            "c": try Tensor.normal([2, 2], generator: &generator),
        ]
        let url = folder.appendingPathComponent("valid.safetensors")
        try SafetensorsWriter.write(tensors, to: url, metadata: ["format": "pt"])
        return try [UInt8](Data(contentsOf: url))
    }

    /// Opens `bytes` as a file and reads every tensor; returns the error thrown, if any.
    /// Anything thrown that is not a `ModelFileError` fails the test.
    private func openAndReadAll(_ bytes: [UInt8], at url: URL) -> ModelFileError? {
        do {
            try Data(bytes).write(to: url)
            let file = try SafetensorsFile(contentsOf: url)
            for name in file.names {
                let info = try #require(file.info(name))
                do {
                    let tensor = try file.tensor(named: name)
                    #expect(tensor.count == info.elementCount)
                } catch ModelFileError.unsupportedDType {
                    continue
                }
            }
            return nil
        } catch let error as ModelFileError {
            return error
        } catch {
            Issue.record("unexpected error type: \(error)")
            return nil
        }
    }

    @Test func everyTruncationThrows() throws {
        try withTemporaryFolder { folder in
            let bytes = try validFileBytes(in: folder)
            let url = folder.appendingPathComponent("truncated.safetensors")
            var generator = SeededGenerator(seed: 11)
            let headerEnd = 8 + 120
            let lengths = Array(0..<min(headerEnd, bytes.count))
                + (0..<150).map { _ in Int.random(in: 0..<bytes.count, using: &generator) }
                + [bytes.count - 1]
            for length in lengths {
                #expect(openAndReadAll(Array(bytes.prefix(length)), at: url) != nil, "length \(length)")
            }
        }
    }

    @Test func randomHeaderCorruptionsThrowOrStayConsistent() throws {
        try withTemporaryFolder { folder in
            let bytes = try validFileBytes(in: folder)
            let url = folder.appendingPathComponent("corrupt.safetensors")
            let headerLength = Int(bytes[0..<8].reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) })
            var generator = SeededGenerator(seed: 13)
            var thrown = 0
            for _ in 0..<300 {
                var corrupted = bytes
                for _ in 0..<Int.random(in: 1...4, using: &generator) {
                    let position = Int.random(in: 0..<(8 + headerLength), using: &generator)
                    corrupted[position] = UInt8.random(in: 0...255, using: &generator)
                }
                if openAndReadAll(corrupted, at: url) != nil { thrown += 1 }
            }
            #expect(thrown > 200, "most corruptions of a compact header break it")
        }
    }

    @Test func lengthPrefixBeyondTheFileOrLimitThrows() throws {
        try withTemporaryFolder { folder in
            let url = folder.appendingPathComponent("length.safetensors")
            let header = #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#
            for declared: UInt64 in [0, 1, 1000, 200_000_000, UInt64(Int.max), UInt64.max] {
                let error = openAndReadAll(safetensorsBytes(header: header, data: [0, 0, 128, 63], declaredLength: declared), at: url)
                guard case .invalidHeader(let path, nil, _)? = error else {
                    Issue.record("declared length \(declared): \(String(describing: error))")
                    continue
                }
                #expect(path == url.path)
            }
        }
    }

    /// Headers that lie, each with the tensor name the error must carry (`nil`: the whole header).
    static let lyingHeaders: [(header: String, key: String?)] = [
        (#"{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}"#, "a"),  // past the 8-byte data
        (#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,0]}}"#, "a"),  // out of order
        (#"{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}"#, "a"),
        (#"{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#, "a"),  // shape × size ≠ span
        (#"{"a":{"dtype":"F16","shape":[2],"data_offsets":[0,8]}}"#, "a"),  // dtype size lies
        (#"{"a":{"dtype":"F33","shape":[2],"data_offsets":[0,8]}}"#, "a"),
        (#"{"a":{"dtype":"F32","shape":[9223372036854775807,4],"data_offsets":[0,8]}}"#, "a"),
        (#"{"a":{"dtype":"F32","shape":[1e30],"data_offsets":[0,4]}}"#, "a"),
        (#"{"a":{"dtype":"F32","shape":[2.5],"data_offsets":[0,4]}}"#, "a"),
        (#"{"a":{"dtype":"F32","shape":"[2]","data_offsets":[0,8]}}"#, "a"),
        (#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8,8]}}"#, "a"),
        (#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[-8,0]}}"#, "a"),
        (#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0.0,8.5]}}"#, "a"),
        (#"{"a":{"shape":[2],"data_offsets":[0,8]}}"#, "a"),
        (#"{"a":{"dtype":"F32","data_offsets":[0,8]}}"#, "a"),
        (#"{"a":{"dtype":"F32","shape":[2]}}"#, "a"),
        (#"{"a":{"dtype":7,"shape":[2],"data_offsets":[0,8]}}"#, "a"),
        (#"{"a":5}"#, "a"),
        (#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#, "b"),
        (#"{"__metadata__":{"n":1},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#, "__metadata__"),
        (#"{"__metadata__":"text"}"#, "__metadata__"),
        (#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}"#, nil),  // unterminated
        (#"[{"dtype":"F32","shape":[2],"data_offsets":[0,8]}]"#, nil),
        ("", nil),
        ("   ", nil),
        ("{not json}", nil),
        ("{\"a\u{0}\":1}", nil),
        ("{\"a\":" + String(repeating: "[", count: 100_000), nil),
        ("{\"m\":" + String(repeating: "{\"x\":", count: 20_000) + "1" + String(repeating: "}", count: 20_001), nil),
    ]

    @Test func lyingHeadersThrowNamingFileAndTensor() throws {
        try withTemporaryFolder { folder in
            let url = folder.appendingPathComponent("lying.safetensors")
            for (index, lie) in Self.lyingHeaders.enumerated() {
                let error = openAndReadAll(safetensorsBytes(header: lie.header, data: Array(repeating: 0, count: 8)), at: url)
                guard case .invalidHeader(let path, let key, _)? = error else {
                    Issue.record("header \(index) did not throw invalidHeader: \(String(describing: error))")
                    continue
                }
                #expect(path == url.path, "header \(index)")
                if let expectedKey = lie.key { #expect(key == expectedKey, "header \(index): \(String(describing: error))") }
                #expect(error?.description.contains("lying.safetensors") == true)
            }
        }
    }

    @Test func nonUTF8HeaderThrows() throws {
        try withTemporaryFolder { folder in
            let url = folder.appendingPathComponent("binary.safetensors")
            let header: [UInt8] = Array(#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},""#.utf8) + [0xFF, 0xFE] + Array(#"":1}"#.utf8)
            let bytes = withUnsafeBytes(of: UInt64(header.count).littleEndian) { Array($0) } + header + [0, 0, 0, 0]
            #expect(openAndReadAll(bytes, at: url) != nil)
        }
    }

    @Test func emptyTensorsMayShareAnOffsetAndFilesMayHaveNoTensors() throws {
        try withTemporaryFolder { folder in
            let url = folder.appendingPathComponent("edge.safetensors")
            let header = #"{"e":{"dtype":"F32","shape":[0,3],"data_offsets":[4,4]},"s":{"dtype":"F32","shape":[],"data_offsets":[0,4]}}"#
            #expect(openAndReadAll(safetensorsBytes(header: header, data: [0, 0, 128, 63]), at: url) == nil)
            let file = try SafetensorsFile(contentsOf: url)
            #expect(try file.tensor(named: "s") == Tensor(scalar: 1))
            #expect(try file.tensor(named: "e").shape == [0, 3])
            #expect(openAndReadAll(safetensorsBytes(header: "{}"), at: url) == nil)
        }
    }

    @Test func missingFileAndFolderAreUnreadable() throws {
        try withTemporaryFolder { folder in
            #expect {
                try SafetensorsFile(contentsOf: folder.appendingPathComponent("absent.safetensors"))
            } throws: { error in
                guard case .unreadable(let path, _) = error as? ModelFileError else { return false }
                return path.hasSuffix("absent.safetensors")
            }
            #expect(throws: ModelFileError.unreadable(path: folder.path, reason: "not a regular file")) {
                try SafetensorsFile(contentsOf: folder)
            }
        }
    }
}
