import CBLAS

/// Process-wide allocator settings for the command-line tool.
enum Allocator {
    /// Keeps freed tensor memory in the process, in one arena, instead of returning it to the
    /// kernel: each step reallocates its activations, and glibc's defaults (`mmap` for large blocks,
    /// heap trimming, per-thread arenas unmapped when empty) make every step fault its pages in
    /// again. The resident size stays at the working set's peak. Measurements: Performance.md.
    static func keepFreedMemory() {
        mallopt(M_ARENA_MAX, 1)
        mallopt(M_MMAP_MAX, 0)
        mallopt(M_TRIM_THRESHOLD, Int32.max)
    }
}
