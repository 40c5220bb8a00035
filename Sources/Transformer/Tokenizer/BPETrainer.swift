import Foundation

/// Learns a byte-level BPE tokenizer (the GPT-2 / LLaMA-3 kind) from plain text, and writes it as
/// a `tokenizer.json` that ``BPETokenizer`` and Hugging Face `tokenizers` read alike.
///
/// The layout extends ``ByteTokenizer``: ids 0…255 are the bytes (spelled with GPT-2's byte
/// alphabet), 256…258 the special tokens `<s>`, `</s>` and `<pad>`, and ids from 259 on the merged
/// tokens in the order they were learned. Text is split into words with GPT-2's regular expression
/// (so no token crosses a word boundary, and a word's leading space belongs to it), and `<s>` is put
/// in front of every encoded sequence.
///
/// Training is the classic algorithm: count every adjacent pair of symbols over the distinct words
/// (weighted by how often each word occurs), merge the most frequent pair everywhere, repeat until
/// the vocabulary is full or no pair occurs ``minimumPairCount`` times. Ties go to the pair of
/// smaller ids, so the result depends only on the text.
public struct BPETrainer: Sendable {
    /// The vocabulary size to reach, special tokens and bytes included (at least 259).
    public var vocabularySize: Int
    /// A pair seen fewer times than this is never merged, so training can stop early.
    public var minimumPairCount: Int

    /// - Parameters:
    ///   - vocabularySize: The number of ids in the trained tokenizer, at least 259.
    ///   - minimumPairCount: The fewest occurrences a pair needs to be merged (at least 1).
    public init(vocabularySize: Int, minimumPairCount: Int = 2) {
        self.vocabularySize = vocabularySize
        self.minimumPairCount = minimumPairCount
    }

    /// The learned merges, in rank order, each as its two tokens spelled in the byte alphabet.
    ///
    /// - Parameter texts: The training text; each element is split into words on its own.
    /// - Throws: ``TokenizerError/invalidValue(source:key:reason:)`` if ``vocabularySize`` is below
    ///   259 or ``minimumPairCount`` below 1.
    public func merges(learnedFrom texts: [String]) throws -> [(String, String)] {
        guard vocabularySize >= Self.firstMergedID else {
            throw TokenizerError.invalidValue(source: "BPETrainer", key: "vocabularySize",
                                              reason: "\(vocabularySize) is below the \(Self.firstMergedID) byte and special tokens")
        }
        guard minimumPairCount >= 1 else {
            throw TokenizerError.invalidValue(source: "BPETrainer", key: "minimumPairCount", reason: "\(minimumPairCount) is below 1")
        }
        let splitter = try TokenizerRegex(trusted: PreTokenizer.gpt2Pattern)
        var wordCounts: [[UInt8]: Int] = [:]
        for text in texts {
            for range in splitter.matches(in: text) { wordCounts[Array(text[range].utf8), default: 0] += 1 }
        }
        // Distinct words as symbol ids, in a fixed order so that training does not depend on hashing.
        let sortedWords = wordCounts.sorted { $0.key.lexicographicallyPrecedes($1.key) }
        var words = sortedWords.map { $0.key.map(Int32.init) }
        let counts = sortedWords.map(\.value)
        var spellings = (0..<256).map { [UInt8($0)] }
        var idsBySpelling = Dictionary(uniqueKeysWithValues: spellings.enumerated().map { ($1, Int32($0)) })
        var merges: [(String, String)] = []
        while Self.firstMergedID + spellings.count - 256 < vocabularySize {
            guard let (left, right) = Self.mostFrequentPair(in: words, counts: counts, minimumCount: minimumPairCount) else { break }
            let spelling = spellings[Int(left)] + spellings[Int(right)]
            let merged: Int32
            if let existing = idsBySpelling[spelling] {
                merged = existing
            } else {
                merged = Int32(spellings.count)
                spellings.append(spelling)
                idsBySpelling[spelling] = merged
            }
            merges.append((ByteLevelAlphabet.encode(bytes: spellings[Int(left)]), ByteLevelAlphabet.encode(bytes: spellings[Int(right)])))
            for index in words.indices where words[index].count > 1 {
                words[index] = Self.merge(left, right, into: merged, in: words[index])
            }
        }
        return merges
    }

