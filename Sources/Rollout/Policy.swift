import Envs
import OFQL
import Randomness

/// A policy that acts on a batch of observations at once, as rollout workers need.
///
/// Each worker owns a private copy (``makeWorkerCopy()``) with its own scratch buffers, so
/// `act` never shares mutable state across threads. Row `i` draws its noise from `rngs[i]`,
/// the generator of the episode in that row, so an episode's actions do not depend on which
/// other episodes share its batch. Stateful controllers (waypoint planners) keep per-lane
/// state: `lanes[i]` says which of the worker's envs row `i` belongs to, and
/// ``beginEpisode(lane:episode:seed:env:)`` announces each new episode on a lane (before the
/// env is reset, so a controller may also command the env, e.g. set a maze goal).
public protocol BatchPolicy: AnyObject {
    /// A short name for reports ("random", "expert", "checkpoint:…").
    var name: String { get }
    var observationDimension: Int { get }
    var actionDimension: Int { get }
    /// A copy for one worker; it may share read-only weights but not scratch space.
    func makeWorkerCopy() -> BatchPolicy
    /// Called before lane `lane` resets for episode `episode` (seed `seed`).
    func beginEpisode(lane: Int, episode: Int, seed: UInt64, env: any Environment)
    /// Writes `count` actions (row-major, `actionDimension` each, inside [-1, 1]).
    func act(observations: UnsafePointer<Float>, count: Int, lanes: UnsafePointer<Int>,
             actions: UnsafeMutablePointer<Float>, rngs: UnsafeMutablePointer<Xoshiro>)
}

extension BatchPolicy {
    public func beginEpisode(lane: Int, episode: Int, seed: UInt64, env: any Environment) {}
}

/// Uniform random actions in [-1, 1] (D4RL's REF_MIN policy).
public final class RandomPolicy: BatchPolicy {
    public let observationDimension: Int
    public let actionDimension: Int
    public var name: String { "random" }
    public init(observationDimension: Int, actionDimension: Int) {
        self.observationDimension = observationDimension; self.actionDimension = actionDimension
    }
    public func makeWorkerCopy() -> BatchPolicy { RandomPolicy(observationDimension: observationDimension, actionDimension: actionDimension) }
    public func act(observations: UnsafePointer<Float>, count: Int, lanes: UnsafePointer<Int>,
                    actions: UnsafeMutablePointer<Float>, rngs: UnsafeMutablePointer<Xoshiro>) {
        for r in 0..<count {
            for j in 0..<actionDimension { actions[r * actionDimension + j] = Float(rngs[r].uniform() * 2 - 1) }
        }
    }
}

/// Runs `inner` with every maze episode starting in `cell` instead of `S` (same start noise and
/// heading), to see from where a policy reaches the goal: `evaluate --start-cell`.
public final class MazeStartPolicy: BatchPolicy {
    public let inner: BatchPolicy
    public let cell: MazeCell
    public var name: String { "\(inner.name) from (\(cell.row), \(cell.col))" }
    public var observationDimension: Int { inner.observationDimension }
    public var actionDimension: Int { inner.actionDimension }

    /// Throws unless `spec` is a maze whose layout has `cell` free.
    public init(_ inner: BatchPolicy, cell: MazeCell, spec: EnvSpec) throws(RolloutError) {
        guard let layout = Maze.layout(for: spec.id) else { throw .invalid("\(spec.id) is not a maze") }
        guard !layout.isWall(cell) else {   // cells outside the grid count as walls
            throw .invalid("cell (\(cell.row), \(cell.col)) is not a free cell of \(spec.id) (\(layout.height) rows × \(layout.width) columns)")
        }
        self.inner = inner; self.cell = cell
    }

    private init(copying other: MazeStartPolicy) {
        inner = other.inner.makeWorkerCopy(); cell = other.cell
    }

    public func makeWorkerCopy() -> BatchPolicy { MazeStartPolicy(copying: self) }

    public func beginEpisode(lane: Int, episode: Int, seed: UInt64, env: any Environment) {
        inner.beginEpisode(lane: lane, episode: episode, seed: seed, env: env)   // a planner may set the options first
        if let maze = env.unwrapped as? MazeEnv { maze.options.startCell = cell }
    }

    public func act(observations: UnsafePointer<Float>, count: Int, lanes: UnsafePointer<Int>,
                    actions: UnsafeMutablePointer<Float>, rngs: UnsafeMutablePointer<Xoshiro>) {
        inner.act(observations: observations, count: count, lanes: lanes, actions: actions, rngs: rngs)
    }
}
