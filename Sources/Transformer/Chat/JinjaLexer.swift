/// A token of a Jinja template: template text, a tag's delimiters, or a piece of an expression.
struct JinjaToken: Sendable, Equatable {
    enum Kind: Sendable, Equatable {
        case text(String)
        /// `{%`; `}}`, `%}` end tags as ``tagEnd``.
        case statementStart
        /// `{{`.
        case outputStart
        case tagEnd
        case name(String)
        case string(String)
        case integer(Int)
        case float(Double)
        /// An operator or punctuation: `+`, `==`, `(`, `|`, …
        case symbol(String)
    }

    let kind: Kind
    /// Offset of the token in the source, in Unicode scalars (for errors).
    let position: Int
}

/// Splits a template into tokens, applying Jinja's whitespace rules as transformers configures
/// them: `trim_blocks` (the first newline after a `%}` or `#}` is dropped), `lstrip_blocks` (spaces
/// and tabs before a `{%` or `{#` at the start of a line are dropped), `-` markers (all whitespace
/// on that side is dropped), line endings written `\n`, and one trailing newline dropped.
enum JinjaLexer {
    private static let symbols = ["//", "**", "==", "!=", "<=", ">=", "+", "-", "*", "/", "%", "~", "<", ">", "=",
                                  "|", ".", ",", ":", "(", ")", "[", "]", "{", "}"]

    static func tokenize(_ source: String) throws -> [JinjaToken] {
        var scalars: [Unicode.Scalar] = []
        var sourceScalars = Array(source.unicodeScalars)
        if sourceScalars.last == "\n" { sourceScalars.removeLast() }
        for (offset, scalar) in sourceScalars.enumerated() {
            if scalar == "\r" {
                if offset + 1 < sourceScalars.count && sourceScalars[offset + 1] == "\n" { continue }
                scalars.append("\n")
            } else {
                scalars.append(scalar)
            }
        }
        var tokens: [JinjaToken] = []
        var index = 0
        var text: [Unicode.Scalar] = []
        /// Where the current run of text begins in the source (after whitespace a tag removed).
        var textStart = 0
        var stripsLeadingWhitespace = false
        var dropsNextNewline = false

        func flushText(stripTrailing: Bool, lstrip: Bool) {
            if stripTrailing {
                while let last = text.last, last.properties.isWhitespace { text.removeLast() }
            } else if lstrip {
                let lastNewline = text.lastIndex(of: "\n")
                let tailStart = lastNewline.map { $0 + 1 } ?? 0
                let startsLine = lastNewline != nil || textStart == 0 || scalars[textStart - 1] == "\n"
                if startsLine && text[tailStart...].allSatisfy(\.properties.isWhitespace) {
                    text.removeSubrange(tailStart...)
                }
            }
            if !text.isEmpty {
                tokens.append(JinjaToken(kind: .text(String(String.UnicodeScalarView(text))), position: textStart))
            }
            text = []
        }

        while index < scalars.count {
            let scalar = scalars[index]
            let next = index + 1 < scalars.count ? scalars[index + 1] : nil
            guard scalar == "{", let next, next == "%" || next == "{" || next == "#" else {
                if stripsLeadingWhitespace && scalar.properties.isWhitespace {
                    index += 1
                    textStart = index
                    continue
                }
                stripsLeadingWhitespace = false
                if dropsNextNewline {
                    dropsNextNewline = false
                    if scalar == "\n" {
                        index += 1
                        textStart = index
                        continue
                    }
                }
                text.append(scalar)
                index += 1
                continue
            }
            let tagStart = index
            index += 2
            let marker = index < scalars.count ? scalars[index] : nil
            if marker == "-" || marker == "+" { index += 1 }
            flushText(stripTrailing: marker == "-", lstrip: next != "{" && marker != "+")
            stripsLeadingWhitespace = false
            dropsNextNewline = false
            if next == "#" {
                guard let end = find(["#", "}"], in: scalars, from: index) else {
                    throw ChatTemplateError.syntax(position: tagStart, reason: "unclosed comment")
                }
                stripsLeadingWhitespace = end > index && scalars[end - 1] == "-"
                dropsNextNewline = !stripsLeadingWhitespace
                index = end + 2
                textStart = index
                continue
            }
            tokens.append(JinjaToken(kind: next == "%" ? .statementStart : .outputStart, position: tagStart))
            let closing: Unicode.Scalar = next == "%" ? "%" : "}"
            var depth = 0
            while true {
                while index < scalars.count, scalars[index].properties.isWhitespace { index += 1 }
                guard index < scalars.count else {
                    throw ChatTemplateError.syntax(position: tagStart, reason: "unclosed tag")
                }
                let current = scalars[index]
                let following = index + 1 < scalars.count ? scalars[index + 1] : nil
                let afterFollowing = index + 2 < scalars.count ? scalars[index + 2] : nil
                if depth == 0, current == "-", following == closing, afterFollowing == "}" {
                    stripsLeadingWhitespace = true
                    index += 3
                    break
                }
                if depth == 0, current == closing, following == "}" {
                    dropsNextNewline = next == "%"
                    index += 2
                    break
                }
                let token = try lexExpressionToken(scalars, &index)
                if case .symbol(let symbol) = token.kind {
                    if "([{".contains(symbol) { depth += 1 } else if ")]}".contains(symbol) { depth -= 1 }
                }
                tokens.append(token)
            }
            tokens.append(JinjaToken(kind: .tagEnd, position: index))
            textStart = index
        }
        flushText(stripTrailing: false, lstrip: false)
        return tokens
    }

