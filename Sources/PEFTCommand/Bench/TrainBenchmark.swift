import ArgumentParser
import Autograd
import Foundation
import PEFT
import Tensor
import Transformer

/// `peft bench train`: one training step (forward, backward, AdamW) as the PyTorch + PEFT anchor
/// measures it: a random model of the config's shape, random tokens `[batch, seq]`, next-token
/// cross-entropy over every position (targets are the tokens shifted by one, as `labels=x` in
/// transformers), and `tokens/s = batch · seq / median step time`.
struct TrainBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Tokens/s of a training step (forward, backward, AdamW) per method, as Benchmarks/torch_train.py measures PyTorch + PEFT.")

    @OptionGroup var modelOptions: BenchModelOptions

    @Option(help: "Method: full (every weight trainable) or an adapter method (\(AdapterMethodOptions.registry.methodNames.joined(separator: ", "))).")
    var method = "lora"

    @Option(name: .customLong("set"), help: ArgumentHelp(
        "A setting of the adapter's configuration as KEY=VALUE (see peft train --set; repeatable).", valueName: "key=value"))
    var settings: [String] = []

    @Option(help: "Timed steps (after two warm-up steps).")
    var steps = 8

    @Option(help: ArgumentHelp(
        "Rows per forward and backward pass: the step's rows in micro-batches of this many, gradients added (peft train's --batch-size with --gradient-accumulation; default: the whole batch at once).",
        valueName: "rows"))
    var microBatch: Int?

    @Flag(help: "Print one JSON object instead of text.")
    var json = false

    @Flag(inversion: .prefixedNo, help: "Pack the frozen weights for both of the step's products (two more copies; training does not by default, --no-pack runs them through BLAS as it does).")
    var pack = false

    @Flag(help: "Pack the frozen weights for the forward product only (one more copy).")
    var packForwardOnly = false

    @Flag(help: "Keep only each layer's input and recompute the layer in the backward pass (less memory, slower).")
    var recomputeActivations = false

    @Flag(help: "The memory-lean setting of peft train --lean: --recompute-activations.")
    var lean = false

    @Flag(inversion: .prefixedNo, help: "Attention's products against operands packed once per head (--no-pack-attention runs them through BLAS).")
    var packAttention = true

    @Flag(inversion: .prefixedNo, help: "Measure the sgemm reference rate (--no-peak leaves it out, e.g. when profiling the steps).")
    var peak = true

    func validate() throws {
        guard steps > 0 else { throw ValidationError("--steps must be positive") }
        if let microBatch, microBatch < 1 { throw ValidationError("--micro-batch must be at least 1 row") }
        try validateBenchMethod(method, settings: settings, baseline: "full")
    }

    func run() throws {
        let model = try modelOptions.load(default: .small, trainable: method == "full")
        let modelConfig = model.config
        let (rows, sequence) = modelOptions.batch(default: .small)
        let label = modelOptions.label(default: .small)
        let adapter = try makeAdapter(for: model)
        adapter?.isTraining = true
        let recompute = recomputeActivations || lean
        if pack || packForwardOnly { try model.packFrozenWeights(inputGradient: !packForwardOnly) }
        Attention.packsOperandsWhereFast = packAttention
        let groups = adapter?.parameterGroups(weightDecay: 0)
            ?? [ParameterGroup(model.namedParameters.map(\.variable), weightDecay: 0)]
        let optimizer = AdamW(groups: groups, learningRate: 1e-3)
        let trainable = groups.reduce(0) { $0 + $1.parameters.reduce(0) { $0 + $1.value.count } }

        let batch = try BenchShape.randomBatch(rows: rows, sequence: sequence, vocabularySize: modelConfig.vocabSize)
        // Position t predicts token t + 1; the last position of each row has no target.
        let targets = (0..<(rows * sequence)).map { $0 % sequence == sequence - 1 ? CrossEntropy.ignoredTarget : batch.tokens[$0 + 1] }
        // Micro-batches of whole rows; each one's mean loss is back-propagated weighted by its share
        // of the step's targets, so the gradients add up to the whole batch's.
        let rowsPerPass = min(microBatch ?? rows, rows)
        let passes = try stride(from: 0, to: rows, by: rowsPerPass).map { first -> (TokenBatch, [Int], Float) in
            let last = min(first + rowsPerPass, rows)
            let tokens = (first..<last).map { Array(batch.tokens[$0 * sequence..<($0 + 1) * sequence]) }
            let share = Float(last - first) / Float(rows)
            return (try TokenBatch(rows: tokens), Array(targets[first * sequence..<last * sequence]), share)
        }

        // The sgemm rate is measured before and after the steps and the higher one kept, so that
        // another process busy during one of the two does not set the reference.
        let peakBefore = peak ? SGEMMPeak.measure() : (gflopsPerSecond: Double.nan, shape: "not measured")
        var times: [Double] = []
        var loss: Float = 0
        for step in 0..<(steps + 2) {
            let time = try Timing.seconds {
                var total: Float = 0
                for (passBatch, passTargets, share) in passes {
                    let lossNode = try model.loss(passBatch, adapter: adapter, targets: passTargets, recomputingLayers: recompute)
                    try lossNode.backward(seed: Tensor(scalar: share))
                    total += (lossNode.value.scalar ?? .nan) * share
                }
                try optimizer.step()
                optimizer.zeroGradients()
                loss = total
            }
            if step >= 2 { times.append(time) }
        }
        let seconds = Timing.median(times)
        let tokensPerSecond = Double(rows * sequence) / seconds
        let work = TrainingWork(config: modelConfig, adapter: adapter, rows: rows, sequence: sequence)
        let achieved = work.flops / seconds / 1e9
        let peakAfter = peak ? SGEMMPeak.measure() : peakBefore
        let reference = peakAfter.gflopsPerSecond >= peakBefore.gflopsPerSecond ? peakAfter : peakBefore
        let share = achieved / reference.gflopsPerSecond
        let load = Timing.loadAverage
        if json {
            try JSONOutput.printLine(TrainOutput(
                config: label, method: method, trainable: trainable, batch: rows, seq: sequence,
                stepS: Timing.rounded(seconds, places: 4), tokensPerS: Timing.rounded(tokensPerSecond, places: 1),
                gflops: Timing.rounded(work.flops / 1e9), gflopsPerS: Timing.rounded(achieved, places: 1),
                sgemmPeakGflopsPerS: FiniteOrNull(Timing.rounded(reference.gflopsPerSecond, places: 1)),
                peakShare: FiniteOrNull(Timing.rounded(share, places: 3)), loss: FiniteOrNull(Timing.rounded(Double(loss), places: 4)),
                blasCore: BLAS.coreName, blasThreads: BLAS.threadCount, workers: Parallel.workerCount,
                peakRssMb: Timing.rounded(ServeBenchmark.peakResidentMegabytes()), recompute: recompute,
                microBatch: rowsPerPass, packing: packingLabel, loadAverage: load))
        } else {
            print("train \(label) \(summary): batch \(rows) × seq \(sequence)\(rowsPerPass < rows ? " in micro-batches of \(rowsPerPass) rows" : ""), \(trainable) trainable, frozen weights packed: \(packingLabel)")
            print("  median step \(String(format: "%.1f", seconds * 1000)) ms over \(steps) steps, \(Int(tokensPerSecond)) tokens/s, loss \(String(format: "%.4f", loss)), peak RSS \(Int(ServeBenchmark.peakResidentMegabytes())) MB\(recompute ? " (activations recomputed)" : "")")
            print("  \(String(format: "%.2f", work.flops / 1e9)) GFLOP per step (\(work.formula)): \(String(format: "%.1f", achieved)) GFLOP/s, \(String(format: "%.0f", share * 100)) % of the sgemm peak measured now (\(String(format: "%.1f", reference.gflopsPerSecond)) GFLOP/s, \(reference.shape))")
            print("  OpenBLAS core \(BLAS.coreName), \(BLAS.threadCount) thread per call, products split over \(Parallel.workerCount) workers; OPENBLAS_CORETYPE=\(ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"] ?? "(unset)"); load average \(load)")
        }
    }

    /// The packed copies of the frozen weights, as printed.
    private var packingLabel: String {
        guard pack || packForwardOnly, PackedMatrix.isFast else { return "none" }
        return packForwardOnly ? "forward" : "forward and backward"
    }

    /// The adapter timed (`nil` for full fine-tuning): the method's defaults, which are the
    /// anchor's, with the `--set` settings over them.
    private func makeAdapter(for model: LlamaModel) throws -> (any Adapter)? {
        guard method != "full" else { return nil }
        return try AdapterMethodOptions.registry.makeAdapter(method: method, for: model, settings: settingsData(parseSettings(settings)))
    }

    /// The method as printed beside the figures.
    private var summary: String {
        guard let adapterMethod = AdapterMethodOptions.registry.method(named: method) else { return "full (every weight trainable)" }
        return "\(method) (\(adapterMethod.summary)\(settings.isEmpty ? "" : "; " + settings.joined(separator: ", ")))"
    }
}

