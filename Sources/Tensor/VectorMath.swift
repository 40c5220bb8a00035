/// Vectorised element-wise math on `SIMD8<Float>` lanes (two SSE registers on baseline x86-64, one
/// AVX register where the build enables it), for the `exp`-bound loops of softmax, cross-entropy
/// and SwiGLU, and buffer helpers (dot products, maxima, exp-and-sum passes) that keep eight partial
/// results.
///
/// Partial sums change the order of additions, so reductions round differently from a sequential
/// loop (by a few ulps of the result); every caller's tolerance allows for that.
public enum VectorMath {
    public typealias Vector = SIMD8<Float>

    /// `e^x` per lane, within 1 ulp of `expf` over the normal range (checked against `expf` in the
    /// tests).
    ///
    /// Range reduction `x = n·ln 2 + r`, `|r| ≤ ln 2 / 2` (Cody-Waite, `ln 2` in two parts), a
    /// degree-6 polynomial for `e^r` (Cephes' `expf` coefficients), and `2^n` built in the exponent
    /// bits as `2^(n/2) · 2^(n − n/2)`, so that both factors are normal floats. The input is clamped
    /// to `[−110, 89]`, where the product underflows to 0 (also for `-infinity`, the masked scores
    /// of softmax) or overflows to `+infinity`, as `expf` does; NaN stays NaN. Between −103.3 and
    /// −87.3 the results are subnormal, as `expf`'s, with the precision subnormals have.
    @_transparent
    public static func exp(_ x: Vector) -> Vector {
        // Compare-and-select rather than `clamped`, which the standard library does not inline.
        var clamped = x
        clamped.replace(with: -110, where: x .< -110)
        clamped.replace(with: 89, where: x .> 89)
        // Round x·log2(e) to the nearest integer with the 1.5·2²³ trick (no SSE4.1 `roundps` needed);
        // the low bits of the sum's pattern are then n itself.
        let magic: Float = 12_582_912
        let shifted = clamped * 1.442_695_04 + magic
        let n = shifted - magic
        var r = clamped - n * 0.693_359_375
        r = r - n * -2.121_944_4e-4
        var p = Vector(repeating: 1.987_569_15e-4)
        p = p * r + 1.398_199_95e-3
        p = p * r + 8.333_451_9e-3
        p = p * r + 4.166_579_6e-2
        p = p * r + 1.666_666_55e-1
        p = p * r + 5.000_000_1e-1
        let polynomial = p * (r * r) + r + 1
        let whole = unsafeBitCast(shifted, to: SIMD8<Int32>.self) &- 0x4B40_0000
        let half = whole &>> 1
        let scale1 = unsafeBitCast((half &+ 127) &<< 23, to: Vector.self)
        let scale2 = unsafeBitCast((whole &- half &+ 127) &<< 23, to: Vector.self)
        return polynomial * scale1 * scale2
    }

    /// `e^x` of a scalar through the vector path (for the tails of loops, so that every element of a
    /// buffer is computed the same way).
    @_transparent
    public static func exp(_ x: Float) -> Float { exp(Vector(repeating: x))[0] }

    /// Loads eight floats starting at `pointer`.
    @inlinable @inline(__always)
    public static func load(_ pointer: UnsafePointer<Float>) -> Vector {
        UnsafeRawPointer(pointer).loadUnaligned(as: Vector.self)
    }

    /// Stores eight floats starting at `pointer`.
    @inlinable @inline(__always)
    public static func store(_ value: Vector, _ pointer: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(pointer).storeBytes(of: value, as: Vector.self)
    }

    /// The largest of `count` floats at `values` (`-infinity` for none).
    @inlinable
    public static func maximum(_ values: UnsafePointer<Float>, count: Int) -> Float {
        var index = 0
        var best = Vector(repeating: -.infinity)
        while index + 8 <= count {
            let next = load(values + index)
            best.replace(with: next, where: next .> best)
            index += 8
        }
        var result = best.max()
        while index < count {
            result = Swift.max(result, values[index])
            index += 1
        }
        return result
    }

    /// `Σ a[i]·b[i]` over `count` floats.
    @inlinable
    public static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int) -> Float {
        var index = 0
        var total = Vector()
        while index + 8 <= count {
            total += load(a + index) * load(b + index)
            index += 8
        }
        var result = total.sum()
        while index < count {
            result += a[index] * b[index]
            index += 1
        }
        return result
    }

    /// Replaces each of `count` floats at `values` by `e^(value − shift)` and returns their sum.
    ///
    /// Runs the C kernel of `kernels.h` (AVX2 + FMA where the CPU has them), the same algorithm as
    /// ``exp(_:)-(Vector)`` (results may differ from it in the last bit where FMA contracts a step).
    public static func expInPlace(_ values: UnsafeMutablePointer<Float>, count: Int, shift: Float) -> Float {
        SIMDKernels.expSum(values, count: count, shift: shift, into: values)
    }

    /// `Σ e^(value − shift)` over `count` floats at `values`, leaving them unchanged (the kernel of
    /// ``expInPlace(_:count:shift:)``).
    public static func sumOfExp(_ values: UnsafePointer<Float>, count: Int, shift: Float) -> Float {
        SIMDKernels.expSum(values, count: count, shift: shift)
    }
}
