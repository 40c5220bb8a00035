import SeededRandom

/// Makes the inputs of a fuzz run from a target's seed files: input `index` of seed `seed` is
/// always the same bytes, so any finding can be reproduced from the two numbers alone.
///
/// The first inputs are the seed files themselves, unchanged. Each later input starts from one seed
/// file and stacks one to six mutations: bit flips, random bytes, inserts, deletes, truncation,
/// duplicated chunks, splices from another seed file, integer-boundary values (0, −1, 2³¹, 2⁶³,
/// the file size ± 1) written over 1, 2, 4 or 8 bytes, and the same values written over a field
/// that holds a plausible little-endian length (a value up to the file size). For JSON and JSON
/// Lines targets, and for the JSON header inside a safetensors file, structure-aware mutations are
/// added (``JSONMutations``).
public struct Mutator: Sendable {
    /// The seed files mutated.
    public let seeds: [CorpusFile]
    /// The layout of the inputs, which chooses the mutations.
    public let format: FuzzInputFormat
    /// The largest input made (1 MB): a mutation that makes more is cut to this length before the
    /// next one, so the mutator itself never needs much memory.
    public static let maximumInputLength = 1 << 20

    /// A mutator over `seeds` (at least one file) for inputs laid out as `format`.
    public init(seeds: [CorpusFile], format: FuzzInputFormat) {
        precondition(!seeds.isEmpty, "a mutator needs at least one seed file")
        self.seeds = seeds
        self.format = format
    }

    /// Input `index` of the run seeded with `seed`: seed file `index` unchanged while `index` is
    /// below the number of seed files, a mutated seed file after that.
    public func input(seed: UInt64, index: Int) -> FuzzInput {
        if index < seeds.count { return FuzzInput(bytes: seeds[index].bytes, seedName: seeds[index].name) }
        var generator = SeededGenerator.stream(seed: seed, UInt64(index))
        let base = seeds[Int.random(in: 0..<seeds.count, using: &generator)]
        var bytes = base.bytes
        let stacked = 1 + Int(min(5, (generator.next() % 64).trailingZeroBitCount))
        for _ in 0..<stacked {
            mutate(&bytes, using: &generator)
            if bytes.count > Self.maximumInputLength { bytes.removeLast(bytes.count - Self.maximumInputLength) }
        }
        return FuzzInput(bytes: bytes, seedName: base.name)
    }

    private func mutate(_ bytes: inout [UInt8], using generator: inout SeededGenerator) {
        let structured = format == .binary ? 4 : 12  // chances in 24 of a structure-aware mutation
        let roll = Int.random(in: 0..<24, using: &generator)
        if roll < structured {
            if format == .jsonLines, Bool.random(using: &generator) {
                JSONMutations.mutateLines(&bytes, using: &generator)
            } else {
                JSONMutations.mutate(&bytes, using: &generator)
            }
            return
        }
        switch Int.random(in: 0..<11, using: &generator) {
        case 0: flipBit(&bytes, using: &generator)
        case 1: setRandomByte(&bytes, using: &generator)
        case 2: insertBytes(&bytes, using: &generator)
        case 3: deleteRange(&bytes, using: &generator)
        case 4: truncate(&bytes, using: &generator)
        case 5: duplicateChunk(&bytes, using: &generator)
        case 6: splice(&bytes, using: &generator)
        case 7, 8: writeBoundaryInteger(&bytes, using: &generator)
        default: replaceLengthField(&bytes, using: &generator)
        }
    }

    /// Values at the edges of integer types and of the input, for length and count fields.
    static func boundaryValues(length: Int) -> [UInt64] {
        [0, 1, 2, 0x7F, 0x80, 0xFF, 0x7FFF, 0x8000, 0xFFFF, 0x7FFF_FFFF, 0x8000_0000, 0xFFFF_FFFF,
         1 << 32, 1 << 40, 0x7FFF_FFFF_FFFF_FFFF, 1 << 63, UInt64.max, UInt64.max - 7,
         UInt64(length), UInt64(length + 1), UInt64(max(0, length - 1)), UInt64(length) * 2]
    }

    private func position(in bytes: [UInt8], using generator: inout SeededGenerator) -> Int {
        Int.random(in: 0...bytes.count, using: &generator)
    }

    private func flipBit(_ bytes: inout [UInt8], using generator: inout SeededGenerator) {
        guard !bytes.isEmpty else { return }
        let index = Int.random(in: 0..<bytes.count, using: &generator)
        bytes[index] ^= 1 << UInt8.random(in: 0..<8, using: &generator)
    }

