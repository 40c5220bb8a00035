import Foundation
import FuzzSupport

/// `peft-fuzz`: the fuzzing harness's command line (see Documentation/Fuzzing.md).
///
///     peft-fuzz list
///     peft-fuzz run [--target NAME|all] [--inputs 10000] [--seed N] [--time-limit SECONDS]
///                   [--corpus Fuzz/corpus] [--memory-limit-mb 4096] [--hang-seconds 2] [--backtraces]
///     peft-fuzz replay --target NAME [--seed-name SEED] FILE…
///     peft-fuzz input --target NAME [--seed N] --index I --output FILE   (writes one input, to replay it)
///     peft-fuzz make-corpus [--corpus Fuzz/corpus]
///     peft-fuzz self-test           (checks that a crash, a hang and an allocation bomb are caught)
///     peft-fuzz worker …            (started by `run`, one per target and crash)
let usage = """
    usage: peft-fuzz list
           peft-fuzz run [--target NAME|all] [--inputs 10000] [--seed N] [--time-limit SECONDS]
                         [--corpus Fuzz/corpus] [--memory-limit-mb 4096] [--hang-seconds 2] [--backtraces]
           peft-fuzz replay --target NAME [--seed-name SEED] [--corpus Fuzz/corpus] FILE...
           peft-fuzz input --target NAME [--seed N] --index I --output FILE
           peft-fuzz make-corpus [--corpus Fuzz/corpus]
           peft-fuzz self-test
    """

/// The options after the subcommand: `--name value` pairs, bare flags, and other arguments.
struct Options {
    private var values: [String: String] = [:]
    private(set) var flags: Set<String> = []
    private(set) var positional: [String] = []
    static let flagNames: Set<String> = ["--backtraces"]

    init(_ arguments: ArraySlice<String>) throws {
        var rest = arguments[...]
        while let argument = rest.popFirst() {
            if Self.flagNames.contains(argument) {
                flags.insert(argument)
            } else if argument.hasPrefix("--") {
                guard let value = rest.popFirst() else { throw FuzzError.usage("\(argument) needs a value\n\(usage)") }
                values[argument] = value
            } else {
                positional.append(argument)
            }
        }
    }

    func string(_ name: String) -> String? { values[name] }

    func number<Value: LosslessStringConvertible>(_ name: String, default value: Value) throws -> Value {
        guard let text = values[name] else { return value }
        guard let parsed = Value(text) else { throw FuzzError.usage("\(name) takes a number, got '\(text)'") }
        return parsed
    }

    var corpusURL: URL { URL(fileURLWithPath: values["--corpus"] ?? "Fuzz/corpus") }

    func targets() throws -> [any FuzzTarget] {
        let name = values["--target"] ?? "all"
        if name == "all" { return FuzzTargets.all }
        guard let target = FuzzTargets.named(name) else {
            throw FuzzError.usage("no target named '\(name)'; targets: \(FuzzTargets.all.map(\.name).joined(separator: ", "))")
        }
        return [target]
    }
}

func printLine(_ text: String) {
    FileHandle.standardOutput.write(Data((text + "\n").utf8))
}

func padded(_ text: String, _ width: Int) -> String {
    text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
}

func run(_ options: Options) throws -> Int32 {
    var supervisor = FuzzSupervisor(
        corpusURL: options.corpusURL, seed: try options.number("--seed", default: UInt64(1)),
        inputs: try options.number("--inputs", default: 10_000),
        timeLimit: options.string("--time-limit").map { Double($0) ?? 0 })
    supervisor.memoryLimitMB = try options.number("--memory-limit-mb", default: 4096)
    supervisor.hangSeconds = try options.number("--hang-seconds", default: 2.0)
    supervisor.backtraces = options.flags.contains("--backtraces")
    let machine = ProcessInfo.processInfo
    printLine("peft-fuzz: seed \(supervisor.seed), \(supervisor.inputs) inputs per target"
        + (supervisor.timeLimit.map { ", at most \($0) s each" } ?? "")
        + ", hang limit \(supervisor.hangSeconds) s, address space \(supervisor.memoryLimitMB) MB; \(machine.activeProcessorCount) cores")
    printLine("| target | inputs | accepted | crashes | hangs | out of memory | peak RSS | inputs/s |")
    printLine("|---|---:|---:|---:|---:|---:|---:|---:|")
    var found = 0
    var reports: [FuzzTargetReport] = []
    for target in try options.targets() {
        let report = try supervisor.run(target)
        reports.append(report)
        found += report.findings.count
        printLine("| \(report.target) | \(report.inputsRun) | \(report.accepted) | \(report.count(.crash)) | \(report.count(.hang)) | "
            + "\(report.count(.outOfMemory)) | \(report.peakRSSKilobytes / 1024) MB | \(String(format: "%.0f", report.inputsPerSecond)) |")
    }
    for report in reports {
        if let peak = report.peakInput {
            printLine("\(report.target): peak resident memory \(peak.kilobytes / 1024) MB reached at input \(peak.index)")
        }
        for finding in report.findings {
            printLine("\n\(report.target): \(finding.kind.rawValue) at input \(finding.index), saved as \(finding.file?.path ?? "(not saved)")")
            printLine(finding.message.split(separator: "\n").prefix(6).map { "    " + $0 }.joined(separator: "\n"))
        }
    }
    printLine(found == 0 ? "\nno crashes, hangs or out-of-memory inputs" : "\n\(found) finding(s); inputs saved under \(supervisor.crashFolder(for: "").path)")
    return found == 0 ? 0 : 1
}

