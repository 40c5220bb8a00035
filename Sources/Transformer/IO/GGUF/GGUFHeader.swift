/// The parsed and validated header of a GGUF file (versions 2 and 3, little-endian):
///
///     "GGUF" · u32 version · u64 tensor count · u64 metadata count
///     metadata:    { string key · u32 value type · value }*
///     tensor info: { string name · u32 n_dims · u64 ne[n_dims] · u32 ggml type · u64 offset }*
///     padding to `general.alignment` (default 32) · data section
///
/// where a string is `u64 length · UTF-8 bytes` and an array `u32 element type · u64 count · values`.
/// Validation guarantees that every tensor's bytes lie inside the file, at an aligned offset of
/// the data section, without overlapping another tensor, and that every count was checked against
/// the bytes left before anything was allocated for it.
struct GGUFHeader {
    /// The format versions read.
    static let supportedVersions: ClosedRange<UInt32> = 2...3
    /// The alignment of tensor data when `general.alignment` is absent.
    static let defaultAlignment = 32
    /// The most dimensions a tensor has (ggml's `GGML_MAX_DIMS`).
    static let maximumDimensions = 4
    /// The deepest nesting of arrays accepted (real files use one level).
    static let maximumArrayDepth = 8

    let version: Int
    let metadata: [String: GGUFValue]
    /// Tensors in file order.
    let tensors: [GGUFTensorInfo]
    let alignment: Int

    /// Parses and validates the header at the start of `bytes`, the whole file.
    /// - Throws: ``GGUFError/invalidHeader(path:key:reason:)`` or
    ///   ``GGUFError/invalidTensor(path:tensor:reason:)`` naming `path` and the key or tensor.
    init(bytes: UnsafeRawBufferPointer, path: String) throws {
        var cursor = GGUFCursor(bytes: bytes, path: path)
        let magic = try cursor.bytes(4, for: "the magic", key: nil)
        guard magic.elementsEqual("GGUF".utf8) else {
            throw GGUFError.invalidHeader(path: path, key: nil, reason: "not a GGUF file (the first 4 bytes are not \"GGUF\")")
        }
        let version = try cursor.integer(UInt32.self, for: "the version", key: nil)
        guard Self.supportedVersions.contains(version) else {
            let reason = Self.supportedVersions.contains(version.byteSwapped)
                ? "big-endian GGUF (version \(version.byteSwapped) byte-swapped) is not supported"
                : "version \(version) is not supported (only 2 and 3)"
            throw GGUFError.invalidHeader(path: path, key: nil, reason: reason)
        }
        let tensorCount = try cursor.count(for: "the tensor count", key: nil, minimumBytesEach: GGUFCursor.minimumTensorInfoBytes)
        let metadataCount = try cursor.count(for: "the metadata count", key: nil, minimumBytesEach: GGUFCursor.minimumEntryBytes)

        var metadata: [String: GGUFValue] = [:]
        metadata.reserveCapacity(metadataCount)
        for index in 0..<metadataCount {
            let key = try cursor.name(of: "metadata key #\(index)")
            guard metadata[key] == nil else {
                throw GGUFError.invalidHeader(path: path, key: key, reason: "the key appears more than once")
            }
            let type = try cursor.integer(UInt32.self, for: "the value type", key: key)
            metadata[key] = try cursor.value(ofType: type, key: key, depth: 0)
        }

        var tensors: [GGUFTensorInfo] = []
        tensors.reserveCapacity(tensorCount)
        var relativeOffsets: [Int] = []
        relativeOffsets.reserveCapacity(tensorCount)
        var names = Set<String>()
        for index in 0..<tensorCount {
            let name = try cursor.name(of: "tensor name #\(index)")
            guard names.insert(name).inserted else {
                throw GGUFError.invalidTensor(path: path, tensor: name, reason: "the name appears more than once")
            }
            let (info, offset) = try cursor.tensorInfo(named: name)
            tensors.append(info)
            relativeOffsets.append(offset)
        }

        let alignment = try Self.alignment(metadata, path: path)
        guard let dataStart = Self.aligned(cursor.position, to: alignment) else {
            throw GGUFError.invalidHeader(path: path, key: "general.alignment", reason: "aligning the data section overflows")
        }
        if !tensors.isEmpty, dataStart > bytes.count {
            throw GGUFError.invalidHeader(
                path: path, key: nil,
                reason: "truncated: the data section starts at byte \(dataStart), past the end of the file (\(bytes.count) bytes)")
        }
        let dataLength = bytes.count - min(dataStart, bytes.count)
        for index in tensors.indices {
            let (info, offset) = (tensors[index], relativeOffsets[index])
            func fail(_ reason: String) -> GGUFError { .invalidTensor(path: path, tensor: info.name, reason: reason) }
            guard offset % alignment == 0 else { throw fail("offset \(offset) is not a multiple of the alignment \(alignment)") }
            guard offset <= dataLength, info.byteCount <= dataLength - offset else {
                throw fail("its \(info.byteCount) bytes at offset \(offset) end past the data section's \(dataLength) bytes (truncated?)")
            }
            tensors[index].byteRange = (dataStart + offset)..<(dataStart + offset + info.byteCount)
        }
        let byStart = tensors.filter { !$0.byteRange.isEmpty }.sorted { $0.byteRange.lowerBound < $1.byteRange.lowerBound }
        for (previous, next) in zip(byStart, byStart.dropFirst()) where next.byteRange.lowerBound < previous.byteRange.upperBound {
            throw GGUFError.invalidTensor(path: path, tensor: next.name, reason: "its bytes overlap those of '\(previous.name)'")
        }
        self.version = Int(version)
        self.metadata = metadata
        self.tensors = tensors
        self.alignment = alignment
    }

