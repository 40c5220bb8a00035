import Tensor
import Transformer

/// Encoded examples as one right-padded batch with next-token targets on the response only.
///
/// Row `r` is example `r`; its instruction length is the example's ``EncodedExample/promptLength``,
/// which is what instruction-aware adapters (IAPT) read. Slot `t` of a row has target `tokens[t + 1]`
/// when token `t + 1` is a response token, and ``CrossEntropy/ignoredTarget`` otherwise (prompt
/// tokens, the last token, padding), so the loss counts response tokens only. The first response
/// token is predicted from the last prompt token.
public struct TrainingBatch: Sendable, Equatable {
    /// The tokens, right-padded, with instruction lengths set to the prompt lengths.
    public let tokens: TokenBatch
    /// One target per slot, row-major `[batch, length]`: the next token or
    /// ``CrossEntropy/ignoredTarget``.
    public let targets: [Int]
    /// The number of targets that are not ignored (response tokens predicted).
    public let targetCount: Int
    /// The number of real (non-padding) tokens.
    public let tokenCount: Int

    /// Batches `examples`, padding with `padToken` (an id the model never reads).
    /// - Throws: ``ModelError/invalidInput(_:)`` if `examples` is empty.
    public init(_ examples: [EncodedExample], padToken: Int = 0) throws {
        tokens = try TokenBatch(
            rows: examples.map(\.tokens), padding: .right, padToken: padToken,
            instructionLengths: examples.map(\.promptLength))
        let length = tokens.length
        var targets = [Int](repeating: CrossEntropy.ignoredTarget, count: examples.count * length)
        var targetCount = 0
        for (row, example) in examples.enumerated() {
            for next in max(example.promptLength, 1)..<max(example.tokens.count, 1) {
                targets[row * length + next - 1] = example.tokens[next]
                targetCount += 1
            }
        }
        self.targets = targets
        self.targetCount = targetCount
        tokenCount = examples.reduce(0) { $0 + $1.tokens.count }
    }

    /// The number of targets `example` contributes to a batch (its response tokens predicted).
    public static func targetCount(of example: EncodedExample) -> Int {
        max(0, max(example.tokens.count, 1) - max(example.promptLength, 1))
    }
}

/// The order examples are visited in, epoch by epoch: a seeded shuffle that depends only on the
/// seed and the epoch number, so a run resumed at any step sees the same order again.
public enum ExampleOrder {
    /// The indices `0..<count` for epoch `epoch` (from 0): shuffled by a generator seeded from
    /// `seed` and `epoch` (Fisher–Yates, independent of the standard library's shuffle), or in
    /// order when `shuffled` is `false`.
    public static func indices(count: Int, epoch: Int, seed: UInt64, shuffled: Bool = true) -> [Int] {
        var indices = Array(0..<count)
        guard shuffled, count > 1 else { return indices }
        var generator = SeededGenerator(seed: mix(seed ^ mix(UInt64(truncatingIfNeeded: epoch) &+ 0x5EED)))
        for last in stride(from: count - 1, to: 0, by: -1) {
            let chosen = Int(UInt64(last + 1).multipliedFullWidth(by: generator.next()).high)
            indices.swapAt(last, chosen)
        }
        return indices
    }

    /// SplitMix64's finaliser: decorrelates nearby seeds.
    private static func mix(_ value: UInt64) -> UInt64 {
        var z = value &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
