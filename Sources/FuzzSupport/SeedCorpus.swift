import Foundation

/// One file of the seed corpus.
public struct CorpusFile: Sendable {
    /// The file name without its extension (`lora` for `lora.json`).
    public let name: String
    /// Its bytes.
    public let bytes: [UInt8]

    /// A seed file made in memory (a test's own valid inputs, say).
    public init(name: String, bytes: [UInt8]) {
        (self.name, self.bytes) = (name, bytes)
    }
}

/// The committed seed corpus: `Fuzz/corpus/<target>/<file>`, small valid inputs of every target,
/// read whole into memory (the files are kept well under 64 KB each).
public struct SeedCorpus: Sendable {
    /// The corpus folder.
    public let url: URL
    private let filesByTarget: [String: [CorpusFile]]

    /// Reads every file under `url` (one folder per target; hidden files and `README.md` skipped),
    /// sorted by name within each target.
    /// - Throws: ``FuzzError/corpus(_:)`` if `url` cannot be listed or a file cannot be read.
    public init(url: URL) throws {
        self.url = url
        let files = FileManager.default
        var filesByTarget: [String: [CorpusFile]] = [:]
        let folders: [String]
        do {
            folders = try files.contentsOfDirectory(atPath: url.path)
        } catch {
            throw FuzzError.corpus("cannot list \(url.path): \(error.localizedDescription)")
        }
        for folder in folders where !folder.hasPrefix(".") {
            let folderURL = url.appendingPathComponent(folder)
            var isDirectory: ObjCBool = false
            guard files.fileExists(atPath: folderURL.path, isDirectory: &isDirectory), isDirectory.boolValue else { continue }
            let names = (try? files.contentsOfDirectory(atPath: folderURL.path)) ?? []
            filesByTarget[folder] = try names.filter { !$0.hasPrefix(".") && $0 != "README.md" }.sorted().map { name in
                guard let data = files.contents(atPath: folderURL.appendingPathComponent(name).path) else {
                    throw FuzzError.corpus("cannot read \(folderURL.appendingPathComponent(name).path)")
                }
                return CorpusFile(name: (name as NSString).deletingPathExtension, bytes: [UInt8](data))
            }
        }
        self.filesByTarget = filesByTarget
    }

    /// The corpus of this package: `Fuzz/corpus` beside `Package.swift`, found from the source
    /// file's location (so tests and `swift run` from the package root both find it).
    public static var packageCorpusURL: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Fuzz/corpus")
    }

    /// The seed files of the target `name`, sorted by name (empty if it has none).
    public func files(for target: String) -> [CorpusFile] { filesByTarget[target] ?? [] }

    /// The seed file `name` (without extension) of the target `target`.
    /// - Throws: ``FuzzError/corpus(_:)`` if there is none.
    public func file(_ name: String, of target: String) throws -> CorpusFile {
        guard let file = files(for: target).first(where: { $0.name == name }) else {
            throw FuzzError.corpus("\(url.path)/\(target) has no seed file named \(name)")
        }
        return file
    }
}

/// An error of the harness itself (not of a parser under test).
public enum FuzzError: Error, CustomStringConvertible {
    /// The seed corpus is missing or unreadable; the associated value says what.
    case corpus(String)
    /// A worker could not be started or failed outside any input; the associated value says why.
    case worker(String)
    /// A command-line argument is wrong; the associated value says which and why.
    case usage(String)

    public var description: String {
        switch self {
        case .corpus(let detail): return "seed corpus: \(detail)"
        case .worker(let detail): return "worker: \(detail)"
        case .usage(let detail): return detail
        }
    }
}
