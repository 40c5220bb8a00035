/// The `model` of a tokenizer definition when it is BPE: a vocabulary and ranked merges.
///
/// A word starts as one symbol per Unicode scalar (or its `<0xNN>` bytes, or the unknown token);
/// then, lowest rank first, adjacent pairs with a merge are replaced by the merged token. A
/// priority queue keyed by (rank, position) does this in O(n log n) for a word of n scalars.
struct BPEModel: Sendable {
    /// The id of each vocabulary token, compared byte for byte.
    let idsByToken: [ExactString: Int]
    /// The token of each id.
    let tokensByID: [Int: String]
    /// The ids of the one-scalar tokens, the usual starting symbols.
    private let idsByScalar: [Unicode.Scalar: Int]
    /// For each mergeable pair of ids (see ``pairKey(_:_:)``), its rank and the merged token's id.
    private let merges: [UInt64: (rank: Int32, mergedID: Int32)]
    private let unknownTokenID: Int?
    private let fusesUnknownTokens: Bool
    /// The ids of `<0x00>`…`<0xFF>` when `byte_fallback` is on; `nil` entries are missing tokens.
    private let byteFallbackIDs: [Int?]?
    private let ignoresMerges: Bool
    private let continuingSubwordPrefix: String?
    private let endOfWordSuffix: String?

    /// Reads a `model` object of type `BPE`.
    /// - Throws: ``TokenizerError/unsupportedComponent(source:key:type:)`` if the type is not BPE;
    ///   ``TokenizerError/invalidValue(source:key:reason:)`` for a malformed vocabulary (ids not
    ///   integers, two tokens with one id), a merge naming a token not in the vocabulary, an
    ///   `unk_token` not in the vocabulary, or a non-zero `dropout` (sampling is not supported).
    init(parsing node: JSONNode) throws {
        if let type = try node.string("type"), type != "BPE" { throw node.unsupported(type) }
        var idsByToken: [ExactString: Int] = [:]
        var tokensByID: [Int: String] = [:]
        for (token, idNode) in try node.required("vocab").members() {
            let id = try idNode.nonNegativeInt()
            if let other = tokensByID[id], !other.utf8.elementsEqual(token.utf8) {
                throw idNode.invalid("id \(id) is given to both \(other) and \(token)")
            }
            idsByToken[ExactString(token)] = id
            tokensByID[id] = token
        }
        self.idsByToken = idsByToken
        self.tokensByID = tokensByID
        var idsByScalar: [Unicode.Scalar: Int] = [:]
        for (token, id) in idsByToken where token.string.unicodeScalars.count == 1 {
            if let scalar = token.string.unicodeScalars.first { idsByScalar[scalar] = id }
        }
        self.idsByScalar = idsByScalar

        continuingSubwordPrefix = try node.string("continuing_subword_prefix")
        endOfWordSuffix = try node.string("end_of_word_suffix")
        merges = try Self.parseMerges(try node.required("merges"), idsByToken: idsByToken,
                                      continuingSubwordPrefix: continuingSubwordPrefix)
        if let unknownNode = try node.optional("unk_token") {
            let unknownToken = try unknownNode.string()
            guard let id = idsByToken[ExactString(unknownToken)] else {
                throw unknownNode.invalid("unknown token \(unknownToken) is not in model.vocab")
            }
            unknownTokenID = id
        } else {
            unknownTokenID = nil
        }
        fusesUnknownTokens = try node.bool("fuse_unk", default: false)
        byteFallbackIDs = try node.bool("byte_fallback", default: false)
            ? (0...255).map { idsByToken[ExactString(Self.byteFallbackToken(UInt8($0)))] }
            : nil
        ignoresMerges = try node.bool("ignore_merges", default: false)
        if let dropout = try node.optional("dropout"), try dropout.number() != 0 {
            throw dropout.invalid("BPE dropout samples merges at random; only deterministic BPE is supported")
        }
    }

    /// `<0x0A>` for byte 10: the spelling of byte-fallback tokens.
    static func byteFallbackToken(_ byte: UInt8) -> String {
        let hex = String(byte, radix: 16, uppercase: true)
        return "<0x\(hex.count == 1 ? "0" + hex : hex)>"
    }

    private static func pairKey(_ left: Int32, _ right: Int32) -> UInt64 {
        UInt64(UInt32(bitPattern: left)) << 32 | UInt64(UInt32(bitPattern: right))
    }

