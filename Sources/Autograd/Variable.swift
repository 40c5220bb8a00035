import Tensor

/// A node of the reverse-mode computation graph: a value, the gradient that reaches it, and how to
/// pass gradients on to the nodes it was computed from.
///
/// Leaves are created with ``init(_:requiresGradient:name:)``: trainable parameters
/// (`requiresGradient: true`) and constants or frozen weights (`false`). Every op returns a new
/// node whose backward closure sits next to its forward code (see `Ops/`). A node records a
/// backward closure only when gradients are enabled (``GradientMode``) and at least one input needs
/// a gradient, so a frozen backbone costs no gradient bookkeeping, and an op never computes the
/// gradient of an input that does not need one.
///
/// Graphs are single-use: ``backward(seed:)`` releases each node's closure (and the tensors it saved)
/// as soon as it has run. `Variable` is not thread-safe; build and differentiate a graph on one thread.
public final class Variable {
    /// The value computed in the forward pass. Optimizers update leaves' values in place. Setting
    /// or mutating it drops ``packedWeight``.
    public var value: Tensor {
        get { storedValue }
        set {
            storedValue = newValue
            packedWeight = nil
        }
        // In place (an optimizer's update): a `didSet` observer would mutate a copy, so every
        // update would copy the whole tensor.
        _modify {
            packedWeight = nil
            yield &storedValue
        }
    }
    private var storedValue: Tensor
    /// Packed copies of this weight for ``linear(_:weight:bias:)``'s products, made by
    /// ``packForLinear(inputGradient:)``; `nil` until then and after ``value`` changes.
    public internal(set) var packedWeight: PackedWeight?
    /// The gradient of the loss with respect to ``value``, after ``backward(seed:)``; kept on leaves
    /// (parameters) only, and `nil` where no gradient flowed.
    public internal(set) var gradient: Tensor?
    /// Whether gradients flow to this node.
    public let requiresGradient: Bool
    /// An optional name (a checkpoint key for parameters).
    public var name: String?

    private let inputs: [Variable]
    private var backwardFunction: ((Tensor) throws -> Void)?

    /// A leaf: a parameter when `requiresGradient` is `true`, a constant otherwise.
    public init(_ value: Tensor, requiresGradient: Bool = false, name: String? = nil) {
        self.storedValue = value
        self.requiresGradient = requiresGradient
        self.name = name
        self.inputs = []
        self.backwardFunction = nil
    }

    init(value: Tensor, inputs: [Variable], backward: @escaping (Tensor) throws -> Void) {
        self.storedValue = value
        self.requiresGradient = true
        self.name = nil
        self.inputs = inputs
        self.backwardFunction = backward
    }

    /// The result of a custom op: `value`, computed from `inputs`, with `backward` receiving the
    /// gradient of the loss with respect to `value` (same shape) and calling
    /// ``accumulateGradient(_:)`` on each input that ``requiresGradient``.
    ///
    /// This is how ops are defined, here and in other modules (a new adapter's fused kernel, for
    /// instance). When gradients are disabled, or no input requires one, the result is a constant
    /// and `backward` is dropped.
    public static func operation(
        _ value: Tensor, inputs: [Variable], backward: @escaping (Tensor) throws -> Void
    ) -> Variable {
        guard GradientMode.isEnabled, inputs.contains(where: \.requiresGradient) else {
            return Variable(value)
        }
        return Variable(value: value, inputs: inputs, backward: backward)
    }

    /// The shape of ``value``.
    public var shape: [Int] { value.shape }

    /// Whether this node is a leaf (a parameter or a constant), not an op's result.
    public var isLeaf: Bool { inputs.isEmpty }

    /// Adds `contribution` to ``gradient`` (called by ops' backward closures).
    /// - Throws: ``TensorError/shapeMismatch(_:_:)`` if `contribution` is not shaped like ``value``.
    public func accumulateGradient(_ contribution: Tensor) throws {
        guard contribution.shape == value.shape else {
            throw TensorError.shapeMismatch(
                "accumulateGradient", "gradient \(contribution.shape) for value \(value.shape)\(name.map { " (\($0))" } ?? "")")
        }
        guard var existing = gradient else {
            gradient = contribution
            return
        }
        gradient = nil
        try existing.addScaled(contribution)
        gradient = existing
    }

