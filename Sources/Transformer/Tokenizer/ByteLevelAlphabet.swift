/// GPT-2's reversible map between bytes and printable Unicode scalars.
///
/// Byte-level BPE vocabularies spell every token with these 256 scalars: the printable bytes
/// `!`…`~`, `¡`…`¬` and `®`…`ÿ` stand for themselves, and the other 68 bytes (controls, space,
/// U+00A0 and U+00AD) map in order to U+0100…U+0143, so a space is written `Ġ` (U+0120).
enum ByteLevelAlphabet {
    /// The scalar that stands for each byte, indexed by the byte.
    static let scalarForByte: [Unicode.Scalar] = {
        let printable = Array(0x21...0x7E) + Array(0xA1...0xAC) + Array(0xAE...0xFF)
        var codePoints = [UInt32](repeating: 0, count: 256)
        for byte in printable { codePoints[byte] = UInt32(byte) }
        var nextUnprintable: UInt32 = 0x100
        for byte in 0..<256 where !printable.contains(byte) {
            codePoints[byte] = nextUnprintable
            nextUnprintable += 1
        }
        return codePoints.compactMap(Unicode.Scalar.init)
    }()

    /// The byte each alphabet scalar stands for.
    static let byteForScalar: [Unicode.Scalar: UInt8] = {
        var bytes: [Unicode.Scalar: UInt8] = [:]
        for (byte, scalar) in scalarForByte.enumerated() { bytes[scalar] = UInt8(byte) }
        return bytes
    }()

    /// `text`'s UTF-8 bytes, each written as its alphabet scalar.
    static func encode(_ text: String) -> String {
        encode(bytes: text.utf8)
    }

    /// `bytes`, each written as its alphabet scalar.
    static func encode<Bytes: Sequence>(bytes: Bytes) -> String where Bytes.Element == UInt8 {
        var scalars = String.UnicodeScalarView()
        for byte in bytes { scalars.append(scalarForByte[Int(byte)]) }
        return String(scalars)
    }

    /// The bytes a token spells, or `nil` if it holds a scalar outside the alphabet.
    static func bytes(of token: String) -> [UInt8]? {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(token.unicodeScalars.count)
        for scalar in token.unicodeScalars {
            guard let byte = byteForScalar[scalar] else { return nil }
            bytes.append(byte)
        }
        return bytes
    }
}
