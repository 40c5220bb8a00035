import ArgumentParser
import CBLAS
import Foundation
import Tensor

/// `peft bench gemm`: GFLOP/s of `Tensor.matmul` beside a direct `cblas_sgemm` call on the same
/// operands, for square sizes: the wrapper (allocation, validation, and its split of the product
/// across ``Parallel``'s workers, each block a single-threaded OpenBLAS call) against OpenBLAS
/// threading the same product itself over as many threads.
struct GEMMBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gemm",
        abstract: "Square sgemm throughput: Tensor.matmul against a direct cblas_sgemm call."
    )

    @Option(help: "Comma-separated square sizes.")
    var sizes = "256,512,1024,2048"

    @Option(help: "Measuring time per size and implementation, in seconds.")
    var seconds = 1.0

    @Flag(help: "Print one JSON object per size instead of a table.")
    var json = false

    func run() throws {
        let sizeList = sizes.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !sizeList.isEmpty, sizeList.allSatisfy({ $0 > 0 && $0 <= 8192 }) else {
            throw ValidationError("--sizes must list sizes in 1...8192, got '\(sizes)'")
        }
        _ = try Tensor.matmul(Tensor.zeros([1, 1]), Tensor.zeros([1, 1]))  // BLAS's one-time set-up
        let workers = Parallel.workerCount
        if !json {
            print("OpenBLAS: \(BLAS.configuration); Tensor.matmul: \(workers) workers × 1 OpenBLAS thread; cblas_sgemm: \(workers) OpenBLAS threads")
            print("OPENBLAS_CORETYPE=\(ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"] ?? "(unset)")")
            print("    n   Tensor.matmul GFLOP/s   cblas_sgemm GFLOP/s   overhead")
        }
        for n in sizeList {
            var generator = SeededGenerator(seed: UInt64(n))
            let a = try Tensor.uniform([n, n], low: -1, high: 1, generator: &generator)
            let b = try Tensor.uniform([n, n], low: -1, high: 1, generator: &generator)
            var c = [Float](repeating: 0, count: n * n)
            let flops = 2 * Double(n) * Double(n) * Double(n)
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
                            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(n), Int32(n), Int32(n), 1,
                                        pa.baseAddress, Int32(n), pb.baseAddress, Int32(n), 0, &c, Int32(n))
                        }
                    }
                })
            } while Date() < deadline || directTimes.count < 5
            BLAS.threadCount = 1
            let wrapper = flops / Timing.median(wrapperTimes) / 1e9
            let direct = flops / Timing.median(directTimes) / 1e9
            let overhead = (direct / wrapper - 1) * 100
            if json {
                print(#"{"bench": "gemm", "n": \#(n), "matmul_gflops": \#(Timing.rounded(wrapper)), "cblas_gflops": \#(Timing.rounded(direct)), "overhead_percent": \#(Timing.rounded(overhead)), "runs": \#(wrapperTimes.count)}"#)
            } else {
                print(String(format: "%5d   %21.1f   %19.1f   %+7.2f %%", n, wrapper, direct, overhead))
            }
        }
    }
}
