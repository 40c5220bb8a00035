import Dispatch

/// The machine's streaming-read bandwidth: the yardstick of batch-1 decoding, which reads every
/// weight of an `f32` model once per token and is bound by how fast the cores together can stream
/// memory (`peft bench serve --bandwidth` reports the share of it decoding reaches).
public enum MemoryBandwidth {
    /// The largest buffer ``streamingRead(megabytes:passes:)`` allocates, in MB.
    public static let maximumMegabytes = 16_384

    /// The fastest of `passes` reads of a `megabytes`-MB buffer (make it far larger than the caches:
    /// the default is 512), split over ``Parallel/workerCount`` threads as the decoding products
    /// are, in GB/s (10⁹ bytes per second). Each thread sums its slice with the AVX2 kernel where
    /// the CPU has it (four independent 8-wide accumulators, so the loads, not the additions, bound
    /// the loop). `megabytes` is clamped to `1...maximumMegabytes`, `passes` to at least 1.
    ///
    /// The buffer is allocated, written once, moved to huge pages as a model's weights are
    /// (``HugePages``), read and freed here: a caller that reports its peak resident set reads it
    /// before.
    public static func streamingRead(megabytes: Int = 512, passes: Int = 5) -> Double {
        let count = min(max(1, megabytes), maximumMegabytes) * 1_000_000 / MemoryLayout<Float>.stride
        let buffer = UnsafeMutablePointer<Float>.allocate(capacity: count)
        defer { buffer.deallocate() }
        Parallel.forEach(count, minimumChunk: 1 << 16) { range in
            (buffer + range.lowerBound).initialize(repeating: 1, count: range.count)
        }
        HugePages.advise(buffer, bytes: count * MemoryLayout<Float>.stride)
        let chunks = max(1, Parallel.workerCount)
        // One sum per chunk, written after each pass, so that no read can be dropped as unused.
        let sums = UnsafeMutablePointer<Float>.allocate(capacity: chunks)
        defer { sums.deallocate() }
        sums.initialize(repeating: 0, count: chunks)
        var best = UInt64.max
        for _ in 0..<max(1, passes) {
            let start = DispatchTime.now().uptimeNanoseconds
            Parallel.forEach(chunks) { range in
                for chunk in range {
                    let first = chunk * count / chunks, end = (chunk + 1) * count / chunks
                    sums[chunk] += SIMDKernels.sum(buffer + first, count: end - first)
                }
            }
            best = min(best, DispatchTime.now().uptimeNanoseconds - start)
        }
        return Double(count * MemoryLayout<Float>.stride) / Double(max(1, best))
    }
}
