import ArgumentParser

/// The `peft` command-line tool.
@main
struct PEFTTool: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "peft",
        abstract: "Parameter-efficient fine-tuning and serving of LLaMA-family models on the CPU.",
        subcommands: [LogitsCommand.self, TokenizeCommand.self, GenerateCommand.self, InspectCommand.self, MergeCommand.self, Bench.self]
    )
}
