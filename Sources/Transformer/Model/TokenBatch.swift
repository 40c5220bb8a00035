/// A batch of token sequences padded to one length, with what the model needs to know about them.
///
/// Row `r`, slot `t` is `tokens[r · length + t]`. Padding slots have `mask == false`; their token
/// ids are ignored. `positions` are the RoPE positions of the slots (for padding, any value);
/// by default a row's first real token is at position 0 and each following real token one further,
/// so left-padded rows are positioned exactly like unpadded ones. `instructionMask` marks the
/// tokens that form the instruction — the part instruction-aware adapters may read (default: every
/// real token).
public struct TokenBatch: Sendable, Equatable {
    /// Which side padding goes on when rows of different lengths are batched.
    public enum Padding: Sendable { case left, right }

    /// Token ids, row-major `[batch, length]`.
    public let tokens: [Int]
    /// The number of rows.
    public let batch: Int
    /// The padded length of every row.
    public let length: Int
    /// `false` on padding slots, row-major `[batch, length]`.
    public let mask: [Bool]
    /// RoPE positions, row-major `[batch, length]`.
    public let positions: [Int]
    /// `true` on instruction tokens, row-major `[batch, length]`.
    public let instructionMask: [Bool]

    /// Pads `rows` to the longest row.
    ///
    /// - Parameters:
    ///   - rows: token ids per row; rows may differ in length (an empty row is all padding).
    ///   - padding: `.left` for generation (every row ends at the same slot), `.right` for training.
    ///   - padToken: the id written into padding slots (never read by the model).
    ///   - instructionLengths: per row, how many leading real tokens are the instruction; `nil`
    ///     means the whole row.
    /// - Throws: ``ModelError/invalidInput(_:)`` if `rows` is empty or `instructionLengths` does not
    ///   have one entry per row.
    public init(rows: [[Int]], padding: Padding = .left, padToken: Int = 0, instructionLengths: [Int]? = nil) throws {
        guard !rows.isEmpty else { throw ModelError.invalidInput("a token batch needs at least one row") }
        if let instructionLengths, instructionLengths.count != rows.count {
            throw ModelError.invalidInput("\(instructionLengths.count) instruction lengths for \(rows.count) rows")
        }
        let length = rows.map(\.count).max() ?? 0
        var tokens: [Int] = [], mask: [Bool] = [], positions: [Int] = [], instruction: [Bool] = []
        for (index, row) in rows.enumerated() {
            let pad = length - row.count
            let instructionLength = instructionLengths?[index] ?? row.count
            let padTokens = [Int](repeating: padToken, count: pad)
            tokens += padding == .left ? padTokens + row : row + padTokens
            let realMask = [Bool](repeating: true, count: row.count), padMask = [Bool](repeating: false, count: pad)
            mask += padding == .left ? padMask + realMask : realMask + padMask
            let realInstruction = (0..<row.count).map { $0 < instructionLength }
            instruction += padding == .left ? padMask + realInstruction : realInstruction + padMask
            let realPositions = Array(0..<row.count), padPositions = [Int](repeating: 0, count: pad)
            positions += padding == .left ? padPositions + realPositions : realPositions + padPositions
        }
        self.init(unchecked: tokens, batch: rows.count, length: length, mask: mask, positions: positions,
                  instructionMask: instruction)
    }

    /// A batch given slot by slot.
    /// - Throws: ``ModelError/invalidInput(_:)`` unless every array holds `batch · length` entries and
    ///   positions are non-negative.
    public init(
        tokens: [Int], batch: Int, length: Int, mask: [Bool], positions: [Int], instructionMask: [Bool]? = nil
    ) throws {
        let count = batch * length
        guard batch > 0, length >= 0, tokens.count == count, mask.count == count, positions.count == count,
              instructionMask.map({ $0.count == count }) ?? true else {
            throw ModelError.invalidInput(
                "token batch \(batch)×\(length) with \(tokens.count) tokens, \(mask.count) mask flags, \(positions.count) positions")
        }
        guard positions.allSatisfy({ $0 >= 0 }) else { throw ModelError.invalidInput("negative position in token batch") }
        self.init(unchecked: tokens, batch: batch, length: length, mask: mask, positions: positions,
                  instructionMask: instructionMask ?? mask)
    }

    private init(unchecked tokens: [Int], batch: Int, length: Int, mask: [Bool], positions: [Int], instructionMask: [Bool]) {
        self.tokens = tokens
        self.batch = batch
        self.length = length
        self.mask = mask
        self.positions = positions
        self.instructionMask = zip(instructionMask, mask).map { $0 && $1 }
    }

    /// The real (non-padding) tokens of row `row`, in order.
    public func realTokens(ofRow row: Int) -> [Int] {
        (0..<length).compactMap { mask[row * length + $0] ? tokens[row * length + $0] : nil }
    }
}