    /// A `tokenizer.json` for the merges learned from `texts` (see ``merges(learnedFrom:)``).
    /// - Throws: what ``merges(learnedFrom:)`` throws.
    public func tokenizerJSON(learnedFrom texts: [String]) throws -> Data {
        try Self.tokenizerJSON(merges: merges(learnedFrom: texts), usesWordSplitter: true)
    }

    /// The first id after the 256 bytes and three special tokens.
    static let firstMergedID = 259
    static let specialTokens = ["<s>", "</s>", "<pad>"]

    /// A byte-level BPE definition with bytes at 0…255, the special tokens at 256…258 and the
    /// merged tokens from 259 in merge order (a merge whose result already exists adds no token).
    static func tokenizerJSON(merges: [(String, String)], usesWordSplitter: Bool) throws -> Data {
        var vocabulary = Dictionary(uniqueKeysWithValues: (0..<256).map { (ByteLevelAlphabet.encode(bytes: [UInt8($0)]), $0) })
        for (offset, token) in specialTokens.enumerated() { vocabulary[token] = 256 + offset }
        var nextID = firstMergedID
        for (left, right) in merges where vocabulary[left + right] == nil {
            vocabulary[left + right] = nextID
            nextID += 1
        }
        let added = specialTokens.enumerated().map { offset, content -> [String: Any] in
            ["id": 256 + offset, "content": content, "single_word": false, "lstrip": false, "rstrip": false,
             "normalized": false, "special": true]
        }
        let byteLevel: [String: Any] = ["type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": usesWordSplitter]
        let bos: [String: Any] = ["SpecialToken": ["id": "<s>", "type_id": 0]]
        let json: [String: Any] = [
            "version": "1.0", "truncation": NSNull(), "padding": NSNull(), "added_tokens": added, "normalizer": NSNull(),
            "pre_tokenizer": byteLevel, "decoder": byteLevel,
            "post_processor": [
                "type": "TemplateProcessing",
                "single": [bos, ["Sequence": ["id": "A", "type_id": 0]]],
                "pair": [bos, ["Sequence": ["id": "A", "type_id": 0]], ["Sequence": ["id": "B", "type_id": 1]]],
                "special_tokens": ["<s>": ["id": "<s>", "ids": [256], "tokens": ["<s>"]]],
            ] as [String: Any],
            "model": [
                "type": "BPE", "dropout": NSNull(), "unk_token": NSNull(), "continuing_subword_prefix": NSNull(),
                "end_of_word_suffix": NSNull(), "fuse_unk": false, "byte_fallback": false, "ignore_merges": false,
                "vocab": vocabulary, "merges": merges.map { "\($0.0) \($0.1)" },
            ] as [String: Any],
        ]
        return try JSONSerialization.data(withJSONObject: json, options: [.sortedKeys])
    }

    /// The most frequent adjacent pair (ties to the smaller ids), if it occurs at least `minimumCount` times.
    private static func mostFrequentPair(in words: [[Int32]], counts: [Int], minimumCount: Int) -> (Int32, Int32)? {
        var pairCounts: [Int64: Int] = [:]
        for (word, count) in zip(words, counts) where word.count > 1 {
            for index in 1..<word.count {
                pairCounts[Int64(word[index - 1]) << 32 | Int64(word[index]), default: 0] += count
            }
        }
        var best: (key: Int64, count: Int)?
        for (key, count) in pairCounts where count >= minimumCount {
            if let current = best, count < current.count || (count == current.count && key > current.key) { continue }
            best = (key, count)
        }
        return best.map { (Int32($0.key >> 32), Int32(truncatingIfNeeded: $0.key)) }
    }

    /// `word` with every non-overlapping occurrence of `left right`, taken left to right, replaced by `merged`.
    private static func merge(_ left: Int32, _ right: Int32, into merged: Int32, in word: [Int32]) -> [Int32] {
        var result: [Int32] = []
        result.reserveCapacity(word.count)
        var index = 0
        while index < word.count {
            if index + 1 < word.count && word[index] == left && word[index + 1] == right {
                result.append(merged)
                index += 2
            } else {
                result.append(word[index])
                index += 1
            }
        }
        return result
    }
}
