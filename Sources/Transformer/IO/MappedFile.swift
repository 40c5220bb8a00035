#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// A whole file mapped read-only into memory (`mmap`), unmapped when the last reference goes.
///
/// The bytes are never written, so sharing them between threads is safe. As with any mapping, a
/// file truncated by another process while mapped makes later reads fault; files we write are
/// replaced by rename, which leaves existing mappings intact.
final class MappedFile: @unchecked Sendable {
    /// The file's bytes; empty for an empty file.
    let bytes: UnsafeRawBufferPointer
    /// The path, for error messages.
    let path: String

    /// Maps the file at `url`.
    /// - Throws: ``ModelFileError/unreadable(path:reason:)`` if it cannot be opened, is not a
    ///   regular file, or cannot be mapped.
    init(url: URL) throws {
        let path = url.path
        self.path = path
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw ModelFileError.unreadable(path: path, reason: MappedFile.lastError()) }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else {
            throw ModelFileError.unreadable(path: path, reason: MappedFile.lastError())
        }
        guard (status.st_mode & S_IFMT) == S_IFREG else {
            throw ModelFileError.unreadable(path: path, reason: "not a regular file")
        }
        let size = Int(status.st_size)
        guard size > 0 else {
            bytes = UnsafeRawBufferPointer(start: nil, count: 0)
            return
        }
        let address = mmap(nil, size, PROT_READ, MAP_PRIVATE, descriptor, 0)
        guard let address, address != UnsafeMutableRawPointer(bitPattern: -1) else {
            throw ModelFileError.unreadable(path: path, reason: "mmap failed: \(MappedFile.lastError())")
        }
        bytes = UnsafeRawBufferPointer(start: address, count: size)
    }

    deinit {
        if let base = bytes.baseAddress { munmap(UnsafeMutableRawPointer(mutating: base), bytes.count) }
    }

    /// The text of the current `errno`.
    static func lastError() -> String { String(cString: strerror(errno)) }
}
