#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The machine's physical memory, and the bound it sets on buffers whose size a user chooses
/// (a KV cache's rows and slots, a serving engine's batch): such a buffer may take at most
/// ``budgetBytes``, so an option typed with a few zeros too many is an error naming the option, not
/// an allocation that kills the process.
public enum SystemMemory {
    /// Physical memory in bytes (`sysconf(_SC_PHYS_PAGES) · page size`); 8 GiB when the system does
    /// not say.
    public static let physicalBytes: Int = {
        let pages = sysconf(Int32(_SC_PHYS_PAGES)), pageSize = sysconf(Int32(_SC_PAGESIZE))
        guard pages > 0, pageSize > 0 else { return 8 << 30 }
        let (bytes, overflow) = pages.multipliedReportingOverflow(by: pageSize)
        return overflow ? Int.max : bytes
    }()

    /// The most bytes one user-sized buffer may take: three quarters of ``physicalBytes``.
    public static var budgetBytes: Int { physicalBytes / 4 * 3 }

    /// The product of `factors` in bytes, or `nil` if it overflows `Int`.
    public static func product(_ factors: Int...) -> Int? {
        var total = 1
        for factor in factors {
            let (next, overflow) = total.multipliedReportingOverflow(by: factor)
            if overflow { return nil }
            total = next
        }
        return total
    }

    /// `1.3 GB`, `512 MB`, `64 KB` (powers of 1,000), for messages.
    public static func describe(_ bytes: Int?) -> String {
        guard let bytes else { return "more than 9 EB" }
        let value = Double(bytes)
        if value >= 1e9 { return formatted(value / 1e9, "GB") }
        if value >= 1e6 { return formatted(value / 1e6, "MB") }
        return formatted(value / 1e3, "KB")
    }

    private static func formatted(_ value: Double, _ unit: String) -> String {
        let rounded = (value * 10).rounded() / 10
        return rounded == rounded.rounded() ? "\(Int(rounded)) \(unit)" : "\(rounded) \(unit)"
    }
}
