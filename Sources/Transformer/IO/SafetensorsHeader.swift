import Foundation

/// Where one tensor lives in a safetensors file and what it holds.
public struct SafetensorsTensorInfo: Sendable, Equatable {
    /// The element type on disk.
    public let dtype: SafetensorsDType
    /// The size of each dimension, outermost first; `[]` for a scalar.
    public let shape: [Int]
    /// The tensor's bytes, as offsets from the start of the data section (the byte after the header).
    public let dataOffsets: Range<Int>

    /// The number of elements (the product of `shape`).
    public var elementCount: Int { shape.reduce(1, *) }
}

/// The parsed and validated header of a safetensors file:
/// `[u64 little-endian header length N][N bytes of JSON][data section]`.
///
/// Validation guarantees that every tensor's byte range lies inside the data section, matches
/// `shape × dtype size` without overflow, and does not overlap another tensor, so reading a tensor
/// can never go out of bounds.
struct SafetensorsHeader {
    /// Headers longer than this are refused before anything is allocated for them (100 MB).
    static let maximumHeaderLength = 100_000_000

    /// Tensors by name.
    let entries: [String: SafetensorsTensorInfo]
    /// The free-form `__metadata__` strings (empty if absent).
    let metadata: [String: String]
    /// The offset of the data section in the file: 8 + header length.
    let dataStart: Int

    /// Parses and validates the header at the start of `bytes`, the whole file.
    /// - Throws: ``ModelFileError/invalidHeader(path:key:reason:)`` naming `path` and the tensor.
    init(bytes: UnsafeRawBufferPointer, path: String) throws {
        func fail(_ key: String?, _ reason: String) -> ModelFileError {
            .invalidHeader(path: path, key: key, reason: reason)
        }
        guard bytes.count >= 8 else {
            throw fail(nil, "the file is \(bytes.count) bytes, too short for the 8-byte header length")
        }
        let declaredLength = UInt64(littleEndian: bytes.loadUnaligned(as: UInt64.self))
        guard declaredLength <= UInt64(Self.maximumHeaderLength) else {
            throw fail(nil, "header length \(declaredLength) exceeds the limit of \(Self.maximumHeaderLength) bytes")
        }
        let headerLength = Int(declaredLength)
        guard headerLength <= bytes.count - 8 else {
            throw fail(nil, "header length \(headerLength) exceeds the \(bytes.count - 8) bytes after the length")
        }
        let json = UnsafeRawBufferPointer(rebasing: bytes[8..<(8 + headerLength)])
        guard json.first == UInt8(ascii: "{") else { throw fail(nil, "the header is not a JSON object") }

        let raw: RawHeader
        do {
            raw = try JSONDecoder().decode(RawHeader.self, from: Data(json))
        } catch let problem as HeaderProblem {
            throw fail(problem.key, problem.reason)
        } catch {
            throw fail(nil, "the header is not valid JSON")
        }

        dataStart = 8 + headerLength
        let dataLength = bytes.count - dataStart
        var entries: [String: SafetensorsTensorInfo] = [:]
        for tensor in raw.tensors {
            entries[tensor.name] = try Self.validate(tensor, dataLength: dataLength, fail: fail)
        }
        try Self.checkNoOverlap(entries, fail: fail)
        self.entries = entries
        metadata = raw.metadata
    }

