import Foundation
import Tensor

/// Writes named tensors as a safetensors file, the format the Python `safetensors` library reads.
public enum SafetensorsWriter {
    /// Writes `tensors` to `url`, converting every element to `dtype`, atomically (a temporary file
    /// in the same folder, then a rename).
    ///
    /// Tensors are laid out in the order of their sorted names; the JSON header lists them with sorted
    /// keys and is padded with spaces to a multiple of 8 bytes, as the Python library does. F16 and
    /// BF16 round to nearest even; values beyond the F16 range become infinity.
    /// - Parameters:
    ///   - tensors: the tensors by name; names must not be `__metadata__`.
    ///   - dtype: `.f32`, `.f16` or `.bf16`.
    ///   - metadata: written as the header's `__metadata__` when not `nil`.
    /// - Throws: ``ModelFileError/unsupportedDType(path:key:dtype:)`` for another `dtype`;
    ///   ``ModelFileError/unwritable(path:reason:)`` for a reserved name or a failed write.
    public static func write(
        _ tensors: [String: Tensor], to url: URL, dtype: SafetensorsDType = .f32, metadata: [String: String]? = nil
    ) throws {
        let path = url.path
        guard [.f32, .f16, .bf16].contains(dtype) else {
            throw ModelFileError.unsupportedDType(path: path, key: "*", dtype: dtype.rawValue)
        }
        guard tensors[HeaderValue.metadataKey] == nil else {
            throw ModelFileError.unwritable(path: path, reason: "'\(HeaderValue.metadataKey)' is reserved, not a tensor name")
        }
        let ordered = tensors.sorted { $0.key < $1.key }
        var header: [String: HeaderValue] = [:]
        var offset = 0
        for (name, tensor) in ordered {
            let byteCount = tensor.count * dtype.byteSize
            header[name] = .tensor(dtype: dtype.rawValue, shape: tensor.shape, dataOffsets: [offset, offset + byteCount])
            offset += byteCount
        }
        if let metadata { header[HeaderValue.metadataKey] = .metadata(metadata) }

        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var json = try encoder.encode(header)
        json.append(contentsOf: [UInt8](repeating: UInt8(ascii: " "), count: (8 - json.count % 8) % 8))

        try AtomicFile.write(to: url) { sink in
            var length = UInt64(json.count).littleEndian
            try withUnsafeBytes(of: &length) { try sink.append($0) }
            try sink.append(json)
            for (_, tensor) in ordered {
                try tensor.withUnsafeBufferPointer { try appendElements($0, as: dtype, to: sink) }
            }
        }
    }

    /// Elements converted per write when narrowing to 16 bits, to bound the scratch buffer.
    private static let chunkLength = 1 << 16

    /// Appends `scalars` converted to `dtype` (`.f32`, `.f16` or `.bf16`), little-endian.
    private static func appendElements(
        _ scalars: UnsafeBufferPointer<Float>, as dtype: SafetensorsDType, to sink: AtomicFile.Sink
    ) throws {
        guard dtype != .f32 else {
            try sink.append(UnsafeRawBufferPointer(scalars))
            return
        }
        let narrow: (Float) -> UInt16
        if dtype == .bf16 {
            narrow = { HalfPrecision.bfloat16(from: $0) }
        } else {
            narrow = { HalfPrecision.float16(from: $0) }
        }
        var chunk = [UInt16](repeating: 0, count: min(chunkLength, scalars.count))
        var start = 0
        while start < scalars.count {
            let end = min(start + chunkLength, scalars.count)
            for index in start..<end { chunk[index - start] = narrow(scalars[index]).littleEndian }
            try chunk.withUnsafeBytes { try sink.append(UnsafeRawBufferPointer(rebasing: $0[0..<(2 * (end - start))])) }
            start = end
        }
    }
}

/// One value of the header object: a tensor's entry or the metadata strings.
private enum HeaderValue: Encodable {
    static let metadataKey = "__metadata__"

    case tensor(dtype: String, shape: [Int], dataOffsets: [Int])
    case metadata([String: String])

    private enum FieldKey: String, CodingKey {
        case dtype, shape, dataOffsets = "data_offsets"
    }

    func encode(to encoder: any Encoder) throws {
        switch self {
        case let .tensor(dtype, shape, dataOffsets):
            var container = encoder.container(keyedBy: FieldKey.self)
            try container.encode(dtype, forKey: .dtype)
            try container.encode(shape, forKey: .shape)
            try container.encode(dataOffsets, forKey: .dataOffsets)
        case let .metadata(strings):
            var container = encoder.singleValueContainer()
            try container.encode(strings)
        }
    }
}
