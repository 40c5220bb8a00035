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

    @Test("Advising whole aligned pages keeps every value and reports only whole pages inside the buffer")
    func keepsValues() {
        let tensors = (0..<3).map { randomTensor([3 << 18], seed: UInt64(20 + $0)) }  // 3 MiB each
        let copies = tensors.map { $0.scalars }
        let collapsed = Tensor.adviseHugePages(tensors)
        #expect(collapsed % HugePages.size == 0 && collapsed <= 9 << 20)
        #expect(tensors.map(\.scalars) == copies)
        print("huge pages: \(collapsed >> 20) MiB of 9 MiB collapsed (transparent huge pages offered: \(Self.transparentHugePagesOffered))")
        #if os(Linux)
        if Self.transparentHugePagesOffered {
            // Any 3 MiB range holds a whole aligned 2 MiB page.
            #expect(collapsed >= 3 * HugePages.size, "MADV_COLLAPSE collapsed \(collapsed) bytes")
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
