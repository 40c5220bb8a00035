/// Finds a request's stop strings in generated text as it arrives, holding back only the tail that
/// could still begin one, so that streamed text never shows a stop string or part of it.
struct StopSequences: Sendable {
    /// The strings that end the text (never empty strings).
    let stops: [String]
    /// Text received but not yet released: the end of the text that is a prefix of some stop.
    private var held = ""

    init(_ stops: [String]) {
        self.stops = stops.filter { !$0.isEmpty }
    }

    /// Takes the next piece of text. Returns the text now safe to release and whether a stop
    /// string was found (then the released text ends where the stop began, and the rest is dropped).
    mutating func feed(_ piece: String) -> (release: String, stopped: Bool) {
        guard !stops.isEmpty else { return (piece, false) }
        held += piece
        guard !held.isEmpty else { return ("", false) }
        if let cut = stops.compactMap({ held.range(of: $0)?.lowerBound }).min() {
            let release = String(held[..<cut])
            held = ""
            return (release, true)
        }
        // Hold the longest tail of `held` that some stop begins with.
        let keep = stops.map { stop in
            (1...min(stop.count, held.count)).reversed().first { held.hasSuffix(stop.prefix($0)) } ?? 0
        }.max() ?? 0
        let release = String(held.dropLast(keep))
        held = String(held.suffix(keep))
        return (release, false)
    }

    /// The held-back text, once generation has ended without a stop string.
    mutating func flush() -> String {
        defer { held = "" }
        return held
    }
}
