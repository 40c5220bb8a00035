import Foundation
import Testing
import Tensor

@Suite("Huge pages for long-lived weights")
struct HugePagesTests {
    /// Whether this Linux kernel offers transparent huge pages to a process that asks for them.
    static var transparentHugePagesOffered: Bool {
        guard let mode = try? String(contentsOfFile: "/sys/kernel/mm/transparent_hugepage/enabled", encoding: .utf8) else {
            return false
        }
        return !mode.contains("[never]")
    }

    /// The whole 2 MiB-aligned pages inside `tensor`'s storage.
    static func wholePages(in tensor: Tensor) -> Int {
        tensor.scalars.withUnsafeBytes { buffer in
            let start = UInt(bitPattern: buffer.baseAddress), page = UInt(HugePages.size)
            let first = (start + page - 1) / page, end = (start + UInt(buffer.count)) / page
            return end > first ? Int(end - first) : 0
        }
    }

    @Test("Advising whole aligned pages keeps every value and collapses at least each buffer's own whole pages")
    func keepsValues() {
        let tensors = (0..<3).map { randomTensor([5 << 18], seed: UInt64(20 + $0)) }  // 5 MiB each
        let copies = tensors.map { $0.scalars }
        // Any 4 MiB range holds a whole aligned 2 MiB page; merging neighbours can only add pages.
        let ownPages = tensors.map(Self.wholePages).reduce(0, +)
        #expect(ownPages >= 3)
        let collapsed = Tensor.adviseHugePages(tensors)
        #expect(collapsed % HugePages.size == 0 && collapsed <= 15 << 20)
        #expect(tensors.map(\.scalars) == copies)
        print("huge pages: \(collapsed >> 20) MiB of 15 MiB collapsed, \(2 * ownPages) MiB in the buffers' own whole pages (transparent huge pages offered: \(Self.transparentHugePagesOffered))")
        #if os(Linux)
        if Self.transparentHugePagesOffered {
            #expect(collapsed >= ownPages * HugePages.size, "MADV_COLLAPSE collapsed \(collapsed) bytes")
        }
        #endif
    }

    @Test("Buffers smaller than a huge page, and empty ranges, are left alone")
    func smallBuffers() {
        let small = randomTensor([1000], seed: 3)
        #expect(Tensor.adviseHugePages([small]) == 0)
        #expect(HugePages.advise(regions: []) == 0)
        #expect(HugePages.advise(regions: [(start: UInt(HugePages.size), bytes: 0)]) == 0)
        #expect(HugePages.advise(regions: [(start: UInt.max - 10, bytes: 1 << 30)]) == 0)
        small.scalars.withUnsafeBytes { #expect(HugePages.advise($0.baseAddress!, bytes: $0.count) == 0) }
    }
}
