#if canImport(Glibc)
import Glibc
#endif

/// Transparent huge pages for large buffers that live long and are read in full, again and again:
/// the frozen weights of a model.
///
/// Decoding streams every weight once per token. With the usual 4 KiB pages that is one TLB entry
/// (and one page walk) per 4 KiB read, and the cores' hardware prefetchers start over at every page;
/// 2 MiB pages take both away. Linux gives anonymous memory huge pages only where asked when
/// `/sys/kernel/mm/transparent_hugepage/enabled` is `madvise` (a common default), so the model asks
/// for its weights. Nothing changes in the bytes: the kernel copies them into huge pages.
public enum HugePages {
    /// The size of a huge page on x86-64 and most arm64 kernels, in bytes (2 MiB).
    public static let size = 2 << 20

    /// Linux's `MADV_COLLAPSE` (6.1+; older C headers do not name it).
    static let adviceCollapse: Int32 = 25

    /// Asks the kernel to back the whole 2 MiB-aligned pages inside `bytes` bytes at `start` with huge
    /// pages: marks them (`MADV_HUGEPAGE`, so that they stay eligible) and collapses them now
    /// (`MADV_COLLAPSE`), which copies them into huge pages synchronously.
    ///
    /// Only whole aligned pages inside the range are touched. The bytes are unchanged; the cost is
    /// a copy of the range (0.2–1.8 s for 540 MB on a 2-core virtual machine, where fresh memory is
    /// slow to touch).
    /// - Returns: the bytes collapsed into huge pages: 0 when no aligned huge page fits in the
    ///   range, off Linux, on kernels before 6.1 (which then collapse the marked pages in the
    ///   background, if `khugepaged` runs), or when transparent huge pages are disabled.
    @discardableResult
    public static func advise(_ start: UnsafeRawPointer, bytes: Int) -> Int {
        advise(address: UInt(bitPattern: start), bytes: bytes)
    }

    /// ``advise(_:bytes:)`` over several buffers at once, as one range wherever two of them lie
    /// less than a huge page apart: a model's weights are many buffers of 0.4–4 MB, each too small
    /// or too unaligned to hold a whole huge page of its own, but mostly allocated next to each
    /// other. Pages between two buffers may belong to other allocations; they keep their bytes
    /// (only their page size changes).
    /// - Parameter regions: start addresses and lengths in bytes, in any order.
    /// - Returns: the bytes collapsed into huge pages.
    @discardableResult
    public static func advise(regions: [(start: UInt, bytes: Int)]) -> Int {
        var merged: [(start: UInt, end: UInt)] = []
        for region in regions.filter({ $0.bytes > 0 }).sorted(by: { $0.start < $1.start }) {
            let (end, overflow) = region.start.addingReportingOverflow(UInt(region.bytes))
            guard !overflow else { continue }
            if let last = merged.last, region.start <= last.end &+ UInt(size) {
                merged[merged.count - 1].end = max(last.end, end)
            } else {
                merged.append((region.start, end))
            }
        }
        return merged.reduce(0) { $0 + advise(address: $1.start, bytes: Int($1.end - $1.start)) }
    }

    private static func advise(address: UInt, bytes: Int) -> Int {
        #if os(Linux)
        let page = UInt(size)
        let (last, overflow) = address.addingReportingOverflow(UInt(max(0, bytes)))
        guard !overflow, address <= UInt.max - page else { return 0 }
        let first = (address + page - 1) & ~(page - 1), end = last & ~(page - 1)
        guard end > first else { return 0 }
        _ = madvise(UnsafeMutableRawPointer(bitPattern: first), Int(end - first), MADV_HUGEPAGE)
        // Page by page, so that a page the kernel cannot collapse (a hole in the range, memory
        // short right now) costs only itself; EAGAIN (a page busy for a moment, as freshly written
        // ones can be) is tried again.
        return stride(from: first, to: end, by: Int(page)).reduce(0) { collapsed, pageStart in
            for _ in 0..<3 {
                if madvise(UnsafeMutableRawPointer(bitPattern: pageStart), size, adviceCollapse) == 0 { return collapsed + size }
                if errno != EAGAIN { break }
            }
            return collapsed
        }
        #else
        return 0
        #endif
    }
}

extension Tensor {
    /// Backs the storage of `tensors` with huge pages (``HugePages/advise(regions:)``): for weights
    /// that stay as they are and are read in full many times. The values are unchanged; a later
    /// copy of a tensor (copy-on-write) is not advised.
    /// - Returns: the bytes collapsed into huge pages.
    @discardableResult
    public static func adviseHugePages(_ tensors: [Tensor]) -> Int {
        withExtendedLifetime(tensors) {
            let regions = tensors.map { tensor in
                tensor.scalars.withUnsafeBytes { (start: UInt(bitPattern: $0.baseAddress), bytes: $0.count) }
            }
            return HugePages.advise(regions: regions)
        }
    }
}
