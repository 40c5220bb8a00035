/// Conversions from the 16-bit float formats found in checkpoints to `Float`, and back.
public enum HalfPrecision {
    /// bfloat16 (the upper 16 bits of an IEEE float32) to float32; exact.
    @inlinable
    public static func float(fromBFloat16 bits: UInt16) -> Float {
        Float(bitPattern: UInt32(bits) << 16)
    }

    /// float32 to bfloat16, rounding to nearest even (NaN stays NaN), as PyTorch does.
    @inlinable
    public static func bfloat16(from value: Float) -> UInt16 {
        let bits = value.bitPattern
        if value.isNaN { return UInt16(bits >> 16) | 0x0040 }
        let roundingBias = UInt32(0x7FFF) + ((bits >> 16) & 1)
        return UInt16((bits &+ roundingBias) >> 16)
    }

    /// IEEE binary16 to float32; exact, including subnormals, infinities and NaN.
    @inlinable
    public static func float(fromFloat16 bits: UInt16) -> Float { Float(Float16(bitPattern: bits)) }

    /// float32 to IEEE binary16, rounding to nearest even; overflow gives infinity.
    @inlinable
    public static func float16(from value: Float) -> UInt16 { Float16(value).bitPattern }
}
