import Foundation
import Hummingbird
import NIOCore
import PEFT
import Transformer

/// An error answered as OpenAI answers them: `{"error": {"message", "type", "param", "code"}}`
/// with an HTTP status. Messages say what was wrong with the request and never carry the server's
/// own paths or stack.
public struct APIError: HTTPResponseError, Sendable {
    public let status: HTTPResponse.Status
    /// What went wrong, for the client.
    public let message: String
    /// OpenAI's error type: `invalid_request_error`, `authentication_error`, `not_found_error`,
    /// `rate_limit_error`, `timeout_error` or `server_error`.
    public let type: String
    /// The request field at fault, if one is.
    public let param: String?
    /// A short machine-readable code (`model_not_found`, `invalid_api_key`, …), if any.
    public let code: String?
    /// Headers to send with it (`Retry-After` with a 429).
    public var headers: HTTPFields = [:]

    public init(_ status: HTTPResponse.Status, _ message: String, type: String? = nil, param: String? = nil, code: String? = nil) {
        self.status = status
        self.message = message
        self.type = type ?? Self.type(of: status)
        self.param = param
        self.code = code
    }

    static func type(of status: HTTPResponse.Status) -> String {
        switch status.code {
        case 401, 403: return "authentication_error"
        case 404: return "not_found_error"
        case 429: return "rate_limit_error"
        case 504: return "timeout_error"
        case 500...: return "server_error"
        default: return "invalid_request_error"
        }
    }

    static func badRequest(_ message: String, param: String? = nil, code: String? = nil) -> APIError {
        APIError(.badRequest, message, param: param, code: code)
    }

    /// The JSON body of this error.
    var body: ByteBuffer {
        struct Wire: Encodable {
            struct Detail: Encodable {
                let message: String, type: String, param: String?, code: String?
                func encode(to encoder: any Encoder) throws {
                    var container = encoder.container(keyedBy: CodingKeys.self)
                    try container.encode(message, forKey: .message)
                    try container.encode(type, forKey: .type)
                    try container.encode(param, forKey: .param)  // null when absent, as OpenAI sends it
                    try container.encode(code, forKey: .code)
                }
                enum CodingKeys: String, CodingKey { case message, type, param, code }
            }
            let error: Detail
        }
        let data = (try? WireJSON.encode(Wire(error: .init(message: message, type: type, param: param, code: code)))) ?? Data()
        return ByteBuffer(bytes: data)
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var fields = headers
        fields[.contentType] = "application/json"
        return Response(status: status, headers: fields, body: ResponseBody(byteBuffer: body))
    }

    /// The API error for any error a route throws: our own pass through; what the engine, the
    /// model or a parser says becomes a 400 with its message; Hummingbird's errors keep their
    /// status; anything else is a 500 that says nothing of the server's internals.
    static func from(_ error: any Error) -> APIError {
        switch error {
        case let error as APIError: return error
        case let error as JSONFieldError: return .badRequest(error.reason)
        case let error as ServingError:
            if case .unknownAdapter = error { return APIError(.notFound, error.description, param: "model", code: "model_not_found") }
            return .badRequest(error.description)
        case let error as ModelError: return .badRequest(error.description)
        case let error as ChatTemplateError: return .badRequest("the model's chat template cannot render these messages: \(error)", param: "messages")
        case is NIOTooManyBytesError: return APIError(.contentTooLarge, "the request body is larger than this server accepts")
        case let error as HTTPError:
            return APIError(error.status, error.body ?? error.status.reasonPhrase)
        case is CancellationError: return APIError(.init(code: 499, reasonPhrase: "Client Closed Request"), "the request was cancelled")
        default: return APIError(.internalServerError, "the server failed to answer this request", code: "internal_error")
        }
    }
}

/// Turns whatever a route throws into an OpenAI-style error response.
struct APIErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            return try APIError.from(error).response(from: request, context: context)
        }
    }
}

/// The JSON coders of the wire format: sorted keys for stable output, slashes unescaped.
enum WireJSON {
    static func encode<Value: Encodable>(_ value: Value) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(value)
    }

    static func buffer<Value: Encodable>(_ value: Value) throws -> ByteBuffer {
        ByteBuffer(bytes: try encode(value))
    }
}
