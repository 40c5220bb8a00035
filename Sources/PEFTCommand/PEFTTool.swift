import ArgumentParser

/// The `peft` command-line tool.
@main
struct PEFTTool: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "peft",
        abstract: "Parameter-efficient fine-tuning and serving of LLaMA-family models on the CPU.",
        subcommands: [
            TrainCommand.self, EvalCommand.self, CompareCommand.self, GenerateCommand.self, LogitsCommand.self,
            TokenizeCommand.self, TasksCommand.self, InspectCommand.self, MergeCommand.self, PretrainCommand.self, ServeCommand.self, Bench.self,
        ]
    )

    /// Tunes the allocator for large tensors (see ``Allocator/keepFreedMemory()``), then runs the command.
    static func main() async {
        Allocator.keepFreedMemory()
        await main(nil)
    }
}
