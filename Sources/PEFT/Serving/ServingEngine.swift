import Autograd
import Foundation
import Tensor
import Transformer

/// One request to a ``ServingEngine``.
public struct ServingRequest: Sendable {
    /// The prompt's token ids (non-empty).
    public var prompt: [Int]
    /// The resident adapter to use, by name; `nil` for the plain backbone.
    public var adapter: String?
    /// How many leading prompt tokens are the instruction (IAPT's generators read them); `nil`: all.
    public var instructionLength: Int?
    /// Sampling, seed, stop tokens and the most tokens to generate.
    public var options: GenerationOptions

    /// A request; the engine checks it when it is given one (``ServingEngine/generate(_:onToken:)``).
    public init(prompt: [Int], adapter: String? = nil, instructionLength: Int? = nil, options: GenerationOptions = GenerationOptions()) {
        self.prompt = prompt
        self.adapter = adapter
        self.instructionLength = instructionLength
        self.options = options
    }
}

/// What a ``ServingEngine`` returns for a request.
public struct ServingResult: Sendable {
    /// The generated tokens (the stop token included when one was hit).
    public let tokens: [Int]
    /// Seconds from submission to the first generated token (queueing and prefill included).
    public let timeToFirstToken: Double
    /// Seconds from submission to the last token.
    public let totalTime: Double
}

/// Why a ``ServingEngine`` refuses a request.
public enum ServingError: Error, Equatable, CustomStringConvertible {
    /// The request names no resident adapter; associated values: the name and the resident names.
    case unknownAdapter(String, resident: [String])
    /// The request needs more cache slots than a cache holds; associated values: the slots needed
    /// (prefixes, prompt and new tokens) and the capacity.
    case exceedsCacheCapacity(needed: Int, capacity: Int)
    /// The engine's own settings are invalid; the associated value says how.
    case invalidSettings(String)

    public var description: String {
        switch self {
        case let .invalidSettings(detail): return detail
        case let .unknownAdapter(name, resident):
            return "no resident adapter named '\(name)' (" + (resident.isEmpty ? "none is resident)" : "resident: \(resident.joined(separator: ", ")))")
        case let .exceedsCacheCapacity(needed, capacity):
            return "the request needs \(needed) cache slots (prefixes, prompt and new tokens); the engine's caches hold \(capacity)"
        }
    }
}

