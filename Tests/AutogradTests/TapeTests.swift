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

    @Test("A packed frozen weight gives the unpacked layer's output and input gradient; changing it drops the packing")
    func packedWeight() throws {
        let frozen = Variable(randomValue([37, 29], seed: 2))
        let x = parameter([3, 5, 29], seed: 3)
        let y0 = try Variable.linear(x, weight: frozen)
        try (y0 * y0).sum().backward()
        let (plainOutput, plainGradient) = (y0.value, x.gradient!)
        x.zeroGradient()

        try frozen.packForLinear(inputGradient: true)
        #expect(frozen.packedWeight != nil || !PackedMatrix.isFast)
        let y1 = try Variable.linear(x, weight: frozen)
        try (y1 * y1).sum().backward()
        #expect(y1.shape == [3, 5, 37])
        #expect(maxAbsDifference(y1.value, plainOutput) < 1e-5)
        #expect(maxAbsDifference(x.gradient!, plainGradient) < 1e-4)
        #expect(frozen.gradient == nil)

        frozen.value = try frozen.value * Tensor(scalar: 2)
        #expect(frozen.packedWeight == nil, "a changed weight must not keep stale packed copies")
        try frozen.packForLinear(inputGradient: false)
        frozen.value.withUnsafeMutableBufferPointer { $0[0] += 1 }
        #expect(frozen.packedWeight == nil, "a weight changed in place must not keep stale packed copies")
        let trainable = parameter([4, 29], seed: 4)
        try trainable.packForLinear(inputGradient: true)
        #expect(trainable.packedWeight == nil, "only frozen weights are packed")
    }

    @Test("Updating a value in place (as optimizers do) does not copy its storage")
    func inPlaceUpdate() throws {
        let weight = parameter([64, 64], seed: 5)
        let address = { weight.value.withUnsafeBufferPointer { UInt(bitPattern: $0.baseAddress) } }
        let before = address()
        try weight.value.addScaled(Tensor.ones([64, 64]), by: 0.5)
        weight.value.withUnsafeMutableBufferPointer { $0[0] = 0 }
        #expect(address() == before)
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

private func randomValue(_ shape: [Int], seed: UInt64) -> Tensor {
    var generator = SeededGenerator(seed: seed)
    return try! Tensor.uniform(shape, low: -1, high: 1, generator: &generator)
}

private func maxAbsDifference(_ a: Tensor, _ b: Tensor) -> Float {
    guard a.shape == b.shape else { return .infinity }
    return zip(a.scalars, b.scalars).reduce(0) { max($0, abs($1.0 - $1.1)) }
}

@Suite("assemblingRows")
struct AssemblingRowsTests {
    @Test("places each part's rows right-aligned and leaves the rest zero")
    func placement() throws {
        let a = Variable(try Tensor(shape: [1, 2, 1], scalars: [1, 2]))
        let b = Variable(try Tensor(shape: [1, 1, 1], scalars: [7]))
        let joined = try Variable.assemblingRows([([1], a), ([2], b)], shape: [3, 2, 1])
        #expect(joined.value.scalars == [0, 0, 1, 2, 0, 7])
    }

    @Test("one part that is every row in order is returned as it is")
    func identity() throws {
        let a = Variable(try Tensor(shape: [2, 2], scalars: [1, 2, 3, 4]))
        #expect(try Variable.assemblingRows([([0, 1], a)], shape: [2, 2]) === a)
    }

    @Test("refuses overlapping rows, rows outside the batch and parts that do not fit")
    func refusals() throws {
        let a = Variable(try Tensor.zeros([1, 2, 3]))
        #expect(throws: TensorError.self) { try Variable.assemblingRows([([0], a), ([0], a)], shape: [2, 2, 3]) }
        #expect(throws: TensorError.self) { try Variable.assemblingRows([([5], a)], shape: [2, 2, 3]) }
        #expect(throws: TensorError.self) { try Variable.assemblingRows([([0], a)], shape: [2, 1, 3]) }
        #expect(throws: TensorError.self) { try Variable.assemblingRows([([0], a)], shape: [2, 2, 4]) }
        #expect(throws: TensorError.self) { try Variable.assemblingRows([([0, 1], a)], shape: [2, 2, 3]) }
    }
}
