import Dispatch

/// Wall-clock timing helpers for the benchmarks.
enum Timing {
    /// Seconds taken by `body`.
    static func seconds(_ body: () throws -> Void) rethrows -> Double {
        let start = DispatchTime.now().uptimeNanoseconds
        try body()
        return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    }

    /// The median of `values` (the upper one for an even count).
    static func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }

    /// `value` rounded to two decimals, for JSON output.
    static func rounded(_ value: Double) -> Double { (value * 100).rounded() / 100 }
}
