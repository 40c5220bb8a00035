import Autograd
import Tensor
import Testing

@Suite("Linear layer and cross-entropy in chunks")
struct LinearCrossEntropyTests {
    /// The loss and gradients of `crossEntropy(linear(x, W))` and of the chunked op, for one setting.
    func compare(rows: Int, chunk: Int, trainableWeight: Bool, packed: Bool) throws -> (loss: Float, gradient: Float) {
        var generator = SeededGenerator(seed: 11)
        let xValue = try Tensor.normal([rows, 24], std: 1, generator: &generator)
        let wValue = try Tensor.normal([37, 24], std: 0.5, generator: &generator)
        let targets = (0..<rows).map { $0 % 4 == 1 ? CrossEntropy.ignoredTarget : ($0 * 7) % 37 }
        func run(fused: Bool) throws -> (Float, [Float]) {
            let x = Variable(xValue, requiresGradient: true)
            let weight = Variable(wValue, requiresGradient: trainableWeight)
            if packed { try weight.packForLinear(inputGradient: true) }
            let loss = fused
                ? try Variable.linearCrossEntropy(x, weight: weight, targets: targets, rowsPerChunk: chunk)
                : try Variable.crossEntropy(logits: Variable.linear(x, weight: weight), targets: targets)
            try loss.backward(seed: Tensor(scalar: 0.5))
            let gradients = try #require(x.gradient).scalars + (trainableWeight ? try #require(weight.gradient).scalars : [])
            return (loss.value.scalars[0], gradients)
        }
        let (expectedLoss, expected) = try run(fused: false)
        let (loss, actual) = try run(fused: true)
        #expect(expected.count == actual.count)
        return (abs(loss - expectedLoss), zip(expected, actual).map { abs($0 - $1) }.max() ?? 0)
    }

    @Test("Equals cross-entropy over the linear layer for any chunk size, frozen, trainable or packed weights",
          arguments: [1, 3, 8, 1000])
    func matchesUnfused(chunk: Int) throws {
        for (trainable, packed) in [(false, false), (true, false), (false, true)] {
            let (loss, gradient) = try compare(rows: 13, chunk: chunk, trainableWeight: trainable, packed: packed)
            #expect(loss < 1e-5)
            #expect(gradient < 1e-6)
        }
    }

    @Test("Every row ignored gives a zero loss and zero gradient; bad shapes and targets throw")
    func edges() throws {
        let x = Variable(try Tensor.ones([2, 3]), requiresGradient: true)
        let weight = Variable(try Tensor.ones([4, 3]))
        let loss = try Variable.linearCrossEntropy(x, weight: weight, targets: [CrossEntropy.ignoredTarget, CrossEntropy.ignoredTarget])
        #expect(loss.value.scalars == [0])
        try loss.backward()
        #expect(try #require(x.gradient).scalars.allSatisfy { $0 == 0 })
        #expect(throws: TensorError.self) { try Variable.linearCrossEntropy(x, weight: weight, targets: [0]) }
        #expect(throws: TensorError.self) { try Variable.linearCrossEntropy(x, weight: weight, targets: [0, 4]) }
        #expect(throws: TensorError.self) { try Variable.linearCrossEntropy(x, weight: weight, targets: [0, 1], rowsPerChunk: 0) }
    }
}

@Suite("Recomputed sub-graphs")
struct RecomputedTests {
    @Test("Gradients through a recomputed body equal the recorded ones, for the input and the parameters inside")
    func sameGradients() throws {
        var generator = SeededGenerator(seed: 5)
        let inputValue = try Tensor.normal([3, 4], std: 1, generator: &generator)
        let weightValue = try Tensor.normal([5, 4], std: 0.5, generator: &generator)
        func run(recomputing: Bool, inputNeedsGradient: Bool) throws -> [Float] {
            let input = Variable(inputValue, requiresGradient: inputNeedsGradient)
            let weight = Variable(weightValue, requiresGradient: true)
            let body: (Variable) throws -> Variable = { x in try Variable.linear(x, weight: weight).silu() * 2 }
            let output = recomputing ? try Variable.recomputed(input, body) : try body(input)
            try output.sum().backward()
            return try #require(weight.gradient).scalars + (inputNeedsGradient ? try #require(input.gradient).scalars : [])
        }
        for needs in [true, false] {
            #expect(try run(recomputing: true, inputNeedsGradient: needs) == run(recomputing: false, inputNeedsGradient: needs))
        }
    }
}
