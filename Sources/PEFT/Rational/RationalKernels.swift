import Tensor

/// The forward and backward kernels of ``RationalActivation``, element-wise over a tensor of any
/// shape. Both evaluate `P` and `B` by Horner's rule in double precision and round the results to
/// `Float`.
extension RationalActivation {
    /// Elements per block of the backward pass. The coefficient gradients are summed per block and
    /// then over blocks in order, so they do not depend on how many threads ran the blocks.
    static let backwardBlockSize = 16_384

    /// `R(x)` for every element.
    ///
    /// - Parameter input: `x`, any shape `[...]`.
    /// - Returns: `y`, the same shape.
    public func forward(_ input: Tensor) -> Tensor {
        let polynomials = RationalPolynomials(self)
        var output = input
        output.withUnsafeMutableBufferPointer { y in
            polynomials.numerator.withUnsafeBufferPointer { a in
                polynomials.denominator.withUnsafeBufferPointer { b in
                    Parallel.forEach(y.count, minimumChunk: 32_768) { range in
                        for i in range {
                            let x = Double(y[i])
                            y[i] = Float(Horner.value(a, x) / (1 + Swift.abs(Horner.value(b, x))))
                        }
                    }
                }
            }
        }
        return output
    }

    /// Gradients of ``forward(_:)``. With `D = 1 + |B(x)|`, `s = sign(B(x))` (`0` where `B = 0`)
    /// and `y = P(x) / D`:
    ///
    ///     dx    = dy · (P'(x) − y·s·B'(x)) / D
    ///     da_k  = Σ dy · x^k / D              (k = 0 … p)
    ///     db_k  = Σ −dy · y·s·x^k / D         (k = 1 … q)
    ///
    /// the sums running over every element.
    ///
    /// - Parameters:
    ///   - input: `x`, any shape `[...]`, as given to ``forward(_:)``.
    ///   - outputGradient: `dy`, the same shape.
    /// - Returns: `dx` (the shape of `input`), the numerator gradient `[p + 1]` and the denominator
    ///   gradient `[q]`.
    /// - Throws: ``TensorError/shapeMismatch(_:_:)`` unless `input` and `outputGradient` have the
    ///   same shape.
    public func backward(
        input: Tensor, outputGradient: Tensor
    ) throws -> (inputGradient: Tensor, numeratorGradient: Tensor, denominatorGradient: Tensor) {
        guard input.shape == outputGradient.shape else {
            throw TensorError.shapeMismatch("RationalActivation.backward", "input \(input.shape), dy \(outputGradient.shape)")
        }
        let polynomials = RationalPolynomials(self)
        let (p, q) = degrees
        let coefficientCount = p + 1 + q
        let count = input.count
        let blockSize = Self.backwardBlockSize
        let blockCount = (count + blockSize - 1) / blockSize
        // Row `block` holds that block's [da_0 … da_p, db_1 … db_q].
        var partialSums = [Double](repeating: 0, count: blockCount * coefficientCount)
        var inputGradient = outputGradient
        input.withUnsafeBufferPointer { x in
            inputGradient.withUnsafeMutableBufferPointer { dx in
                partialSums.withUnsafeMutableBufferPointer { sums in
                    polynomials.numerator.withUnsafeBufferPointer { a in
                        polynomials.denominator.withUnsafeBufferPointer { b in
                            Parallel.forEach(blockCount, minimumChunk: 2) { blocks in
                                for block in blocks {
                                    let elements = (block * blockSize)..<min(count, (block + 1) * blockSize)
                                    let row = UnsafeMutableBufferPointer(
                                        rebasing: sums[(block * coefficientCount)..<((block + 1) * coefficientCount)])
                                    Self.backwardBlock(x, dx, row, a, b, elements)
                                }
                            }
                        }
                    }
                }
            }
        }
        var totals = [Double](repeating: 0, count: coefficientCount)
        for block in 0..<blockCount {
            for k in 0..<coefficientCount { totals[k] += partialSums[block * coefficientCount + k] }
        }
        let numeratorGradient = Tensor(totals[0...p].map { Float($0) })
        let denominatorGradient = Tensor(totals[(p + 1)...].map { Float($0) })
        return (inputGradient, numeratorGradient, denominatorGradient)
    }

    /// One block of ``backward(input:outputGradient:)``: overwrites `dx[elements]` (which holds
    /// `dy` on entry) with the input gradient and adds the block's coefficient gradients to `sums`.
    @inline(__always)
    private static func backwardBlock(
        _ x: UnsafeBufferPointer<Float>, _ dx: UnsafeMutableBufferPointer<Float>,
        _ sums: UnsafeMutableBufferPointer<Double>,
        _ a: UnsafeBufferPointer<Double>, _ b: UnsafeBufferPointer<Double>, _ elements: Range<Int>
    ) {
        let numeratorCount = a.count
        let denominatorDegree = b.count - 1
        for i in elements {
            let xi = Double(x[i])
            let dy = Double(dx[i])
            let (numerator, numeratorSlope) = Horner.valueAndDerivative(a, xi)
            let (denominator, denominatorSlope) = Horner.valueAndDerivative(b, xi)
            let sign = Horner.sign(denominator)
            let inverseD = 1 / (1 + Swift.abs(denominator))
            let y = numerator * inverseD
            dx[i] = Float(dy * (numeratorSlope - y * sign * denominatorSlope) * inverseD)
            let numeratorWeight = dy * inverseD
            let denominatorWeight = -numeratorWeight * y * sign
            var power = 1.0
            for k in 0..<numeratorCount {
                sums[k] += numeratorWeight * power
                power *= xi
            }
            power = xi
            for k in 0..<denominatorDegree {
                sums[numeratorCount + k] += denominatorWeight * power
                power *= xi
            }
        }
    }
}
