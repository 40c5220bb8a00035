import Foundation
import Hummingbird
import Synchronization

/// The server's bounds on concurrent work: completions admitted (running or queued) and adapter
/// loads in progress.
final class Admission: Sendable {
    private struct State {
        var inFlight = 0
        var loading = false
    }

    /// The most completions admitted at once: the engine's batch plus the queue bound.
    let capacity: Int
    private let state = Mutex(State())

    init(capacity: Int) {
        self.capacity = capacity
    }

    /// Admits one completion, or returns `false` when `capacity` are already in flight.
    func enter() -> Bool {
        state.withLock { state in
            guard state.inFlight < capacity else { return false }
            state.inFlight += 1
            return true
        }
    }

    /// Ends one admitted completion.
    func leave() {
        state.withLock { $0.inFlight -= 1 }
    }

    /// Completions admitted now.
    var inFlight: Int { state.withLock { $0.inFlight } }

    /// Starts an adapter load, or returns `false` while another is in progress.
    func beginLoad() -> Bool {
        state.withLock { state in
            guard !state.loading else { return false }
            state.loading = true
            return true
        }
    }

    /// Ends the adapter load in progress.
    func endLoad() {
        state.withLock { $0.loading = false }
    }
}

/// Requires `Authorization: Bearer KEY` on every route but `GET /health`, comparing keys in time
/// that depends only on their lengths.
struct BearerAuthentication<Context: RequestContext>: RouterMiddleware {
    let key: [UInt8]

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if request.uri.path == "/health" { return try await next(request, context) }
        let header = request.headers[.authorization] ?? ""
        let prefix = "Bearer "
        let given = header.hasPrefix(prefix) ? Array(header.utf8.dropFirst(prefix.utf8.count)) : []
        guard Self.constantTimeEquals(given, key) else {
            var error = APIError(.unauthorized, "a valid API key is required: send 'Authorization: Bearer KEY'", code: "invalid_api_key")
            error.headers[.wwwAuthenticate] = "Bearer"
            throw error
        }
        return try await next(request, context)
    }

    /// Whether `a` equals `b`, looking at every byte of `b` whatever `a` holds.
    static func constantTimeEquals(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        var difference = UInt8(truncatingIfNeeded: a.count ^ b.count) | (a.count == b.count ? 0 : 1)
        for index in b.indices {
            difference |= (index < a.count ? a[index] : 0) ^ b[index]
        }
        return difference == 0
    }
}

/// The folder adapters load from at run time, and the check that a client's path stays inside it.
struct AdapterDirectory: Sendable {
    /// The folder, with symbolic links resolved.
    let root: String

    /// - Throws: ``APIError`` if `url` cannot be resolved.
    init(_ url: URL) throws {
        guard let root = Self.realPath(url.path) else { throw HTTPServerSettingsError(reason: "the adapter directory \(url.path) cannot be resolved") }
        self.root = root
    }

    /// The folder `relative` names under the root, with symbolic links resolved.
    /// - Throws: ``APIError`` (400) for an absolute path, a `..` component, or a path that does not
    ///   resolve to a folder inside the root; the message repeats the client's path only.
    func resolve(_ relative: String) throws -> URL {
        let refused = APIError.badRequest(
            "'path' must name an adapter folder inside the server's adapter directory, relative to it; '\(relative.prefix(200))' does not",
            param: "path")
        let components = relative.split(separator: "/", omittingEmptySubsequences: false)
        guard !relative.isEmpty, !relative.hasPrefix("/"), !relative.contains("\0"), relative.utf8.count <= 1_024,
              !components.contains(".."), !components.contains("~") else { throw refused }
        guard let resolved = Self.realPath(root + "/" + relative), resolved.hasPrefix(root + "/") else { throw refused }
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: resolved, isDirectory: &isFolder), isFolder.boolValue else { throw refused }
        return URL(fileURLWithPath: resolved, isDirectory: true)
    }

    /// `message` with the root's path replaced by nothing, so that an error from loading a folder
    /// shows the client only the part of the path it sent.
    func redact(_ message: String) -> String {
        message.replacingOccurrences(of: root + "/", with: "").replacingOccurrences(of: root, with: "<adapter-dir>")
    }

    private static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }
}
