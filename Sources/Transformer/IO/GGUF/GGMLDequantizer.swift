import Tensor

/// Converts ggml tensor data to `Float`, row by row, as ggml's reference `dequantize_row_*`
/// functions do (`ggml-quants.c`), so results are bit-identical to llama.cpp's and gguf-py's.
///
/// A row is ggml's innermost dimension (`ne[0]`), a whole number of blocks; blocks are read at
/// any alignment. Block layouts (little-endian, `f16` scales):
///
/// - `Q4_0`  (32, 18 B):  `d`, 16 bytes of nibbles; element `j` is `(nibble − 8) · d`, low nibbles
///   holding elements 0…15 and high nibbles 16…31.
/// - `Q4_1`  (32, 20 B):  `d`, `m`, nibbles; `nibble · d + m`.
/// - `Q5_0`  (32, 22 B):  `d`, a u32 of fifth bits, nibbles; `(nibble | bit << 4 − 16) · d`.
/// - `Q5_1`  (32, 24 B):  `d`, `m`, fifth bits, nibbles; `(nibble | bit << 4) · d + m`.
/// - `Q8_0`  (32, 34 B):  `d`, 32 signed bytes; `q · d`.
/// - `Q4_K` (256, 144 B): `d`, `dmin`, 12 bytes of eight 6-bit scales and mins, 128 bytes of
///   nibbles; sub-block `s` of 32 is `(d · scale_s) · nibble − dmin · min_s`.
/// - `Q5_K` (256, 176 B): as `Q4_K` with 32 bytes of fifth bits before the nibbles.
/// - `Q6_K` (256, 210 B): 128 bytes of low nibbles, 64 of high 2-bit pairs, 16 signed 8-bit scales,
///   `d`; sub-block `s` of 16 is `(d · scale_s) · (q − 32)`.
enum GGMLDequantizer {
    /// Dequantises `rowCount` rows of `rowLength` elements of `type` from `source` into
    /// `destination` (`rowCount × rowLength` floats), stored row `r` going to row
    /// `rowPermutation(r)` (to row `r` when `nil`). `type` is one of ``GGMLType/dequantizable`` and
    /// `source` holds exactly the rows' bytes (checked when the file was opened).
    static func dequantize(
        _ type: GGMLType, from source: UnsafeRawBufferPointer, rowLength: Int, rowCount: Int,
        into destination: UnsafeMutableBufferPointer<Float>, rowPermutation: ((Int) -> Int)?
    ) {
        guard rowCount > 0, rowLength > 0, let input = source.baseAddress, let output = destination.baseAddress else { return }
        let blocks = rowLength / type.blockSize
        let rowBytes = blocks * type.blockByteCount
        let kernel = rowKernel(type)
        let shared = UncheckedSendable((input, output, rowPermutation))
        Parallel.forEach(rowCount, minimumChunk: max(1, 32_768 / rowLength)) { rows in
            let (input, output, rowPermutation) = shared.value
            for row in rows {
                let target = rowPermutation?(row) ?? row
                kernel(input + row * rowBytes, output + target * rowLength, blocks)
            }
        }
    }

    /// A function that converts `blocks` blocks starting at its first argument into its second.
    typealias RowKernel = (UnsafeRawPointer, UnsafeMutablePointer<Float>, Int) -> Void

    private static func rowKernel(_ type: GGMLType) -> RowKernel {
        switch type {
        case .f32: return { source, destination, count in
            UnsafeMutableRawPointer(destination).copyMemory(from: source, byteCount: count * 4)
        }
        case .f16: return { source, destination, count in
            for index in 0..<count { destination[index] = half(source, 2 * index) }
        }
        case .bf16: return { source, destination, count in
            for index in 0..<count {
                destination[index] = HalfPrecision.float(fromBFloat16: source.loadUnaligned(fromByteOffset: 2 * index, as: UInt16.self))
            }
        }
        case .q4_0: return q4_0
        case .q4_1: return q4_1
        case .q5_0: return q5_0
        case .q5_1: return q5_1
        case .q8_0: return q8_0
        case .q4_K: return q4_K
        case .q5_K: return q5_K
        case .q6_K: return q6_K
        default:  // not reached: callers read only dequantizable types; NaNs rather than a trap
            return { _, destination, count in destination.update(repeating: .nan, count: count) }
        }
    }

