import ArgumentParser
import Foundation
import MPITraining
import PEFT

extension GradientReduction: ExpressibleByArgument {}

/// A command's run under an MPI launcher: joins the job (when one started the process), and ends it
/// the right way whatever happens.
///
/// An error every rank meets together (the ranks disagree, the loss diverged) is printed by rank 0
/// alone, before any rank finishes MPI (so `mpirun`, which ends the job when the first rank exits
/// with an error, cannot cut rank 0 off before it has said why), and every rank exits with status
/// 1. Any other error, a failed transport included, is taken as this rank's alone: it is printed
/// with the rank's number and the whole job is aborted, since the other ranks would otherwise wait
/// for it forever. If `mpirun` ends the job because another rank died, rank 0 says so before it
/// exits.
enum DataParallelLaunch {
    /// Runs `body` with the job's group, or with `nil` when no MPI launcher started this process.
    static func run(command: String, _ body: (MPIGroup?) throws -> Void) throws {
        guard let group = try MPIGroup.joinIfLaunched() else { return try body(nil) }
        if group.rank == 0 {
            MPIGroup.reportTermination(
                "peft \(command): stopped by the MPI launcher (another of the \(group.size) ranks failed or was killed); "
                    + "nothing was saved after the last checkpoint")
        }
        do {
            try body(group)
            group.finish()
        } catch {
            if isMetByEveryRank(error) {
                if group.rank == 0 { FileHandle.standardError.write(Data((PEFTTool.fullMessage(for: error) + "\n").utf8)) }
                group.finish()
                throw ExitCode(1)
            }
            FileHandle.standardError.write(Data("peft \(command) (rank \(group.rank) of \(group.size)): error: \(error)\n".utf8))
            group.abort(code: 1)
        }
    }

    /// Whether every rank meets `error` at the same point of the run (they compared or reduced the
    /// same numbers), so that all can finish MPI together; a transport failure may be one rank's alone.
    private static func isMetByEveryRank(_ error: any Error) -> Bool {
        switch error {
        case DataParallelError.ranksDisagree, DataParallelError.bufferTooLarge, TrainingError.nonFiniteLoss: return true
        default: return false
        }
    }
}