/// Serves many tenants from one frozen backbone: resident adapters of any type, loaded and unloaded
/// by name, and requests batched together whatever adapter they use.
///
/// Continuous batching: a request joins the running batch between decoding steps — its prompt is
/// prefilled together with the other requests waiting at that moment (IAPT's generators and prompt
/// tuning's virtual tokens run then, once, and their keys and values stay in the request's cache) —
/// then decodes together with every other active request, one token per step; it leaves as soon as
/// it is done. Each decoding step routes rows to their adapters through ``AdapterRouter``, so the
/// rows of one low-rank adapter (LoRA) share one pair of small products per projection. KV caches
/// come from a pool of ``maximumBatch`` caches of ``cacheCapacity`` slots, reused across requests:
/// memory is bounded whatever the load.
///
/// An actor: submit from any number of tasks; results come back in each caller's own task. The
/// outputs equal those of ``LlamaModel/generate(prompts:options:hooks:instructionLengths:onToken:)``
/// for each request alone.
public actor ServingEngine {
    /// The most requests decoding at once.
    public nonisolated let maximumBatch: Int
    /// Slots per request's cache: prompt, prefixes and generated tokens must fit.
    public nonisolated let cacheCapacity: Int
    /// The backbone's context in positions (`maxPositionEmbeddings`): a request's prompt, input
    /// prefix and new tokens must fit in it.
    public nonisolated let contextLength: Int

    private let model: LlamaModel
    private var adapters: [String: any Adapter] = [:]
    private var freeCaches: [KVCache]
    private var waiting: [Pending] = []
    private var active: [Running] = []
    private var isRunning = false
    private var nextRequestID: UInt64 = 0
    /// The router of the last decoding step and the requests it was made for, reused while the
    /// decoding rows stay the same.
    private var decodeRouter: (ids: [UInt64], router: AdapterRouter?) = ([], nil)

    /// The cache slots of a request or of a prefill batch: the prefixes' and the prompt's, and
    /// the new tokens'. A batch is left-padded to its widest of each, so a member needs the batch's
    /// prefixes and prompt plus its own new tokens.
    private struct Footprint {
        var layerPrefix = 0, inputPrefix = 0, prompt = 0, newTokens = 0

        init() {}

        init(_ request: ServingRequest, adapter: (any Adapter)?) {
            (layerPrefix, inputPrefix) = (adapter?.layerPrefixLength ?? 0, adapter?.inputPrefixLength ?? 0)
            (prompt, newTokens) = (request.prompt.count, request.options.maxNewTokens)
        }

        /// The slots every member needs before its new tokens.
        var filled: Int { layerPrefix + inputPrefix + prompt }

        /// This batch with `other` added: the widest of each part, and the most new tokens.
        func joined(_ other: Footprint) -> Footprint {
            var joined = self
            joined.layerPrefix = max(layerPrefix, other.layerPrefix)
            joined.inputPrefix = max(inputPrefix, other.inputPrefix)
            joined.prompt = max(prompt, other.prompt)
            joined.newTokens = max(newTokens, other.newTokens)
            return joined
        }

        /// The slots the neediest member takes.
        var needed: Int { filled + newTokens }
    }

    private struct Pending {
        let id: UInt64
        let request: ServingRequest
        /// The adapter resolved at submission: unloading it later does not change this request.
        let adapter: (any Adapter)?
        /// The request's slots, alone.
        let footprint: Footprint
        let submitted: Double
        let onToken: (@Sendable (Int) -> Void)?
        let continuation: CheckedContinuation<ServingResult, any Error>
    }

    private struct Running {
        let pending: Pending
        let cache: KVCache
        var sampler: Sampler
        var generated: [Int]
        var firstTokenTime: Double
        var nextToken: Int
        var isFinished: Bool
    }

    /// An engine over `model` (which must be frozen), decoding at most `maximumBatch` requests at once
    /// with caches of `cacheCapacity` slots each. The engine moves the model's weights onto huge
    /// pages (``LlamaModel/adviseHugePages()``): it decodes with them for as long as it serves.
    /// - Throws: ``ServingError/invalidSettings(_:)`` for non-positive sizes; ``ModelError`` if a cache cannot be made.
    public init(model: sending LlamaModel, maximumBatch: Int = 8, cacheCapacity: Int = 512) throws {
        guard maximumBatch > 0, cacheCapacity > 1 else {
            throw ServingError.invalidSettings("a serving engine needs a positive batch and a capacity above 1")
        }
        let perCache = KVCache.bytes(config: model.config, batch: 1, capacity: cacheCapacity)
        let total = perCache.flatMap { SystemMemory.product($0, maximumBatch) }
        guard let total, total <= SystemMemory.budgetBytes else {
            throw ServingError.invalidSettings(
                "\(maximumBatch) caches of \(cacheCapacity) slots need \(SystemMemory.describe(total)), more than the "
                + "\(SystemMemory.describe(SystemMemory.budgetBytes)) (3/4 of this machine's \(SystemMemory.describe(SystemMemory.physicalBytes))) "
                + "they may take; lower the batch or the capacity")
        }
        contextLength = model.config.maxPositionEmbeddings
        model.adviseHugePages()
        self.model = model
        self.maximumBatch = maximumBatch
        self.cacheCapacity = cacheCapacity
        freeCaches = try (0..<maximumBatch).map { _ in try KVCache(config: model.config, batch: 1, capacity: cacheCapacity) }
    }

    /// Loads the adapter in the folder `url` (PEFT layout) as `name`, replacing any adapter of that name.
    /// - Throws: what ``AdapterFiles/load(from:model:registry:)`` throws.
    public func loadAdapter(at url: URL, as name: String, registry: AdapterRegistry = .builtIn) throws {
        adapters[name] = try AdapterFiles.load(from: url, model: model, registry: registry)
    }

    /// Makes the adapter that `make` builds for the engine's backbone resident as `name`, replacing
    /// any adapter of that name (the adapter is built inside the engine, which owns the backbone).
    /// - Throws: whatever `make` throws.
    public func addAdapter(as name: String, _ make: @Sendable (LlamaModel) throws -> any Adapter) throws {
        let adapter = try make(model)
        adapter.isTraining = false
        adapters[name] = adapter
    }

    /// Removes the adapter `name`; requests already submitted with it, waiting or running, finish with it.
    /// - Throws: ``ServingError/unknownAdapter(_:resident:)`` if no adapter of that name is resident.
    public func unloadAdapter(_ name: String) throws {
        guard adapters.removeValue(forKey: name) != nil else { throw ServingError.unknownAdapter(name, resident: adapterNames) }
    }

    /// The names of the resident adapters, sorted.
    public var adapterNames: [String] { adapters.keys.sorted() }

    /// What the engine is doing: requests waiting to be admitted, requests decoding, and caches free.
    public struct Status: Sendable, Equatable {
        /// Requests submitted and not yet admitted to the batch.
        public let waiting: Int
        /// Requests in the batch (prefilled, decoding).
        public let active: Int
        /// Caches in the pool that no request holds.
        public let freeCaches: Int
    }

    /// A snapshot of the queue and the cache pool.
    public var status: Status { Status(waiting: waiting.count, active: active.count, freeCaches: freeCaches.count) }

    /// The `peft_type` of each resident adapter, by name.
    public var adapterTypes: [String: String] { adapters.mapValues { type(of: $0).peftType } }

    /// The most new tokens `request` may ask for: what the context and a cache leave after its
    /// prompt and its adapter's prefixes (0 when nothing is left). Everything else about the
    /// request is checked as ``generate(_:onToken:)`` checks it, so a front end can settle
    /// `maxNewTokens` and refuse a bad request before it commits to an answer (an HTTP stream's
    /// status line, say).
    /// - Throws: what ``generate(_:onToken:)`` throws for a request it refuses, but for its
    ///   `maxNewTokens`.
    public func room(for request: ServingRequest) throws -> Int {
        let adapter = try resident(request.adapter)
        try checkPrompt(request)
        let inputPrefix = adapter?.inputPrefixLength ?? 0
        let fromContext = contextLength - request.prompt.count - inputPrefix
        let fromCache = cacheCapacity - (adapter?.layerPrefixLength ?? 0) - inputPrefix - request.prompt.count
        return max(0, min(fromContext, fromCache))
    }

    private func resident(_ name: String?) throws -> (any Adapter)? {
        try name.map { name in
            guard let adapter = adapters[name] else { throw ServingError.unknownAdapter(name, resident: adapterNames) }
            return adapter
        }
    }

    /// The adapter `request` names and the cache slots it takes, once the request is found valid.
    private func admissible(_ request: ServingRequest) throws -> (adapter: (any Adapter)?, footprint: Footprint) {
        let adapter = try resident(request.adapter)
        guard request.options.maxNewTokens > 0 else { throw ModelError.invalidInput("a request needs maxNewTokens ≥ 1") }
        try checkPrompt(request)
        let positions = request.prompt.count + (adapter?.inputPrefixLength ?? 0) + request.options.maxNewTokens
        guard positions <= contextLength else {
            throw ModelError.invalidInput(
                "the request needs \(positions) positions (prompt, input prefix and \(request.options.maxNewTokens) new tokens); the model's context is \(contextLength)")
        }
        let footprint = Footprint(request, adapter: adapter)
        guard footprint.needed <= cacheCapacity else {
            throw ServingError.exceedsCacheCapacity(needed: footprint.needed, capacity: cacheCapacity)
        }
        return (adapter, footprint)
    }

    /// Checks the prompt (non-empty, in the vocabulary), the instruction length and the sampling settings.
    private func checkPrompt(_ request: ServingRequest) throws {
        guard !request.prompt.isEmpty else { throw ModelError.invalidInput("a request needs a non-empty prompt") }
        if let bad = request.prompt.firstIndex(where: { !(0..<model.config.vocabSize).contains($0) }) {
            throw ModelError.invalidInput("prompt token \(request.prompt[bad]) at position \(bad) is outside the vocabulary of \(model.config.vocabSize)")
        }
        if let length = request.instructionLength, !(0...request.prompt.count).contains(length) {
            throw ModelError.invalidInput("the instruction length \(length) is outside 0...\(request.prompt.count) prompt tokens")
        }
        _ = try Sampler(request.options.sampling, seed: request.options.seed)
    }

    /// Generates for `request`, waiting for its turn in the batch.
    ///
    /// Cancelling the calling task takes the request out of the queue or out of the running batch
    /// at the next step (its cache returns to the pool) and throws `CancellationError`.
    /// - Parameter onToken: called with each generated token as soon as it is chosen, on the
    ///   engine's executor (keep it short: hand the token on, do not compute).
    /// - Throws: ``ServingError`` for an unknown adapter or a request that does not fit a cache;
    ///   ``ModelError`` for an invalid prompt or sampling settings; `CancellationError`.
    public func generate(_ request: ServingRequest, onToken: (@Sendable (Int) -> Void)? = nil) async throws -> ServingResult {
        try Task.checkCancellation()
        let (adapter, footprint) = try admissible(request)
        let submitted = Self.now()
        let id = nextRequestID
        nextRequestID += 1
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                waiting.append(Pending(
                    id: id, request: request, adapter: adapter, footprint: footprint, submitted: submitted,
                    onToken: onToken, continuation: continuation))
                if !isRunning {
                    isRunning = true
                    Task { await self.run() }
                }
            }
        } onCancel: {
            Task { await self.cancel(id) }
        }
    }

    /// The generated tokens of `request` as they are chosen; the stream ends after the last one and
    /// throws what ``generate(_:onToken:)`` throws. Ending the iteration early (or cancelling the
    /// iterating task) cancels the request.
    public nonisolated func stream(_ request: ServingRequest) -> AsyncThrowingStream<Int, any Error> {
        AsyncThrowingStream { continuation in
            let task = Task {
                do {
                    _ = try await self.generate(request) { continuation.yield($0) }
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: error)
                }
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }

    /// Takes request `id` out of the queue, or out of the batch (its cache is freed at the end of
    /// the current step), failing it with `CancellationError`; nothing if it has already finished.
    private func cancel(_ id: UInt64) {
        if let index = waiting.firstIndex(where: { $0.id == id }) {
            waiting.remove(at: index).continuation.resume(throwing: CancellationError())
        } else if let index = active.firstIndex(where: { $0.pending.id == id && !$0.isFinished }) {
            fail(index, CancellationError())
            deliverFinished()
        }
    }

    /// The batching loop: admit, decode one step, deliver, until no work is left. It starts by
    /// yielding once, so that requests submitted together (a burst from many tasks) are waiting by
    /// the first admission and share one prefill, rather than the first prefilling alone.
    private func run() async {
        await Task.yield()
        while !waiting.isEmpty || !active.isEmpty {
            admitWaiting()
            decodeActive()
            await Task.yield()
        }
        decodeRouter = ([], nil)
        isRunning = false
    }

    /// Prefills the waiting requests that fit, together in one left-padded batch, then gives each
    /// its own cache (a copy of its row) and its first token.
    private func admitWaiting() {
        // In order of arrival, every waiting request that still fits: a prefill batch is left-padded
        // to its longest prompt and widest prefix, and each row's cache must hold that plus its new
        // tokens. A request that does not fit this batch waits for the next (alone, it always fits).
        var group: [(pending: Pending, cache: KVCache)] = []
        var footprint = Footprint()
        var remaining: [Pending] = []
        for pending in waiting {
            let widened = footprint.joined(pending.footprint)
            guard active.count + group.count < maximumBatch, !freeCaches.isEmpty, widened.needed <= cacheCapacity else {
                remaining.append(pending)
                continue
            }
            footprint = widened
            group.append((pending, freeCaches.removeLast()))
        }
        waiting = remaining
        guard !group.isEmpty else { return }
        do {
            active += try prefill(group)
        } catch {
            // One bad request must not fail the others: alone, each gets its own outcome.
            for member in group {
                do {
                    guard group.count > 1 else { throw error }
                    active += try prefill([member])
                } catch {
                    member.cache.reset()
                    freeCaches.append(member.cache)
                    member.pending.continuation.resume(throwing: error)
                }
            }
        }
    }

    /// Routes row `r` to `adapters[r]` (none where `nil`), each distinct adapter once; `nil` when no
    /// row has an adapter.
    private static func router(for adapters: [(any Adapter)?]) throws -> AdapterRouter? {
        var distinct: [any Adapter] = []
        let assignment = adapters.map { adapter -> Int? in
            guard let adapter else { return nil }
            if let index = distinct.firstIndex(where: { $0 === adapter }) { return index }
            distinct.append(adapter)
            return distinct.count - 1
        }
        return distinct.isEmpty ? nil : try AdapterRouter(adapters: distinct, assignment: assignment)
    }

    /// Prefills `group` (whose joined footprint fits a cache: ``admitWaiting()`` made it so) in one
    /// left-padded batch and gives each member its cache and first token.
    private func prefill(_ group: [(pending: Pending, cache: KVCache)]) throws -> [Running] {
        let requests = group.map(\.pending.request)
        let hooks = try Self.router(for: group.map(\.pending.adapter))
        let batch = try TokenBatch(
            rows: requests.map(\.prompt), padding: .left,
            instructionLengths: requests.map { $0.instructionLength ?? $0.prompt.count })
        let filled = group.map(\.pending.footprint).reduce(Footprint()) { $0.joined($1) }.filled
        let shared = try KVCache(config: model.config, batch: group.count, capacity: filled)
        let logits = try Self.lastLogits(model, batch, hooks: hooks, cache: shared)
        let vocabulary = model.config.vocabSize
        let now = Self.now()
        let admitted = try group.enumerated().map { row, member in
            try shared.copyRow(row, into: member.cache)
            var sampler = try Sampler(member.pending.request.options.sampling, seed: member.pending.request.options.seed)
            let token = sampler.next(logits.scalars[(row * vocabulary)..<((row + 1) * vocabulary)])
            let options = member.pending.request.options
            return Running(
                pending: member.pending, cache: member.cache, sampler: sampler, generated: [token],
                firstTokenTime: now, nextToken: token,
                isFinished: options.stopTokens.contains(token) || options.maxNewTokens == 1)
        }
        // Announced only once the whole batch is admitted, so a retried prefill never repeats a token.
        for running in admitted { running.pending.onToken?(running.nextToken) }
        return admitted
    }

    /// One decoding step for every active row that is not finished, then delivers finished rows. If
    /// the step fails (a custom adapter that throws, say), each row is stepped again alone, so only
    /// the rows that fail on their own are failed.
    private func decodeActive() {
        let decoding = active.indices.filter { !active[$0].isFinished }
        if !decoding.isEmpty {
            do {
                try decode(decoding)
            } catch {
                for index in decoding {
                    do {
                        guard decoding.count > 1 else { throw error }
                        try decode([index])
                    } catch {
                        fail(index, error)
                    }
                }
            }
        }
        deliverFinished()
    }

    /// One decoding step for the active rows `indices`, routed to their adapters, and their next
    /// tokens. On error nothing has changed (``LlamaModel/decodeStep(tokens:caches:hooks:)`` leaves
    /// the caches as they were).
    private func decode(_ indices: [Int]) throws {
        let rows = indices.map { active[$0] }
        let ids = rows.map(\.pending.id)
        if ids != decodeRouter.ids { decodeRouter = (ids, try Self.router(for: rows.map(\.pending.adapter))) }
        let logits = try model.decodeStep(tokens: rows.map(\.nextToken), caches: rows.map(\.cache), hooks: decodeRouter.router)
        let vocabulary = model.config.vocabSize
        for (position, index) in indices.enumerated() {
            let token = active[index].sampler.next(logits.scalars[(position * vocabulary)..<((position + 1) * vocabulary)])
            active[index].generated.append(token)
            active[index].nextToken = token
            active[index].pending.onToken?(token)
            let options = active[index].pending.request.options
            active[index].isFinished = options.stopTokens.contains(token) || active[index].generated.count >= options.maxNewTokens
        }
    }

    private func fail(_ index: Int, _ error: any Error) {
        active[index].isFinished = true
        active[index].pending.continuation.resume(throwing: error)
        active[index].generated = []
    }

    private func deliverFinished() {
        let now = Self.now()
        var remaining: [Running] = []
        for row in active {
            guard row.isFinished else {
                remaining.append(row)
                continue
            }
            if !row.generated.isEmpty {
                row.pending.continuation.resume(returning: ServingResult(
                    tokens: row.generated, timeToFirstToken: row.firstTokenTime - row.pending.submitted,
                    totalTime: now - row.pending.submitted))
            }
            row.cache.reset()
            freeCaches.append(row.cache)
        }
        active = remaining
    }

    /// The last position's logits of `batch`, without gradients, filling `cache`.
    private static func lastLogits(
        _ model: LlamaModel, _ batch: TokenBatch, hooks: (any ForwardHooks)?, cache: KVCache
    ) throws -> Tensor {
        try GradientMode.withoutGradients { try model(batch, hooks: hooks, cache: cache, logits: .last).value }
    }

    private static func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }
}
