import Autograd
import Foundation
import Tensor
import Transformer

/// The processes of a data-parallel training run, and the collective operations the ``Trainer``
/// needs from them. Every rank holds the whole model, adapter and data; each trains on its own
/// share of every optimizer step's examples, and the ranks combine their gradients so that all of
/// them take the same step.
///
/// The `MPITraining` module implements this over MPI (`peft train` under `mpirun`);
/// ``SingleProcess`` is the group of one. Every rank must call the operations in the same order
/// with the same counts; an operation that cannot complete throws (no rank then continues).
public protocol DataParallelGroup: AnyObject {
    /// This process's index in the group, `0..<size`. Rank 0 alone writes files.
    var rank: Int { get }
    /// The number of processes, at least 1.
    var size: Int { get }
    /// Replaces `buffer`, on every rank, by the element-wise sum of all ranks' buffers (each rank
    /// passes the same count). The order of the additions is the transport's.
    /// - Throws: ``DataParallelError`` if the transport fails.
    func sumInPlace(_ buffer: UnsafeMutableBufferPointer<Float>) throws
    /// Every rank's `values`, concatenated in rank order, on every rank (each rank passes the same
    /// count, so the result holds `size × values.count` elements).
    /// - Throws: ``DataParallelError`` if the transport fails.
    func gather<Scalar: BitwiseCopyable>(_ values: [Scalar]) throws -> [Scalar]
}

extension DataParallelGroup {
    /// Every rank's `data`, which may differ in length, in rank order (two gathers: the lengths,
    /// then the bytes padded to the longest).
    /// - Throws: ``DataParallelError`` if the transport fails.
    public func gather(_ data: Data) throws -> [Data] {
        let lengths = try gather([UInt64(data.count)]).map { Int($0) }
        let width = lengths.max() ?? 0
        guard width > 0 else { return lengths.map { _ in Data() } }
        let all = try gather(Array(data) + [UInt8](repeating: 0, count: width - data.count))
        return lengths.enumerated().map { rank, length in Data(all[(rank * width)..<(rank * width + length)]) }
    }
}

/// The group of one process: sums and gathers return their input.
public final class SingleProcess: DataParallelGroup {
    public init() {}
    public var rank: Int { 0 }
    public var size: Int { 1 }
    public func sumInPlace(_ buffer: UnsafeMutableBufferPointer<Float>) throws {}
    public func gather<Scalar: BitwiseCopyable>(_ values: [Scalar]) throws -> [Scalar] { values }
}

/// How a data-parallel run combines its ranks' gradients each step.
public enum GradientReduction: String, Sendable, CaseIterable, Codable {
    /// Each rank sums its own micro-batches' gradients, then one all-reduce over a single flat
    /// buffer sums the ranks'. The result equals one process's to float rounding (the additions
    /// happen in another order).
    case sum
    /// Every micro-batch's gradient is gathered on every rank and they are summed in the order one
    /// process sums them: the weights are bit-for-bit those of a single-process run with the same
    /// examples per step, for `size ×` the traffic of ``sum``.
    case ordered
}

/// A data-parallel setting for a ``Trainer``: the group and how it reduces gradients.
public struct DataParallel {
    /// The processes of the run.
    public let group: any DataParallelGroup
    /// How gradients are combined.
    public var reduction: GradientReduction

    /// - Parameters:
    ///   - group: the processes of the run (``SingleProcess`` for none).
    ///   - reduction: how gradients are combined; ``GradientReduction/sum`` by default.
    public init(group: any DataParallelGroup, reduction: GradientReduction = .sum) {
        self.group = group
        self.reduction = reduction
    }

    /// One process, no communication.
    public static var singleProcess: DataParallel { DataParallel(group: SingleProcess()) }
}

/// A failure of a data-parallel run.
public enum DataParallelError: Error, Equatable, CustomStringConvertible {
    /// The ranks do not hold the same thing: what differs, and which rank (compared with rank 0).
    /// Every rank finds it at the same point and throws it.
    case ranksDisagree(what: String, rank: Int)
    /// A collective operation failed: the operation and the transport's message.
    case communicationFailed(operation: String, message: String)
    /// A buffer too large for one collective call: the operation and its size in bytes.
    case bufferTooLarge(operation: String, bytes: Int)

