import Testing
import Tensor
import Autograd

@Suite("The tape: what is recorded, what receives gradients")
struct TapeTests {
    @Test("Gradients accumulate over every use of a node")
    func accumulatesOverUses() throws {
        let x = Variable(Tensor([3]), requiresGradient: true)
        let y = try (x * x) + x  // dy/dx = 2x + 1 = 7
        try y.sum().backward()
        #expect(x.gradient?.scalars == [7])
    }

    @Test("A frozen weight receives no gradient while the input still does")
    func frozenWeightGetsNoGradient() throws {
        let x = parameter([2, 3], seed: 1)
        let frozen = Variable(try Tensor.ones([4, 3]))
        try Variable.linear(x, weight: frozen).sum().backward()
        #expect(frozen.gradient == nil)
        #expect(x.gradient?.scalars == Array(repeating: 4, count: 6))
    }

    @Test("Ops on constants only record nothing")
    func constantsRecordNothing() throws {
        let a = Variable(Tensor([1, 2]))
        let b = try a * a
        #expect(!b.requiresGradient && b.isLeaf)
    }

    @Test("Without-gradients mode records no graph even for parameters")
    func noGradientMode() throws {
        let w = parameter([3], seed: 2)
        let y = try GradientMode.withoutGradients { try (w * w).sum() }
        #expect(!y.requiresGradient)
        #expect(GradientMode.isEnabled)
    }

    @Test("A gradient of the wrong shape is rejected, naming the shapes")
    func wrongShapeGradientThrows() throws {
        let w = parameter([3], seed: 3)
        #expect(throws: TensorError.self) { try w.accumulateGradient(Tensor.zeros([2])) }
        #expect(throws: TensorError.self) { try (w * w).backward(seed: Tensor.zeros([4])) }
    }
}
