import Foundation
import Synchronization
import Testing
@testable import Tensor

@Suite("Parallel: worker count and chunking")
struct ParallelTests {
    @Test("PEFT_THREADS sets the worker count when it is an integer in 1...1024; otherwise the processor count")
    func threadCountFromEnvironment() {
        let processors = max(1, ProcessInfo.processInfo.activeProcessorCount)
        #expect(Parallel.threadCount(environment: ["PEFT_THREADS": "3"]) == 3)
        #expect(Parallel.threadCount(environment: ["PEFT_THREADS": " 1 "]) == 1)
        #expect(Parallel.threadCount(environment: ["PEFT_THREADS": "1024"]) == 1024)
        for bad in ["0", "-2", "two", "", "1.5", "1025", "100000"] {
            #expect(Parallel.threadCount(environment: ["PEFT_THREADS": bad]) == processors, "\(bad)")
        }
        #expect(Parallel.threadCount(environment: [:]) == processors)
    }

    @Test("forEach's chunks are disjoint and cover the range, at least minimumChunk long when split")
    func chunksCoverTheRange() {
        for (count, minimumChunk) in [(0, 1), (1, 1), (7, 1), (1000, 1), (1000, 600), (5, 3)] {
            let chunks = Mutex<[Range<Int>]>([])
            Parallel.forEach(count, minimumChunk: minimumChunk) { range in chunks.withLock { $0.append(range) } }
            let sorted = chunks.withLock { $0 }.sorted { $0.lowerBound < $1.lowerBound }
            #expect(sorted.flatMap { Array($0) } == Array(0..<count), "\(count), \(minimumChunk)")
            if sorted.count > 1 { #expect(sorted.allSatisfy { $0.count >= minimumChunk }, "\(count), \(minimumChunk)") }
            #expect(sorted.count <= Parallel.workerCount)
        }
    }

    @Test("Many loops in a row, from several threads at once and nested: every item exactly once, and the chunks those of one thread")
    func manyLoopsConcurrentlyAndNested() {
        // Thousands of back-to-back loops exercise the pool's hand-off (workers still spinning,
        // asleep, or late for a loop the caller finished alone); loops from other threads and
        // loops inside a chunk run while the pool is busy and must fall back, not wait for it.
        let rounds = 2_000, count = 64
        let failures = Atomic<Int>(0)
        DispatchQueue.concurrentPerform(iterations: 3) { thread in
            var counts = [Int](repeating: 0, count: count)
            for round in 0..<rounds {
                counts.withUnsafeMutableBufferPointer { buffer in
                    let shared = UncheckedSendable(buffer)
                    Parallel.forEach(count) { range in
                        for index in range { shared.value[index] += 1 }
                        if thread == 0, round % 100 == 0, range.lowerBound == 0 {
                            let inner = Atomic<Int>(0)
                            Parallel.forEach(10) { inner.add($0.count, ordering: .relaxed) }
                            if inner.load(ordering: .relaxed) != 10 { failures.add(1, ordering: .relaxed) }
                        }
                    }
                }
            }
            if counts != [Int](repeating: rounds, count: count) { failures.add(1, ordering: .relaxed) }
        }
        #expect(failures.load(ordering: .relaxed) == 0)
        // Chunk i is the same range whichever thread runs it.
        let ranges = Mutex<Set<Range<Int>>>([])
        for _ in 0..<200 { Parallel.forEach(1000) { range in ranges.withLock { _ = $0.insert(range) } } }
        let expected = Set((0..<min(Parallel.workerCount, 1000)).map { chunk in
            chunk * 1000 / min(Parallel.workerCount, 1000)..<(chunk + 1) * 1000 / min(Parallel.workerCount, 1000)
        })
        #expect(ranges.withLock { $0 } == expected)
    }
}