/// One line of `peft bench train --json`.
private struct TrainOutput: Encodable {
    let impl = "swift-peft"
    let config: String, method: String
    let trainable: Int, batch: Int, seq: Int
    let stepS: Double, tokensPerS: Double, gflops: Double, gflopsPerS: Double
    let sgemmPeakGflopsPerS: FiniteOrNull<Double>, peakShare: FiniteOrNull<Double>, loss: FiniteOrNull<Double>
    let blasCore: String, blasThreads: Int, workers: Int
    let peakRssMb: Double, recompute: Bool, microBatch: Int, packing: String, loadAverage: Double
}

/// The estimated floating-point work of one training step, counting the matrix products only
/// (element-wise kernels are a rounding error next to them).
///
/// With `S` the sequence slots per row (tokens plus prompt tuning's virtual tokens) and
/// `rows · S` projected positions per layer:
/// - `linear = Σ_layers 2 · rows · S · (in · out summed over q, k, v, o, gate, up, down) + 2 · rows · seq · hidden · vocab`
///   (the LM head sees the real tokens only);
/// - `attention = Σ_layers 4 · rows · heads · headDim · pairs` (scores and weighted values), with
///   `pairs = S · P + S · (S + 1) / 2` the (query, key) pairs causal attention needs per row (`P`
///   layer-prefix keys seen by every query): the useful work, about half of the `S × K` square
///   (the kernel computes about 5/8 of the square, skipping whole hidden blocks);
/// - a step is `forward + input-backward (+ weight-backward)`: `2 · linear + 3 · attention` for the
///   frozen-backbone methods (attention's backward is four products to its forward's two), plus
///   `linear` more for `full` (the weight gradients: `6 · params · tokens` in all); LoRA adds
///   `6 · rows · S · r · (in + out)` per adapted projection. The virtual tokens' key/value
///   projections and IAPT's generator (under 1 % of the step) are not counted.
struct TrainingWork {
    let flops: Double
    let formula: String

