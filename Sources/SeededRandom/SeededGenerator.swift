import Foundation

/// A seeded, reproducible pseudo-random generator (xoshiro256**, seeded through SplitMix64).
///
/// The same seed gives the same sequence on every machine and run, so initialisations, data
/// shuffles and sampled tokens are reproducible. Conforms to `RandomNumberGenerator`, so it also
/// works with the standard library's `shuffle(using:)` and `random(in:using:)`.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    private var state: (UInt64, UInt64, UInt64, UInt64)

    /// Creates a generator whose sequence is fully determined by `seed`.
    public init(seed: UInt64) {
        var splitMix = seed
        func next() -> UInt64 {
            splitMix &+= 0x9E37_79B9_7F4A_7C15
            var z = splitMix
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        state = (next(), next(), next(), next())
    }

    /// A generator for one independent stream of `seed`, named by `labels` (a purpose, a step, an
    /// index): the streams for different labels do not overlap in any practical sense, and each
    /// depends only on `seed` and its labels, never on what was drawn from another. Each label is
    /// mixed into the seed through a SplitMix64-style finaliser.
    public static func stream(seed: UInt64, _ labels: UInt64...) -> SeededGenerator {
        var mixed = seed
        for label in labels {
            var z = (mixed ^ (label &+ 0x9E37_79B9_7F4A_7C15)) &* 0xD6E8_FEB8_6659_FD93
            z = (z ^ (z >> 32)) &* 0xD6E8_FEB8_6659_FD93
            mixed = z ^ (z >> 32)
        }
        return SeededGenerator(seed: mixed)
    }

    /// The next 64 random bits.
    public mutating func next() -> UInt64 {
        let result = rotateLeft(state.1 &* 5, 7) &* 9
        let shifted = state.1 << 17
        state.2 ^= state.0
        state.3 ^= state.1
        state.1 ^= state.2
        state.0 ^= state.3
        state.2 ^= shifted
        state.3 = rotateLeft(state.3, 45)
        return result
    }

    /// A uniform `Float` in `[0, 1)` with 24 random bits.
    public mutating func nextUnitFloat() -> Float {
        Float(next() >> 40) * (1.0 / Float(1 << 24))
    }

    /// A standard normal sample (Box-Muller on two uniform doubles).
    public mutating func nextNormal() -> Float {
        let u1 = Double(next() >> 11) * (1.0 / Double(UInt64(1) << 53))
        let u2 = Double(next() >> 11) * (1.0 / Double(UInt64(1) << 53))
        let radius = (-2.0 * log(1.0 - u1)).squareRoot()
        return Float(radius * cos(2.0 * Double.pi * u2))
    }

    private func rotateLeft(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }
}
