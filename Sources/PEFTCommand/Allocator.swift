import CBLAS

/// Process-wide allocator settings for the command-line tool.
enum Allocator {
    /// Keeps freed tensor memory in the process instead of returning it to the kernel.
    ///
    /// Every op allocates its output afresh (`Tensor` is a value type over an `Array`), and a
    /// training step frees and reallocates about a hundred megabytes of activations and gradients.
    /// With glibc's defaults, blocks from 128 KiB up (the threshold adapts only to sizes freed
    /// before) are `mmap`ped and `munmap`ped, and the top of the heap is trimmed back, so every step
    /// faults its pages in again and the kernel zero-fills them: about 27,000 page faults per step
    /// of `peft bench train --config small --method lora` (600,000 in a 22-step run), a sixth of the
    /// step's time. Serving blocks up to 32 MiB (glibc's ceiling for this setting) from the heap and
    /// never trimming it keeps the pages mapped: 55,000 faults in the same run, and the step 25 %
    /// faster. The cost is a resident size that stays at the peak of the working set, which a
    /// training or benchmark process reaches anyway.
    static func keepFreedMemory() {
        mallopt(M_MMAP_THRESHOLD, 32 << 20)
        mallopt(M_TRIM_THRESHOLD, Int32.max)
    }
}
