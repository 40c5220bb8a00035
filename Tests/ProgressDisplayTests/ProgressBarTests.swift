import PEFT
import ProgressDisplay
import Testing

@Suite("Progress bar")
struct ProgressBarTests {
    func progress(step: Int, elapsed: Double, evalLoss: Float? = nil) -> TrainingProgress {
        TrainingProgress(
            step: step, totalSteps: 10, epoch: 1, epochs: 2, loss: 1.23456, stepLoss: 1.2, learningRate: 1e-4,
            gradientNorm: 0.5, tokensPerSecond: 2104.4, elapsedSeconds: elapsed, etaSeconds: 192, evalLoss: evalLoss)
    }

    @Test("The line shows step/total, bar, percentage, epoch, loss, learning rate, tokens/s and ETA")
    func line() {
        let bar = ProgressBar(width: 10, isTerminal: false) { _ in }
        #expect(bar.line(for: progress(step: 3, elapsed: 1))
                == "step 3/10 [###.......]  30% epoch 1/2 loss 1.2346 lr 1.0e-04 2104 tok/s ETA 3m12s")
        #expect(ProgressBar.duration(3725) == "1h02m05s" && ProgressBar.duration(5) == "5s" && ProgressBar.duration(.nan) == "?")
    }

    @Test("On a terminal the line is redrawn in place; otherwise plain lines come at intervals, evaluations on their own line")
    func terminalAndPlain() {
        var terminal: [String] = []
        let redrawn = ProgressBar(width: 4, isTerminal: true, minimumInterval: 0.5) { terminal.append($0) }
        for (step, elapsed) in [(1, 0.0), (2, 0.1), (3, 0.7)] { redrawn.update(progress(step: step, elapsed: elapsed)) }
        redrawn.update(progress(step: 4, elapsed: 0.8, evalLoss: 2.5))
        redrawn.finish()
        // Step 2 comes too soon after step 1; the evaluation ends the bar's line and gets its own.
        #expect(terminal.map { $0.prefix(11) } == ["\rstep 1/10 ", "\rstep 3/10 ", "\rstep 4/10 ", "\n", "step 4: dev"])
        #expect(terminal[4] == "step 4: dev loss 2.5000\n")

        var plain: [String] = []
        let logged = ProgressBar(width: 4, isTerminal: false, plainLineInterval: 10) { plain.append($0) }
        for step in 1...10 { logged.update(progress(step: step, elapsed: Double(step) * 3)) }
        logged.finish()
        #expect(plain.map { $0.split(separator: " ")[1] } == ["1/10", "5/10", "9/10", "10/10"])
        #expect(plain.allSatisfy { $0.hasSuffix("\n") && !$0.contains("\r") })
    }
}
