/// The element types a safetensors header may name, with their size on disk.
///
/// Every known type can appear in a file that opens; only the ones with ``convertsToFloat`` can be
/// read as a `Tensor`. Integers are converted to the nearest `Float` (exact up to 2²⁴).
public enum SafetensorsDType: String, Sendable, CaseIterable {
    case bool = "BOOL"
    case u8 = "U8"
    case i8 = "I8"
    case f8E4M3 = "F8_E4M3"
    case f8E5M2 = "F8_E5M2"
    case i16 = "I16"
    case u16 = "U16"
    case f16 = "F16"
    case bf16 = "BF16"
    case i32 = "I32"
    case u32 = "U32"
    case f32 = "F32"
    case i64 = "I64"
    case u64 = "U64"
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
