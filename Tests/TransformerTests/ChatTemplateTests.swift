import Foundation
import Testing
import Transformer

/// Chat templates rendered as transformers' `apply_chat_template(…, tokenize=False)` renders them,
/// on the cases of `Fixtures/gguf-tokenizers/chat-templates.json`.
struct ChatTemplateTests {
    struct Message: Decodable {
        let role: String
        let content: String
    }

    struct Case: Decodable {
        let template: String
        let conversation: String
        let add_generation_prompt: Bool
        let bos_token: String
        let eos_token: String
        let rendered: String?
        let error: String?
    }

    struct Snippet: Decodable {
        let template: String
        let rendered: String?
        let error: String?
    }

    struct Expectations: Decodable {
        let templates: [String: String]
        let conversations: [String: [Message]]
        let cases: [Case]
        let snippets: [Snippet]
    }

    static let expectations: Expectations? = try? JSONDecoder().decode(
        Expectations.self, from: Data(contentsOf: Fixtures.root.appendingPathComponent("gguf-tokenizers/chat-templates.json")))

    static let templateNames = ["smollm2", "qwen2", "qwen2.5", "llama3", "llama3.2", "llama2", "mistral-v0.1", "mistral-v0.3"]

    @Test("Each template renders every conversation exactly as transformers does, or raises its error", arguments: templateNames)
    func matchesTransformers(name: String) throws {
        let expected = try #require(Self.expectations)
        let template = ChatTemplate(try #require(expected.templates[name]))
        #expect(template.parseError == nil)
        let cases = expected.cases.filter { $0.template == name }
        #expect(cases.count == 10)
        for testCase in cases {
            let messages = try #require(expected.conversations[testCase.conversation]).map { ChatMessage(role: $0.role, content: $0.content) }
            let label = "\(name) \(testCase.conversation) generation prompt \(testCase.add_generation_prompt)"
            do {
                let rendered = try template.render(messages, addGenerationPrompt: testCase.add_generation_prompt,
                                                   bosToken: testCase.bos_token, eosToken: testCase.eos_token,
                                                   extraVariables: ["date_string": "26 Jul 2024"])
                #expect(rendered == testCase.rendered, "\(label): \(rendered.debugDescription)")
            } catch let error as ChatTemplateError {
                #expect(testCase.error.map { error == .raised($0) } ?? false, "\(label): \(error)")
            }
        }
    }

    @Test("Small templates on Jinja's corners render as Jinja renders them, or fail where it fails")
    func snippetsMatchJinja() throws {
        let expected = try #require(Self.expectations)
        let messages = try #require(expected.conversations["multi-turn"]).map { ChatMessage(role: $0.role, content: $0.content) }
        #expect(expected.snippets.count >= 25)
        for snippet in expected.snippets {
            do {
                let rendered = try ChatTemplate(snippet.template).render(messages, addGenerationPrompt: true, bosToken: "<s>", eosToken: "</s>")
                #expect(rendered == snippet.rendered, "\(snippet.template.debugDescription): \(rendered.debugDescription)")
            } catch let error as ChatTemplateError {
                #expect(snippet.error != nil, "\(snippet.template.debugDescription): \(error)")
                if let message = snippet.error, message.hasPrefix("TemplateError: ") {
                    #expect(error == .raised(String(message.dropFirst("TemplateError: ".count))))
                }
            }
        }
    }

    @Test("Hostile templates fail with errors, never a crash: nesting, recursion, overflow, huge ranges")
    func hostileTemplates() throws {
        guard case .syntax? = ChatTemplate("{{ " + String(repeating: "(", count: 10_000) + "1 }}").parseError,
              case .syntax? = ChatTemplate(String(repeating: "{% if true %}", count: 10_000)).parseError,
              case .syntax? = ChatTemplate("{{ " + String(repeating: "not ", count: 10_000) + "1 }}").parseError
        else {
            Issue.record("deep nesting parsed")
            return
        }
        #expect(throws: ChatTemplateError.self) { try Self.render("{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}") }
        #expect(throws: ChatTemplateError.self) { try Self.render("{{ 10 ** 30 }}") }
        #expect(throws: ChatTemplateError.self) { try Self.render("{{ 9223372036854775807 + 1 }}") }
        #expect(throws: ChatTemplateError.self) { try Self.render("{{ (-9223372036854775807 - 1) // -1 }}") }
        #expect(throws: ChatTemplateError.self) { try Self.render("{% for i in range(10 ** 12) %}{% endfor %}") }
        #expect(throws: ChatTemplateError.self) { try Self.render("{{ 'ab' * 10 ** 12 }}") }
        #expect(try Self.render("{{ 1e300 | int }} {{ -7 // 2 }} {{ 2 ** 62 }}") == "0 -4 4611686018427387904")
    }

    @Test("strftime_now writes the local time")
    func strftimeNow() throws {
        let year = try Self.render("{{ strftime_now('%Y') }}")
        #expect(year.count == 4 && Int(year).map { $0 >= 2024 } == true)
    }

    static func render(_ source: String, _ messages: [ChatMessage] = [ChatMessage(role: "user", content: "Hi")]) throws -> String {
        try ChatTemplate(source).render(messages, addGenerationPrompt: true, bosToken: "<s>", eosToken: "</s>")
    }

    @Test("Whitespace control, trim_blocks and lstrip_blocks behave as in transformers' Jinja environment")
    func whitespace() throws {
        #expect(try Self.render("a  {{- 'b' -}}  c") == "abc")
        #expect(try Self.render("{% if true %}\nx\n{% endif %}\ny") == "x\ny")
        #expect(try Self.render("line\n    {% if true %}x{% endif %}") == "line\nx")
        #expect(try Self.render("  {{ 'kept' }}") == "  kept")
        #expect(try Self.render("{# note #}\nz\n") == "z")
    }

    @Test("Expressions: loops, namespaces, filters, tests, slices, macros")
    func expressions() throws {
        let messages = [ChatMessage(role: "system", content: " S "), ChatMessage(role: "user", content: "U"),
                        ChatMessage(role: "assistant", content: "A")]
        #expect(try Self.render("{% for m in messages %}{{ loop.index }}{{ m.role[0] }}{% if not loop.last %},{% endif %}{% endfor %}",
                                messages) == "1s,2u,3a")
        #expect(try Self.render("{% set ns = namespace(n=0) %}{% for m in messages if m['role'] != 'system' %}"
                                + "{% set ns.n = ns.n + 1 %}{% endfor %}{{ ns.n }}", messages) == "2")
        #expect(try Self.render("{{ messages[0].content | trim }}|{{ messages[1:] | length }}|{{ messages[-1]['content'] }}", messages)
                == "S|2|A")
        #expect(try Self.render("{{ x is defined }} {{ 3 is odd }} {{ 'ab' ~ 1 }} {{ 7 // 2 }} {{ 7 % 3 }} {{ 'x' if false else 'y' }}")
                == "False True ab1 3 1 y")
        #expect(try Self.render("{% macro greet(name, end='!') %}hi {{ name }}{{ end }}{% endmacro %}{{ greet('bob') }}")
                == "hi bob!")
        #expect(try Self.render("{{ ['a', 'b'] | join('-') }} {{ {'k': 1} | tojson }} {{ '  a ' .strip() }} {{ 'Hi'.upper() }}")
                == "a-b {\"k\": 1} a HI")
        #expect(try Self.render("{% for k, v in {'a': 1, 'b': 2}.items() %}{{ k }}={{ v }};{% endfor %}") == "a=1;b=2;")
        #expect(try Self.render("{% for i in range(5) %}{% if i == 3 %}{% break %}{% endif %}{{ i }}{% endfor %}") == "012")
        #expect(try Self.render("{{ messages | selectattr('role', 'equalto', 'user') | map(attribute='content') | join }}", messages)
                == "U")
    }

    @Test("What the interpreter does not handle is an error that names it")
    func unsupported() throws {
        #expect(ChatTemplate("{% include 'other.jinja' %}").parseError == .unsupported("statement {% include %}"))
        #expect(throws: ChatTemplateError.unsupported("filter wordcount")) { try Self.render("{{ 'a b' | wordcount }}") }
        #expect(throws: ChatTemplateError.unsupported("function format_date")) { try Self.render("{{ format_date('%Y') }}") }
        #expect(throws: ChatTemplateError.raised("no")) { try Self.render("{{ raise_exception('no') }}") }
        guard case .syntax? = ChatTemplate("{% if x %}unclosed").parseError else {
            Issue.record("an unclosed if parsed")
            return
        }
        #expect(throws: ChatTemplateError.self) { try Self.render("{{ undefined_thing.attribute }}") }
        #expect(throws: ChatTemplateError.noTemplate) {
            try ByteTokenizer().applyChatTemplate([ChatMessage(role: "user", content: "x")], addGenerationPrompt: true)
        }
    }
}
