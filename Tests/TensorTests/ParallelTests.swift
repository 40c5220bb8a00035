import Foundation
import Synchronization
import Testing
@testable import Tensor

@Suite("Parallel: worker count and chunking")
struct ParallelTests {
    @Test("PEFT_THREADS sets the worker count when it is a positive integer; otherwise the processor count")
    func threadCountFromEnvironment() {
        let processors = max(1, ProcessInfo.processInfo.activeProcessorCount)
        #expect(Parallel.threadCount(environment: ["PEFT_THREADS": "3"]) == 3)
        #expect(Parallel.threadCount(environment: ["PEFT_THREADS": " 1 "]) == 1)
        for bad in ["0", "-2", "two", "", "1.5"] {
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
}
