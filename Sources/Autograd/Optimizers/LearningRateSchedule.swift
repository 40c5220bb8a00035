import Foundation

/// A learning-rate schedule: linear warm-up from 0 to the peak, then a decay to `minimum`.
public struct LearningRateSchedule: Sendable, Equatable, Codable {
    /// The shape of the decay after warm-up.
    public enum Decay: String, Sendable, Codable {
        /// Stay at the peak.
        case constant
        /// Straight line from the peak to `minimum` at `totalSteps`.
        case linear
        /// Half a cosine from the peak to `minimum` at `totalSteps`.
        case cosine
    }

    /// The learning rate at the end of warm-up.
    public var peak: Float
    /// Steps of linear warm-up (0 for none).
    public var warmupSteps: Int
    /// The step at which the decay reaches `minimum`.
    public var totalSteps: Int
    /// The decay after warm-up.
    public var decay: Decay
    /// The floor the decay ends at.
    public var minimum: Float

    /// A schedule of `totalSteps` optimizer steps, the first `warmupSteps` of them warming up.
    public init(peak: Float, totalSteps: Int, warmupSteps: Int = 0, decay: Decay = .linear, minimum: Float = 0) {
        self.peak = peak
        self.totalSteps = max(1, totalSteps)
        self.warmupSteps = max(0, warmupSteps)
        self.decay = decay
        self.minimum = minimum
    }

    /// The learning rate for the optimizer step numbered `step` (starting at 0).
    public func learningRate(atStep step: Int) -> Float {
        if step < warmupSteps { return peak * Float(step + 1) / Float(warmupSteps) }
        let decaySteps = max(1, totalSteps - warmupSteps)
        let progress = min(1, Float(step - warmupSteps) / Float(decaySteps))
        switch decay {
        case .constant: return peak
        case .linear: return minimum + (peak - minimum) * (1 - progress)
        case .cosine: return minimum + (peak - minimum) * 0.5 * (1 + cosf(.pi * progress))
        }
    }
}
