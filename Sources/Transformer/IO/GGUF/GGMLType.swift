/// The element type of a GGUF tensor (ggml's `ggml_type`): a plain float or integer type, or a
/// block quantisation that stores ``blockSize`` consecutive elements of a row in ``blockByteCount``
/// bytes.
///
/// Every type id ggml has assigned is known, so that a file's byte layout can be checked whatever
/// it holds; only the types in ``dequantizable`` can be converted to `Float`.
public enum GGMLType: UInt32, Sendable, CaseIterable {
    /// `F32` (0): IEEE binary32.
    case f32 = 0
    /// `F16` (1): IEEE binary16.
    case f16 = 1
    /// `Q4_0` (2): 4-bit, blocks of 32 with an f16 scale.
    case q4_0 = 2
    /// `Q4_1` (3): 4-bit, blocks of 32 with an f16 scale and minimum.
    case q4_1 = 3
    /// `Q5_0` (6): 5-bit, blocks of 32 with an f16 scale.
    case q5_0 = 6
    /// `Q5_1` (7): 5-bit, blocks of 32 with an f16 scale and minimum.
    case q5_1 = 7
    /// `Q8_0` (8): 8-bit, blocks of 32 with an f16 scale.
    case q8_0 = 8
    /// `Q8_1` (9): 8-bit, blocks of 32 with f32 scale and sum (intermediate; not dequantised).
    case q8_1 = 9
    /// `Q2_K` (10): 2-bit K-quant, super-blocks of 256 (not dequantised).
    case q2_K = 10
    /// `Q3_K` (11): 3-bit K-quant, super-blocks of 256 (not dequantised).
    case q3_K = 11
    /// `Q4_K` (12): 4-bit K-quant: super-blocks of 256 in eight sub-blocks with 6-bit scales and mins.
    case q4_K = 12
    /// `Q5_K` (13): 5-bit K-quant: as Q4_K with a fifth bit per element.
    case q5_K = 13
    /// `Q6_K` (14): 6-bit K-quant: super-blocks of 256 in sixteen sub-blocks with 8-bit scales.
    case q6_K = 14
    /// `Q8_K` (15): 8-bit K-quant (intermediate; not dequantised).
    case q8_K = 15
    /// `IQ2_XXS` (16): 2.06-bit i-quant (not dequantised).
    case iq2_XXS = 16
    /// `IQ2_XS` (17): 2.31-bit i-quant (not dequantised).
    case iq2_XS = 17
    /// `IQ3_XXS` (18): 3.06-bit i-quant (not dequantised).
    case iq3_XXS = 18
    /// `IQ1_S` (19): 1.56-bit i-quant (not dequantised).
    case iq1_S = 19
    /// `IQ4_NL` (20): 4-bit non-linear i-quant, blocks of 32 (not dequantised).
    case iq4_NL = 20
    /// `IQ3_S` (21): 3.44-bit i-quant (not dequantised).
    case iq3_S = 21
    /// `IQ2_S` (22): 2.5-bit i-quant (not dequantised).
    case iq2_S = 22
    /// `IQ4_XS` (23): 4.25-bit non-linear i-quant (not dequantised).
    case iq4_XS = 23
    /// `I8` (24): Signed 8-bit integer (not dequantised).
    case i8 = 24
    /// `I16` (25): Signed 16-bit integer (not dequantised).
    case i16 = 25
    /// `I32` (26): Signed 32-bit integer (not dequantised).
    case i32 = 26
    /// `I64` (27): Signed 64-bit integer (not dequantised).
    case i64 = 27
    /// `F64` (28): IEEE binary64 (not dequantised).
    case f64 = 28
    /// `IQ1_M` (29): 1.75-bit i-quant (not dequantised).
    case iq1_M = 29
    /// `BF16` (30): bfloat16, the upper half of a float32.
    case bf16 = 30
    /// `TQ1_0` (34): Ternary 1.69-bit (not dequantised).
    case tq1_0 = 34
    /// `TQ2_0` (35): Ternary 2-bit (not dequantised).
    case tq2_0 = 35
    /// `MXFP4` (39): MXFP4, 4-bit floats with a shared exponent (not dequantised).
    case mxfp4 = 39

    /// The elements per K-quant super-block (ggml's `QK_K`).
    static let superBlock = 256