    public var description: String {
        switch self {
        case let .ranksDisagree(what, rank):
            return "rank \(rank) and rank 0 do not hold the same \(what); every rank must be given the same model, data, adapter and options"
        case let .communicationFailed(operation, message): return "\(operation) failed: \(message)"
        case let .bufferTooLarge(operation, bytes): return "\(operation): \(bytes) bytes do not fit one collective call"
        }
    }
}

/// Content checksums the ranks of a data-parallel run compare before training.
public enum ContentChecksum {
    /// A 64-bit hash of `tensors`' names, shapes and bit patterns, in name order.
    public static func of(_ tensors: [(name: String, value: Tensor)]) -> UInt64 {
        var hash = Hasher64()
        for (name, value) in tensors.sorted(by: { $0.name < $1.name }) {
            hash.mix(string: name)
            value.shape.forEach { hash.mix(UInt64($0)) }
            value.withUnsafeBufferPointer { hash.mix(bytes: UnsafeRawBufferPointer($0)) }
        }
        return hash.value
    }

    /// A 64-bit hash of `text`'s UTF-8 bytes.
    public static func of(_ text: String) -> UInt64 {
        var hash = Hasher64()
        hash.mix(string: text)
        return hash.value
    }

    /// A multiply–xorshift hash over 64-bit words: fast enough for a model's weights (≈ 0.2 s per
    /// GB), stable across runs and machines (unlike `Hasher`).
    struct Hasher64 {
        private(set) var value: UInt64 = 0x9E37_79B9_7F4A_7C15

        mutating func mix(_ word: UInt64) {
            value = (value ^ word) &* 0xBF58_476D_1CE4_E5B9
            value ^= value >> 29
        }

        mutating func mix(string: String) {
            mix(UInt64(string.utf8.count))
            Array(string.utf8).withUnsafeBytes { mix(bytes: $0) }
        }

        mutating func mix(bytes: UnsafeRawBufferPointer) {
            let words = bytes.count / 8
            for index in 0..<words {
                mix(bytes.loadUnaligned(fromByteOffset: index * 8, as: UInt64.self))
            }
            var tail: UInt64 = 0
            for index in (words * 8)..<bytes.count {
                tail = tail << 8 | UInt64(bytes[index])
            }
            mix(tail ^ UInt64(bytes.count) << 56)
        }
    }
}

/// The adapter's gradients as one flat buffer: each parameter's gradient in optimizer order, then
/// one presence flag per parameter (1 where a gradient flowed), then one slot for the loss.
struct FlatGradients {
    let parameters: [Variable]
    let offsets: [Int]
    /// Elements of all gradients.
    let gradientCount: Int
    /// Gradients, presence flags and the loss slot.
    var count: Int { gradientCount + parameters.count + 1 }
    var lossSlot: Int { count - 1 }

    init(_ parameters: [Variable]) {
        self.parameters = parameters
        var offsets = [Int](), total = 0
        for parameter in parameters {
            offsets.append(total)
            total += parameter.value.count
        }
        self.offsets = offsets
        gradientCount = total
    }

    /// The parameters' current gradients (zeros and a 0 flag where there is none), loss slot 0.
    func flatten() -> [Float] {
        var buffer = [Float](repeating: 0, count: count)
        buffer.withUnsafeMutableBufferPointer { flat in
            for (index, parameter) in parameters.enumerated() {
                guard let gradient = parameter.gradient else { continue }
                gradient.withUnsafeBufferPointer { g in
                    (flat.baseAddress! + offsets[index]).update(from: g.baseAddress!, count: g.count)
                }
                flat[gradientCount + index] = 1
            }
        }
        return buffer
    }

    /// Adds `other` into `sum`, element by element (the flags count how many had a gradient).
    static func add(_ other: UnsafeBufferPointer<Float>, into sum: inout [Float]) {
        sum.withUnsafeMutableBufferPointer { sum in
            for index in sum.indices { sum[index] += other[index] }
        }
    }

    /// Sets each parameter's gradient from `buffer`: the summed gradient where any micro-batch of
    /// any rank had one, none elsewhere.
    func restore(_ buffer: UnsafeBufferPointer<Float>) throws {
        for (index, parameter) in parameters.enumerated() {
            parameter.zeroGradient()
            guard buffer[gradientCount + index] > 0 else { continue }
            let slice = UnsafeBufferPointer(rebasing: buffer[offsets[index]..<(offsets[index] + parameter.value.count)])
            try parameter.accumulateGradient(Tensor(shape: parameter.shape, scalars: Array(slice)))
        }
    }
}
