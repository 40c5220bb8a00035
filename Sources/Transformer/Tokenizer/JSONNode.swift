/// A value inside a tokenizer definition together with where it sits, so that every read that
/// fails throws a ``TokenizerError`` naming the source and the dotted key path.
struct JSONNode {
    let value: JSONValue
    /// The dotted path of this value inside the document, such as `model.merges[3]`; empty for
    /// the document itself.
    let path: String
    /// Where the document came from (a file path, or a caller's description).
    let source: String

    /// The path of `key` under this node.
    func path(of key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    /// The path of element `index` under this node.
    func path(ofElement index: Int) -> String { "\(path)[\(index)]" }

    func invalid(_ reason: String) -> TokenizerError {
        .invalidValue(source: source, key: path.isEmpty ? "<document>" : path, reason: reason)
    }

    /// The member `key` of this object, or `nil` if it is absent or `null`.
    /// - Throws: ``TokenizerError/invalidValue(source:key:reason:)`` if this node is not an object.
    func optional(_ key: String) throws -> JSONNode? {
        guard case .object(let members) = value else { throw invalid("expected an object") }
        guard let member = members.first(where: { $0.key == key }) else { return nil }
        if case .null = member.value { return nil }
        return JSONNode(value: member.value, path: path(of: key), source: source)
    }

    /// The member `key` of this object.
    /// - Throws: ``TokenizerError/missingKey(source:key:)`` if it is absent or `null`.
    func required(_ key: String) throws -> JSONNode {
        guard let node = try optional(key) else { throw TokenizerError.missingKey(source: source, key: path(of: key)) }
        return node
    }

    func string() throws -> String {
        guard case .string(let string) = value else { throw invalid("expected a string") }
        return string
    }

    func bool() throws -> Bool {
        guard case .bool(let bool) = value else { throw invalid("expected true or false") }
        return bool
    }

    /// This number as an integer in `0...Int32.max` (ids, counts, lengths).
    func nonNegativeInt() throws -> Int {
        guard case .number(let number) = value, number >= 0, number <= Double(Int32.max),
              number.rounded() == number else { throw invalid("expected an integer in 0...\(Int32.max)") }
        return Int(number)
    }

    func number() throws -> Double {
        guard case .number(let number) = value else { throw invalid("expected a number") }
        return number
    }

    /// The elements of this array, each with its path.
    func elements() throws -> [JSONNode] {
        guard case .array(let elements) = value else { throw invalid("expected an array") }
        return elements.enumerated().map { JSONNode(value: $1, path: path(ofElement: $0), source: source) }
    }

    /// The members of this object in document order, each with its path.
    func members() throws -> [(key: String, node: JSONNode)] {
        guard case .object(let members) = value else { throw invalid("expected an object") }
        return members.map { ($0.key, JSONNode(value: $0.value, path: path(of: $0.key), source: source)) }
    }

    /// The string member `key`, or `defaultValue` if it is absent or `null`.
    func string(_ key: String, default defaultValue: String? = nil) throws -> String? {
        try optional(key)?.string() ?? defaultValue
    }

    /// The boolean member `key`, or `defaultValue` if it is absent or `null`.
    func bool(_ key: String, default defaultValue: Bool) throws -> Bool {
        try optional(key)?.bool() ?? defaultValue
    }

    /// The component's `type` member.
    func typeName() throws -> String { try required("type").string() }

    /// The error for a component whose `type` this package does not implement.
    func unsupported(_ type: String) -> TokenizerError {
        .unsupportedComponent(source: source, key: path, type: type)
    }

    /// A single Unicode scalar given as a one-character string (`replacement`, `content`).
    func singleScalar(_ key: String) throws -> Unicode.Scalar {
        let node = try required(key)
        let scalars = try node.string().unicodeScalars
        guard scalars.count == 1, let scalar = scalars.first else { throw node.invalid("expected one character") }
        return scalar
    }
}
