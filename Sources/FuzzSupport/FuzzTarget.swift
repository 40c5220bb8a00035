import Foundation

/// How a target's inputs are laid out, which decides the mutations tried on them.
public enum FuzzInputFormat: Sendable {
    /// Bytes with binary length fields (safetensors, GGUF): byte-level mutations and length-field
    /// substitutions, plus the JSON mutations for a JSON header inside.
    case binary
    /// One JSON document: byte-level and structure-aware JSON mutations.
    case json
    /// JSON Lines: the JSON mutations plus line-level ones (duplicate, drop, swap, join lines).
    case jsonLines
}

/// One input to a target: its bytes and the corpus file it was derived from.
public struct FuzzInput: Sendable, Equatable {
    /// The bytes handed to the parser.
    public var bytes: [UInt8]
    /// The corpus file the input was mutated from, without its extension (`lora` for
    /// `lora.json`): targets whose files come in pairs pick the companion file by it.
    public var seedName: String

    /// An input of `bytes` derived from the corpus file named `seedName`.
    public init(bytes: [UInt8], seedName: String) {
        self.bytes = bytes
        self.seedName = seedName
    }
}

/// What became of one input.
public enum FuzzOutcome: Sendable, Equatable {
    /// The parser accepted it (and the use after loading ran).
    case accepted
    /// The parser refused it with an error, as it should for a malformed file.
    case rejected
}

/// A parser that takes outside bytes, driven the way users reach it: the input is written to the
/// file the real loading function reads, and what loads is used a little (a forward pass, an
/// encode and decode) so that values a parser let through are exercised too.
public protocol FuzzTarget: Sendable {
    /// The name on the command line and of the corpus folder, such as `safetensors-header`.
    var name: String { get }
    /// One line on what is fuzzed.
    var summary: String { get }
    /// The input's layout, which chooses the mutations.
    var format: FuzzInputFormat { get }
    /// Prepares what every input of one worker shares (companion files, a tiny model) in the
    /// empty folder `workspace`, and returns the function that runs one input.
    /// - Parameter corpus: the whole seed corpus, for targets that take companion files from
    ///   another target's corpus.
    /// - Throws: if the workspace cannot be prepared.
    func makeExecutor(workspace: URL, corpus: SeedCorpus) throws -> any FuzzExecutor
}

/// Runs inputs of one target, one at a time, inside one process.
public protocol FuzzExecutor {
    /// Runs `input` through the parser and the use after it.
    /// - Returns: ``FuzzOutcome/accepted``, or ``FuzzOutcome/rejected`` when the parser threw;
    ///   a crash is not caught (that is what the harness looks for).
    func run(_ input: FuzzInput) -> FuzzOutcome
}

extension FuzzExecutor {
    /// ``FuzzOutcome/accepted`` if `body` returns, ``FuzzOutcome/rejected`` if it throws.
    func outcome(_ body: () throws -> Void) -> FuzzOutcome {
        do {
            try body()
            return .accepted
        } catch {
            return .rejected
        }
    }
}

/// Every fuzz target, in the order `peft-fuzz run --target all` runs them.
public enum FuzzTargets {
    /// The nine parsers that take outside bytes.
    public static let all: [any FuzzTarget] = [
        SafetensorsHeaderTarget(), ShardedIndexTarget(), ConfigJSONTarget(), TokenizerJSONTarget(),
        AdapterConfigTarget(), AdapterWeightsTarget(), GGUFTarget(), InstructionJSONLTarget(), ServeCommandTarget(),
    ]

    /// The target called `name` (one of ``all``, or the harness's self-test target), or `nil`.
    public static func named(_ name: String) -> (any FuzzTarget)? {
        (all + [HarnessSelfTestTarget()]).first { $0.name == name }
    }
}