    private func setRandomByte(_ bytes: inout [UInt8], using generator: inout SeededGenerator) {
        guard !bytes.isEmpty else { return }
        let interesting: [UInt8] = [0, 0xFF, 0x7F, 0x80, 0x22, 0x5C, 0x7B, 0x7D, 0x5B, 0x5D, 0x2C, 0x3A, 0x0A, 0x30, 0x2D]
        let value = Bool.random(using: &generator) ? interesting.randomElement(using: &generator)! : UInt8.random(in: 0...255, using: &generator)
        bytes[Int.random(in: 0..<bytes.count, using: &generator)] = value
    }

    private func insertBytes(_ bytes: inout [UInt8], using generator: inout SeededGenerator) {
        let count = Int.random(in: 1...16, using: &generator)
        let fill = (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) }
        bytes.insert(contentsOf: fill, at: position(in: bytes, using: &generator))
    }

    private func deleteRange(_ bytes: inout [UInt8], using generator: inout SeededGenerator) {
        guard !bytes.isEmpty else { return }
        let start = Int.random(in: 0..<bytes.count, using: &generator)
        let count = Int.random(in: 1...min(64, bytes.count - start), using: &generator)
        bytes.removeSubrange(start..<(start + count))
    }

    private func truncate(_ bytes: inout [UInt8], using generator: inout SeededGenerator) {
        guard !bytes.isEmpty else { return }
        bytes.removeLast(Int.random(in: 1...bytes.count, using: &generator))
    }

    private func duplicateChunk(_ bytes: inout [UInt8], using generator: inout SeededGenerator) {
        guard !bytes.isEmpty else { return }
        let start = Int.random(in: 0..<bytes.count, using: &generator)
        let count = Int.random(in: 1...min(256, bytes.count - start), using: &generator)
        let chunk = Array(bytes[start..<(start + count)])
        let copies = Int.random(in: 1...4, using: &generator)
        let at = position(in: bytes, using: &generator)
        for _ in 0..<copies { bytes.insert(contentsOf: chunk, at: at) }
    }

    private func splice(_ bytes: inout [UInt8], using generator: inout SeededGenerator) {
        let other = seeds[Int.random(in: 0..<seeds.count, using: &generator)].bytes
        guard !other.isEmpty else { return }
        let start = Int.random(in: 0..<other.count, using: &generator)
        let chunk = other[start..<(start + Int.random(in: 1...min(512, other.count - start), using: &generator))]
        let at = position(in: bytes, using: &generator)
        if Bool.random(using: &generator) {
            bytes.insert(contentsOf: chunk, at: at)
        } else {
            let end = min(bytes.count, at + chunk.count)
            bytes.replaceSubrange(at..<end, with: chunk)
        }
    }

    /// Writes a boundary value over 1, 2, 4 or 8 bytes at a random (often aligned) position.
    private func writeBoundaryInteger(_ bytes: inout [UInt8], using generator: inout SeededGenerator) {
        let width = [1, 2, 4, 8].randomElement(using: &generator)!
        guard bytes.count >= width else { return }
        var at = Int.random(in: 0...(bytes.count - width), using: &generator)
        if Bool.random(using: &generator) { at -= at % width }
        let value = Self.boundaryValues(length: bytes.count).randomElement(using: &generator)!
        write(value, width: width, at: at, into: &bytes)
    }

    /// Finds little-endian u64 or u32 fields whose value could be a length within the input, and
    /// writes a boundary value (or the old value ± 1) over one of them.
    private func replaceLengthField(_ bytes: inout [UInt8], using generator: inout SeededGenerator) {
        let width = Bool.random(using: &generator) ? 8 : 4
        guard bytes.count >= width else { return }
        var candidates: [Int] = []
        for at in 0...(bytes.count - width) {
            let value = read(width: width, at: at, from: bytes)
            if value > 0, value <= UInt64(bytes.count) { candidates.append(at) }
            if candidates.count >= 4096 { break }
        }
        guard let at = candidates.randomElement(using: &generator) else {
            writeBoundaryInteger(&bytes, using: &generator)
            return
        }
        let old = read(width: width, at: at, from: bytes)
        let choices = Self.boundaryValues(length: bytes.count) + [old &+ 1, old &- 1, old &* 2, old &+ 8]
        write(choices.randomElement(using: &generator)!, width: width, at: at, into: &bytes)
    }

    private func read(width: Int, at offset: Int, from bytes: [UInt8]) -> UInt64 {
        var value: UInt64 = 0
        for byte in 0..<width { value |= UInt64(bytes[offset + byte]) << (8 * UInt64(byte)) }
        return value
    }

    private func write(_ value: UInt64, width: Int, at offset: Int, into bytes: inout [UInt8]) {
        for byte in 0..<width { bytes[offset + byte] = UInt8(truncatingIfNeeded: value >> (8 * UInt64(byte))) }
    }
}