    /// The little-endian `f16` at `offset`, as a `Float`.
    @inline(__always)
    private static func half(_ pointer: UnsafeRawPointer, _ offset: Int) -> Float {
        HalfPrecision.float(fromFloat16: pointer.loadUnaligned(fromByteOffset: offset, as: UInt16.self))
    }

    @inline(__always)
    private static func byte(_ pointer: UnsafeRawPointer, _ offset: Int) -> UInt8 {
        pointer.load(fromByteOffset: offset, as: UInt8.self)
    }

    private static func q4_0(_ source: UnsafeRawPointer, _ destination: UnsafeMutablePointer<Float>, _ blocks: Int) {
        for block in 0..<blocks {
            let base = source + block * 18
            let out = destination + block * 32
            let scale = half(base, 0)
            for j in 0..<16 {
                let packed = byte(base, 2 + j)
                out[j] = Float(Int(packed & 0x0F) - 8) * scale
                out[j + 16] = Float(Int(packed >> 4) - 8) * scale
            }
        }
    }

    private static func q4_1(_ source: UnsafeRawPointer, _ destination: UnsafeMutablePointer<Float>, _ blocks: Int) {
        for block in 0..<blocks {
            let base = source + block * 20
            let out = destination + block * 32
            let (scale, minimum) = (half(base, 0), half(base, 2))
            for j in 0..<16 {
                let packed = byte(base, 4 + j)
                out[j] = Float(packed & 0x0F) * scale + minimum
                out[j + 16] = Float(packed >> 4) * scale + minimum
            }
        }
    }

    private static func q5_0(_ source: UnsafeRawPointer, _ destination: UnsafeMutablePointer<Float>, _ blocks: Int) {
        for block in 0..<blocks {
            let base = source + block * 22
            let out = destination + block * 32
            let scale = half(base, 0)
            let high = UInt32(littleEndian: base.loadUnaligned(fromByteOffset: 2, as: UInt32.self))
            for j in 0..<16 {
                let packed = UInt32(byte(base, 6 + j))
                let low = (packed & 0x0F) | (((high >> j) & 1) << 4)
                let upper = (packed >> 4) | (((high >> (j + 16)) & 1) << 4)
                out[j] = Float(Int(low) - 16) * scale
                out[j + 16] = Float(Int(upper) - 16) * scale
            }
        }
    }

    private static func q5_1(_ source: UnsafeRawPointer, _ destination: UnsafeMutablePointer<Float>, _ blocks: Int) {
        for block in 0..<blocks {
            let base = source + block * 24
            let out = destination + block * 32
            let (scale, minimum) = (half(base, 0), half(base, 2))
            let high = UInt32(littleEndian: base.loadUnaligned(fromByteOffset: 4, as: UInt32.self))
            for j in 0..<16 {
                let packed = UInt32(byte(base, 8 + j))
                let low = (packed & 0x0F) | (((high >> j) & 1) << 4)
                let upper = (packed >> 4) | (((high >> (j + 16)) & 1) << 4)
                out[j] = Float(low) * scale + minimum
                out[j + 16] = Float(upper) * scale + minimum
            }
        }
    }

    private static func q8_0(_ source: UnsafeRawPointer, _ destination: UnsafeMutablePointer<Float>, _ blocks: Int) {
        for block in 0..<blocks {
            let base = source + block * 34
            let out = destination + block * 32
            let scale = half(base, 0)
            for j in 0..<32 { out[j] = Float(Int8(bitPattern: byte(base, 2 + j))) * scale }
        }
    }

    /// The 6-bit scale and min of K-quant sub-block `index` (0…7) from the 12 packed bytes at
    /// `scales` (ggml's `get_scale_min_k4`).
    @inline(__always)
    private static func scaleAndMin(_ scales: UnsafeRawPointer, _ index: Int) -> (scale: Float, min: Float) {
        if index < 4 {
            return (Float(byte(scales, index) & 63), Float(byte(scales, index + 4) & 63))
        }
        let scale = (byte(scales, index + 4) & 0x0F) | ((byte(scales, index - 4) >> 6) << 4)
        let min = (byte(scales, index + 4) >> 4) | ((byte(scales, index) >> 6) << 4)
        return (Float(scale), Float(min))
    }