    /// `general.alignment`, or the default: a positive power of two.
    private static func alignment(_ metadata: [String: GGUFValue], path: String) throws -> Int {
        guard let value = metadata["general.alignment"] else { return defaultAlignment }
        guard let alignment = value.int, alignment > 0, alignment & (alignment - 1) == 0 else {
            throw GGUFError.invalidHeader(path: path, key: "general.alignment", reason: "must be a positive power of two, got \(value.summary)")
        }
        return alignment
    }

    /// `offset` rounded up to a multiple of `alignment` (a power of two), or `nil` on overflow.
    static func aligned(_ offset: Int, to alignment: Int) -> Int? {
        let (sum, overflow) = offset.addingReportingOverflow(alignment - 1)
        return overflow ? nil : sum & ~(alignment - 1)
    }
}

/// A read position in a GGUF file's bytes; every read checks the bytes left first and throws a
/// ``GGUFError`` naming the file and the key being read.
struct GGUFCursor {
    /// The fewest bytes a metadata entry takes: an empty key, the value type, a 1-byte value.
    static let minimumEntryBytes = 8 + 4 + 1
    /// The fewest bytes a tensor info takes: an empty name, n_dims, one dimension, type, offset.
    static let minimumTensorInfoBytes = 8 + 4 + 8 + 4 + 8

    let bytes: UnsafeRawBufferPointer
    let path: String
    private(set) var position = 0

    init(bytes: UnsafeRawBufferPointer, path: String) {
        self.bytes = bytes
        self.path = path
    }

    private var remaining: Int { bytes.count - position }

    private func truncated(_ what: String, needs count: Int, key: String?) -> GGUFError {
        .invalidHeader(path: path, key: key, reason: "truncated: \(what) needs \(count) bytes at byte \(position), \(remaining) remain")
    }

    /// The next `count` bytes.
    mutating func bytes(_ count: Int, for what: String, key: String?) throws -> UnsafeRawBufferPointer {
        guard count <= remaining else { throw truncated(what, needs: count, key: key) }
        defer { position += count }
        return UnsafeRawBufferPointer(rebasing: bytes[position..<(position + count)])
    }

    /// The next little-endian integer.
    mutating func integer<Value: FixedWidthInteger>(_ type: Value.Type, for what: String, key: String?) throws -> Value {
        let size = MemoryLayout<Value>.size
        guard size <= remaining else { throw truncated(what, needs: size, key: key) }
        defer { position += size }
        return Value(littleEndian: bytes.loadUnaligned(fromByteOffset: position, as: Value.self))
    }

    /// A u64 count of items that take at least `minimumBytesEach` bytes each: refused if the bytes
    /// left could not hold that many, so it is safe to allocate for.
    mutating func count(for what: String, key: String?, minimumBytesEach: Int) throws -> Int {
        let declared = try integer(UInt64.self, for: what, key: key)
        guard declared <= UInt64(remaining / max(1, minimumBytesEach)) else {
            throw GGUFError.invalidHeader(
                path: path, key: key,
                reason: "\(what) \(declared) needs at least \(minimumBytesEach) bytes each, only \(remaining) remain")
        }
        return Int(declared)
    }

    /// A string's raw bytes: a u64 length and that many bytes.
    private mutating func stringBytes(for what: String, key: String?) throws -> UnsafeRawBufferPointer {
        let length = try integer(UInt64.self, for: "the length of \(what)", key: key)
        guard length <= UInt64(remaining) else {
            throw GGUFError.invalidHeader(
                path: path, key: key, reason: "\(what) is \(length) bytes long, only \(remaining) remain")
        }
        return try bytes(Int(length), for: what, key: key)
    }

    /// A metadata key or tensor name, which must be valid UTF-8; `what` names it in errors.
    mutating func name(of what: String) throws -> String {
        let raw = try stringBytes(for: what, key: what)
        guard let name = String(validating: raw, as: UTF8.self) else {
            throw GGUFError.invalidHeader(path: path, key: what, reason: "not valid UTF-8")
        }
        return name
    }

