/// A string key that compares and hashes by its UTF-8 bytes.
///
/// `String` equality follows Unicode canonical equivalence, so "é" (U+00E9) equals "e" + U+0301.
/// Tokens are byte sequences: a vocabulary may hold both spellings under different ids, and
/// `tokenizers` tells them apart, so vocabulary lookups use this key.
struct ExactString: Hashable, Sendable {
    let string: String

    init(_ string: String) { self.string = string }

    static func == (lhs: ExactString, rhs: ExactString) -> Bool {
        lhs.string.utf8.elementsEqual(rhs.string.utf8)
    }

    func hash(into hasher: inout Hasher) {
        let hashedContiguously: Void? = string.utf8.withContiguousStorageIfAvailable {
            hasher.combine(bytes: UnsafeRawBufferPointer($0))
        }
        if hashedContiguously == nil {
            Array(string.utf8).withUnsafeBytes { hasher.combine(bytes: $0) }
        }
        hasher.combine(string.utf8.count)
    }
}
