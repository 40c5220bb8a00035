import Foundation
import Tensor

#if _endian(big)
#error("safetensors data is little-endian; this reader copies it as host-order floats")
#endif

/// A safetensors file, memory-mapped and validated when opened; tensors are converted on request.
///
/// Opening reads only the header: tensor data stays in the mapping until ``tensor(named:)`` copies
/// and converts one. F32, F16, BF16, F64, I32 and I64 tensors are returned as `Float`. The header is
/// fully validated when the file is opened (see ``init(contentsOf:)``), so a truncated or hostile
/// file throws instead of crashing or reading out of bounds.
public struct SafetensorsFile: TensorSource {
    /// The file.
    public let url: URL
    /// The free-form strings of the header's `__metadata__` (empty if it has none).
    public let metadata: [String: String]
    /// Every tensor name, sorted.
    public let names: [String]
    private let entries: [String: SafetensorsTensorInfo]
    private let mapping: MappedFile
    private let dataStart: Int

    /// Maps the file at `url` and validates its header.
    /// - Throws: ``ModelFileError/unreadable(path:reason:)`` if it cannot be opened or mapped;
    ///   ``ModelFileError/invalidHeader(path:key:reason:)`` if the header length is larger than the
    ///   file or 100 MB, the header is not a JSON object, an entry lacks `dtype`, `shape` or
    ///   `data_offsets`, names an unknown dtype, has a negative or overflowing shape, or offsets that
    ///   are out of order, past the data section, not `shape × dtype size` long, or overlapping.
    public init(contentsOf url: URL) throws {
        let mapping = try MappedFile(url: url)
        let header = try SafetensorsHeader(bytes: mapping.bytes, path: mapping.path)
        self.url = url
        self.mapping = mapping
        self.metadata = header.metadata
        self.entries = header.entries
        self.names = header.entries.keys.sorted()
        self.dataStart = header.dataStart
    }

    /// The dtype, shape and byte range of the tensor `name`, or `nil` if the file has none.
    public func info(_ name: String) -> SafetensorsTensorInfo? { entries[name] }

    /// The tensor `name` converted to `Float`, with the shape stored in the file.
    /// - Throws: ``ModelFileError/missingTensor(path:key:)`` if the file has no such tensor;
    ///   ``ModelFileError/unsupportedDType(path:key:dtype:)`` for BOOL, U8, I8, I16, U16, U32, U64
    ///   and the F8 types.
    public func tensor(named name: String) throws -> Tensor {
        guard let info = entries[name] else { throw ModelFileError.missingTensor(path: url.path, key: name) }
        let start = dataStart + info.dataOffsets.lowerBound
        let bytes = UnsafeRawBufferPointer(rebasing: mapping.bytes[start..<(start + info.dataOffsets.count)])
        guard let scalars = Self.floats(from: bytes, dtype: info.dtype, count: info.elementCount) else {
            throw ModelFileError.unsupportedDType(path: url.path, key: name, dtype: info.dtype.rawValue)
        }
        return try Tensor(shape: info.shape, scalars: scalars)
    }

    /// Converts `count` little-endian elements of `dtype` to `Float`, or returns `nil` if `dtype`
    /// does not convert. `bytes` holds exactly `count × dtype.byteSize` bytes, at any alignment.
    private static func floats(from bytes: UnsafeRawBufferPointer, dtype: SafetensorsDType, count: Int) -> [Float]? {
        switch dtype {
        case .f32:
            return [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
                UnsafeMutableRawBufferPointer(buffer).copyMemory(from: bytes)
                initialized = count
            }
        case .bf16: return converted(bytes, count, UInt16.self) { HalfPrecision.float(fromBFloat16: $0) }
        case .f16: return converted(bytes, count, UInt16.self) { HalfPrecision.float(fromFloat16: $0) }
        case .f64: return converted(bytes, count, UInt64.self) { Float(Double(bitPattern: $0)) }
        case .i64: return converted(bytes, count, Int64.self) { Float($0) }
        case .i32: return converted(bytes, count, Int32.self) { Float($0) }
        case .bool, .u8, .i8, .f8E4M3, .f8E5M2, .i16, .u16, .u32, .u64: return nil
        }
    }

    /// Reads `count` little-endian `Stored` values from `bytes` and converts each with `convert`.
    private static func converted<Stored: FixedWidthInteger & BitwiseCopyable>(
        _ bytes: UnsafeRawBufferPointer, _ count: Int, _ type: Stored.Type, _ convert: (Stored) -> Float
    ) -> [Float] {
        [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
            for index in 0..<count {
                let stored = bytes.loadUnaligned(fromByteOffset: index * MemoryLayout<Stored>.size, as: Stored.self)
                buffer[index] = convert(Stored(littleEndian: stored))
            }
            initialized = count
        }
    }
}
