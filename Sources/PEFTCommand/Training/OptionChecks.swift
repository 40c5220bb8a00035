import ArgumentParser
import Foundation

/// Checks that each given value (a `nil` is not given) lies in its range.
/// - Throws: `ValidationError` naming the first option out of range.
func checkRanges(_ checks: [(option: String, value: Int?, range: ClosedRange<Int>)]) throws {
    for (option, value, range) in checks {
        if let value, !range.contains(value) {
            throw ValidationError("\(option) must be in \(range.lowerBound)...\(range.upperBound), got \(value)")
        }
    }
}

/// Checks that `value` is finite and in `range`.
/// - Throws: `ValidationError` naming `option`.
func checkRange(_ option: String, _ value: Float, _ range: ClosedRange<Float>) throws {
    guard value.isFinite, range.contains(value) else {
        throw ValidationError("\(option) must be a number in \(range.lowerBound)...\(range.upperBound), got \(value)")
    }
}

/// Checks on a folder a command will write its results into.
enum OutputFolder {
    /// Refuses `url` when it is a file, or when neither it nor the nearest existing folder above it
    /// can be written (so the mistake shows before hours of work, not after).
    /// - Throws: `ValidationError` naming `option`.
    static func checkWritable(_ url: URL, option: String) throws {
        var isFolder: ObjCBool = false
        var existing = url.standardizedFileURL
        while !FileManager.default.fileExists(atPath: existing.path, isDirectory: &isFolder) {
            let parent = existing.deletingLastPathComponent()
            if parent.path == existing.path { break }
            existing = parent
        }
        guard isFolder.boolValue else {
            throw ValidationError("\(option) \(url.path): \(existing.path) is a file, not a folder")
        }
        // Permission bits say too little (root, read-only or virtual file systems): make and remove a probe.
        let probe = existing.appendingPathComponent(".peft-probe-\(UInt64.random(in: 0...UInt64.max))")
        do {
            try FileManager.default.createDirectory(at: probe, withIntermediateDirectories: false)
            try? FileManager.default.removeItem(at: probe)
        } catch {
            throw ValidationError("\(option) \(url.path): nothing can be written in \(existing.path)")
        }
    }

    /// Refuses `url` when it is a folder that already holds entries.
    /// - Parameter hint: what to do instead, after "choose a new or empty folder".
    /// - Throws: `ValidationError` naming `option` and the first entries.
    static func requireEmpty(_ url: URL, option: String, hint: String = "") throws {
        if let entries = try? FileManager.default.contentsOfDirectory(atPath: url.path), !entries.isEmpty {
            throw ValidationError("\(option) \(url.path) already holds \(list(entries)): choose a new or empty folder\(hint)")
        }
    }

    /// `a, b and 3 more`, for messages about a folder's entries.
    static func list(_ entries: [String]) -> String {
        let sorted = entries.sorted()
        let shown = sorted.prefix(3).map { "'\($0)'" }.joined(separator: ", ")
        return sorted.count > 3 ? "\(shown) and \(sorted.count - 3) more" : shown
    }
}