    private static func find(_ pattern: [Unicode.Scalar], in scalars: [Unicode.Scalar], from start: Int) -> Int? {
        var index = start
        while index + pattern.count <= scalars.count {
            if Array(scalars[index..<(index + pattern.count)]) == pattern { return index }
            index += 1
        }
        return nil
    }

    private static func lexExpressionToken(_ scalars: [Unicode.Scalar], _ index: inout Int) throws -> JinjaToken {
        let start = index
        let scalar = scalars[index]
        if scalar == "_" || scalar.properties.isAlphabetic {
            var name = String.UnicodeScalarView()
            while index < scalars.count, scalars[index] == "_" || scalars[index].properties.isAlphabetic
                    || ("0"..."9").contains(scalars[index]) {
                name.append(scalars[index])
                index += 1
            }
            return JinjaToken(kind: .name(String(name)), position: start)
        }
        if ("0"..."9").contains(scalar) {
            var digits = ""
            var isFloat = false
            while index < scalars.count {
                let current = scalars[index]
                if ("0"..."9").contains(current) || current == "_" {
                    if current != "_" { digits.unicodeScalars.append(current) }
                } else if current == ".", !isFloat, index + 1 < scalars.count, ("0"..."9").contains(scalars[index + 1]) {
                    isFloat = true
                    digits.unicodeScalars.append(current)
                } else if current == "e" || current == "E", let exponentLength = exponentLength(scalars, at: index + 1) {
                    isFloat = true
                    digits.unicodeScalars.append(contentsOf: scalars[index...(index + exponentLength)])
                    index += exponentLength + 1
                    break
                } else {
                    break
                }
                index += 1
            }
            if isFloat, let value = Double(digits) { return JinjaToken(kind: .float(value), position: start) }
            guard let value = Int(digits) else { throw ChatTemplateError.syntax(position: start, reason: "number \(digits) is too large") }
            return JinjaToken(kind: .integer(value), position: start)
        }
        if scalar == "'" || scalar == "\"" {
            return JinjaToken(kind: .string(try lexString(scalars, &index, quote: scalar)), position: start)
        }
        for symbol in symbols where index + symbol.unicodeScalars.count <= scalars.count {
            if Array(scalars[index..<(index + symbol.unicodeScalars.count)]) == Array(symbol.unicodeScalars) {
                index += symbol.unicodeScalars.count
                return JinjaToken(kind: .symbol(symbol), position: start)
            }
        }
        throw ChatTemplateError.syntax(position: start, reason: "unexpected character \(String(scalar).debugDescription)")
    }

    /// The length of an exponent's sign and digits after `e` (`3`, `+10`, `-2`), or `nil` if none.
    private static func exponentLength(_ scalars: [Unicode.Scalar], at start: Int) -> Int? {
        var index = start
        if index < scalars.count, scalars[index] == "+" || scalars[index] == "-" { index += 1 }
        let digitsStart = index
        while index < scalars.count, ("0"..."9").contains(scalars[index]) { index += 1 }
        return index > digitsStart ? index - start : nil
    }

    /// A quoted string with Python's escapes (`\n`, `\t`, `\r`, `\\`, `\'`, `\"`, `\uXXXX`, …).
    private static func lexString(_ scalars: [Unicode.Scalar], _ index: inout Int, quote: Unicode.Scalar) throws -> String {
        let start = index
        index += 1
        var value = String.UnicodeScalarView()
        while index < scalars.count {
            let scalar = scalars[index]
            index += 1
            if scalar == quote { return String(value) }
            guard scalar == "\\" else {
                value.append(scalar)
                continue
            }
            guard index < scalars.count else { break }
            let escaped = scalars[index]
            index += 1
            switch escaped {
            case "n": value.append("\n")
            case "t": value.append("\t")
            case "r": value.append("\r")
            case "0": value.append("\0")
            case "\\", "'", "\"": value.append(escaped)
            case "u", "x":
                let length = escaped == "u" ? 4 : 2
                guard index + length <= scalars.count,
                      let code = UInt32(String(String.UnicodeScalarView(scalars[index..<(index + length)])), radix: 16),
                      let decoded = Unicode.Scalar(code) else {
                    throw ChatTemplateError.syntax(position: index, reason: "bad \\\(escaped) escape")
                }
                value.append(decoded)
                index += length
            default:
                value.append("\\")
                value.append(escaped)
            }
        }
        throw ChatTemplateError.syntax(position: start, reason: "unclosed string")
    }
}
