import Testing
import Tensor
import Autograd

@Suite("Documentation examples")
struct ReadmeExampleTests {
    @Test("The README's Tensor and Autograd example runs as written")
    func readmeExample() throws {
        var generator = SeededGenerator(seed: 0)
        let w = Variable(try Tensor.kaimingUniform([2, 4], generator: &generator), requiresGradient: true)
        let x = Variable(try Tensor.uniform([8, 4], low: -1, high: 1, generator: &generator))
        let optimizer = AdamW(parameters: [w], learningRate: 1e-2)
        let loss = try Variable.crossEntropy(logits: Variable.linear(x, weight: w), targets: [0, 1, 0, 1, 0, 1, 0, 1])
        try loss.backward()
        #expect(w.gradient?.shape == [2, 4])
        #expect(x.gradient == nil)
        let before = w.value
        try optimizer.step()
        #expect(w.value != before)
    }

    @Test("The Autograd guide's custom op passes a gradient check")
    func customOp() throws {
        let x = parameter([5], seed: 3)
        let results = try GradientCheck.check([x]) { inputs in
            let input = inputs[0], value = input.value
            return .operation(value.map { $0 * $0 * $0 }, inputs: [input]) { grad in
                try input.accumulateGradient(grad * value.map { 3 * $0 * $0 })
            }
        }
        #expect(results.allSatisfy { $0.relativeError < 1e-2 })
    }
}
