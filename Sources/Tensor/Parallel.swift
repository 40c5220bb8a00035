import Dispatch
import Foundation

/// A small parallel-for for the loops BLAS does not cover (element-wise kernels, attention rows).
public enum Parallel {
    /// The number of worker threads `forEach` splits work across: `PEFT_THREADS` from the
    /// environment when it is an integer in `1...maximumWorkerCount`, otherwise the active
    /// processor count shared among the ranks an MPI launcher runs on this machine
    /// (`OMPI_COMM_WORLD_LOCAL_SIZE`, at least one each). Read once, at first use. (BLAS runs one thread per call; products are
    /// split across these workers.)
    public static let workerCount = threadCount(environment: ProcessInfo.processInfo.environment)

    /// The most worker threads `PEFT_THREADS` may ask for (a loop's chunk count must also fit the
    /// worker pool's 16-bit field).
    public static let maximumWorkerCount = 1_024

    /// The worker count `environment` asks for (see ``workerCount``).
    static func threadCount(environment: [String: String]) -> Int {
        if let value = environment["PEFT_THREADS"], let count = Int(value.trimmingCharacters(in: .whitespaces)),
           (1...maximumWorkerCount).contains(count) {
            return count
        }
        let localRanks = environment["OMPI_COMM_WORLD_LOCAL_SIZE"].flatMap { Int($0) }.map { max(1, $0) } ?? 1
        return min(maximumWorkerCount, max(1, ProcessInfo.processInfo.activeProcessorCount / localRanks))
    }

    /// Runs `body` over disjoint sub-ranges that cover `0..<count`, in parallel when the work is
    /// large enough to pay for the hand-off: on this package's own worker threads, which spin
    /// briefly between loops (see `WorkerPool`), or on Dispatch's when those are busy with another
    /// loop. Chunk `i` is always the same range, whichever thread runs it.
    ///
    /// - Parameters:
    ///   - count: the number of items.
    ///   - minimumChunk: the smallest number of items worth giving one thread; below
    ///     `2 · minimumChunk` items the loop runs on the calling thread.
    ///   - body: called once per chunk; chunks never overlap, so it may write to disjoint slices of
    ///     shared buffers.
    public static func forEach(
        _ count: Int, minimumChunk: Int = 1, _ body: (Range<Int>) -> Void
    ) {
        guard count > 0 else { return }
        let chunks = min(workerCount, count / max(1, minimumChunk))
        if chunks <= 1 {
            body(0..<count)
            return
        }
        let ran = WorkerPool.shared?.run(chunks: chunks) { chunk in
            asWorker { body(Self.range(of: chunk, chunks: chunks, count: count)) }
        } ?? false
        guard !ran else { return }
        withoutActuallyEscaping(body) { body in
            let task = UncheckedSendable(body)
            DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
                asWorker { task.value(Self.range(of: chunk, chunks: chunks, count: count)) }
            }
        }
    }

    /// The items of chunk `chunk` of `chunks` over `0..<count`, whichever thread runs it.
    private static func range(of chunk: Int, chunks: Int, count: Int) -> Range<Int> {
        chunk * count / chunks..<(chunk + 1) * count / chunks
    }

    /// Whether the current thread is running a chunk of ``forEach(_:minimumChunk:_:)`` (or is inside
    /// ``asWorker(_:)``): products it makes are not split again (``BLAS``).
    public static var isWorkerThread: Bool { pthread_getspecific(workerKey) != nil }

    /// Runs `body` with the current thread marked as a worker (see ``isWorkerThread``).
    public static func asWorker<Result>(_ body: () throws -> Result) rethrows -> Result {
        let previous = pthread_getspecific(workerKey)
        pthread_setspecific(workerKey, UnsafeRawPointer(bitPattern: 1))
        defer { pthread_setspecific(workerKey, previous) }
        return try body()
    }

    private static let workerKey: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key, nil)
        return key
    }()
}

/// Wraps a value the caller promises is safe to share across the threads of one `Parallel.forEach`
/// (closures and pointers into buffers whose chunks the threads write disjointly).
public struct UncheckedSendable<Value>: @unchecked Sendable {
    /// The wrapped value.
    public let value: Value
    /// Wraps `value`.
    public init(_ value: Value) { self.value = value }
}
