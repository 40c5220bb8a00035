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

/// Writes a folder of files so that readers, and a process killed at any moment, see the folder's
/// old files or its new ones, never a mix.
///
/// The new files are written into a staging folder beside the destination (each file flushed to
/// disk); then a new destination is renamed into place, and an existing one is swapped with the
/// staging folder in one step (`renameat2` with `RENAME_EXCHANGE`, Linux 3.15 and later). Entries of
/// the old folder that the writer does not write again (a training run's `checkpoints/`, a README)
/// are then moved into the new folder, and the old one is removed. Where the exchange is not
/// available, the old folder is first renamed aside, which leaves a moment without the folder.
public enum AtomicFolder {
    /// Fills the folder `url` through `writeFiles`, which receives the folder to write into (empty).
    /// - Throws: ``ModelFileError/unwritable(path:reason:)`` if a file that is not a folder is in the
    ///   way or the folder cannot be created or swapped; whatever `writeFiles` throws (the
    ///   destination is then untouched).
    public static func write(to url: URL, _ writeFiles: (URL) throws -> Void) throws {
        let files = FileManager.default
        var isFolder: ObjCBool = false
        let exists = files.fileExists(atPath: url.path, isDirectory: &isFolder)
        if exists && !isFolder.boolValue {
            throw ModelFileError.unwritable(path: url.path, reason: "a file that is not a folder is in the way")
        }
        let parent = url.deletingLastPathComponent()
        let staging = parent.appendingPathComponent(".\(url.lastPathComponent).tmp-\(UInt64.random(in: 0...UInt64.max))")
        do {
            try files.createDirectory(at: staging, withIntermediateDirectories: true)
        } catch {
            throw ModelFileError.unwritable(path: url.path, reason: error.localizedDescription)
        }
        do {
            try writeFiles(staging)
        } catch {
            try? files.removeItem(at: staging)
            if let error = error as? ModelFileError { throw error }
            throw ModelFileError.unwritable(path: url.path, reason: error.localizedDescription)
        }
        if !exists {
            guard rename(staging.path, url.path) == 0 else {
                let reason = MappedFile.lastError()
                try? files.removeItem(at: staging)
                throw ModelFileError.unwritable(path: url.path, reason: "rename: \(reason)")
            }
            syncFolder(parent)
            return
        }
        // Swap: `url` becomes the new folder, `staging` the old one.
        if exchange(staging.path, url.path) != 0 {
            let aside = parent.appendingPathComponent(".\(url.lastPathComponent).old-\(UInt64.random(in: 0...UInt64.max))")
            guard rename(url.path, aside.path) == 0 else {
                let reason = MappedFile.lastError()
                try? files.removeItem(at: staging)
                throw ModelFileError.unwritable(path: url.path, reason: "rename: \(reason)")
            }
            guard rename(staging.path, url.path) == 0 else {
                let reason = MappedFile.lastError()
                _ = rename(aside.path, url.path)
                try? files.removeItem(at: staging)
                throw ModelFileError.unwritable(path: url.path, reason: "rename: \(reason)")
            }
            _ = rename(aside.path, staging.path)
        }
        syncFolder(parent)
        let written = Set((try? files.contentsOfDirectory(atPath: url.path)) ?? [])
        for name in (try? files.contentsOfDirectory(atPath: staging.path)) ?? [] where !written.contains(name) {
            _ = rename(staging.appendingPathComponent(name).path, url.appendingPathComponent(name).path)
        }
        syncFolder(url)
        try? files.removeItem(at: staging)
    }

    /// Removes the folder `url` so that it disappears in one step: it is renamed to a hidden name
    /// beside it first, then deleted (a process killed meanwhile leaves the hidden folder, never a
    /// half-deleted one under the old name).
    public static func remove(_ url: URL) {
        let hidden = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).deleting-\(UInt64.random(in: 0...UInt64.max))")
        guard rename(url.path, hidden.path) == 0 else { return }
        try? FileManager.default.removeItem(at: hidden)
    }

    /// `renameat2(…, RENAME_EXCHANGE)` through the C library when it has it: 0 on success, -1 otherwise.
    private static func exchange(_ first: String, _ second: String) -> Int32 {
        guard let renameat2 = renameAt2 else { return -1 }
        return renameat2(AT_FDCWD, first, AT_FDCWD, second, 2 /* RENAME_EXCHANGE */)
    }

    private typealias RenameAt2 = @convention(c) (Int32, UnsafePointer<CChar>, Int32, UnsafePointer<CChar>, UInt32) -> Int32

    /// glibc's `renameat2` (2.28 and later), looked up at run time so the package builds everywhere.
    private nonisolated(unsafe) static let renameAt2: RenameAt2? = {
        #if os(Linux)
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "renameat2") else { return nil }
        return unsafeBitCast(symbol, to: RenameAt2.self)
        #else
        return nil
        #endif
    }()

    /// Flushes a folder's entries (renames into it) to disk; failures are ignored (some file
    /// systems cannot sync folders).
    private static func syncFolder(_ url: URL) {
        let descriptor = open(url.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else { return }
        _ = fsync(descriptor)
        close(descriptor)
    }
}
