internal import CKernels
import Foundation
import Synchronization

/// The threads behind ``Parallel/forEach(_:minimumChunk:_:)``: `workerCount − 1` threads of our own
/// that wait for a loop's chunks by spinning for a short while before they sleep, so that the
/// hundreds of small parallel loops of a decoding step or a training step do not each pay for
/// waking sleeping threads (a system call and a scheduler round trip, tens of microseconds).
///
/// A loop is published as one atomic word (a generation number, the chunk count and the next
/// chunk to hand out); the calling thread and the workers claim chunks from it by compare-and-swap,
/// so the caller runs every chunk no worker claims in time and waits only for chunks already being
/// run. A worker reads the loop's body only after it has claimed a chunk, and the caller returns only
/// after every chunk has finished, so the body outlives every use of it. One loop runs at a time:
/// a loop started while another runs (from another thread, or nested inside a chunk) runs on
/// Dispatch's threads instead, as it did before this pool.
final class WorkerPool: @unchecked Sendable {
    /// The pool of `Parallel.workerCount − 1` threads, or `nil` with a single worker.
    static let shared: WorkerPool? = Parallel.workerCount > 1 ? WorkerPool(threads: Parallel.workerCount - 1) : nil

    /// How many `pause`s a worker spins for a new loop before it sleeps (about 100 µs).
    private static let spinLimit = 3_000

    /// Generation (high bits), chunk count (16 bits) and next chunk (16 bits) of the current loop.
    private let state = Atomic<Int>(0)
    /// Chunks of the current loop not finished yet.
    private let remaining = Atomic<Int>(0)
    /// Workers asleep (or about to be) on `condition`.
    private let sleepers = Atomic<Int>(0)
    /// Whether a loop is running (the pool runs one at a time).
    private let busy = Atomic<Bool>(false)
    /// The current loop's body, written before the loop is published and read by a worker only
    /// after it has claimed one of the loop's chunks.
    private var body: ((Int) -> Void)?
    private var generation = 0
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let condition = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)

    private init(threads: Int) {
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(condition, nil)
        for index in 0..<threads {
            let thread = Thread { [unowned self] in self.workerLoop() }
            thread.name = "peft-worker-\(index + 1)"
            thread.stackSize = 1 << 22
            thread.start()
        }
    }

    /// Runs `chunk(i)` for every `i < chunks` on this thread and the pool's workers, and returns
    /// once all have finished; `false` (nothing run) when the pool is running another loop.
    /// - Precondition: `1 ≤ chunks < 65,536`.
    func run(chunks: Int, _ chunk: (Int) -> Void) -> Bool {
        guard busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged else { return false }
        defer { busy.store(false, ordering: .releasing) }
        return withoutActuallyEscaping(chunk) { chunk in
            body = chunk
            defer { body = nil }
            generation = (generation + 1) & 0x7FFF_FFFF
            let current = generation
            remaining.store(chunks, ordering: .relaxed)
            state.store(Self.pack(generation: current, chunks: chunks, next: 0), ordering: .sequentiallyConsistent)
            if sleepers.load(ordering: .sequentiallyConsistent) > 0 {
                pthread_mutex_lock(mutex)
                pthread_cond_broadcast(condition)
                pthread_mutex_unlock(mutex)
            }
            runClaimed(generation: current)
            var spins = 0
            while remaining.load(ordering: .acquiring) > 0 {
                spins += 1
                if spins < Self.spinLimit { peft_spin_pause() } else { sched_yield() }
            }
            return true
        }
    }

    /// Claims and runs chunks of loop `generation` until none is left to claim. The body is read
    /// only once a chunk is claimed: the caller cannot publish another loop (or clear this one's
    /// body) before that chunk has finished.
    private func runClaimed(generation: Int) {
        while let index = claim(generation: generation) {
            body?(index)
            remaining.subtract(1, ordering: .releasing)
        }
    }

    /// The next unclaimed chunk of loop `generation`, or `nil` when none is left (or another
    /// loop has been published since).
    private func claim(generation: Int) -> Int? {
        var word = state.load(ordering: .acquiring)
        while true {
            let (wordGeneration, chunks, next) = Self.unpack(word)
            guard wordGeneration == generation, next < chunks else { return nil }
            let (exchanged, original) = state.compareExchange(
                expected: word, desired: word + 1, ordering: .acquiringAndReleasing)
            if exchanged { return next }
            word = original
        }
    }

    private func workerLoop() {
        Parallel.asWorker {
            var seen = 0
            while true {
                var spins = 0
                var word = state.load(ordering: .acquiring)
                while Self.unpack(word).generation == seen {
                    spins += 1
                    if spins < Self.spinLimit {
                        peft_spin_pause()
                    } else {
                        pthread_mutex_lock(mutex)
                        sleepers.add(1, ordering: .sequentiallyConsistent)
                        while Self.unpack(state.load(ordering: .sequentiallyConsistent)).generation == seen {
                            pthread_cond_wait(condition, mutex)
                        }
                        sleepers.subtract(1, ordering: .relaxed)
                        pthread_mutex_unlock(mutex)
                        spins = 0
                    }
                    word = state.load(ordering: .acquiring)
                }
                seen = Self.unpack(word).generation
                runClaimed(generation: seen)
            }
        }
    }

    private static func pack(generation: Int, chunks: Int, next: Int) -> Int {
        generation << 32 | chunks << 16 | next
    }

    private static func unpack(_ word: Int) -> (generation: Int, chunks: Int, next: Int) {
        (word >> 32, (word >> 16) & 0xFFFF, word & 0xFFFF)
    }
}
