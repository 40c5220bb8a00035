/// The element types a safetensors header may name, with their size on disk.
///
/// Every known type can appear in a file that opens; only the ones with ``convertsToFloat`` can be
/// read as a `Tensor`. Integers are converted to the nearest `Float` (exact up to 2²⁴).
public enum SafetensorsDType: String, Sendable, CaseIterable {
    /// `BOOL`: one byte, 0 or 1.
    case bool = "BOOL"
    /// `U8`: unsigned 8-bit integer.
    case u8 = "U8"
    /// `I8`: signed 8-bit integer.
    case i8 = "I8"
    /// `F8_E4M3`: 8-bit float, 4 exponent and 3 mantissa bits.
    case f8E4M3 = "F8_E4M3"
    /// `F8_E5M2`: 8-bit float, 5 exponent and 2 mantissa bits.
    case f8E5M2 = "F8_E5M2"
    /// `I16`: signed 16-bit integer.
    case i16 = "I16"
    /// `U16`: unsigned 16-bit integer.
    case u16 = "U16"
    /// `F16`: IEEE binary16.
    case f16 = "F16"
    /// `BF16`: bfloat16, the upper half of a float32.
    case bf16 = "BF16"
    /// `I32`: signed 32-bit integer.
    case i32 = "I32"
    /// `U32`: unsigned 32-bit integer.
    case u32 = "U32"
    /// `F32`: IEEE binary32.
    case f32 = "F32"
    /// `I64`: signed 64-bit integer.
    case i64 = "I64"
    /// `U64`: unsigned 64-bit integer.
    case u64 = "U64"
    /// `F64`: IEEE binary64.
    case f64 = "F64"

    /// The size of one element in bytes.
    public var byteSize: Int {
        switch self {
        case .bool, .u8, .i8, .f8E4M3, .f8E5M2: return 1
        case .i16, .u16, .f16, .bf16: return 2
        case .i32, .u32, .f32: return 4
        case .i64, .u64, .f64: return 8
        }
    }

    /// Whether ``SafetensorsFile/tensor(named:)`` converts this type to `Float`
    /// (F32, F16, BF16, F64, I32, I64).
    public var convertsToFloat: Bool {
        switch self {
        case .f32, .f16, .bf16, .f64, .i32, .i64: return true
        default: return false
        }
    }
}
