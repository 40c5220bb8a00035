import Foundation
import Testing
import Tensor

@Suite("OpenBLAS's kernel choice")
struct OpenBLASCoreTests {
    struct Case: Sendable, CustomTestStringConvertible {
        let chosen: String, avx2FMA: Bool, avx512: Bool, avx512BF16: Bool, expected: String?
        var testDescription: String { "\(chosen) on \(avx512BF16 ? "AVX512-BF16" : avx512 ? "AVX-512" : avx2FMA ? "AVX2" : "SSE") → \(expected ?? "kept")" }
    }

    @Test("A kernel set older than AVX2 is replaced on a CPU with AVX2, by the vector units present; any other is kept",
          arguments: [
              // Debian 12's OpenBLAS 0.3.21 on a 5th-generation Xeon (family 6, model 207).
              Case(chosen: "Prescott", avx2FMA: true, avx512: true, avx512BF16: true, expected: "Cooperlake"),
              Case(chosen: "Prescott", avx2FMA: true, avx512: true, avx512BF16: false, expected: "SkylakeX"),
              Case(chosen: "Prescott", avx2FMA: true, avx512: false, avx512BF16: false, expected: "Haswell"),
              Case(chosen: "nehalem", avx2FMA: true, avx512: false, avx512BF16: false, expected: "Haswell"),
              Case(chosen: "Sandybridge", avx2FMA: true, avx512: true, avx512BF16: false, expected: "SkylakeX"),
              // A CPU without AVX2 keeps OpenBLAS's choice, right or not.
              Case(chosen: "Sandybridge", avx2FMA: false, avx512: false, avx512BF16: false, expected: nil),
              Case(chosen: "Prescott", avx2FMA: false, avx512: false, avx512BF16: false, expected: nil),
              // Choices made for AVX2 or later stand, even where a wider one exists.
              Case(chosen: "Haswell", avx2FMA: true, avx512: true, avx512BF16: true, expected: nil),
              Case(chosen: "Zen", avx2FMA: true, avx512: false, avx512BF16: false, expected: nil),
              Case(chosen: "SkylakeX", avx2FMA: true, avx512: true, avx512BF16: true, expected: nil),
              Case(chosen: "Cooperlake", avx2FMA: true, avx512: true, avx512BF16: true, expected: nil),
              Case(chosen: "SapphireRapids", avx2FMA: true, avx512: true, avx512BF16: true, expected: nil),
              Case(chosen: "Excavator", avx2FMA: true, avx512: false, avx512BF16: false, expected: nil),
          ])
    func rule(_ test: Case) {
        #expect(BLAS.coreReplacement(for: test.chosen, avx2FMA: test.avx2FMA, avx512: test.avx512, avx512BF16: test.avx512BF16) == test.expected)
    }

    @Test("On this CPU OpenBLAS runs a kernel set the rule keeps, unless OPENBLAS_CORETYPE chose it")
    func thisCPU() {
        print("OpenBLAS: \(BLAS.configuration)")
        if ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"] != nil {
            #expect(BLAS.replacedCoreName == nil, "OPENBLAS_CORETYPE is the user's choice")
            return
        }
        #expect(BLAS.coreReplacementOnThisCPU(for: BLAS.coreName) == nil, "\(BLAS.configuration)")
        if let replaced = BLAS.replacedCoreName {
            #expect(BLAS.coreReplacementOnThisCPU(for: replaced) == BLAS.coreName)
        }
    }

    @Test("Products on the kernel set in use agree with a float64 reference, edge tiles included",
          arguments: [(37, 301, 130), (64, 576, 1536), (1, 1536, 576)])
    func products(m: Int, k: Int, n: Int) throws {
        let a = randomTensor([m, k], seed: 11), b = randomTensor([k, n], seed: 12)
        let product = try Tensor.matmul(a, b)
        let (x, y) = (a.scalars, b.scalars)
        var worst = 0.0
        for i in 0..<m {
            for j in 0..<n {
                var exact = 0.0
                for p in 0..<k { exact += Double(x[i * k + p]) * Double(y[p * n + j]) }
                worst = max(worst, abs(Double(product.scalars[i * n + j]) - exact))
            }
        }
        // Each of the `k` products is below 1 in magnitude; float32 summation errs by far less than this.
        #expect(worst < 1e-6 * Double(k), "largest error \(worst) with \(BLAS.coreName)")
    }
}
