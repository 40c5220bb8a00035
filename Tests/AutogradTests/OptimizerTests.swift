import Foundation
import Testing
import Tensor
import Autograd

@Suite("Optimizers, clipping and schedules")
struct OptimizerTests {
    @Test("AdamW's first steps match the closed form, with decoupled weight decay")
    func adamWMatchesClosedForm() throws {
        let p = Variable(Tensor([1.0, -2.0]), requiresGradient: true)
        let optimizer = AdamW(parameters: [p], learningRate: 0.1, weightDecay: 0.5)
        // Step 1 with g = [0.5, -1]: m̂ = g, v̂ = g², update = sign(g)·|g|/(|g| + ε) ≈ ±1.
        try p.accumulateGradient(Tensor([0.5, -1]))
        try optimizer.step()
        let expected1: [Float] = [1.0 * (1 - 0.05) - 0.1 * 0.5 / (0.5 + 1e-8), -2.0 * (1 - 0.05) + 0.1]
        #expect(zip(p.value.scalars, expected1).allSatisfy { abs($0 - $1) < 1e-6 })
        optimizer.zeroGradients()
        #expect(p.gradient == nil)
        // Step 2 with g = [0.5, -1] again: bias-corrected moments are unchanged, so the same update.
        try p.accumulateGradient(Tensor([0.5, -1]))
        try optimizer.step()
        let expected2 = [expected1[0] * 0.95 - 0.1, expected1[1] * 0.95 + 0.1]
        #expect(zip(p.value.scalars, expected2).allSatisfy { abs($0 - $1) < 1e-5 })
    }

    @Test("A group's learning-rate multiplier scales its update")
    func groupMultiplier() throws {
        let a = Variable(Tensor([0]), requiresGradient: true)
        let b = Variable(Tensor([0]), requiresGradient: true)
        let optimizer = AdamW(groups: [ParameterGroup([a]), ParameterGroup([b], learningRateMultiplier: 0.1)], learningRate: 1)
        try a.accumulateGradient(Tensor([1]))
        try b.accumulateGradient(Tensor([1]))
        try optimizer.step()
        #expect(abs(a.value.scalars[0] + 1) < 1e-6 && abs(b.value.scalars[0] + 0.1) < 1e-6)
    }

    @Test("SGD with momentum follows b ← μb + g, p ← p − lr·b")
    func sgdMomentum() throws {
        let p = Variable(Tensor([1]), requiresGradient: true)
        let optimizer = SGD(groups: [ParameterGroup([p])], learningRate: 0.1, momentum: 0.9)
        for _ in 0..<2 {
            optimizer.zeroGradients()
            try p.accumulateGradient(Tensor([1]))
            try optimizer.step()
        }
        #expect(abs(p.value.scalars[0] - (1 - 0.1 - 0.19)) < 1e-6)
    }

    @Test("Global-norm clipping rescales all gradients together and reports the norm")
    func clipping() throws {
        let a = Variable(Tensor([3]), requiresGradient: true)
        let b = Variable(Tensor([4]), requiresGradient: true)
        try a.accumulateGradient(Tensor([3]))
        try b.accumulateGradient(Tensor([4]))
        let norm = GradientClipping.clipGlobalNorm([a, b], maxNorm: 1)
        #expect(abs(norm - 5) < 1e-6)
        #expect(abs((a.gradient?.scalars[0] ?? 0) - 0.6) < 1e-5 && abs((b.gradient?.scalars[0] ?? 0) - 0.8) < 1e-5)
    }

    @Test("Warm-up rises linearly to the peak, then linear and cosine decays reach the minimum")
    func schedules() {
        let linear = LearningRateSchedule(peak: 1, totalSteps: 10, warmupSteps: 2, decay: .linear)
        #expect(linear.learningRate(atStep: 0) == 0.5 && linear.learningRate(atStep: 1) == 1)
        #expect(linear.learningRate(atStep: 2) == 1 && linear.learningRate(atStep: 6) == 0.5)
        #expect(linear.learningRate(atStep: 10) == 0 && linear.learningRate(atStep: 50) == 0)
        let cosine = LearningRateSchedule(peak: 1, totalSteps: 4, decay: .cosine, minimum: 0.1)
        #expect(abs(cosine.learningRate(atStep: 2) - 0.55) < 1e-6 && abs(cosine.learningRate(atStep: 4) - 0.1) < 1e-6)
    }
}

@Suite("End-to-end training")
struct TrainingTests {
    @Test("A two-layer MLP trained with AdamW fits XOR-like quadrant labels")
    func mlpLearnsQuadrants() throws {
        var generator = SeededGenerator(seed: 2024)
        let inputs = try Tensor.uniform([64, 2], low: -1, high: 1, generator: &generator)
        let labels = (0..<64).map { i in (inputs.scalars[2 * i] > 0) == (inputs.scalars[2 * i + 1] > 0) ? 1 : 0 }
        let w1 = Variable(try Tensor.kaimingUniform([16, 2], generator: &generator), requiresGradient: true)
        let b1 = Variable(try Tensor.zeros([16]), requiresGradient: true)
        let w2 = Variable(try Tensor.kaimingUniform([2, 16], generator: &generator), requiresGradient: true)
        let b2 = Variable(try Tensor.zeros([2]), requiresGradient: true)
        let optimizer = AdamW(groups: [ParameterGroup([w1, w2], weightDecay: 0.01), ParameterGroup([b1, b2])], learningRate: 0.05)
        func loss() throws -> Variable {
            let hidden = try Variable.linear(Variable(inputs), weight: w1, bias: b1).gelu()
            return try Variable.crossEntropy(logits: Variable.linear(hidden, weight: w2, bias: b2), targets: labels)
        }
        let initial = try loss().value.scalars[0]
        for _ in 0..<300 {
            optimizer.zeroGradients()
            try loss().backward()
            try optimizer.step()
        }
        let final = try loss().value.scalars[0]
        #expect(initial > 0.6)
        #expect(final < 0.1, "loss went from \(initial) to \(final)")
    }
}
