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
    ///
    /// All of that holds for glibc's main arena only. The commands run on Swift concurrency's
    /// threads, not the main thread, and glibc gives such threads arenas of their own: 64 MiB heaps
    /// that it unmaps as soon as one empties, whatever the trim threshold. With those, a small LoRA
    /// training step still faulted in about 8,000 pages (33 MB) a step. `M_ARENA_MAX` 1 sends every
    /// thread to the main arena; the lock it shares costs nothing measurable at a few hundred
    /// allocations a step, each of them kilobytes to megabytes.
    static func keepFreedMemory() {
        mallopt(M_ARENA_MAX, 1)
        mallopt(M_MMAP_MAX, 0)
        mallopt(M_TRIM_THRESHOLD, Int32.max)
    }
}
