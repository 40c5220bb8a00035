import Foundation
import Testing
import Transformer

extension Fixtures {
    /// A file of `Fixtures/gguf` (made by `make_gguf_fixtures.py`).
    static func gguf(_ name: String) -> URL { root.appendingPathComponent("gguf/\(name)") }

    /// SmolLM2-135M-Instruct's GGUF in the repository's `.models` (fetched by `Scripts/fetch-smollm2`).
    static let smolLM2 = root.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent(".models/SmolLM2-135M-Instruct.Q4_1.gguf")
}

/// Builds the bytes of GGUF files, valid or not, field by field (all little-endian).
struct GGUFBytes {
    /// GGUF's metadata value type ids.
    enum ValueType: UInt32 {
        case uint8 = 0, int8, uint16, int16, uint32, int32, float32, bool, string, array, uint64, int64, float64
    }

    static func integer<Value: FixedWidthInteger>(_ value: Value) -> [UInt8] {
        withUnsafeBytes(of: value.littleEndian) { Array($0) }
    }

    /// A GGUF string: u64 length, then the bytes (`declaredLength` overrides the length).
    static func string(_ text: String, declaredLength: UInt64? = nil) -> [UInt8] {
        integer(declaredLength ?? UInt64(text.utf8.count)) + Array(text.utf8)
    }

    /// A metadata entry: key, value type, the value's bytes.
    static func entry(_ key: String, _ type: ValueType, _ value: [UInt8]) -> [UInt8] {
        string(key) + integer(type.rawValue) + value
    }

    /// An array value's bytes: element type, count (`declaredCount` overrides it), elements.
    static func array(_ type: ValueType, _ elements: [[UInt8]], declaredCount: UInt64? = nil) -> [UInt8] {
        integer(type.rawValue) + integer(declaredCount ?? UInt64(elements.count)) + elements.flatMap { $0 }
    }

    /// A tensor info: name, n_dims, ne (innermost first), ggml type id, data offset.
    static func tensorInfo(_ name: String, ne: [UInt64], type: UInt32, offset: UInt64) -> [UInt8] {
        string(name) + integer(UInt32(ne.count)) + ne.flatMap { integer($0) } + integer(type) + integer(offset)
    }

    /// A whole file: header, entries, tensor infos, zero padding to `alignment`, then `data`.
    static func file(
        version: UInt32 = 3, entries: [[UInt8]], tensors: [[UInt8]], data: [UInt8], alignment: Int = 32,
        tensorCount: UInt64? = nil, entryCount: UInt64? = nil
    ) -> [UInt8] {
        var bytes = Array("GGUF".utf8) + integer(version)
        bytes += integer(tensorCount ?? UInt64(tensors.count)) + integer(entryCount ?? UInt64(entries.count))
        bytes += entries.flatMap { $0 } + tensors.flatMap { $0 }
        bytes += [UInt8](repeating: 0, count: (alignment - bytes.count % alignment) % alignment)
        return bytes + data
    }

    /// The F32 tensor `a` ([2, 3]: 0…5) and the Q8_0 tensor `b` ([1, 32]: scale 0.5, values −16…15).
    static let sampleTensors: [[UInt8]] = [
        tensorInfo("a", ne: [3, 2], type: 0, offset: 0),
        tensorInfo("b", ne: [32, 1], type: 8, offset: 32),
    ]

    /// The data of ``sampleTensors``.
    static let sampleData: [UInt8] = {
        var data = (0..<6).flatMap { integer(Float($0).bitPattern) }
        data += [UInt8](repeating: 0, count: 8)
        data += integer(Float16(0.5).bitPattern) + (0..<32).map { UInt8(bitPattern: Int8($0 - 16)) }
        return data
    }()

    /// Metadata of every value type, including an array of strings and a nested array.
    static let sampleEntries: [[UInt8]] = [
        entry("general.architecture", .string, string("test")),
        entry("u8", .uint8, [200]), entry("i8", .int8, [0xFE]),
        entry("u16", .uint16, integer(UInt16(60000))), entry("i16", .int16, integer(Int16(-300))),
        entry("u32", .uint32, integer(UInt32(4_000_000_000))), entry("i32", .int32, integer(Int32(-70000))),
        entry("u64", .uint64, integer(UInt64(1) << 40)), entry("i64", .int64, integer(Int64(-5))),
        entry("f32", .float32, integer(Float(1.5).bitPattern)), entry("f64", .float64, integer(Double(-2.25).bitPattern)),
        entry("yes", .bool, [1]),
        entry("words", .array, array(.string, [string("a"), string("ünï")])),
        entry("nested", .array, array(.array, [array(.int8, [[1], [2]]), array(.int8, [])])),
    ]

    /// A valid file with ``sampleEntries`` and ``sampleTensors``.
    static let sample = file(entries: sampleEntries, tensors: sampleTensors, data: sampleData)
}

/// Writes `bytes` to `url` and opens it; returns the `GGUFError` thrown, or `nil` if it opened.
/// Any other error fails the test.
func ggufOpenError(_ bytes: [UInt8], at url: URL) throws -> GGUFError? {
    try Data(bytes).write(to: url)
    do {
        _ = try GGUFFile(contentsOf: url)
        return nil
    } catch let error as GGUFError {
        return error
    }
}

extension GGUFError {
    /// The metadata key or tensor name the error names, if any.
    var key: String? {
        switch self {
        case let .invalidHeader(_, key, _): return key
        case let .invalidTensor(_, tensor, _), let .unsupportedType(_, tensor, _), let .missingTensor(_, tensor):
            return tensor
        case let .unsupportedModel(_, key, _): return key
        }
    }
}
