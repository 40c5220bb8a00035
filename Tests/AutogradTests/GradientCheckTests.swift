import Testing
import Tensor
import Autograd

/// A leaf with a deterministic random value.
func parameter(_ shape: [Int], seed: UInt64, scale: Float = 1, offset: Float = 0) -> Variable {
    var generator = SeededGenerator(seed: seed)
    let value = try! Tensor.uniform(shape, low: offset - scale, high: offset + scale, generator: &generator)
    return Variable(value, requiresGradient: true)
}

/// One differentiable op under test: its inputs and how to build its output from them.
struct GradientCase: CustomTestStringConvertible, Sendable {
    let name: String
    let build: @Sendable () -> ([Variable], ([Variable]) throws -> Variable)
    var testDescription: String { name }
}

let rotary = try! RotaryEmbedding(headDimension: 4, theta: 10_000)

let gradientCases: [GradientCase] = [
    GradientCase(name: "add (broadcast)") { ([parameter([3, 4], seed: 1), parameter([4], seed: 2)], { try $0[0] + $0[1] }) },
    GradientCase(name: "subtract (broadcast)") { ([parameter([2, 3], seed: 1), parameter([2, 1], seed: 2)], { try $0[0] - $0[1] }) },
    GradientCase(name: "multiply (broadcast)") { ([parameter([3, 4], seed: 3), parameter([1, 4], seed: 4)], { try $0[0] * $0[1] }) },
    GradientCase(name: "divide") { ([parameter([3, 4], seed: 5), parameter([3, 4], seed: 6, scale: 0.5, offset: 2)], { try $0[0] / $0[1] }) },
    GradientCase(name: "scale") { ([parameter([5], seed: 7)], { $0[0] * 2.5 }) },
    GradientCase(name: "sum") { ([parameter([2, 3], seed: 8)], { $0[0].sum() }) },
    GradientCase(name: "mean") { ([parameter([2, 3], seed: 9)], { $0[0].mean() }) },
    GradientCase(name: "sum along axis") { ([parameter([2, 3, 4], seed: 10)], { try $0[0].sum(alongAxis: 1) }) },
    GradientCase(name: "reshape") { ([parameter([2, 6], seed: 11)], { try $0[0].reshaped([3, 4]) * $0[0].reshaped([3, 4]) }) },
    GradientCase(name: "relu") { ([Variable(Tensor([-1.5, -0.3, 0.4, 2]), requiresGradient: true)], { $0[0].relu() }) },
    GradientCase(name: "gelu") { ([parameter([6], seed: 12, scale: 3)], { $0[0].gelu() }) },
    GradientCase(name: "silu") { ([parameter([6], seed: 13, scale: 3)], { $0[0].silu() }) },
    GradientCase(name: "tanh") { ([parameter([6], seed: 14, scale: 2)], { $0[0].tanh() }) },
    GradientCase(name: "exp") { ([parameter([6], seed: 15)], { $0[0].exp() }) },
    GradientCase(name: "log") { ([parameter([6], seed: 16, scale: 0.5, offset: 2)], { $0[0].log() }) },
    GradientCase(name: "squared") { ([parameter([6], seed: 17)], { $0[0].squared() }) },
    GradientCase(name: "abs") { ([Variable(Tensor([-1.5, -0.3, 0.4, 2]), requiresGradient: true)], { $0[0].abs() }) },
    GradientCase(name: "matmul") { ([parameter([3, 4], seed: 18), parameter([4, 5], seed: 19)], { try Variable.matmul($0[0], $0[1]) }) },
    GradientCase(name: "matmul transposed A and B") {
        ([parameter([4, 3], seed: 20), parameter([5, 4], seed: 21)], { try Variable.matmul($0[0], $0[1], transposeA: true, transposeB: true) })
    },
    GradientCase(name: "matmul folded batch") { ([parameter([2, 3, 4], seed: 22), parameter([4, 2], seed: 23)], { try Variable.matmul($0[0], $0[1]) }) },
    GradientCase(name: "matmul batched") { ([parameter([2, 3, 4], seed: 24), parameter([2, 4, 2], seed: 25)], { try Variable.matmul($0[0], $0[1]) }) },
    GradientCase(name: "linear with bias") {
        ([parameter([2, 3, 4], seed: 26), parameter([5, 4], seed: 27), parameter([5], seed: 28)],
         { try Variable.linear($0[0], weight: $0[1], bias: $0[2]) })
    },
    GradientCase(name: "rmsNorm") {
        ([parameter([3, 6], seed: 29, scale: 2), parameter([6], seed: 30, offset: 1)], { try Variable.rmsNorm($0[0], weight: $0[1], epsilon: 1e-5) })
    },
    GradientCase(name: "swiGLU") { ([parameter([3, 5], seed: 31, scale: 2), parameter([3, 5], seed: 32)], { try Variable.swiGLU(gate: $0[0], up: $0[1]) }) },
    GradientCase(name: "rope") { ([parameter([2, 3, 2, 4], seed: 33)], { try Variable.rope($0[0], rotary: rotary, positions: [0, 1, 2, 5, 6, 7]) }) },
    GradientCase(name: "softmax") { ([parameter([3, 5], seed: 34, scale: 2)], { try $0[0].softmax() }) },
    GradientCase(name: "logSoftmax") { ([parameter([3, 5], seed: 35, scale: 2)], { try $0[0].logSoftmax() }) },
    GradientCase(name: "permute") { ([parameter([2, 3, 4], seed: 36)], { try $0[0].permuted([1, 2, 0]) * $0[0].permuted([1, 2, 0]) }) },
    GradientCase(name: "concatenate") { ([parameter([2, 3], seed: 37), parameter([2, 2], seed: 38)], { try Variable.concatenate($0, alongAxis: 1).squared() }) },
    GradientCase(name: "slice") { ([parameter([4, 3], seed: 39)], { try $0[0].slice(alongAxis: 0, 1..<3).squared() }) },
    GradientCase(name: "selectRows") { ([parameter([4, 2, 3], seed: 48)], { try $0[0].selectRows([3, 0, 3]).squared() }) },
    GradientCase(name: "scatterRows") { ([parameter([2, 2, 3], seed: 49)], { try $0[0].scatterRows([3, 1], count: 4).squared() }) },
    GradientCase(name: "assemblingRows: two parts, one right-aligned and shorter, a row left empty") {
        ([parameter([2, 3, 2], seed: 51), parameter([1, 1, 2], seed: 52)], {
            try Variable.assemblingRows([([3, 0], $0[0]), ([1], $0[1])], shape: [4, 3, 2]).squared()
        })
    },
    GradientCase(name: "dropout") {
        ([parameter([4, 5], seed: 50)], { inputs in
            var generator = SeededGenerator(seed: 9)  // the same mask on every evaluation
            return try inputs[0].dropout(probability: 0.3, generator: &generator)
        })
    },
    GradientCase(name: "embedding") { ([parameter([5, 3], seed: 40)], { try Variable.embedding($0[0], ids: [4, 1, 4, 0]).squared() }) },
    GradientCase(name: "attention: grouped heads, prefix, padding, causal") {
        ([parameter([2, 3, 4, 4], seed: 41), parameter([2, 5, 2, 4], seed: 42), parameter([2, 5, 2, 4], seed: 43)],
         { try Variable.attention(query: $0[0], key: $0[1], value: $0[2],
                                  keyMask: [true, true, true, true, true, true, true, false, true, true]) })
    },
    GradientCase(name: "attention: causal over 40 queries (query blocks), prefix, padding") {
        ([parameter([1, 40, 2, 4], seed: 51), parameter([1, 42, 1, 4], seed: 52), parameter([1, 42, 1, 4], seed: 53)],
         { try Variable.attention(query: $0[0], key: $0[1], value: $0[2],
                                  keyMask: (0..<42).map { $0 != 20 }) })
    },
    GradientCase(name: "attention: no mask, not causal") {
        ([parameter([1, 4, 2, 4], seed: 44), parameter([1, 4, 2, 4], seed: 45), parameter([1, 4, 2, 4], seed: 46)],
         { try Variable.attention(query: $0[0], key: $0[1], value: $0[2], keyMask: nil, causal: false) })
    },
    GradientCase(name: "cross-entropy with ignored rows") {
        ([parameter([4, 6], seed: 47, scale: 2)], { try Variable.crossEntropy(logits: $0[0], targets: [1, CrossEntropy.ignoredTarget, 5, 0]) })
    },
]

@Suite("Gradient checks: analytic backward against central differences")
struct GradientCheckTests {
    @Test("Every differentiable op's gradient matches finite differences", arguments: gradientCases)
    func gradientMatches(_ testCase: GradientCase) throws {
        let (inputs, function) = testCase.build()
        let results = try GradientCheck.check(inputs, epsilon: 1e-2, function)
        #expect(results.count == inputs.count)
        for result in results {
            print("gradient check \(testCase.name): \(result)")
            #expect(result.relativeError < 1e-2, "\(testCase.name), \(result)")
        }
    }
}