    /// The types ``GGUFFile/tensor(named:)`` converts to `Float`.
    public static let dequantizable: [GGMLType] = [.f32, .f16, .bf16, .q4_0, .q4_1, .q5_0, .q5_1, .q8_0, .q4_K, .q5_K, .q6_K]

    /// Whether ``GGUFFile/tensor(named:)`` converts this type to `Float`.
    public var isDequantizable: Bool { Self.dequantizable.contains(self) }

    /// ggml's name for the type, as llama.cpp prints it (`F32`, `Q4_K`, `IQ2_XXS`, …).
    public var name: String {
        switch self {
        case .f32: return "F32"
        case .f16: return "F16"
        case .q4_0: return "Q4_0"
        case .q4_1: return "Q4_1"
        case .q5_0: return "Q5_0"
        case .q5_1: return "Q5_1"
        case .q8_0: return "Q8_0"
        case .q8_1: return "Q8_1"
        case .q2_K: return "Q2_K"
        case .q3_K: return "Q3_K"
        case .q4_K: return "Q4_K"
        case .q5_K: return "Q5_K"
        case .q6_K: return "Q6_K"
        case .q8_K: return "Q8_K"
        case .iq2_XXS: return "IQ2_XXS"
        case .iq2_XS: return "IQ2_XS"
        case .iq3_XXS: return "IQ3_XXS"
        case .iq1_S: return "IQ1_S"
        case .iq4_NL: return "IQ4_NL"
        case .iq3_S: return "IQ3_S"
        case .iq2_S: return "IQ2_S"
        case .iq4_XS: return "IQ4_XS"
        case .i8: return "I8"
        case .i16: return "I16"
        case .i32: return "I32"
        case .i64: return "I64"
        case .f64: return "F64"
        case .iq1_M: return "IQ1_M"
        case .bf16: return "BF16"
        case .tq1_0: return "TQ1_0"
        case .tq2_0: return "TQ2_0"
        case .mxfp4: return "MXFP4"
        }
    }

    /// The number of consecutive row elements one block holds (1 for plain types).
    public var blockSize: Int { layout.elements }

    /// The bytes one block takes in the file (the element size for plain types).
    public var blockByteCount: Int { layout.bytes }

    /// Elements and bytes per block, as in ggml's type traits (`ggml.c`).
    private var layout: (elements: Int, bytes: Int) {
        let k = Self.superBlock
        switch self {
        case .f32, .i32: return (1, 4)
        case .f16, .bf16, .i16: return (1, 2)
        case .i8: return (1, 1)
        case .i64, .f64: return (1, 8)
        case .q4_0, .iq4_NL: return (32, 2 + 16)
        case .q4_1: return (32, 2 + 2 + 16)
        case .q5_0: return (32, 2 + 4 + 16)
        case .q5_1: return (32, 2 + 2 + 4 + 16)
        case .q8_0: return (32, 2 + 32)
        case .q8_1: return (32, 4 + 4 + 32)
        case .mxfp4: return (32, 1 + 16)
        case .q2_K: return (k, 2 + 2 + k / 16 + k / 4)
        case .q3_K: return (k, 2 + k / 4 + k / 8 + 12)
        case .q4_K: return (k, 2 + 2 + k / 2 + 12)
        case .q5_K: return (k, 2 + 2 + k / 2 + k / 8 + 12)
        case .q6_K: return (k, 2 + k / 2 + k / 4 + k / 16)
        case .q8_K: return (k, 4 + k + k / 8)
        case .iq2_XXS: return (k, 2 + k / 4)
        case .iq2_XS: return (k, 2 + k / 4 + k / 32)
        case .iq3_XXS: return (k, 2 + k / 4 + k / 8)
        case .iq1_S: return (k, 2 + k / 8 + k / 16)
        case .iq3_S: return (k, 2 + k / 4 + k / 8 + k / 32 + 4)
        case .iq2_S: return (k, 2 + k / 4 + k / 16)
        case .iq4_XS: return (k, 2 + 2 + k / 2 + k / 64)
        case .iq1_M: return (k, k / 8 + k / 16 + k / 32)
        case .tq1_0: return (k, 2 + 4 * 13)
        case .tq2_0: return (k, 2 + 64)
        }
    }
}
