import SeededRandom

/// Structure-aware mutations of JSON text, made on the bytes with a tolerant scanner (so they also
/// apply to text that earlier mutations have already broken, and to the JSON header inside a
/// safetensors file): replace a value with a hostile one (huge, negative, fractional, NaN-like,
/// deeply nested, a long string, the wrong type), rename a key, duplicate or drop an object member,
/// or wrap a value in deep nesting. For JSON Lines, line-level mutations are added.
enum JSONMutations {
    /// Replacement values: boundary numbers, NaN-like strings, wrong types, odd strings.
    static let hostileValues: [String] = [
        "0", "-1", "1", "2", "-0", "0.5", "-2147483649", "2147483647", "2147483648", "4294967296",
        "9223372036854775807", "9223372036854775808", "-9223372036854775808", "18446744073709551616",
        "1e308", "1e309", "-1e309", "1e-320", "123456789012345678901234567890",
        "\"NaN\"", "\"Infinity\"", "\"-Infinity\"", "NaN", "Infinity", "\"\"", "\"0\"", "\"-1\"",
        "null", "true", "false", "[]", "{}", "[null]", "[1,2,3]", "[-1]", "[[]]", "{\"\":0}",
        "\"\\u0000\"", "\"\\ud800\"", "\"\\udc00\\ud800\"", "\"e\\u0301\"", "\"\\u00e9\"", "\"<s>\"", "\"</s>\"",
        "\"..\"", "\"/\"", "\"../../etc/passwd\"", "\"\\\\\"", "\"\\/\"", "\"a b\"", "\" \"",
    ]

    /// A span of JSON text: a string, a number or literal, or a whole container.
    private struct Span {
        var range: Range<Int>
        /// Whether it is an object key (followed by `:`).
        var isKey: Bool
    }

    static func mutate(_ bytes: inout [UInt8], using generator: inout SeededGenerator) {
        let spans = scan(bytes)
        let values = spans.filter { !$0.isKey }
        let keys = spans.filter(\.isKey)
        switch Int.random(in: 0..<9, using: &generator) {
        case 0, 1, 2:
            guard let span = values.randomElement(using: &generator) else { return }
            bytes.replaceSubrange(span.range, with: Array(hostileValue(using: &generator).utf8))
        case 3:
            guard let span = keys.randomElement(using: &generator) else { return }
            let other = keys.randomElement(using: &generator).map { Array(bytes[$0.range]) } ?? Array("\"\"".utf8)
            bytes.replaceSubrange(span.range, with: Bool.random(using: &generator) ? other : Array(hostileKey(using: &generator).utf8))
        case 4:
            guard let key = keys.randomElement(using: &generator), let member = memberRange(startingAt: key.range, in: bytes) else { return }
            bytes.insert(contentsOf: Array(",".utf8) + bytes[member], at: member.upperBound)
        case 5:
            guard let key = keys.randomElement(using: &generator), let member = memberRange(startingAt: key.range, in: bytes) else { return }
            var end = member.upperBound
            while end < bytes.count, isWhitespace(bytes[end]) { end += 1 }
            if end < bytes.count, bytes[end] == UInt8(ascii: ",") { end += 1 }
            bytes.removeSubrange(member.lowerBound..<end)
        case 6:
            guard let span = values.randomElement(using: &generator) else { return }
            let depth = [2, 16, 100, 511, 513, 2000, 20_000].randomElement(using: &generator)!
            let (open, close) = Bool.random(using: &generator) ? ("[", "]") : ("{\"k\":", "}")
            let wrapped = String(repeating: open, count: depth) + String(decoding: bytes[span.range], as: UTF8.self)
                + String(repeating: close, count: depth)
            bytes.replaceSubrange(span.range, with: Array(wrapped.utf8))
        case 7:
            guard let span = values.randomElement(using: &generator) else { return }
            let element = Array(bytes[span.range])
            // Bounded so that the input stays within the mutator's limit (a mutation must not be
            // what uses the memory a run measures).
            let copies = min([2, 64, 4096].randomElement(using: &generator)!, max(1, Mutator.maximumInputLength / (element.count + 1)))
            var array = Array("[".utf8)
            for copy in 0..<copies { array += (copy > 0 ? Array(",".utf8) : []) + element }
            bytes.replaceSubrange(span.range, with: array + Array("]".utf8))
        default:
            guard let span = values.randomElement(using: &generator) else { return }
            let length = [1, 255, 4096, 70_000].randomElement(using: &generator)!
            let unit = ["a", "é", "\\u00ff", " ", "\\\"", "▁"].randomElement(using: &generator)!
            bytes.replaceSubrange(span.range, with: Array(("\"" + String(repeating: unit, count: length) + "\"").utf8))
        }
    }

