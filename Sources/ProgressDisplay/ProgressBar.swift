#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import PEFT

/// A one-line progress display for training, on standard error by default:
///
///     step 120/400 [#########.....................]  30% epoch 1/3 loss 1.8342 lr 9.4e-05 2104 tok/s ETA 3m12s
///
/// On a terminal the line is redrawn in place (`\r`) at most every ``minimumInterval`` seconds;
/// otherwise (a log file, CI) a plain line is written every ``plainLineInterval`` seconds. The
/// first and last steps are always shown, and each dev evaluation gets a line of its own. Pass
/// ``callback`` as the trainer's progress callback; it never stops training.
public final class ProgressBar {
    /// The number of characters inside the brackets.
    public let width: Int
    /// Whether the output is a terminal (redrawn in place) or not (plain lines).
    public let isTerminal: Bool
    /// The least time between redraws on a terminal, in seconds.
    public let minimumInterval: Double
    /// The least time between plain lines, in seconds.
    public let plainLineInterval: Double
    private let write: (String) -> Void
    private var lastDrawn: Double?
    private var lineIsOpen = false

    /// A bar that writes to standard error, redrawn in place when that is a terminal.
    public convenience init(width: Int = 30, minimumInterval: Double = 0.1, plainLineInterval: Double = 10) {
        self.init(
            width: width, isTerminal: isatty(STDERR_FILENO) != 0, minimumInterval: minimumInterval,
            plainLineInterval: plainLineInterval
        ) { text in FileHandle.standardError.write(Data(text.utf8)) }
    }

    /// A bar that hands its text to `write` (for tests, or another stream).
    public init(
        width: Int = 30, isTerminal: Bool, minimumInterval: Double = 0.1, plainLineInterval: Double = 10,
        write: @escaping (String) -> Void
    ) {
        self.width = max(1, width)
        self.isTerminal = isTerminal
        self.minimumInterval = minimumInterval
        self.plainLineInterval = plainLineInterval
        self.write = write
    }

    /// The trainer's progress callback: draws and always answers ``TrainingControl/proceed``.
    public var callback: (TrainingProgress) -> TrainingControl {
        { [self] progress in
            update(progress)
            return .proceed
        }
    }

    /// Shows `progress` if it is due (see the type's description).
    public func update(_ progress: TrainingProgress) {
        let isLast = progress.step >= progress.totalSteps
        let interval = isTerminal ? minimumInterval : plainLineInterval
        let isDue = lastDrawn.map { progress.elapsedSeconds - $0 >= interval } ?? true
        if isDue || isLast || progress.evalLoss != nil {
            lastDrawn = progress.elapsedSeconds
            if isTerminal {
                write("\r" + line(for: progress) + "\u{1B}[K")
                lineIsOpen = true
            } else {
                write(line(for: progress) + "\n")
            }
        }
        if let evalLoss = progress.evalLoss {
            endLine()
            write("step \(progress.step): dev loss \(Self.format(evalLoss, digits: 4))\n")
        }
    }

    /// Ends the line being redrawn, so that later output starts on a line of its own.
    public func finish() { endLine() }

    private func endLine() {
        if lineIsOpen { write("\n") }
        lineIsOpen = false
    }

    /// The text of the bar for `progress`, without a line ending.
    public func line(for progress: TrainingProgress) -> String {
        let fraction = progress.totalSteps > 0 ? min(1, max(0, Double(progress.step) / Double(progress.totalSteps))) : 1
        let filled = Int((fraction * Double(width)).rounded(.down))
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
        var text = "step \(progress.step)/\(progress.totalSteps) [\(bar)] \(Self.pad(Int((fraction * 100).rounded(.down)), to: 3))%"
        text += " epoch \(progress.epoch)/\(progress.epochs)"
        text += " loss \(Self.format(progress.loss, digits: 4))"
        text += " lr \(Self.scientific(progress.learningRate))"
        text += " " + String(format: "%.0f", progress.tokensPerSecond) + " tok/s"
        text += " ETA \(progress.etaSeconds.map(Self.duration) ?? "?")"
        return text
    }

    /// `seconds` as `1h02m03s`, `2m03s` or `3s`; `?` for a negative, non-finite or absurd value.
    public static func duration(_ seconds: Double) -> String {
        guard seconds >= 0, seconds < 1e9 else { return "?" }
        let total = Int(seconds.rounded())
        let (hours, minutes, rest) = (total / 3600, total / 60 % 60, total % 60)
        if hours > 0 { return "\(hours)h\(twoDigits(minutes))m\(twoDigits(rest))s" }
        if minutes > 0 { return "\(minutes)m\(twoDigits(rest))s" }
        return "\(rest)s"
    }

    private static func twoDigits(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }

    private static func pad(_ value: Int, to length: Int) -> String {
        let text = "\(value)"
        return String(repeating: " ", count: max(0, length - text.count)) + text
    }

    /// `value` with `digits` decimals.
    static func format(_ value: Float, digits: Int) -> String {
        guard value.isFinite else { return "\(value)" }
        return String(format: "%.\(digits)f", Double(value))
    }

    /// `value` as `1.0e-04`.
    private static func scientific(_ value: Float) -> String { String(format: "%.1e", Double(value)) }
}
