import ArgumentParser
import Autograd
import Tensor
import Transformer

/// `peft bench forward`: inference throughput of the full forward pass (all logits, no gradients).
struct ForwardBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "forward",
        abstract: "Tokens/s of a no-gradient forward pass over [batch, seq] tokens (logits at every position).")

    @OptionGroup var modelOptions: BenchModelOptions

    @Option(help: "Timed repetitions (after two warm-up passes).")
    var steps = 8

    @Flag(help: "Print one JSON object instead of text.")
    var json = false

    func run() throws {
        guard steps > 0 else { throw ValidationError("--steps must be positive") }
        let model = try modelOptions.load(default: .small)
        let (rows, sequence) = modelOptions.batch(default: .small)
        let label = modelOptions.label(default: .small)
        let batch = try BenchShape.randomBatch(rows: rows, sequence: sequence, vocabularySize: model.config.vocabSize)
        var times: [Double] = []
        for step in 0..<(steps + 2) {
            let time = try Timing.seconds { _ = try GradientMode.withoutGradients { try model(batch) } }
            if step >= 2 { times.append(time) }
        }
        let seconds = Timing.median(times)
        let tokensPerSecond = Double(rows * sequence) / seconds
        if json {
            struct Output: Encodable {
                let impl = "swift-peft", bench = "forward"
                let config: String, batch: Int, seq: Int, stepS: Double, tokensPerS: Double
            }
            try JSONOutput.printLine(Output(
                config: label, batch: rows, seq: sequence, stepS: Timing.rounded(seconds, places: 4),
                tokensPerS: Timing.rounded(tokensPerSecond)))
        } else {
            print("forward \(label): batch \(rows) × seq \(sequence), median \(String(Int(seconds * 1000))) ms, \(Int(tokensPerSecond)) tokens/s (BLAS: \(BLAS.configuration))")
        }
    }
}
