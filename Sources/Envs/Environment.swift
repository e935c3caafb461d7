/// A Gymnasium-shaped environment: seeded `reset`, `step` with separate `terminated`
/// and `truncated`, and a fast path that writes into caller-provided buffers.
///
/// Every bundled env (locomotion, maze, kitchen) conforms. The fast path
/// (`reset(seed:observation:)`, `step(action:observation:)`) performs no allocation per
/// step; the array API in the extension below is a convenience built on it.
///
/// Environments themselves never truncate: the time limit lives in the ``EnvSpec`` and is
/// applied by ``TimeLimit`` (which ``EnvRegistry/make(_:)`` wraps every env in).
public protocol Environment: AnyObject {
    /// The registered id (for example `hopper`).
    var id: EnvID { get }
    /// Observation bounds and shape (float32 vectors).
    var observationSpace: Box { get }
    /// Action bounds and shape; always `[-1, 1]^n`.
    var actionSpace: Box { get }

    /// Starts a new episode and writes the first observation into `observation`.
    ///
    /// A non-nil `seed` re-seeds the env's generator (Gymnasium semantics); `nil` draws the
    /// episode's seed from the generator seeded at the previous seeded reset.
    func reset(seed: UInt64?, observation: UnsafeMutablePointer<Float>)

    /// Advances one control step with `action` (`actionSpace.dimension` floats).
    ///
    /// Entries outside `[-1, 1]` are clipped; a NaN entry throws ``EnvError/nanAction(index:)``
    /// and leaves the env unchanged.
    func step(action: UnsafePointer<Float>, observation: UnsafeMutablePointer<Float>) throws(EnvError) -> StepOutcome

    /// Diagnostic values of the last reset or step (Gymnasium's `info` dict).
    func info() -> EnvInfo

    /// Everything needed to put an env of this id back into its current state.
    func snapshot() -> EnvSnapshot
    /// Puts the env into the state recorded by `snapshot` (see ``EnvSnapshot`` for how).
    func restore(_ snapshot: EnvSnapshot) throws(EnvError)
}

/// Reward and episode-end flags of one step; the observation went to the caller's buffer.
public struct StepOutcome: Sendable, Equatable {
    public var reward: Float
    /// The MDP reached a terminal state (do not bootstrap).
    public var terminated: Bool
    /// An outside cut such as the time limit (do bootstrap).
    public var truncated: Bool
    public init(reward: Float, terminated: Bool, truncated: Bool) {
        self.reward = reward; self.terminated = terminated; self.truncated = truncated
    }
    /// Either flag: the episode is over and the env must be reset.
    @inlinable public var done: Bool { terminated || truncated }
}

/// Named diagnostic values (Gymnasium's `info`), built only when asked for.
public struct EnvInfo: Sendable, Equatable, CustomStringConvertible {
    public var entries: [(key: String, value: Double)]
    public init(_ entries: [(key: String, value: Double)] = []) { self.entries = entries }
    public subscript(key: String) -> Double? { entries.first { $0.key == key }?.value }
    public static func == (a: EnvInfo, b: EnvInfo) -> Bool {
        a.entries.count == b.entries.count && zip(a.entries, b.entries).allSatisfy { $0.key == $1.key && $0.value == $1.value }
    }
    public var description: String { "{" + entries.map { "\($0.key): \($0.value)" }.joined(separator: ", ") + "}" }
}

/// Errors raised by environments and the registry.
public enum EnvError: Error, Equatable, CustomStringConvertible {
    /// The action holds NaN at `index`; nothing was simulated.
    case nanAction(index: Int)
    /// The action has the wrong number of entries.
    case wrongActionSize(expected: Int, got: Int)
    /// No env is registered under this id.
    case unknownEnv(String)
    /// A snapshot from another env id or an incompatible version.
    case incompatibleSnapshot(String)
    /// `step` was called before the first `reset`.
    case notReset

