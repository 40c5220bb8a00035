import Autograd
import Foundation

/// An error from training: what is wrong, and where.
public enum TrainingError: Error, Equatable, CustomStringConvertible {
    /// A training option is out of range; the associated value says which.
    case invalidOptions(String)
    /// There is nothing to train or evaluate on; the associated value names the set.
    case noExamples(String)
    /// A token id lies outside the model's vocabulary; associated values: the set, the example's
    /// index, the token and the vocabulary size.
    case tokenOutOfRange(set: String, example: Int, token: Int, vocabularySize: Int)
    /// A backbone weight requires gradients (the backbone must be frozen); the value names it.
    case backboneNotFrozen(weight: String)
    /// The adapter has no trainable parameters.
    case nothingToTrain
    /// The loss stopped being a finite number at the given step (learning rate too high, or an
    /// example without instruction tokens for an instruction-aware adapter).
    case nonFiniteLoss(step: Int)
    /// A checkpoint cannot be read or does not fit this run; associated values: the path and why.
    case badCheckpoint(path: String, reason: String)

    public var description: String {
        switch self {
        case let .invalidOptions(detail): return "invalid training options: \(detail)"
        case let .noExamples(set): return "no \(set) examples"
        case let .tokenOutOfRange(set, example, token, vocabularySize):
            return "\(set) example \(example): token \(token) is outside the model's vocabulary of \(vocabularySize)"
        case let .backboneNotFrozen(weight):
            return "the backbone must be frozen, but '\(weight)' requires gradients (load the model with trainable: false)"
        case .nothingToTrain: return "the adapter has no trainable parameters"
        case let .nonFiniteLoss(step):
            return "the training loss is not a finite number at step \(step); lower the learning rate, and give every example at least one prompt token"
        case let .badCheckpoint(path, reason): return "\(path): \(reason)"
        }
    }
}
