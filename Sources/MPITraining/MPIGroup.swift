#if PEFT_MPI
import CMPI
#endif
#if canImport(Glibc)
import Glibc
#endif
import Foundation
import PEFT

/// The ranks of an MPI job as a ``DataParallelGroup``: `peft train` started by `mpirun -np N`
/// trains data-parallel over them (Documentation/DataParallelTraining.md).
///
/// The package builds this over Open MPI when its development files are installed (pkg-config
/// `ompi-c`); otherwise ``isAvailable`` is `false` and ``joinIfLaunched()`` refuses a process an
/// MPI launcher started. Only the thread that joined calls MPI (`MPI_THREAD_FUNNELED`). Failures of
/// the transport are thrown (the communicator returns errors rather than aborting), so a caller can
/// say what went wrong before it ends the job with ``abort(code:)``.
public final class MPIGroup: DataParallelGroup {
    public let rank: Int
    public let size: Int
    private var finished = false

    /// Whether this build can run data-parallel (it was built with Open MPI's development files).
    public static var isAvailable: Bool {
        #if PEFT_MPI
        return true
        #else
        return false
        #endif
    }

    /// Whether an MPI launcher started this process: Open MPI's `mpirun` sets
    /// `OMPI_COMM_WORLD_SIZE`, PMIx-based launchers `PMIX_RANK`, MPICH's `PMI_RANK`.
    public static func isLaunched(environment: [String: String] = ProcessInfo.processInfo.environment) -> Bool {
        ["OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK"].contains { environment[$0] != nil }
    }

    /// Joins the MPI job that started this process, or returns `nil` when no MPI launcher did.
    /// Call it once, from the thread that will run training; call ``finish()`` (every rank) or
    /// ``abort(code:)`` (any rank) at the end.
    /// - Throws: ``MPIGroupError/unavailable`` when an MPI launcher started a build without MPI;
    ///   ``DataParallelError/communicationFailed(operation:message:)`` if MPI cannot start.
    public static func joinIfLaunched() throws -> MPIGroup? {
        guard isLaunched() else { return nil }
        #if PEFT_MPI
        var provided: Int32 = 0
        let status = MPI_Init_thread(nil, nil, peft_mpi_thread_funneled(), &provided)
        guard status == peft_mpi_success() else {
            throw DataParallelError.communicationFailed(operation: "MPI_Init_thread", message: "error code \(status)")
        }
        MPI_Comm_set_errhandler(peft_mpi_comm_world(), peft_mpi_errors_return())
        var rank: Int32 = 0, size: Int32 = 0
        try check(MPI_Comm_rank(peft_mpi_comm_world(), &rank), "MPI_Comm_rank")
        try check(MPI_Comm_size(peft_mpi_comm_world(), &size), "MPI_Comm_size")
        return MPIGroup(rank: Int(rank), size: Int(size))
        #else
        throw MPIGroupError.unavailable
        #endif
    }

    private init(rank: Int, size: Int) {
        self.rank = rank
        self.size = size
    }

    /// Sums `buffer` across the ranks with one `MPI_Allreduce` (in place).
    public func sumInPlace(_ buffer: UnsafeMutableBufferPointer<Float>) throws {
        guard buffer.count > 0 else { return }
        guard let count = Int32(exactly: buffer.count) else {
            throw DataParallelError.bufferTooLarge(operation: "MPI_Allreduce", bytes: buffer.count * 4)
        }
        #if PEFT_MPI
        try Self.check(
            MPI_Allreduce(peft_mpi_in_place(), buffer.baseAddress, count, peft_mpi_float(), peft_mpi_sum(), peft_mpi_comm_world()),
            "MPI_Allreduce")
        #else
        throw MPIGroupError.unavailable
        #endif
    }

    /// Gathers every rank's `values` with one `MPI_Allgather` (as bytes).
    public func gather<Scalar: BitwiseCopyable>(_ values: [Scalar]) throws -> [Scalar] {
        guard !values.isEmpty else { return [] }
        let byteCount = values.count * MemoryLayout<Scalar>.stride
        guard let bytes = Int32(exactly: byteCount), byteCount.multipliedReportingOverflow(by: size).overflow == false else {
            throw DataParallelError.bufferTooLarge(operation: "MPI_Allgather", bytes: byteCount)
        }
        #if PEFT_MPI
        return try [Scalar](unsafeUninitializedCapacity: values.count * size) { received, initialized in
            try values.withUnsafeBytes { sent in
                try Self.check(
                    MPI_Allgather(sent.baseAddress, bytes, peft_mpi_byte(), received.baseAddress, bytes, peft_mpi_byte(), peft_mpi_comm_world()),
                    "MPI_Allgather")
            }
            initialized = values.count * size
        }
        #else
        throw MPIGroupError.unavailable
        #endif
    }

    /// Ends MPI in this process. Every rank calls it; it returns only once every rank has called it
    /// (a barrier comes first), so what a rank did before it happens before any rank exits. Later
    /// calls do nothing.
    public func finish() {
        guard !finished else { return }
        finished = true
        #if PEFT_MPI
        MPI_Barrier(peft_mpi_comm_world())
        MPI_Finalize()
        #endif
    }

    /// Ends the whole job now, every rank, with exit status `code`: for an error this rank alone
    /// met, which would otherwise leave the others waiting in a collective operation.
    public func abort(code: Int32) -> Never {
        #if PEFT_MPI
        MPI_Abort(peft_mpi_comm_world(), code)
        #endif
        exit(code)
    }

    /// Makes a termination signal (what `mpirun` sends the surviving ranks when one fails) print
    /// `message` to standard error before the process ends with status 143.
    public static func reportTermination(_ message: String) {
        terminationMessage = strdup(message + "\n")
        signal(SIGTERM) { _ in
            if let message = terminationMessage { _ = write(2, message, strlen(message)) }
            _exit(143)
        }
    }

    #if PEFT_MPI
    private static func check(_ status: Int32, _ operation: String) throws {
        guard status != peft_mpi_success() else { return }
        var text = [CChar](repeating: 0, count: Int(peft_mpi_max_error_string()) + 1)
        var length: Int32 = 0
        MPI_Error_string(status, &text, &length)
        let message = String(decoding: text.prefix(Int(length)).map { UInt8(bitPattern: $0) }, as: UTF8.self)
        throw DataParallelError.communicationFailed(operation: operation, message: message.isEmpty ? "error code \(status)" : message)
    }
    #endif
}

/// What the signal handler of ``MPIGroup/reportTermination(_:)`` prints (set before it is installed).
nonisolated(unsafe) private var terminationMessage: UnsafeMutablePointer<CChar>?

/// Errors of joining an MPI job.
public enum MPIGroupError: Error, Equatable, CustomStringConvertible {
    /// An MPI launcher started this process, but the build has no MPI.
    case unavailable

    public var description: String {
        "an MPI launcher started this process, but this build of peft has no MPI: install Open MPI's development files "
            + "(Debian: apt-get install libopenmpi-dev openmpi-bin), then rebuild (swift package clean; swift build)"
    }
}
