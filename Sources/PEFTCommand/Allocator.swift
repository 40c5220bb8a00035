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
    /// of `peft bench train --config small --method lora`, a sixth of the step's time. Serving every
    /// block from the heap (`M_MMAP_MAX` 0: `M_MMAP_THRESHOLD` alone stops at 32 MiB, below the
    /// base config's 32 MiB logits and their gradient, which then still cost 16,000 faults a step)
    /// and never trimming it leaves no page fault in the steady state. The cost is a resident
    /// size that stays at the peak of the working set, which a training or benchmark process
    /// reaches anyway.
    static func keepFreedMemory() {
        mallopt(M_MMAP_MAX, 0)
        mallopt(M_TRIM_THRESHOLD, Int32.max)
    }
}