    /// Adds `op(a) · op(b)` (shapes as in ``Tensor/addMatmul(_:_:transposeA:transposeB:)``, holding
    /// as many elements as ``value``) to ``gradient``. When a gradient is already there, the product
    /// is accumulated into it by one GEMM, with no temporary and no separate addition.
    /// - Throws: ``TensorError/shapeMismatch(_:_:)`` if the product does not fit ``value``.
    public func accumulateGradient(product a: Tensor, _ b: Tensor, transposeA: Bool = false, transposeB: Bool = false) throws {
        guard var existing = gradient else {
            try accumulateGradient(Tensor.matmul(a, b, transposeA: transposeA, transposeB: transposeB).reshaped(value.shape))
            return
        }
        gradient = nil
        defer { gradient = existing }
        try existing.addMatmul(a, b, transposeA: transposeA, transposeB: transposeB)
    }

    /// Adds `a · b` (`a: [..., b.k]`, as many elements as ``value`` once multiplied) to ``gradient``,
    /// with a packed `b`, accumulating into an existing gradient as the unpacked form does.
    /// - Throws: ``TensorError/shapeMismatch(_:_:)`` if the product does not fit ``value``.
    public func accumulateGradient(product a: Tensor, _ b: PackedMatrix) throws {
        guard var existing = gradient else {
            try accumulateGradient(Tensor.matmul(a, b).reshaped(value.shape))
            return
        }
        gradient = nil
        defer { gradient = existing }
        try existing.addMatmul(a, b)
    }

    /// Clears ``gradient`` (optimizers call this between steps).
    public func zeroGradient() { gradient = nil }

    /// Back-propagates from this node: seeds its gradient with `seed` (default: ones, the usual
    /// choice for a scalar loss) and runs every recorded backward closure in reverse topological
    /// order. Leaves keep their accumulated gradients; intermediate gradients and saved tensors are
    /// released as soon as they have been used.
    /// - Throws: ``TensorError`` if `seed` is not shaped like ``value``, or an op's backward fails.
    public func backward(seed: Tensor? = nil) throws {
        guard requiresGradient else { return }
        let start = try seed ?? Tensor(repeating: 1, shape: value.shape)
        let order = topologicalOrder()
        try accumulateGradient(start)
        for node in order.reversed() {
            guard let function = node.backwardFunction else { continue }
            node.backwardFunction = nil
            guard let outputGradient = node.gradient else { continue }
            node.gradient = nil
            try function(outputGradient)
        }
    }

    /// Nodes reachable from `self` through recorded ops, each after all of its inputs.
    private func topologicalOrder() -> [Variable] {
        var order: [Variable] = []
        var visited = Set<ObjectIdentifier>()
        var stack: [(node: Variable, expanded: Bool)] = [(self, false)]
        while let (node, expanded) = stack.popLast() {
            if expanded {
                order.append(node)
                continue
            }
            guard node.backwardFunction != nil,
                  visited.insert(ObjectIdentifier(node)).inserted else { continue }
            stack.append((node, true))
            for input in node.inputs where input.backwardFunction != nil {
                stack.append((input, false))
            }
        }
        return order
    }
}

/// Whether ops record backward closures. Disable it for inference and evaluation:
///
///     let logits = try GradientMode.withoutGradients { try model(tokens) }
///
/// The setting is task-local (and thread-local outside tasks), so concurrent inference on other
/// tasks does not affect training on this one.
public enum GradientMode {
    /// `true` unless inside ``withoutGradients(_:)``.
    @TaskLocal public static var isEnabled = true

    /// Runs `body` with gradient recording off.
    public static func withoutGradients<Result>(_ body: () throws -> Result) rethrows -> Result {
        try $isEnabled.withValue(false) { try body() }
    }
}
