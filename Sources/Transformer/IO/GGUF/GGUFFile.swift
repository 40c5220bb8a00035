#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import Tensor

#if _endian(big)
#error("GGUF files read here are little-endian; this reader loads them as host-order values")
#endif

/// Where one tensor lives in a GGUF file and what it holds.
public struct GGUFTensorInfo: Sendable, Equatable {
    /// The tensor's GGUF name, for example `blk.0.attn_q.weight`.
    public let name: String
    /// The size of each dimension in PyTorch order, outermost first: ggml's `ne` reversed, so a
    /// matrix stored with `ne = [in, out]` has shape `[out, in]`.
    public let shape: [Int]
    /// The element type on disk.
    public let type: GGMLType
    /// The tensor's bytes as offsets from the start of the file.
    public internal(set) var byteRange: Range<Int>

    /// The number of elements (the product of `shape`).
    public var elementCount: Int { shape.reduce(1, *) }
    /// The number of bytes the tensor takes in the file.
    public var byteCount: Int { byteRange.count }
}

/// A GGUF file (llama.cpp's format, versions 2 and 3), memory-mapped and validated when opened;
/// tensors are dequantised to `Float` on request.
///
/// Opening reads the header, every metadata value and every tensor info, and checks them (see
/// ``init(contentsOf:)``); tensor data stays in the mapping until ``tensor(named:)`` converts one.
/// A truncated or hostile file throws a ``GGUFError`` instead of crashing or reading out of bounds.
public final class GGUFFile: Sendable {
    /// The file.
    public let url: URL
    /// The format version, 2 or 3.
    public let version: Int
    /// Every metadata value by key (for example `general.architecture`, `tokenizer.ggml.tokens`).
    public let metadata: [String: GGUFValue]
    /// Every tensor, in file order.
    public let tensorInfos: [GGUFTensorInfo]
    /// The alignment of tensor data in bytes: `general.alignment`, or 32.
    public let alignment: Int
    private let indexByName: [String: Int]
    private let mapping: MappedFile

    /// Maps the file at `url` and validates its header.
    /// - Throws: ``ModelFileError/unreadable(path:reason:)`` if it cannot be opened or mapped;
    ///   ``GGUFError/invalidHeader(path:key:reason:)`` if the magic is not `GGUF`, the version is
    ///   not 2 or 3 (or the file is big-endian), anything is truncated, a count or string length is
    ///   more than the rest of the file could hold, a value type is unknown, arrays nest more than
    ///   8 deep, a bool is not 0 or 1, a key or tensor name is not UTF-8, a key repeats, or
    ///   `general.alignment` is not a positive power of two;
    ///   ``GGUFError/invalidTensor(path:tensor:reason:)`` if a tensor name repeats, has 0 or more
    ///   than 4 dimensions, an unknown ggml type, an element or byte count that overflows, rows
    ///   that are not whole blocks, or data that is misaligned, past the end of the file or
    ///   overlapping another tensor's.
    public init(contentsOf url: URL) throws {
        let mapping = try MappedFile(url: url)
        let header = try GGUFHeader(bytes: mapping.bytes, path: mapping.path)
        self.url = url
        self.mapping = mapping
        self.version = header.version
        self.metadata = header.metadata
        self.tensorInfos = header.tensors
        self.alignment = header.alignment
        self.indexByName = Dictionary(uniqueKeysWithValues: header.tensors.enumerated().map { ($1.name, $0) })
    }

    /// Whether the file at `url` is a regular file that starts with the GGUF magic (`GGUF`).
    /// Reads 4 bytes; `false` for folders, devices and files that cannot be read.
    public static func hasMagic(at url: URL) -> Bool {
        var status = stat()  // follows symbolic links; a FIFO or device is never opened
        guard stat(url.path, &status) == 0, (status.st_mode & S_IFMT) == S_IFREG,
              let handle = try? FileHandle(forReadingFrom: url) else { return false }
        defer { try? handle.close() }
        let magic = (try? handle.read(upToCount: 4)) ?? Data()
        return magic.elementsEqual("GGUF".utf8)
    }

    /// The info of the tensor `name`, or `nil` if the file has none.
    public func info(_ name: String) -> GGUFTensorInfo? { indexByName[name].map { tensorInfos[$0] } }

    /// The tensor `name` dequantised to `Float`, with its shape in PyTorch order (`[ne1, ne0]`
    /// for a matrix). Large tensors are converted on ``Parallel/workerCount`` threads.
    /// - Throws: ``GGUFError/missingTensor(path:tensor:)`` if the file has no such tensor;
    ///   ``GGUFError/unsupportedType(path:tensor:type:)`` if its type is not in
    ///   ``GGMLType/dequantizable``.
    public func tensor(named name: String) throws -> Tensor {
        try tensor(named: name, rowPermutation: nil)
    }

    /// The tensor `name` as ``tensor(named:)`` returns it, with the rows of its innermost
    /// dimension placed by `rowPermutation` if given: stored row `r` becomes row
    /// `rowPermutation(r)`, which must be a permutation of the rows.
    func tensor(named name: String, rowPermutation: ((Int) -> Int)?) throws -> Tensor {
        guard let info = info(name) else { throw GGUFError.missingTensor(path: url.path, tensor: name) }
        guard info.type.isDequantizable else {
            throw GGUFError.unsupportedType(path: url.path, tensor: name, type: info.type.name)
        }
        let rowLength = info.shape.last ?? 1
        let rowCount = rowLength == 0 ? 0 : info.elementCount / rowLength
        let source = UnsafeRawBufferPointer(rebasing: mapping.bytes[info.byteRange])
        let scalars = [Float](unsafeUninitializedCapacity: info.elementCount) { buffer, initialized in
            GGMLDequantizer.dequantize(
                info.type, from: source, rowLength: rowLength, rowCount: rowCount, into: buffer,
                rowPermutation: rowPermutation)
            initialized = info.elementCount
        }
        return try Tensor(shape: info.shape, scalars: scalars)
    }
}