    /// The fewest bytes one value of GGUF value type `type` takes, or `nil` for an unknown type.
    private static func minimumBytes(ofType type: UInt32) -> Int? {
        switch type {
        case 0, 1, 7: return 1  // u8, i8, bool
        case 2, 3: return 2  // u16, i16
        case 4, 5, 6: return 4  // u32, i32, f32
        case 10, 11, 12: return 8  // u64, i64, f64
        case 8: return 8  // string: its length
        case 9: return 4 + 8  // array: element type, count
        default: return nil
        }
    }

    /// One metadata value of GGUF value type `type`, arrays nested at most
    /// ``GGUFHeader/maximumArrayDepth`` deep. Strings that are not valid UTF-8 are repaired
    /// (U+FFFD), as text values are only shown or tokenised.
    mutating func value(ofType type: UInt32, key: String, depth: Int) throws -> GGUFValue {
        switch type {
        case 0: return .uint8(try integer(UInt8.self, for: "a u8", key: key))
        case 1: return .int8(try integer(Int8.self, for: "an i8", key: key))
        case 2: return .uint16(try integer(UInt16.self, for: "a u16", key: key))
        case 3: return .int16(try integer(Int16.self, for: "an i16", key: key))
        case 4: return .uint32(try integer(UInt32.self, for: "a u32", key: key))
        case 5: return .int32(try integer(Int32.self, for: "an i32", key: key))
        case 6: return .float32(Float(bitPattern: try integer(UInt32.self, for: "an f32", key: key)))
        case 10: return .uint64(try integer(UInt64.self, for: "a u64", key: key))
        case 11: return .int64(try integer(Int64.self, for: "an i64", key: key))
        case 12: return .float64(Double(bitPattern: try integer(UInt64.self, for: "an f64", key: key)))
        case 7:
            let byte = try integer(UInt8.self, for: "a bool", key: key)
            guard byte <= 1 else {
                throw GGUFError.invalidHeader(path: path, key: key, reason: "a bool must be 0 or 1, got \(byte)")
            }
            return .bool(byte == 1)
        case 8:
            return .string(String(decoding: try stringBytes(for: "a string", key: key), as: UTF8.self))
        case 9:
            guard depth < GGUFHeader.maximumArrayDepth else {
                throw GGUFError.invalidHeader(
                    path: path, key: key, reason: "arrays are nested more than \(GGUFHeader.maximumArrayDepth) deep")
            }
            let elementType = try integer(UInt32.self, for: "an array's element type", key: key)
            guard let minimum = Self.minimumBytes(ofType: elementType) else {
                throw GGUFError.invalidHeader(path: path, key: key, reason: "unknown array element type \(elementType)")
            }
            let count = try count(for: "an array's element count", key: key, minimumBytesEach: minimum)
            var elements: [GGUFValue] = []
            elements.reserveCapacity(count)
            for _ in 0..<count { elements.append(try value(ofType: elementType, key: key, depth: depth + 1)) }
            return .array(elements)
        default:
            throw GGUFError.invalidHeader(path: path, key: key, reason: "unknown value type \(type)")
        }
    }

    /// The rest of tensor `name`'s info after its name: dimensions, type and offset (relative to
    /// the data section; the returned info's `byteRange` is still to be placed).
    mutating func tensorInfo(named name: String) throws -> (GGUFTensorInfo, offset: Int) {
        func fail(_ reason: String) -> GGUFError { .invalidTensor(path: path, tensor: name, reason: reason) }
        let dimensionCount = try integer(UInt32.self, for: "n_dims", key: name)
        guard (1...UInt32(GGUFHeader.maximumDimensions)).contains(dimensionCount) else {
            throw fail("n_dims is \(dimensionCount), must be 1…\(GGUFHeader.maximumDimensions)")
        }
        var dimensions: [Int] = []
        var elementCount = 1
        for _ in 0..<dimensionCount {
            let size = try integer(UInt64.self, for: "a dimension", key: name)
            guard let dimension = Int(exactly: size) else { throw fail("dimension \(size) is too large") }
            let (product, overflow) = elementCount.multipliedReportingOverflow(by: dimension)
            guard !overflow else { throw fail("dimensions \(dimensions + [dimension]) overflow the element count") }
            dimensions.append(dimension)
            elementCount = product
        }
        let typeID = try integer(UInt32.self, for: "the ggml type", key: name)
        guard let type = GGMLType(rawValue: typeID) else { throw fail("unknown ggml type id \(typeID)") }
        guard dimensions[0] % type.blockSize == 0 else {
            throw fail("rows of \(dimensions[0]) elements are not whole \(type.name) blocks of \(type.blockSize)")
        }
        let (byteCount, overflow) = (elementCount / type.blockSize).multipliedReportingOverflow(by: type.blockByteCount)
        guard !overflow else { throw fail("\(elementCount) elements of \(type.name) overflow the byte count") }
        let offset = try integer(UInt64.self, for: "the data offset", key: name)
        guard let relativeOffset = Int(exactly: offset) else { throw fail("offset \(offset) is too large") }
        let info = GGUFTensorInfo(
            name: name, shape: dimensions.reversed(), type: type, byteRange: 0..<byteCount)
        return (info, relativeOffset)
    }
}