    private static func q4_K(_ source: UnsafeRawPointer, _ destination: UnsafeMutablePointer<Float>, _ blocks: Int) {
        for block in 0..<blocks {
            let base = source + block * 144
            let out = destination + block * 256
            let (scale, minimumScale) = (half(base, 0), half(base, 2))
            let scales = base + 4
            let quants = base + 16
            for pair in 0..<4 {  // 64 elements: 32 low nibbles, then 32 high nibbles of the same bytes
                let (lowScale, lowMin) = scaleAndMin(scales, 2 * pair)
                let (highScale, highMin) = scaleAndMin(scales, 2 * pair + 1)
                let (d1, m1) = (scale * lowScale, minimumScale * lowMin)
                let (d2, m2) = (scale * highScale, minimumScale * highMin)
                let q = quants + 32 * pair
                let y = out + 64 * pair
                for l in 0..<32 {
                    let packed = byte(q, l)
                    y[l] = d1 * Float(packed & 0x0F) - m1
                    y[l + 32] = d2 * Float(packed >> 4) - m2
                }
            }
        }
    }

    private static func q5_K(_ source: UnsafeRawPointer, _ destination: UnsafeMutablePointer<Float>, _ blocks: Int) {
        for block in 0..<blocks {
            let base = source + block * 176
            let out = destination + block * 256
            let (scale, minimumScale) = (half(base, 0), half(base, 2))
            let scales = base + 4
            let highBits = base + 16
            let quants = base + 48
            for pair in 0..<4 {
                let (lowScale, lowMin) = scaleAndMin(scales, 2 * pair)
                let (highScale, highMin) = scaleAndMin(scales, 2 * pair + 1)
                let (d1, m1) = (scale * lowScale, minimumScale * lowMin)
                let (d2, m2) = (scale * highScale, minimumScale * highMin)
                let (lowBit, highBit) = (UInt8(1) << (2 * pair), UInt8(2) << (2 * pair))
                let q = quants + 32 * pair
                let y = out + 64 * pair
                for l in 0..<32 {
                    let (packed, fifth) = (byte(q, l), byte(highBits, l))
                    y[l] = d1 * Float((packed & 0x0F) | (fifth & lowBit != 0 ? 16 : 0)) - m1
                    y[l + 32] = d2 * Float((packed >> 4) | (fifth & highBit != 0 ? 16 : 0)) - m2
                }
            }
        }
    }

    private static func q6_K(_ source: UnsafeRawPointer, _ destination: UnsafeMutablePointer<Float>, _ blocks: Int) {
        for block in 0..<blocks {
            let base = source + block * 210
            let out = destination + block * 256
            let scale = half(base, 208)
            for part in 0..<2 {  // 128 elements from 64 low-nibble bytes, 32 high-bit bytes, 8 scales
                let low = base + 64 * part
                let high = base + 128 + 32 * part
                let scales = base + 192 + 8 * part
                let y = out + 128 * part
                for l in 0..<32 {
                    let sub = l / 16
                    let (a, b, h) = (byte(low, l), byte(low, l + 32), byte(high, l))
                    let q1 = Int((a & 0x0F) | ((h & 3) << 4)) - 32
                    let q2 = Int((b & 0x0F) | (((h >> 2) & 3) << 4)) - 32
                    let q3 = Int((a >> 4) | (((h >> 4) & 3) << 4)) - 32
                    let q4 = Int((b >> 4) | (((h >> 6) & 3) << 4)) - 32
                    y[l] = scale * Float(Int8(bitPattern: byte(scales, sub))) * Float(q1)
                    y[l + 32] = scale * Float(Int8(bitPattern: byte(scales, sub + 2))) * Float(q2)
                    y[l + 64] = scale * Float(Int8(bitPattern: byte(scales, sub + 4))) * Float(q3)
                    y[l + 96] = scale * Float(Int8(bitPattern: byte(scales, sub + 6))) * Float(q4)
                }
            }
        }
    }
}