    /// Line-level mutations of JSON Lines: duplicate, drop, swap or join lines, add blank, CRLF or
    /// byte-order-mark lines, or a very long line.
    static func mutateLines(_ bytes: inout [UInt8], using generator: inout SeededGenerator) {
        var lines = bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).map(Array.init)
        guard !lines.isEmpty else { return }
        let index = Int.random(in: 0..<lines.count, using: &generator)
        switch Int.random(in: 0..<7, using: &generator) {
        case 0: lines.insert(lines[index], at: Int.random(in: 0...lines.count, using: &generator))
        case 1: lines.remove(at: index)
        case 2: lines.swapAt(index, Int.random(in: 0..<lines.count, using: &generator))
        case 3 where index + 1 < lines.count: lines[index] += lines.remove(at: index + 1)
        case 4: lines.insert([[], Array(" \t\r".utf8), [0xEF, 0xBB, 0xBF], Array("{}".utf8), Array("[]".utf8), Array("null".utf8)]
            .randomElement(using: &generator)!, at: Int.random(in: 0...lines.count, using: &generator))
        case 5: lines[index] += Array("\r".utf8)
        default: lines.insert(Array(("{\"text\": \"" + String(repeating: "x", count: 100_000) + "\"}").utf8), at: index)
        }
        bytes = Array(lines.joined(separator: [UInt8(ascii: "\n")]))
    }

    private static func hostileValue(using generator: inout SeededGenerator) -> String {
        hostileValues.randomElement(using: &generator)!
    }

    private static func hostileKey(using generator: inout SeededGenerator) -> String {
        ["\"\"", "\"__metadata__\"", "\"peft_type\"", "\"id\"", "\"\\u0000\"", "\"e\\u0301\"", "\"\u{00E9}\"", "\"model\"", "\"vocab\""]
            .randomElement(using: &generator)!
    }

    private static func isWhitespace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D
    }

    /// Every string, number, literal and container span, found by a scanner that never fails.
    private static func scan(_ bytes: [UInt8]) -> [Span] {
        var spans: [Span] = []
        var openers: [Int] = []
        var position = 0
        func isKey(after end: Int) -> Bool {
            var next = end
            while next < bytes.count, isWhitespace(bytes[next]) { next += 1 }
            return next < bytes.count && bytes[next] == UInt8(ascii: ":")
        }
        while position < bytes.count, spans.count < 20_000 {
            let byte = bytes[position]
            switch byte {
            case UInt8(ascii: "\""):
                var end = position + 1
                while end < bytes.count, bytes[end] != UInt8(ascii: "\"") { end += bytes[end] == UInt8(ascii: "\\") ? 2 : 1 }
                end = min(end + 1, bytes.count)
                spans.append(Span(range: position..<end, isKey: isKey(after: end)))
                position = end
            case UInt8(ascii: "["), UInt8(ascii: "{"):
                openers.append(position)
                position += 1
            case UInt8(ascii: "]"), UInt8(ascii: "}"):
                if let start = openers.popLast() { spans.append(Span(range: start..<(position + 1), isKey: false)) }
                position += 1
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "t"), UInt8(ascii: "f"), UInt8(ascii: "n"):
                var end = position + 1
                while end < bytes.count, isScalarByte(bytes[end]) { end += 1 }
                spans.append(Span(range: position..<end, isKey: false))
                position = end
            default:
                position += 1
            }
        }
        return spans
    }

    private static func isScalarByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "."), UInt8(ascii: "-"),
             UInt8(ascii: "+"), UInt8(ascii: "E"): return true
        default: return false
        }
    }

    /// The bytes of the member whose key is at `key`: the key, the colon and the value after it.
    private static func memberRange(startingAt key: Range<Int>, in bytes: [UInt8]) -> Range<Int>? {
        var position = key.upperBound
        while position < bytes.count, bytes[position] != UInt8(ascii: ":") { position += 1 }
        position += 1
        while position < bytes.count, isWhitespace(bytes[position]) { position += 1 }
        guard position < bytes.count else { return nil }
        var depth = 0
        var inString = false
        var end = position
        while end < bytes.count {
            let byte = bytes[end]
            if inString {
                if byte == UInt8(ascii: "\\") { end += 1 } else if byte == UInt8(ascii: "\"") { inString = false; if depth == 0 { end += 1; break } }
            } else {
                switch byte {
                case UInt8(ascii: "\""): inString = true
                case UInt8(ascii: "["), UInt8(ascii: "{"): depth += 1
                case UInt8(ascii: "]"), UInt8(ascii: "}"):
                    if depth == 0 { return key.lowerBound..<end }
                    depth -= 1
                    if depth == 0 { end += 1; return key.lowerBound..<min(end, bytes.count) }
                case UInt8(ascii: ","): if depth == 0 { return key.lowerBound..<end }
                default: break
                }
            }
            end += 1
        }
        return key.lowerBound..<min(end, bytes.count)
    }
}
