import Foundation
import Testing
import Transformer

struct BPETrainerTests {
    /// Worked by hand: the words are `aaab` and `Ġaaab`; `a a` (4 times) merges first, then `a b`
    /// and `aa aa`… tie at 2 and the pair of smaller ids (`a b`) wins; then `aa ab` (2); `Ġ aaab`
    /// occurs once, below the minimum count, so training stops with three merges.
    @Test func learnsTheMostFrequentPairsInOrder() throws {
        let merges = try BPETrainer(vocabularySize: 1000).merges(learnedFrom: ["aaab aaab"])
        #expect(merges.map { "\($0.0) \($0.1)" } == ["a a", "a b", "aa ab"])
        let tokenizer = try BPETokenizer(data: BPETrainer(vocabularySize: 1000).tokenizerJSON(learnedFrom: ["aaab aaab"]))
        #expect(tokenizer.vocabularySize == 262)
        #expect(tokenizer.encode("aaab aaab", addSpecialTokens: true) == [256, 261, 32, 261])
        #expect(tokenizer.id(forToken: "aa") == 259)
    }

    @Test func stopsAtTheVocabularySize() throws {
        let json = try BPETrainer(vocabularySize: 260).tokenizerJSON(learnedFrom: ["aaab aaab"])
        let tokenizer = try BPETokenizer(data: json)
        #expect(tokenizer.vocabularySize == 260)
        #expect(tokenizer.encode("aaab", addSpecialTokens: false) == [259, 97, 98])
    }

    static let corpus = (0..<200).map { index in
        "Review \(index): the coffee at Brindle Bakery was great, and Ada said it was the best in town. Ünïcødé 東京 🙂."
    }

    @Test func anyTextRoundTripsAndTheSpecialTokensKeepTheirIDs() throws {
        let tokenizer = try BPETokenizer(data: BPETrainer(vocabularySize: 400).tokenizerJSON(learnedFrom: Self.corpus))
        // The corpus runs out of pairs seen twice before 400.
        #expect((300..<400).contains(tokenizer.vocabularySize))
        #expect([tokenizer.bosTokenID, tokenizer.eosTokenID, tokenizer.padTokenID] == [256, 257, 258])
        for text in Self.corpus.prefix(5) + ["never seen: qxz 42 \n\t", "", "👨‍👩‍👧"] {
            let ids = tokenizer.encode(text, addSpecialTokens: true)
            #expect(ids.first == 256)
            #expect(try tokenizer.decode(ids, skipSpecialTokens: true).utf8.elementsEqual(text.utf8))
        }
        let text = Self.corpus[7]
        #expect(tokenizer.encode(text, addSpecialTokens: false).count * 3 < text.utf8.count, "merges should shorten familiar text")
    }

    @Test func trainingIsDeterministic() throws {
        let first = try BPETrainer(vocabularySize: 400).tokenizerJSON(learnedFrom: Self.corpus)
        let second = try BPETrainer(vocabularySize: 400).tokenizerJSON(learnedFrom: Self.corpus)
        #expect(first == second)
    }

    @Test func withoutMergesItIsTheByteTokenizer() throws {
        let trained = try BPETokenizer(data: BPETrainer(vocabularySize: 259).tokenizerJSON(learnedFrom: Self.corpus))
        let bytes = try BPETokenizer(data: ByteTokenizer().huggingFaceJSON())
        for text in Self.corpus.prefix(3) {
            #expect(trained.encode(text, addSpecialTokens: true) == ByteTokenizer().encode(text, addSpecialTokens: true))
            #expect(bytes.encode(text, addSpecialTokens: true) == ByteTokenizer().encode(text, addSpecialTokens: true))
        }
    }

    @Test func rejectsImpossibleSettings() {
        #expect(throws: TokenizerError.self) { try BPETrainer(vocabularySize: 258).merges(learnedFrom: ["a"]) }
        #expect(throws: TokenizerError.self) { try BPETrainer(vocabularySize: 300, minimumPairCount: 0).merges(learnedFrom: ["a"]) }
    }
}