    init(config c: LlamaConfig, adapter: (any Adapter)?, rows: Int, sequence: Int) {
        let inputPrefix = adapter?.inputPrefixLength ?? 0
        let layerPrefix = adapter?.layerPrefixLength ?? 0
        let slots = Double(rows * (sequence + inputPrefix))
        let perRow = Double(sequence + inputPrefix)
        let pairs = perRow * Double(layerPrefix) + perRow * (perRow + 1) / 2
        let (d, f) = (Double(c.hiddenSize), Double(c.intermediateSize))
        let (q, kv) = (Double(c.numAttentionHeads * c.headDim), Double(c.numKeyValueHeads * c.headDim))
        let layers = Double(c.numHiddenLayers)
        let projectionWeights = d * q + 2 * d * kv + q * d + 3 * d * f
        let linear = layers * 2 * slots * projectionWeights + 2 * Double(rows * sequence) * d * Double(c.vocabSize)
        let attention = layers * 4 * Double(rows) * pairs * q
        var total = 2 * linear + 3 * attention
        if adapter == nil {
            total += linear
            formula = "6·params·tokens + 3 × causal attention"
        } else if let lora = adapter as? LoRAAdapter {
            total += 6 * slots * Double(lora.trainableParameterCount)
            formula = "4·params·tokens + 3 × causal attention + LoRA's factors"
        } else {
            formula = "4·params·tokens + 3 × causal attention"
        }
        flops = total
    }
}

/// The machine's single-precision GEMM rate measured in the benchmark's own process and sitting:
/// square `n = 1024` products through `Tensor.matmul` (split across the workers as every product
/// of the step is), median of repeated runs.
enum SGEMMPeak {
    static func measure(n: Int = 1024, seconds: Double = 0.4) -> (gflopsPerSecond: Double, shape: String) {
        var generator = SeededGenerator(seed: 7)
        guard let a = try? Tensor.uniform([n, n], low: -1, high: 1, generator: &generator),
              let b = try? Tensor.uniform([n, n], low: -1, high: 1, generator: &generator) else { return (.nan, "") }
        var times: [Double] = []
        let deadline = Date().addingTimeInterval(seconds)
        repeat {
            times.append(Timing.seconds { _ = try? Tensor.matmul(a, b) })
        } while Date() < deadline || times.count < 5
        return (2 * Double(n * n * n) / Timing.median(times) / 1e9, "square n = \(n), median of \(times.count), the better of before and after the steps")
    }
}
