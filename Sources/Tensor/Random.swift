import Foundation
// SeededGenerator lives in its own module, so that the task suite can use it without linking
// OpenBLAS; `import Tensor` still brings it.
@_exported import SeededRandom

extension Tensor {
    /// Elements drawn uniformly from `[low, high)`.
    /// - Throws: ``TensorError/invalidShape(_:_:)`` for a negative dimension.
    public static func uniform(
        _ shape: [Int], low: Float = 0, high: Float = 1, generator: inout SeededGenerator
    ) throws -> Tensor {
        let count = try elementCount(shape, op: "uniform")
        var scalars = [Float](repeating: 0, count: count)
        for index in 0..<count { scalars[index] = low + (high - low) * generator.nextUnitFloat() }
        return Tensor(uncheckedShape: shape, scalars: scalars)
    }

    /// Elements drawn from a normal distribution `N(mean, std²)`.
    /// - Throws: ``TensorError/invalidShape(_:_:)`` for a negative dimension.
    public static func normal(
        _ shape: [Int], mean: Float = 0, std: Float = 1, generator: inout SeededGenerator
    ) throws -> Tensor {
        let count = try elementCount(shape, op: "normal")
        var scalars = [Float](repeating: 0, count: count)
        for index in 0..<count { scalars[index] = mean + std * generator.nextNormal() }
        return Tensor(uncheckedShape: shape, scalars: scalars)
    }

    /// The default initialisation of a linear layer's `[out, in]` weight (PyTorch's
    /// `kaiming_uniform_(a: √5)`): uniform in `±1/√fanIn` with `fanIn = shape.last`.
    /// - Throws: ``TensorError/invalidShape(_:_:)`` for a rank-0 shape or a zero fan-in.
    public static func kaimingUniform(_ shape: [Int], generator: inout SeededGenerator) throws -> Tensor {
        guard let fanIn = shape.last, fanIn > 0 else {
            throw TensorError.invalidShape("kaimingUniform", "needs a positive last dimension, got \(shape)")
        }
        let bound = 1 / Float(fanIn).squareRoot()
        return try uniform(shape, low: -bound, high: bound, generator: &generator)
    }
}