func main() -> Int32 {
    let arguments = CommandLine.arguments
    guard arguments.count >= 2 else {
        printLine(usage)
        return 2
    }
    do {
        let options = try Options(arguments.dropFirst(2))
        switch arguments[1] {
        case "list":
            for target in FuzzTargets.all { printLine("\(padded(target.name, 20)) \(target.summary)") }
            return 0
        case "run":
            return try run(options)
        case "replay":
            guard let target = try options.targets().first, options.string("--target") != nil, !options.positional.isEmpty else {
                throw FuzzError.usage(usage)
            }
            let corpus = try SeedCorpus(url: options.corpusURL)
            for (file, outcome) in try InProcessFuzzing.replay(
                target, files: options.positional.map { URL(fileURLWithPath: $0) }, seedName: options.string("--seed-name"), corpus: corpus) {
                printLine("\(file.path): \(outcome == .accepted ? "accepted" : "rejected with an error")")
            }
            printLine("peak resident memory \(FuzzWorker.peakResidentKilobytes() / 1024) MB")
            return 0
        case "input":
            guard let target = try options.targets().first, options.string("--target") != nil, let output = options.string("--output") else {
                throw FuzzError.usage(usage)
            }
            let seeds = try SeedCorpus(url: options.corpusURL).files(for: target.name)
            guard !seeds.isEmpty else { throw FuzzError.corpus("\(options.corpusURL.path)/\(target.name) has no seed files") }
            let input = Mutator(seeds: seeds, format: target.format)
                .input(seed: try options.number("--seed", default: UInt64(1)), index: try options.number("--index", default: 0))
            try Data(input.bytes).write(to: URL(fileURLWithPath: output))
            printLine("wrote \(input.bytes.count) bytes to \(output), mutated from seed file \(input.seedName)")
            return 0
        case "self-test":
            let (report, passed) = try HarnessSelfTest.run()
            for finding in report.findings { printLine("\(finding.kind.rawValue) at input \(finding.index): \(finding.message.split(separator: "\n").first ?? "")") }
            printLine(passed ? "self-test passed: the crash, the hang and the allocation bomb were each caught" : "self-test FAILED")
            return passed ? 0 : 1
        case "make-corpus":
            try SeedCorpusWriter.write(into: options.corpusURL, packageRoot: URL(fileURLWithPath: FileManager.default.currentDirectoryPath))
            printLine("wrote the generated seeds into \(options.corpusURL.path)")
            return 0
        case "worker":
            guard let target = options.string("--target"), let state = options.string("--state") else {
                throw FuzzError.usage("worker needs --target and --state")
            }
            try FuzzWorker.run(FuzzWorker.Settings(
                target: target, seed: options.number("--seed", default: UInt64(1)), from: options.number("--from", default: 0),
                to: options.number("--to", default: 10_000), stateFolder: URL(fileURLWithPath: state), corpusURL: options.corpusURL,
                deadline: options.string("--deadline").flatMap(Double.init), memoryLimitMB: options.number("--memory-limit-mb", default: 4096)))
        default:
            throw FuzzError.usage(usage)
        }
    } catch {
        FileHandle.standardError.write(Data("peft-fuzz: \(error)\n".utf8))
        return 2
    }
}

exit(main())
