/// Vectorised buffer helpers on `SIMD8<Float>` lanes (two SSE registers on baseline x86-64, one
/// AVX register where the build enables it): dot products and maxima that keep eight partial
/// results, and the exp-and-sum passes of softmax and cross-entropy, which run the C kernel of
/// `CKernels` (its exp: range reduction `x = n·ln 2 + r` with `ln 2` in two parts, Cephes' degree-6
/// polynomial for `e^r`, `2^n` built in the exponent bits as two normal factors; within 1 ulp of
/// `expf` over the normal range, subnormal below −87.3 as `expf`'s, 0 from −103.3 and for `-inf`,
/// `+inf` on overflow, NaN kept).
///
/// Partial sums change the order of additions, so reductions round differently from a sequential
/// loop (by a few ulps of the result); every caller's tolerance allows for that.
public enum VectorMath {
    /// The eight lanes the helpers work on.
    public typealias Vector = SIMD8<Float>

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

    /// Multiplies each of `count` floats at `values` by `factor`.
    @inlinable
    public static func scale(_ values: UnsafeMutablePointer<Float>, count: Int, by factor: Float) {
        var index = 0
        while index + 8 <= count {
            store(load(values + index) * factor, values + index)
            index += 8
        }
        while index < count {
            values[index] *= factor
            index += 1
        }
    }

    /// Replaces each of `count` floats at `values` by `e^(value − shift)` and returns their sum.
    ///
    /// Runs the C kernel of `CKernels` (AVX2 + FMA where the CPU has them; the two compilations may
    /// differ in the last bit where FMA contracts a step).
    public static func expInPlace(_ values: UnsafeMutablePointer<Float>, count: Int, shift: Float) -> Float {
        SIMDKernels.expSum(values, count: count, shift: shift, into: values)
    }

    /// `Σ e^(value − shift)` over `count` floats at `values`, leaving them unchanged (the kernel of
    /// ``expInPlace(_:count:shift:)``).
    public static func sumOfExp(_ values: UnsafePointer<Float>, count: Int, shift: Float) -> Float {
        SIMDKernels.expSum(values, count: count, shift: shift)
    }
}
