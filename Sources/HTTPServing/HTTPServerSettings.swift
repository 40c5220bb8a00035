import Foundation

/// How an ``OpenAIServer`` listens and what it allows.
public struct HTTPServerSettings: Sendable {
    /// The address to listen on: loopback (`127.0.0.1`, the default) unless told otherwise.
    public var host: String
    /// The TCP port; 0 picks a free one (the server reports it through `onListening`).
    public var port: Int
    /// The base model's name in `model` fields and `GET /v1/models`.
    public var modelName: String
    /// The bearer token every route but `/health` requires; `nil` for none (loopback only).
    public var apiKey: String?
    /// The folder `POST /v1/adapters` loads from (paths are relative to it and may not leave it);
    /// `nil` disables loading at run time.
    public var adapterDirectory: URL?
    /// Requests admitted beyond the engine's running batch before the server answers 429.
    public var maximumQueue: Int
    /// Seconds a completion may take, queueing included, before it is cancelled (504).
    public var requestTimeout: Double
    /// The largest request body accepted, in bytes (413 beyond).
    public var maximumBodyBytes: Int
    /// `max_tokens` of a completion that gives none (OpenAI's default is 16); a chat completion
    /// without `max_tokens` may use the rest of the context.
    public var defaultCompletionTokens: Int

    /// The bounds each setting is checked against.
    public static let queueRange = 0...100_000
    public static let timeoutRange = 0.001...86_400.0
    public static let bodyRange = 1_024...(64 << 20)
    public static let portRange = 0...65_535

    public init(
        host: String = "127.0.0.1", port: Int = 8080, modelName: String, apiKey: String? = nil, adapterDirectory: URL? = nil,
        maximumQueue: Int = 256, requestTimeout: Double = 600, maximumBodyBytes: Int = 1 << 20, defaultCompletionTokens: Int = 16
    ) {
        (self.host, self.port, self.modelName, self.apiKey, self.adapterDirectory) = (host, port, modelName, apiKey, adapterDirectory)
        (self.maximumQueue, self.requestTimeout, self.maximumBodyBytes) = (maximumQueue, requestTimeout, maximumBodyBytes)
        self.defaultCompletionTokens = defaultCompletionTokens
    }

    /// Whether `host` is a loopback address, reachable only from this machine.
    public static func isLoopback(_ host: String) -> Bool {
        host == "localhost" || host == "::1" || host.hasPrefix("127.")
    }

    /// Checks every setting.
    /// - Throws: ``HTTPServerSettingsError`` naming the setting and its bound; in particular a
    ///   non-loopback `host` without an `apiKey`, and an `adapterDirectory` that is not a folder.
    public func validate() throws {
        func fail(_ reason: String) -> HTTPServerSettingsError { HTTPServerSettingsError(reason: reason) }
        guard !host.isEmpty else { throw fail("the host is empty") }
        guard Self.portRange.contains(port) else { throw fail("the port must be in \(Self.portRange), got \(port)") }
        guard OpenAIServer.isValidName(modelName) else {
            throw fail("the model name '\(modelName)' must be 1 to 128 letters, digits and . _ - : / characters")
        }
        if let apiKey {
            guard apiKey.utf8.count >= 8, apiKey.utf8.count <= 512, !apiKey.contains(where: \.isWhitespace) else {
                throw fail("the API key must be 8 to 512 characters with no spaces")
            }
        } else if !Self.isLoopback(host) {
            throw fail("listening on \(host), reachable from other machines, needs an API key")
        }
        if let adapterDirectory {
            var isFolder: ObjCBool = false
            guard FileManager.default.fileExists(atPath: adapterDirectory.path, isDirectory: &isFolder), isFolder.boolValue else {
                throw fail("the adapter directory \(adapterDirectory.path) is not a folder")
            }
        }
        guard Self.queueRange.contains(maximumQueue) else { throw fail("the queue bound must be in \(Self.queueRange), got \(maximumQueue)") }
        guard requestTimeout.isFinite, Self.timeoutRange.contains(requestTimeout) else {
            throw fail("the request timeout must be in \(Self.timeoutRange) seconds, got \(requestTimeout)")
        }
        guard Self.bodyRange.contains(maximumBodyBytes) else {
            throw fail("the body limit must be in \(Self.bodyRange) bytes, got \(maximumBodyBytes)")
        }
        guard defaultCompletionTokens >= 1 else { throw fail("the default max_tokens must be positive") }
    }
}

/// A setting of ``HTTPServerSettings`` out of its bounds; the reason names it.
public struct HTTPServerSettingsError: LocalizedError, Sendable {
    public let reason: String
    public var errorDescription: String? { reason }
}
