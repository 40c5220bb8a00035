#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// Writes files so that readers see either the old file or the complete new one, never a part:
/// the bytes go to a temporary file in the same folder, which is flushed to disk and then renamed
/// over the destination. On failure the temporary file is removed and the destination is untouched.
public enum AtomicFile {
    /// An open temporary file that accepts bytes.
    final class Sink {
        fileprivate let descriptor: Int32
        /// What the destination will be called, for error messages.
        fileprivate let destination: String

        fileprivate init(descriptor: Int32, destination: String) {
            self.descriptor = descriptor
            self.destination = destination
        }

        /// Appends `bytes`, retrying short writes and interrupted calls.
        /// - Throws: ``ModelFileError/unwritable(path:reason:)`` naming the destination.
        func append(_ bytes: UnsafeRawBufferPointer) throws {
            var offset = 0
            while offset < bytes.count {
                let written = systemWrite(descriptor, bytes.baseAddress.map { $0 + offset }, bytes.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    throw ModelFileError.unwritable(path: destination, reason: MappedFile.lastError())
                }
                offset += written
            }
        }

        /// Appends the bytes of `data`.
        func append(_ data: Data) throws {
            try data.withUnsafeBytes { try append($0) }
        }
    }

    /// Writes the file `url` from what `body` sends to the sink, atomically.
    /// - Throws: ``ModelFileError/unwritable(path:reason:)`` if the temporary file cannot be
    ///   created, written, flushed or renamed; whatever `body` throws.
    static func write(to url: URL, _ body: (Sink) throws -> Void) throws {
        let destination = url.path
        let folder = url.deletingLastPathComponent().path
        let temporary = "\(folder)/.\(url.lastPathComponent).tmp-\(UInt64.random(in: 0...UInt64.max))"
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw ModelFileError.unwritable(path: destination, reason: MappedFile.lastError())
        }
        var committed = false
        defer { if !committed { unlink(temporary) } }
        do {
            try body(Sink(descriptor: descriptor, destination: destination))
            guard fsync(descriptor) == 0 else {
                throw ModelFileError.unwritable(path: destination, reason: "fsync: \(MappedFile.lastError())")
            }
        } catch {
            close(descriptor)
            throw error
        }
        guard close(descriptor) == 0 else {
            throw ModelFileError.unwritable(path: destination, reason: "close: \(MappedFile.lastError())")
        }
        guard rename(temporary, destination) == 0 else {
            throw ModelFileError.unwritable(path: destination, reason: "rename: \(MappedFile.lastError())")
        }
        committed = true
    }

    /// Writes `data` to `url` atomically.
    /// - Throws: ``ModelFileError/unwritable(path:reason:)``.
    public static func write(_ data: Data, to url: URL) throws {
        try write(to: url) { try $0.append(data) }
    }
}

/// `write(2)`, under a name that `AtomicFile`'s own `write` methods do not hide.
private func systemWrite(_ descriptor: Int32, _ buffer: UnsafeRawPointer?, _ count: Int) -> Int {
    write(descriptor, buffer, count)
}

/// Writes a folder of files so that it appears whole or not at all.
public enum AtomicFolder {
    /// Fills the folder `url` through `writeFiles`, which receives the folder to write into.
    ///
    /// A new folder is built beside `url` under a temporary name and renamed into place. Into an
    /// existing folder, `writeFiles` writes directly; it should replace each file atomically
    /// (``AtomicFile``), so that every file is either old or new.
    /// - Throws: ``ModelFileError/unwritable(path:reason:)`` if a file that is not a folder is in the
    ///   way or the folder cannot be created or renamed; whatever `writeFiles` throws.
    public static func write(to url: URL, _ writeFiles: (URL) throws -> Void) throws {
        let files = FileManager.default
        var isFolder: ObjCBool = false
        if files.fileExists(atPath: url.path, isDirectory: &isFolder) {
            guard isFolder.boolValue else {
                throw ModelFileError.unwritable(path: url.path, reason: "a file that is not a folder is in the way")
            }
            try writeFiles(url)
            return
        }
        let staging = url.deletingLastPathComponent()
            .appendingPathComponent(".\(url.lastPathComponent).tmp-\(UInt64.random(in: 0...UInt64.max))")
        do {
            try files.createDirectory(at: staging, withIntermediateDirectories: true)
        } catch {
            throw ModelFileError.unwritable(path: url.path, reason: error.localizedDescription)
        }
        do {
            try writeFiles(staging)
            try files.moveItem(at: staging, to: url)
        } catch {
            try? files.removeItem(at: staging)
            if let error = error as? ModelFileError { throw error }
            throw ModelFileError.unwritable(path: url.path, reason: error.localizedDescription)
        }
    }
}
