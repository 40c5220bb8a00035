import SeededRandom

// Every random choice in the suite goes through these helpers and `SeededGenerator.stream(seed:_:)`.
// They are written out, rather than calling `Int.random(in:using:)` or `shuffle(using:)`, so that the
// generated data depends only on the seed and this code, not on the algorithms a given standard library
// happens to use.
extension SeededGenerator {
    /// A uniform integer in `0..<bound`; `bound` must be positive (every caller passes the count of a
    /// non-empty table or range). Lemire's multiply-shift method with rejection, so it is unbiased.
    mutating func index(below bound: Int) -> Int {
        let range = UInt64(bound)
        var product = next().multipliedFullWidth(by: range)
        if product.low < range {
            let threshold = (0 &- range) % range
            while product.low < threshold { product = next().multipliedFullWidth(by: range) }
        }
        return Int(product.high)
    }

    /// A uniform integer in `range`.
    mutating func integer(in range: ClosedRange<Int>) -> Int {
        range.lowerBound + index(below: range.count)
    }

    /// `true` with probability `probability` (to 1/2⁶⁴).
    mutating func chance(_ probability: Double) -> Bool {
        Double(next() >> 11) * (1.0 / Double(UInt64(1) << 53)) < probability
    }

    /// A uniformly chosen element of a non-empty array.
    mutating func element<Element>(of array: [Element]) -> Element {
        array[index(below: array.count)]
    }

    /// `array` in a uniformly random order (Fisher-Yates).
    mutating func shuffled<Element>(_ array: [Element]) -> [Element] {
        var result = array
        var end = result.count
        while end > 1 {
            result.swapAt(end - 1, index(below: end))
            end -= 1
        }
        return result
    }

    /// `count` distinct elements of `array` (by position), in random order; `count ≤ array.count`.
    mutating func distinct<Element>(_ count: Int, of array: [Element]) -> [Element] {
        Array(shuffled(array).prefix(count))
    }

    /// A uniformly chosen element of `array` that is not `excluded`; `array` must hold another value.
    mutating func element<Element: Equatable>(of array: [Element], otherThan excluded: Element) -> Element {
        element(of: array.filter { $0 != excluded })
    }
}

extension Array {
    /// The element at `index`, or `nil` when it is out of range (facts decoded from a file may hold any
    /// index, and the checker must answer `false` for them, not trap).
    subscript(checked index: Int) -> Element? {
        indices.contains(index) ? self[index] : nil
    }
}

extension String {
    /// The string with its first character upper-cased ("the cup broke" → "The cup broke").
    var capitalizingFirst: String {
        guard let first else { return self }
        return first.uppercased() + dropFirst()
    }
}