    public var description: String {
        switch self {
        case .nanAction(let i): return "action[\(i)] is NaN; actions must be numbers (values outside [-1, 1] are clipped)"
        case .wrongActionSize(let e, let g): return "action has \(g) entries, expected \(e)"
        case .unknownEnv(let id):
            return "unknown environment '\(id)'; registered: \(EnvRegistry.all.map(\.id.rawValue).joined(separator: ", "))"
        case .incompatibleSnapshot(let why): return "snapshot cannot be restored: \(why)"
        case .notReset: return "step called before reset"
        }
    }
}

/// A restorable env state: the episode's seed plus the clipped actions taken since reset.
///
/// Box2D keeps solver caches (contact manifolds with warm-starting impulses, joint impulse
/// accumulators, broad-phase fat AABBs, contact list order) that its API does not let us
/// read or write, so copying body poses and velocities alone would not restore a bit-exact
/// state. Restoring therefore rebuilds the world from the seed and replays the actions,
/// which is bit-exact and costs O(steps since reset).
public struct EnvSnapshot: Sendable, Equatable {
    public var id: EnvID
    /// Seed of the episode (the effective seed when the reset passed `nil`).
    public var episodeSeed: UInt64
    /// Generator state after the reset (so later unseeded resets continue identically).
    public var generatorState: UInt64
    /// Clipped actions since reset, `actionDimension` floats per step.
    public var actions: [Float]
    public var actionDimension: Int
    public var steps: Int { actionDimension == 0 ? 0 : actions.count / actionDimension }
    public init(id: EnvID, episodeSeed: UInt64, generatorState: UInt64, actions: [Float], actionDimension: Int) {
        self.id = id; self.episodeSeed = episodeSeed; self.generatorState = generatorState
        self.actions = actions; self.actionDimension = actionDimension
    }
}

extension Environment {
    /// Gymnasium-style reset returning a fresh observation array and the info.
    public func reset(seed: UInt64? = nil) -> (observation: [Float], info: EnvInfo) {
        let obs = [Float](unsafeUninitializedCapacity: observationSpace.dimension) { buf, n in
            reset(seed: seed, observation: buf.baseAddress!)
            n = buf.count
        }
        return (obs, info())
    }

    /// Gymnasium-style step on arrays (allocates; rollout workers use the pointer API).
    public func step(_ action: [Float]) throws(EnvError)
        -> (observation: [Float], reward: Float, terminated: Bool, truncated: Bool, info: EnvInfo) {
        guard action.count == actionSpace.dimension else {
            throw .wrongActionSize(expected: actionSpace.dimension, got: action.count)
        }
        var obs = [Float](repeating: 0, count: observationSpace.dimension)
        var outcome = StepOutcome(reward: 0, terminated: false, truncated: false)
        var failure: EnvError?
        action.withUnsafeBufferPointer { a in
            obs.withUnsafeMutableBufferPointer { o in
                do throws(EnvError) { outcome = try step(action: a.baseAddress!, observation: o.baseAddress!) } catch { failure = error }
            }
        }
        if let failure { throw failure }
        return (obs, outcome.reward, outcome.terminated, outcome.truncated, info())
    }
}

extension EnvSnapshot {
    /// Throws unless this snapshot was taken from env `id` with `dimension`-sized actions.
    public func check(id expected: EnvID, actionDimension dimension: Int) throws(EnvError) {
        guard id == expected else { throw .incompatibleSnapshot("it is for '\(id)', this env is '\(expected)'") }
        guard actionDimension == dimension, actions.count % dimension == 0 else {
            throw .incompatibleSnapshot("action dimension \(actionDimension), expected \(dimension)")
        }
    }

    /// Feeds the recorded actions, in order, to `step` (an env's own step after its reset).
    public func replay(observationDimension: Int,
                       _ step: (UnsafePointer<Float>, UnsafeMutablePointer<Float>) throws(EnvError) -> StepOutcome) {
        let obs = UnsafeMutablePointer<Float>.allocate(capacity: observationDimension)
        defer { obs.deallocate() }
        actions.withUnsafeBufferPointer { a in
            for t in 0..<steps { _ = try? step(a.baseAddress! + t * actionDimension, obs) }
        }
    }
}
