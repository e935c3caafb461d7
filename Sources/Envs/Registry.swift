/// A registered environment id such as `hopper` (typed, so no code branches on strings).
public struct EnvID: RawRepresentable, Hashable, Sendable, CustomStringConvertible, ExpressibleByStringLiteral {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public init(stringLiteral value: String) { self.rawValue = value }
    public var description: String { rawValue }

    public static let hopper: EnvID = "hopper"
    public static let walker2d: EnvID = "walker2d"
    public static let halfcheetah: EnvID = "halfcheetah"
}

/// Which family an env belongs to (decides dataset variants and scoring).
public enum EnvDomain: String, Sendable {
    case locomotion, maze, manipulation
}

/// Reference returns for D4RL-style normalised scores: 100 × (R − random) / (expert − random).
public struct ReferenceScores: Sendable, Equatable {
    /// Mean return of uniform random actions (100 seeded episodes).
    public var random: Double
    /// Mean return of the committed expert behaviour policy (100 seeded episodes).
    public var expert: Double
    public init(random: Double, expert: Double) { self.random = random; self.expert = expert }
    /// The normalised score of a return `r`.
    public func normalized(_ r: Double) -> Double { 100 * (r - random) / (expert - random) }
}

/// Everything registered about an env: id, shapes, time limit, reference scores, factory.
public struct EnvSpec: Sendable {
    public let id: EnvID
    /// Version of the env's dynamics/reward definition (part of dataset names: `-v1`).
    public let version: Int
    public let domain: EnvDomain
    public let observationDimension: Int
    public let actionDimension: Int
    /// Episodes are truncated after this many steps (by ``TimeLimit``, not by the env).
    public let maxEpisodeSteps: Int
    /// Seconds of simulated time per step.
    public let controlPeriod: Double
    /// R_random and R_expert; nil until measured for this version.
    public var referenceScores: ReferenceScores?
    /// One-line description for listings.
    public let summary: String
    /// Builds the bare env (no time limit).
    public let makeBare: @Sendable () -> any Environment

    public init(id: EnvID, version: Int, domain: EnvDomain, observationDimension: Int, actionDimension: Int,
                maxEpisodeSteps: Int, controlPeriod: Double, referenceScores: ReferenceScores? = nil,
                summary: String, makeBare: @escaping @Sendable () -> any Environment) {
        self.id = id; self.version = version; self.domain = domain
        self.observationDimension = observationDimension; self.actionDimension = actionDimension
        self.maxEpisodeSteps = maxEpisodeSteps; self.controlPeriod = controlPeriod
        self.referenceScores = referenceScores; self.summary = summary; self.makeBare = makeBare
    }

    /// Builds the env wrapped in its time limit.
    public func make() -> TimeLimit { TimeLimit(makeBare(), maxEpisodeSteps: maxEpisodeSteps) }
}

/// The registry of bundled environments.
public enum EnvRegistry {
    /// Every registered spec, in listing order.
    public static let all: [EnvSpec] = [Hopper.spec, Walker2d.spec, HalfCheetah.spec] + Maze.specs + [Kitchen.spec, Kitchen.mixedSpec]

    /// The spec registered under `id`.
    public static func spec(_ id: EnvID) throws(EnvError) -> EnvSpec {
        guard let s = all.first(where: { $0.id == id }) else { throw .unknownEnv(id.rawValue) }
        return s
    }

    /// A new env with its spec's time limit.
    public static func make(_ id: EnvID) throws(EnvError) -> TimeLimit { try spec(id).make() }
}

extension Environment {
    /// The env inside a ``TimeLimit``, or the env itself.
    public var unwrapped: any Environment { (self as? TimeLimit)?.inner ?? self }
}

/// Applies a spec's time limit: sets `truncated` once `maxEpisodeSteps` steps have elapsed
/// (and the episode did not terminate on that step), like Gymnasium's `TimeLimit`.
public final class TimeLimit: Environment {
    /// The wrapped env (never truncates by itself).
    public let inner: any Environment
    public let maxEpisodeSteps: Int
    /// Steps taken since the last reset.
    public private(set) var elapsedSteps = 0

    public init(_ inner: any Environment, maxEpisodeSteps: Int) {
        precondition(maxEpisodeSteps > 0, "maxEpisodeSteps must be positive")
        self.inner = inner; self.maxEpisodeSteps = maxEpisodeSteps
    }

    public var id: EnvID { inner.id }
    public var observationSpace: Box { inner.observationSpace }
    public var actionSpace: Box { inner.actionSpace }

    public func reset(seed: UInt64?, observation: UnsafeMutablePointer<Float>) {
        elapsedSteps = 0
        inner.reset(seed: seed, observation: observation)
    }

    public func step(action: UnsafePointer<Float>, observation: UnsafeMutablePointer<Float>) throws(EnvError) -> StepOutcome {
        var out = try inner.step(action: action, observation: observation)
        elapsedSteps += 1
        if elapsedSteps >= maxEpisodeSteps { out.truncated = true }
        return out
    }

    public func info() -> EnvInfo { inner.info() }
    public func snapshot() -> EnvSnapshot { inner.snapshot() }
    public func restore(_ snapshot: EnvSnapshot) throws(EnvError) {
        try inner.restore(snapshot)
        elapsedSteps = snapshot.steps
    }
}