    /// Reads merges written as `"a b"` strings or as `["a", "b"]` pairs; rank is the position.
    private static func parseMerges(
        _ node: JSONNode, idsByToken: [ExactString: Int], continuingSubwordPrefix: String?
    ) throws -> [UInt64: (rank: Int32, mergedID: Int32)] {
        var merges: [UInt64: (rank: Int32, mergedID: Int32)] = [:]
        let entries = try node.elements()
        merges.reserveCapacity(entries.count)
        for (rank, entry) in entries.enumerated() {
            let pair: [String]
            if case .string(let line) = entry.value {
                pair = line.unicodeScalars.split(separator: " ", omittingEmptySubsequences: false).map { String($0) }
            } else {
                pair = try entry.elements().map { try $0.string() }
            }
            guard pair.count == 2 else { throw entry.invalid("a merge is two tokens") }
            var rightPart = pair[1]
            if let prefix = continuingSubwordPrefix, rightPart.utf8.starts(with: prefix.utf8) {
                rightPart = String(rightPart.unicodeScalars.dropFirst(prefix.unicodeScalars.count))
            }
            func vocabularyID(_ token: String) throws -> Int32 {
                guard let id = idsByToken[ExactString(token)] else {
                    throw entry.invalid("token \(token) is not in model.vocab")
                }
                return Int32(id)
            }
            let key = pairKey(try vocabularyID(pair[0]), try vocabularyID(pair[1]))
            merges[key] = (Int32(rank), try vocabularyID(pair[0] + rightPart))
        }
        return merges
    }

    /// Appends the ids of one pre-tokenized word to `ids`.
    func appendTokens(of word: String, to ids: inout [Int]) {
        if word.isEmpty { return }
        if ignoresMerges, let id = idsByToken[ExactString(word)] {
            ids.append(id)
            return
        }
        var symbols = initialSymbols(of: word)
        mergeAll(&symbols)
        ids.append(contentsOf: symbols.map(Int.init))
    }

    /// One symbol per scalar (with the subword prefix and word suffix where configured), falling
    /// back to `<0xNN>` tokens, then to the unknown token, as `tokenizers`' `merge_word` does.
    private func initialSymbols(of word: String) -> [Int32] {
        var symbols: [Int32] = []
        symbols.reserveCapacity(word.utf8.count)
        var pendingUnknown = false
        let scalars = word.unicodeScalars
        var index = scalars.startIndex
        while index < scalars.endIndex {
            let scalar = scalars[index]
            let isFirst = index == scalars.startIndex
            scalars.formIndex(after: &index)
            let isLast = index == scalars.endIndex
            let symbolText: String?
            let id: Int?
            if (continuingSubwordPrefix != nil && !isFirst) || (endOfWordSuffix != nil && isLast) {
                let text = (isFirst ? "" : continuingSubwordPrefix ?? "") + String(scalar)
                    + (isLast ? endOfWordSuffix ?? "" : "")
                symbolText = text
                id = idsByToken[ExactString(text)]
            } else {
                symbolText = nil
                id = idsByScalar[scalar]
            }
            if let id {
                if pendingUnknown, let unknownTokenID { symbols.append(Int32(unknownTokenID)) }
                pendingUnknown = false
                symbols.append(Int32(id))
                continue
            }
            if let byteFallbackIDs {
                let bytes = symbolText.map { Array($0.utf8) } ?? Array(String(scalar).utf8)
                let byteIDs = bytes.compactMap { byteFallbackIDs[Int($0)] }
                if byteIDs.count == bytes.count {
                    symbols.append(contentsOf: byteIDs.map { Int32($0) })
                    continue
                }
            }
            guard let unknownTokenID else { continue }
            if pendingUnknown && !fusesUnknownTokens { symbols.append(Int32(unknownTokenID)) }
            pendingUnknown = true
        }
        if pendingUnknown, let unknownTokenID { symbols.append(Int32(unknownTokenID)) }
        return symbols
    }

    /// Applies merges lowest rank first (leftmost first among equal ranks) until none applies.
    private func mergeAll(_ symbols: inout [Int32]) {
        let count = symbols.count
        guard count > 1 else { return }
        var previous = (0..<count).map { Int32($0) - 1 }
        var next = (0..<count).map { $0 + 1 < count ? Int32($0 + 1) : -1 }
        var alive = [Bool](repeating: true, count: count)
        var queue = MergeQueue()
        for position in 0..<(count - 1) {
            if let merge = merges[Self.pairKey(symbols[position], symbols[position + 1])] {
                queue.push(.init(rank: merge.rank, position: Int32(position), mergedID: merge.mergedID))
            }
        }
        while let candidate = queue.pop() {
            let position = Int(candidate.position)
            guard alive[position], next[position] >= 0 else { continue }
            let right = Int(next[position])
            // Skip entries made stale by an earlier merge at this position or its neighbour.
            guard let merge = merges[Self.pairKey(symbols[position], symbols[right])],
                  merge.mergedID == candidate.mergedID else { continue }
            symbols[position] = candidate.mergedID
            alive[right] = false
            next[position] = next[right]
            if next[right] >= 0 { previous[Int(next[right])] = Int32(position) }
            if previous[position] >= 0 {
                let left = Int(previous[position])
                if let merge = merges[Self.pairKey(symbols[left], symbols[position])] {
                    queue.push(.init(rank: merge.rank, position: Int32(left), mergedID: merge.mergedID))
                }
            }
            if next[position] >= 0,
               let merge = merges[Self.pairKey(symbols[position], symbols[Int(next[position])])] {
                queue.push(.init(rank: merge.rank, position: Int32(position), mergedID: merge.mergedID))
            }
        }
        symbols = zip(symbols, alive).filter(\.1).map(\.0)
    }
}
