import AsyncHTTPClient
import Foundation
@testable import HTTPServing
import NIOCore
import NIOHTTP1
import PEFT
import FuzzSupport
import Hummingbird
import Testing
import Transformer

@Suite("The OpenAI-compatible HTTP server, over loopback with a real HTTP client", .serialized)
struct OpenAIServerTests {
    @Test("Completions for the base and each adapter type equal the engine's answer alone; usage counts the tokens")
    func completionsMatchTheEngine() async throws {
        let fixture = try await ServerFixture.make()
        defer { fixture.remove() }
        let prompt = "The cat sat on the"
        let tokens = fixture.tokenizer.encode(prompt, addSpecialTokens: true)
        try await fixture.withServer { base in
            for model in ["tiny"] + ServerFixture.adapterKinds {
                let reply = try await send(
                    .POST, base + "/v1/completions",
                    json: #"{"model": "\#(model)", "prompt": \#(quoted(prompt)), "max_tokens": 12, "temperature": 0}"#)
                #expect(reply.status == 200, "\(model): \(reply.body)")
                let expected = try await fixture.alone(tokens, adapter: model == "tiny" ? nil : model, maxTokens: 12)
                let choice = try #require((reply.json["choices"] as? [[String: Any]])?.first)
                #expect(choice["text"] as? String == expected.text, "\(model)")
                #expect(reply.json["object"] as? String == "text_completion")
                #expect(reply.json["model"] as? String == model)
                let usage = try #require(reply.json["usage"] as? [String: Int])
                #expect(usage["prompt_tokens"] == tokens.count)
                #expect(usage["completion_tokens"] == expected.tokens.count)
                #expect(usage["total_tokens"] == tokens.count + expected.tokens.count)
                #expect(choice["finish_reason"] as? String == (expected.tokens.count < 12 ? "stop" : "length"))
            }
            // Token ids as the prompt.
            let byIDs = try await send(
                .POST, base + "/v1/completions",
                json: #"{"model": "lora", "prompt": \#(tokens), "max_tokens": 12, "temperature": 0}"#)
            let expected = try await fixture.alone(tokens, adapter: "lora", maxTokens: 12)
            #expect(((byIDs.json["choices"] as? [[String: Any]])?.first?["text"] as? String) == expected.text)
        }
    }

    @Test("Chat completions render the chat template and answer as the engine does on its tokens")
    func chatCompletions() async throws {
        let fixture = try await ServerFixture.make()
        defer { fixture.remove() }
        let messages = [ChatMessage(role: "system", content: "Be brief."), ChatMessage(role: "user", content: "Name a colour.")]
        let prompt = try fixture.chatPrompt(messages)
        try await fixture.withServer { base in
            let body = #"""
                {"model": "iapt", "max_tokens": 10, "temperature": 0, "messages": [
                  {"role": "system", "content": "Be brief."},
                  {"role": "user", "content": [{"type": "text", "text": "Name a "}, {"type": "text", "text": "colour."}]}]}
                """#
            let reply = try await send(.POST, base + "/v1/chat/completions", json: body)
            #expect(reply.status == 200, "\(reply.body)")
            let expected = try await fixture.alone(prompt, adapter: "iapt", maxTokens: 10)
            let choice = try #require((reply.json["choices"] as? [[String: Any]])?.first)
            let message = try #require(choice["message"] as? [String: Any])
            #expect(message["role"] as? String == "assistant")
            #expect(message["content"] as? String == expected.text)
            #expect(reply.json["object"] as? String == "chat.completion")
            #expect((reply.json["usage"] as? [String: Int])?["prompt_tokens"] == prompt.count)
        }
    }

    @Test("Streams are server-sent events in OpenAI's chunk format whose pieces make the whole answer")
    func streaming() async throws {
        let fixture = try await ServerFixture.make()
        defer { fixture.remove() }
        let prompt = fixture.tokenizer.encode("Once upon a time", addSpecialTokens: true)
        try await fixture.withServer { base in
            let whole = try await send(
                .POST, base + "/v1/completions",
                json: #"{"model": "prompt", "prompt": "Once upon a time", "max_tokens": 16, "temperature": 0}"#)
            let expected = try #require((whole.json["choices"] as? [[String: Any]])?.first?["text"] as? String)
            #expect(expected == (try await fixture.alone(prompt, adapter: "prompt", maxTokens: 16)).text)

            let streamed = try await send(
                .POST, base + "/v1/completions",
                json: #"{"model": "prompt", "prompt": "Once upon a time", "max_tokens": 16, "temperature": 0, "stream": true, "stream_options": {"include_usage": true}}"#)
            #expect(streamed.status == 200)
            #expect(streamed.headers["content-type"] == "text/event-stream")
            let events = streamed.events
            #expect(events.last == "[DONE]")
            let chunks = events.dropLast().compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
            #expect(chunks.count == events.count - 1, "every event but the last is a JSON chunk")
            let texts = chunks.compactMap { ($0["choices"] as? [[String: Any]])?.first?["text"] as? String }
            #expect(texts.joined() == expected)
            let usage = try #require(chunks.last?["usage"] as? [String: Int])
            #expect(usage["prompt_tokens"] == prompt.count)
            #expect(chunks.contains { (($0["choices"] as? [[String: Any]])?.first?["finish_reason"] as? String) != nil })

            let chat = try await send(
                .POST, base + "/v1/chat/completions",
                json: #"{"model": "ptuning2", "messages": [{"role": "user", "content": "Hi"}], "max_tokens": 8, "temperature": 0, "stream": true}"#)
            let chatChunks = chat.events.dropLast().compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
            let deltas = chatChunks.compactMap { ($0["choices"] as? [[String: Any]])?.first?["delta"] as? [String: Any] }
            #expect(deltas.first?["role"] as? String == "assistant")
            #expect(chatChunks.allSatisfy { $0["object"] as? String == "chat.completion.chunk" })
            let chatPrompt = try fixture.chatPrompt([ChatMessage(role: "user", content: "Hi")])
            #expect(deltas.compactMap { $0["content"] as? String }.joined() == (try await fixture.alone(chatPrompt, adapter: "ptuning2", maxTokens: 8)).text)
        }
    }

    @Test("An error after a stream has begun arrives as an error event before [DONE]; a whole answer gets its status")
    func errorsAfterTheStatusLine() async throws {
        let fixture = try await ServerFixture.make(resident: [])
        defer { fixture.remove() }
        try await fixture.engine.addAdapter(as: "failing") { _ in PassHookAdapter.failing }
        try await fixture.withServer { base in
            let streamed = try await send(
                .POST, base + "/v1/completions", json: #"{"model": "failing", "prompt": "Hi", "max_tokens": 4, "stream": true}"#)
            #expect(streamed.status == 200)
            #expect(streamed.events.last == "[DONE]")
            let error = streamed.events.dropLast().last.flatMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
            #expect((error?["error"] as? [String: Any])?["type"] as? String == "server_error", "\(streamed.body)")
            let whole = try await send(.POST, base + "/v1/completions", json: #"{"model": "failing", "prompt": "Hi", "max_tokens": 4}"#)
            #expect(whole.status == 500 && whole.error["code"] as? String == "internal_error", "\(whole.body)")
            #expect(try await send(.POST, base + "/v1/completions", json: #"{"model": "tiny", "prompt": "Hi", "max_tokens": 2}"#).status == 200)
        }
    }

    @Test("A stop string ends the answer before it, in whole answers and in streams")
    func stopStrings() async throws {
        let fixture = try await ServerFixture.make()
        defer { fixture.remove() }
        let prompt = fixture.tokenizer.encode("A", addSpecialTokens: true)
        let expected = try await fixture.alone(prompt, adapter: nil, maxTokens: 24).text
        // A stop string from the middle of the greedy answer.
        let characters = Array(expected)
        try #require(characters.count >= 6, "the greedy answer '\(expected)' is too short to cut")
        let stop = String(characters[3..<5])
        let before = String(expected[..<expected.range(of: stop)!.lowerBound])
        try await fixture.withServer { base in
            for stream in [false, true] {
                let reply = try await send(
                    .POST, base + "/v1/completions",
                    json: #"{"model": "tiny", "prompt": "A", "max_tokens": 24, "temperature": 0, "stop": [\#(quoted(stop))], "stream": \#(stream)}"#)
                if stream {
                    let chunks = reply.events.dropLast().compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
                    let choices = chunks.compactMap { ($0["choices"] as? [[String: Any]])?.first }
                    #expect(choices.compactMap { $0["text"] as? String }.joined() == before)
                    #expect(choices.last?["finish_reason"] as? String == "stop")
                } else {
                    let choice = (reply.json["choices"] as? [[String: Any]])?.first
                    #expect(choice?["text"] as? String == before, "stop \(quoted(stop)) in \(quoted(expected))")
                    #expect(choice?["finish_reason"] as? String == "stop")
                }
            }
        }
    }

    @Test("Models, health and metrics: the base and resident adapters listed, counters and histograms in Prometheus' format")
    func modelsHealthAndMetrics() async throws {
        let fixture = try await ServerFixture.make()
        defer { fixture.remove() }
        try await fixture.withServer { base in
            let health = try await send(.GET, base + "/health")
            #expect(health.status == 200 && health.json["status"] as? String == "ok")
            let models = try await send(.GET, base + "/v1/models")
            let data = try #require(models.json["data"] as? [[String: Any]])
            #expect(data.compactMap { $0["id"] as? String } == ["tiny", "iapt", "lora", "prompt", "ptuning2"])
            #expect(data.compactMap { $0["adapter_type"] as? String } == ["IAPT", "LORA", "PROMPT_TUNING", "P_TUNING_V2"])
            #expect(data.dropFirst().allSatisfy { $0["parent"] as? String == "tiny" })
            _ = try await send(.POST, base + "/v1/completions", json: #"{"model": "tiny", "prompt": "Hi", "max_tokens": 3, "temperature": 0}"#)
            _ = try await send(.POST, base + "/v1/completions", json: #"{"model": "nobody", "prompt": "Hi"}"#)
            let metrics = try await send(.GET, base + "/metrics")
            #expect(metrics.status == 200)
            #expect(metrics.headers["content-type"]?.hasPrefix("text/plain") == true)
            for line in [
                #"peft_http_requests_total{route="/v1/completions",status="200"} 1"#,
                #"peft_http_requests_total{route="/v1/completions",status="404"} 1"#,
                #"peft_http_requests_total{route="/health",status="200"} 1"#,
                "peft_queue_waiting_requests 0.0", "peft_batch_running_requests 0.0",
                "peft_time_to_first_token_seconds_count 1", "peft_request_duration_seconds_count 1",
            ] {
                #expect(metrics.body.contains(line), "\(line) in:\n\(metrics.body)")
            }
            let generated = metrics.body.split(separator: "\n").first { $0.hasPrefix("peft_generated_tokens_total ") }
            #expect(generated.flatMap { Int($0.split(separator: " ").last ?? "") }.map { (1...3).contains($0) } == true)
        }
    }

    @Test("Bad requests get OpenAI-style errors that name the field, and the server goes on")
    func errors() async throws {
        let fixture = try await ServerFixture.make()
        defer { fixture.remove() }
        try await fixture.withServer({ $0.maximumBodyBytes = 4_096 }) { base in
            let cases: [(json: String, status: Int, mentions: String)] = [
                (#"{"model": "nobody", "prompt": "Hi"}"#, 404, "nobody"),
                (#"{"prompt": "Hi"}"#, 400, "'model' is required"),
                (#"{"model": "tiny", "prompt": "Hi", "colour": 3}"#, 400, "unknown field 'colour'"),
                (#"{"model": "tiny", "prompt": "Hi", "max_tokens": 100000}"#, 400, "'max_tokens' must be a whole number in 1...256"),
                (#"{"model": "tiny", "prompt": "Hi", "max_tokens": 255}"#, 400, "leaves"),
                (#"{"model": "tiny", "prompt": "Hi", "n": 2}"#, 400, "'n' must be 1"),
                (#"{"model": "tiny", "prompt": "Hi", "temperature": -1}"#, 400, "'temperature'"),
                (#"{"model": "tiny", "prompt": ["a", "b"]}"#, 400, "one prompt per request"),
                (#"{"model": "tiny", "prompt": "Hi", "stop": ["a", "b", "c", "d", "e"]}"#, 400, "at most 4"),
                (#"{"model": "tiny", "prompt": "Hi", "stream_options": {"include_usage": true}}"#, 400, "goes with 'stream'"),
                (#"{"model": "tiny", "prompt": [1, 99999999]}"#, 400, "outside the vocabulary"),
                ("not json", 400, "not JSON"),
                (String(repeating: "[", count: 100) + String(repeating: "]", count: 100), 400, "nested deeper"),
                (#"{"model": "tiny", "prompt": "\#(String(repeating: "x", count: 5_000))"}"#, 413, "larger"),
            ]
            for (json, status, mentions) in cases {
                let reply = try await send(.POST, base + "/v1/completions", json: json)
                #expect(reply.status == status, "\(json.prefix(80)): \(reply.body)")
                #expect(reply.errorMessage.contains(mentions), "\(json.prefix(80)): \(reply.body)")
                #expect(reply.error["type"] is String)
                #expect(!reply.body.contains(fixture.folder.path), "no server path in \(reply.body)")
            }
            let chatWithoutMessages = try await send(.POST, base + "/v1/chat/completions", json: #"{"model": "tiny"}"#)
            #expect(chatWithoutMessages.status == 400 && chatWithoutMessages.errorMessage.contains("'messages' is required"))
            let badRole = try await send(.POST, base + "/v1/chat/completions", json: #"{"model": "tiny", "messages": [{"role": "robot", "content": "x"}]}"#)
            #expect(badRole.status == 400 && badRole.errorMessage.contains("messages[0].role"))
            let unknownRoute = try await send(.GET, base + "/v1/engines")
            #expect(unknownRoute.status == 404 && unknownRoute.error["type"] as? String == "not_found_error")
            let stillServing = try await send(.POST, base + "/v1/completions", json: #"{"model": "tiny", "prompt": "Hi", "max_tokens": 2}"#)
            #expect(stillServing.status == 200)
        }
    }

    @Test("A full queue answers 429 with Retry-After; a request past the timeout answers 504")
    func queueAndTimeout() async throws {
        let fixture = try await ServerFixture.make(maximumBatch: 1)
        defer { fixture.remove() }
        try await fixture.withServer({ $0.maximumQueue = 0 }) { base in
            // The one place is held by a long stream while the second request arrives.
            var request = HTTPClientRequest(url: base + "/v1/completions")
            request.method = .POST
            request.body = .bytes(ByteBuffer(string: #"{"model": "tiny", "prompt": "Hi", "max_tokens": 200, "temperature": 0, "stream": true}"#))
            let long = try await HTTPClient.shared.execute(request, timeout: .seconds(60))
            var chunks = long.body.makeAsyncIterator()
            _ = try await chunks.next()
            let refused = try await send(.POST, base + "/v1/completions", json: #"{"model": "tiny", "prompt": "Hi", "max_tokens": 2}"#)
            #expect(refused.status == 429, "\(refused.body)")
            #expect(refused.headers["retry-after"] == "1")
            #expect(refused.error["type"] as? String == "rate_limit_error")
            while try await chunks.next() != nil {}
        }
        try await fixture.withServer({ $0.requestTimeout = 0.001 }) { base in
            let reply = try await send(.POST, base + "/v1/completions", json: #"{"model": "tiny", "prompt": "Hi", "max_tokens": 200, "temperature": 0}"#)
            #expect(reply.status == 504, "\(reply.body)")
            #expect(reply.error["code"] as? String == "timeout")
        }
        let status = await fixture.engine.status
        #expect(status.waiting == 0 && status.active == 0 && status.freeCaches == 1)
    }

    @Test("A client that disconnects mid-answer cancels its request and frees its cache")
    func disconnectCancels() async throws {
        let fixture = try await ServerFixture.make(maximumBatch: 2, resident: [])
        defer { fixture.remove() }
        try await fixture.engine.addAdapter(as: "slow") { _ in PassHookAdapter.slow }
        try await fixture.withServer { base in
            for stream in [true, false] {
                let client = Task {
                    var request = HTTPClientRequest(url: base + "/v1/completions")
                    request.method = .POST
                    request.body = .bytes(ByteBuffer(string: #"{"model": "slow", "prompt": "Hi", "max_tokens": 250, "temperature": 0, "stream": \#(stream)}"#))
                    let response = try await HTTPClient.shared.execute(request, timeout: .seconds(60))
                    for try await _ in response.body {}
                }
                // Wait until the request is decoding, then leave.
                var started = false
                for _ in 0..<2_000 where !started {
                    started = await fixture.engine.status.active > 0
                    if !started { try await Task.sleep(for: .milliseconds(2)) }
                }
                #expect(started)
                client.cancel()
                _ = await client.result
                var freed = false
                for _ in 0..<2_500 where !freed {
                    let status = await fixture.engine.status
                    freed = status.active == 0 && status.waiting == 0 && status.freeCaches == 2
                    if !freed { try await Task.sleep(for: .milliseconds(2)) }
                }
                #expect(freed, "stream: \(stream): the request left the batch and its cache is free")
            }
            // Neither request ran to its 250 tokens (1.25 s at least), and the whole answer's was
            // counted as cancelled once its handler unwound.
            var metrics = ""
            for _ in 0..<500 where !metrics.contains(#"status="499""#) {
                metrics = try await send(.GET, base + "/metrics").body
                try await Task.sleep(for: .milliseconds(10))
            }
            let generated = metrics.split(separator: "\n").first { $0.hasPrefix("peft_generated_tokens_total ") }
            let count = try #require(generated.flatMap { Int($0.split(separator: " ").last ?? "") })
            #expect(count < 250, "\(count) tokens generated for the two cancelled requests")
            #expect(metrics.contains(#"peft_http_requests_total{route="/v1/completions",status="499"} 1"#), "\(metrics)")
        }
    }

    @Test("With an API key every route but /health needs the bearer token")
    func apiKey() async throws {
        let fixture = try await ServerFixture.make(resident: [])
        defer { fixture.remove() }
        try await fixture.withServer({ $0.apiKey = "sk-test-0123456789" }) { base in
            #expect(try await send(.GET, base + "/health").status == 200)
            for headers in [[:], ["authorization": "Bearer wrong"], ["authorization": "sk-test-0123456789"], ["authorization": "Bearer sk-test-012345678"]] {
                let reply = try await send(.GET, base + "/v1/models", headers: headers)
                #expect(reply.status == 401, "\(headers)")
                #expect(reply.error["code"] as? String == "invalid_api_key")
            }
            #expect(try await send(.GET, base + "/v1/models", headers: ["authorization": "Bearer sk-test-0123456789"]).status == 200)
            #expect(try await send(.GET, base + "/metrics").status == 401)
        }
        #expect(throws: HTTPServerSettingsError.self) {
            try HTTPServerSettings(host: "0.0.0.0", modelName: "tiny").validate()
        }
        #expect(throws: Never.self) {
            try HTTPServerSettings(host: "0.0.0.0", modelName: "tiny", apiKey: "sk-test-0123456789").validate()
        }
    }

    @Test("Adapters load from under the adapter directory only, serve, and unload")
    func loadingAndPathEscapes() async throws {
        let fixture = try await ServerFixture.make(resident: [])
        defer { fixture.remove() }
        // A link inside the adapter directory that leads out of it, and a folder outside it.
        let outside = fixture.folder.appendingPathComponent("outside")
        try FileManager.default.copyItem(at: fixture.adapterDirectory.appendingPathComponent("lora"), to: outside)
        try FileManager.default.createSymbolicLink(at: fixture.adapterDirectory.appendingPathComponent("escape"), withDestinationURL: outside)
        try FileManager.default.createSymbolicLink(
            at: fixture.adapterDirectory.appendingPathComponent("inner"), withDestinationURL: fixture.adapterDirectory.appendingPathComponent("iapt"))
        try await fixture.withServer { base in
            for path in ["../outside", "/" + outside.path, "escape", "lora/../../outside", "missing", "", "lora/adapter_config.json"] {
                let reply = try await send(.POST, base + "/v1/adapters", json: #"{"name": "x", "path": \#(quoted(path))}"#)
                #expect(reply.status == 400, "\(path): \(reply.body)")
                #expect(reply.error["param"] as? String == "path")
                #expect(!reply.body.contains(fixture.folder.path) || path.contains(fixture.folder.path), "\(reply.body)")
            }
            let bad = try await send(.POST, base + "/v1/adapters", json: #"{"name": "tiny", "path": "lora"}"#)
            #expect(bad.status == 400, "the base model's name is taken")
            let loaded = try await send(.POST, base + "/v1/adapters", json: #"{"name": "mine", "path": "lora"}"#)
            #expect(loaded.status == 201, "\(loaded.body)")
            #expect(loaded.json["adapter_type"] as? String == "LORA")
            let linked = try await send(.POST, base + "/v1/adapters", json: #"{"name": "linked", "path": "inner"}"#)
            #expect(linked.status == 201, "a link that stays inside is followed: \(linked.body)")
            let answer = try await send(.POST, base + "/v1/completions", json: #"{"model": "mine", "prompt": "Hi", "max_tokens": 4, "temperature": 0}"#)
            #expect(answer.status == 200)
            #expect(try await send(.DELETE, base + "/v1/adapters/mine").status == 200)
            let gone = try await send(.DELETE, base + "/v1/adapters/mine")
            #expect(gone.status == 404)
            let unknown = try await send(.POST, base + "/v1/completions", json: #"{"model": "mine", "prompt": "Hi"}"#)
            #expect(unknown.status == 404 && unknown.error["code"] as? String == "model_not_found")
        }
        try await fixture.withServer({ $0.adapterDirectory = nil }) { base in
            let reply = try await send(.POST, base + "/v1/adapters", json: #"{"name": "x", "path": "lora"}"#)
            #expect(reply.status == 403, "\(reply.body)")
        }
    }
}

@Suite("Stop strings and key comparison")
struct ServerPartsTests {
    @Test("Stop strings are found across pieces, and text that may begin one is held back until ruled out")
    func stopSequences() {
        var stops = StopSequences(["END", "\n\n"])
        #expect(stops.feed("Hello E") == ("Hello ", false))
        #expect(stops.feed("N") == ("", false))
        #expect(stops.feed("x") == ("ENx", false))
        #expect(stops.feed(" more\n") == (" more", false))
        #expect(stops.feed("\nafter") == ("", true))
        var none = StopSequences([])
        #expect(none.feed("anything") == ("anything", false))
        var tail = StopSequences(["xyz"])
        #expect(tail.feed("abcxy") == ("abc", false))
        #expect(tail.flush() == "xy")
    }

    @Test("A streamed piece is quoted as valid JSON whatever it holds")
    func quotedPieces() throws {
        for text in ["plain", "quote \" and \\ backslash", "new\nline\ttab\r", "\u{0}\u{1F}\u{7F}\u{08}\u{0C}", "é 中文 🙂", "/slash/", ""] {
            let parsed = try JSONSerialization.jsonObject(with: Data(JSONStringLiteral.quoted(text).utf8), options: [.fragmentsAllowed]) as? String
            #expect(parsed == text, "\(text.debugDescription)")
        }
    }

    @Test("Admission holds at most its capacity of completions and one adapter load at a time")
    func admission() {
        let admission = Admission(capacity: 2)
        #expect(admission.enter() && admission.enter())
        #expect(!admission.enter(), "a third completion is refused (429)")
        admission.leave()
        #expect(admission.enter() && admission.inFlight == 2)
        #expect(admission.beginLoad())
        #expect(!admission.beginLoad(), "a second load while one runs is refused (429)")
        admission.endLoad()
        #expect(admission.beginLoad())
    }

    @Test("Bearer keys compare equal only when every byte and the length agree")
    func keyComparison() {
        let key = Array("sk-test-0123456789".utf8)
        #expect(BearerAuthentication<BasicRequestContext>.constantTimeEquals(key, key))
        for other in ["", "sk-test-012345678", "sk-test-01234567890", "sk-test-0123456780", "Sk-test-0123456789"] {
            #expect(!BearerAuthentication<BasicRequestContext>.constantTimeEquals(Array(other.utf8), key), "\(other)")
        }
    }

    @Test("Mutated completion and chat bodies are refused with a message, never a crash")
    func mutatedBodies() {
        let seeds = [
            #"{"model": "tiny", "prompt": "Hi", "max_tokens": 8, "temperature": 0.7, "top_p": 0.9, "stop": ["a", "b"], "stream": true, "stream_options": {"include_usage": true}}"#,
            #"{"model": "lora", "prompt": [1, 2, 3], "seed": 3, "n": 1, "logprobs": null, "echo": false, "logit_bias": {}}"#,
            #"{"model": "iapt", "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": [{"type": "text", "text": "Hi"}]}], "max_completion_tokens": 4}"#,
        ].enumerated().map { CorpusFile(name: "body\($0.offset)", bytes: Array($0.element.utf8)) }
        let mutator = Mutator(seeds: seeds, format: .json)
        var accepted = 0
        for index in 0..<300 {
            let body = Data(mutator.input(seed: 7, index: index).bytes)
            for kind in [CompletionRequest.Kind.completion, .chat] {
                do {
                    _ = try CompletionRequest(body: body, kind: kind, contextLength: 256)
                    accepted += 1
                } catch let error as JSONFieldError {
                    #expect(!error.reason.isEmpty)
                } catch {
                    Issue.record("\(type(of: error)) is not a field error: \(error)")
                }
            }
        }
        #expect(accepted > 0, "some mutations stay valid requests")
    }
}