    /// Checks one entry's dtype, shape and offsets against the data section.
    private static func validate(
        _ tensor: RawHeader.Tensor, dataLength: Int, fail: (String?, String) -> ModelFileError
    ) throws -> SafetensorsTensorInfo {
        guard let dtype = SafetensorsDType(rawValue: tensor.dtype) else {
            throw fail(tensor.name, "unknown dtype '\(tensor.dtype)'")
        }
        var byteCount = dtype.byteSize
        for dimension in tensor.shape {
            guard dimension >= 0 else { throw fail(tensor.name, "negative dimension in shape \(tensor.shape)") }
            let (product, overflow) = byteCount.multipliedReportingOverflow(by: dimension)
            guard !overflow else { throw fail(tensor.name, "shape \(tensor.shape) overflows") }
            byteCount = product
        }
        guard tensor.dataOffsets.count == 2 else {
            throw fail(tensor.name, "data_offsets must be [begin, end], got \(tensor.dataOffsets)")
        }
        let begin = tensor.dataOffsets[0], end = tensor.dataOffsets[1]
        guard begin >= 0, begin <= end else {
            throw fail(tensor.name, "data_offsets \(tensor.dataOffsets) are out of order")
        }
        guard end <= dataLength else {
            throw fail(tensor.name, "data_offsets \(tensor.dataOffsets) go past the \(dataLength)-byte data section")
        }
        guard end - begin == byteCount else {
            throw fail(
                tensor.name,
                "data_offsets \(tensor.dataOffsets) span \(end - begin) bytes, shape \(tensor.shape) of \(dtype.rawValue) needs \(byteCount)")
        }
        return SafetensorsTensorInfo(dtype: dtype, shape: tensor.shape, dataOffsets: begin..<end)
    }

    /// Refuses two non-empty tensors that share bytes.
    private static func checkNoOverlap(
        _ entries: [String: SafetensorsTensorInfo], fail: (String?, String) -> ModelFileError
    ) throws {
        let ordered = entries.filter { !$0.value.dataOffsets.isEmpty }
            .sorted { ($0.value.dataOffsets.lowerBound, $0.key) < ($1.value.dataOffsets.lowerBound, $1.key) }
        for (previous, next) in zip(ordered, ordered.dropFirst())
        where next.value.dataOffsets.lowerBound < previous.value.dataOffsets.upperBound {
            throw fail(next.key, "its bytes overlap those of tensor '\(previous.key)'")
        }
    }
}

/// A validation failure inside the JSON decoder, carried out to be given the file's path.
private struct HeaderProblem: Error {
    let key: String?
    let reason: String
}

/// The header's JSON as written, before validation against the file.
private struct RawHeader: Decodable {
    struct Tensor {
        let name: String
        let dtype: String
        let shape: [Int]
        let dataOffsets: [Int]
    }

    private struct NameKey: CodingKey {
        let stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    private enum FieldKey: String, CodingKey {
        case dtype, shape, dataOffsets = "data_offsets"
    }

    static let metadataKey = "__metadata__"

    let tensors: [Tensor]
    let metadata: [String: String]

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: NameKey.self)
        var tensors: [Tensor] = []
        var metadata: [String: String] = [:]
        for key in container.allKeys {
            let name = key.stringValue
            if name == Self.metadataKey {
                do {
                    metadata = try container.decode([String: String].self, forKey: key)
                } catch {
                    throw HeaderProblem(key: name, reason: "must be an object whose values are strings")
                }
                continue
            }
            let fields: KeyedDecodingContainer<FieldKey>
            do {
                fields = try container.nestedContainer(keyedBy: FieldKey.self, forKey: key)
            } catch {
                throw HeaderProblem(key: name, reason: "the entry is not a JSON object")
            }
            func field<T: Decodable>(_ field: FieldKey, _ type: T.Type, _ what: String) throws -> T {
                guard fields.contains(field) else {
                    throw HeaderProblem(key: name, reason: "missing field '\(field.rawValue)'")
                }
                do {
                    return try fields.decode(T.self, forKey: field)
                } catch {
                    throw HeaderProblem(key: name, reason: "field '\(field.rawValue)' is not \(what)")
                }
            }
            tensors.append(Tensor(
                name: name,
                dtype: try field(.dtype, String.self, "a string"),
                shape: try field(.shape, [Int].self, "an array of integers"),
                dataOffsets: try field(.dataOffsets, [Int].self, "an array of integers")))
        }
        self.tensors = tensors
        self.metadata = metadata
    }
}
