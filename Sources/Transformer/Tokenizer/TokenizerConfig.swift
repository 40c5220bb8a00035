import Foundation

/// What `tokenizer_config.json` says that changes a tokenizer: its special tokens, whether encoding
/// adds BOS and EOS, and its chat template. Every other key is ignored.
struct TokenizerConfig {
    /// A special token's setting.
    enum SpecialToken {
        /// The key is absent: keep what `tokenizer.json` implies.
        case unspecified
        /// The key is `null`: the tokenizer has no such token.
        case none
        /// The token's content, and the key it was read from (for errors).
        case token(String, key: String)
    }

    /// What to call the config in errors.
    let source: String
    let bosToken: SpecialToken
    let eosToken: SpecialToken
    let padToken: SpecialToken
    /// `add_bos_token`, if present.
    let addsBOS: Bool?
    /// `add_eos_token`, if present.
    let addsEOS: Bool?
    /// The `chat_template` string, or the `default` one of a list of named templates.
    let chatTemplate: String?

    /// Reads the contents of a `tokenizer_config.json`.
    /// - Throws: ``TokenizerError/malformedJSON(source:offset:reason:)`` for invalid JSON;
    ///   ``TokenizerError/invalidValue(source:key:reason:)`` for a special token that is neither a
    ///   string, an object with a string `content`, nor `null`; a flag that is not a boolean; a
    ///   `chat_template` that is neither a string nor a list of `{"name", "template"}` objects, or
    ///   a list without a `default` one.
    init(parsing data: Data, source: String) throws {
        let root = JSONNode(value: try JSONValue.parse(Array(data), source: source), path: "", source: source)
        self.source = source
        bosToken = try Self.specialToken(root, "bos_token")
        eosToken = try Self.specialToken(root, "eos_token")
        padToken = try Self.specialToken(root, "pad_token")
        addsBOS = try root.optional("add_bos_token")?.bool()
        addsEOS = try root.optional("add_eos_token")?.bool()
        chatTemplate = try root.optional("chat_template").map(Self.chatTemplate)
    }

    private static func specialToken(_ root: JSONNode, _ key: String) throws -> SpecialToken {
        guard case .object(let members) = root.value else { throw root.invalid("expected an object") }
        guard let member = members.first(where: { $0.key == key }) else { return .unspecified }
        let node = JSONNode(value: member.value, path: key, source: root.source)
        switch member.value {
        case .null: return .none
        case .string(let token): return .token(token, key: key)
        case .object: return .token(try node.required("content").string(), key: "\(key).content")
        default: throw node.invalid("expected a token: a string, an object with content, or null")
        }
    }

    private static func chatTemplate(_ node: JSONNode) throws -> String {
        if case .string(let template) = node.value { return template }
        for entry in try node.elements() where try entry.required("name").string() == "default" {
            return try entry.required("template").string()
        }
        throw node.invalid("no template is named default")
    }
}
