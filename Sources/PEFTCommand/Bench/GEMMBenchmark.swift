import ArgumentParser
import CBLAS
import Foundation
import Tensor

/// `peft bench gemm`: GFLOP/s of `Tensor.matmul` beside a direct `cblas_sgemm` call on the same
/// operands: the wrapper (allocation, validation, and its split of the product across
/// ``Parallel``'s workers, each block a single-threaded OpenBLAS call) against OpenBLAS threading
/// the same product itself over as many threads; and the product with the right operand packed
/// once (``PackedMatrix``, the form a frozen weight takes in training).
struct GEMMBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gemm",
        abstract: "Square sgemm throughput: Tensor.matmul against a direct cblas_sgemm call."
    )

    @Option(help: "Comma-separated sizes: n for a square product, or MxNxK (e.g. 1024x768x256: [M, K] · [K, N]).")
    var sizes = "256,512,1024,2048"

    @Option(help: "Measuring time per size and implementation, in seconds.")
    var seconds = 1.0

    @Flag(help: "Print one JSON object per size instead of a table.")
    var json = false

    func run() throws {
        let sizeList = sizes.split(separator: ",").map { entry -> [Int] in
            let parts = entry.split(separator: "x").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
            return parts.count == 1 ? [parts[0], parts[0], parts[0]] : parts
        }
        guard !sizeList.isEmpty, sizeList.allSatisfy({ $0.count == 3 && $0.allSatisfy { $0 > 0 && $0 <= 8192 } }) else {
            throw ValidationError("--sizes must list n or MxNxK with each in 1...8192, got '\(sizes)'")
        }
        _ = try Tensor.matmul(Tensor.zeros([1, 1]), Tensor.zeros([1, 1]))  // BLAS's one-time set-up
        let workers = Parallel.workerCount
        if !json {
            print("OpenBLAS: \(BLAS.configuration); Tensor.matmul: \(workers) workers × 1 OpenBLAS thread; cblas_sgemm: \(workers) OpenBLAS threads")
            print("OPENBLAS_CORETYPE=\(ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"] ?? "(unset)")")
            print("  M × N × K            Tensor.matmul GFLOP/s   cblas_sgemm GFLOP/s   overhead   packed GFLOP/s")
        }
        for size in sizeList {
            let (m, n, k) = (size[0], size[1], size[2])
            var generator = SeededGenerator(seed: UInt64(m * 31 + n * 7 + k))
            let a = try Tensor.uniform([m, k], low: -1, high: 1, generator: &generator)
            let b = try Tensor.uniform([k, n], low: -1, high: 1, generator: &generator)
            let packed = try PackedMatrix(b, transposed: false)
            var c = [Float](repeating: 0, count: m * n)
            let flops = 2 * Double(m) * Double(n) * Double(k)
            // One block each, not alternated: after a multi-threaded OpenBLAS call its idle workers
            // spin for a while, which would slow the wrapper's next product.
            var wrapperTimes: [Double] = [], directTimes: [Double] = []
            var deadline = Date().addingTimeInterval(seconds)
            repeat {
                wrapperTimes.append(try Timing.seconds { _ = try Tensor.matmul(a, b) })
            } while Date() < deadline || wrapperTimes.count < 5
            BLAS.threadCount = workers
            deadline = Date().addingTimeInterval(seconds)
            repeat {
                directTimes.append(Timing.seconds {
                    a.withUnsafeBufferPointer { pa in
                        b.withUnsafeBufferPointer { pb in
                            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(m), Int32(n), Int32(k), 1,
                                        pa.baseAddress, Int32(k), pb.baseAddress, Int32(n), 0, &c, Int32(n))
                        }
                    }
                })
            } while Date() < deadline || directTimes.count < 5
            BLAS.threadCount = 1
            var packedTimes: [Double] = []
            deadline = Date().addingTimeInterval(seconds)
            repeat {
                packedTimes.append(try Timing.seconds { _ = try Tensor.matmul(a, packed) })
            } while Date() < deadline || packedTimes.count < 5
            let wrapper = flops / Timing.median(wrapperTimes) / 1e9
            let direct = flops / Timing.median(directTimes) / 1e9
            let packedRate = flops / Timing.median(packedTimes) / 1e9
            let overhead = (direct / wrapper - 1) * 100
            if json {
                try JSONOutput.printLine(GEMMOutput(
                    m: m, n: n, k: k, matmulGflops: Timing.rounded(wrapper), cblasGflops: Timing.rounded(direct),
                    overheadPercent: Timing.rounded(overhead), packedGflops: Timing.rounded(packedRate),
                    packedKernel: PackedMatrix.isFast ? "avx2" : "portable", runs: wrapperTimes.count))
            } else {
                print(String(format: "%@   %21.1f   %19.1f   %+7.2f %%   %14.1f", "\(m) × \(n) × \(k)".padding(toLength: 18, withPad: " ", startingAt: 0), wrapper, direct, overhead, packedRate))
            }
        }
    }
}

/// One line of `peft bench gemm --json`.
private struct GEMMOutput: Encodable {
    let bench = "gemm"
    let m: Int, n: Int, k: Int
    let matmulGflops: Double, cblasGflops: Double, overheadPercent: Double, packedGflops: Double
    let packedKernel: String
    let runs: Int
}
