import Physics

extension EnvID {
    public static let mazeUmaze: EnvID = "maze-umaze"
    public static let mazeMedium: EnvID = "maze-medium"
    public static let mazeLarge: EnvID = "maze-large"
}

/// Physical constants of the differential-drive rover of the maze envs.
///
/// A disc-shaped robot (like a vacuum robot) with two driven wheels on its lateral axis.
/// Each wheel pushes with `action × maxWheelForce` along the heading at ±`halfTrack` from
/// the centre; tyres do not slip sideways (the lateral velocity is cancelled by an impulse
/// at every sub-step, as in Box2D's top-down car demo) and floor friction is linear and
/// angular damping. Full forward on both wheels gives `topSpeed`; opposite full actions
/// spin in place at `topTurnRate`.
public struct RoverModel: Sendable, Equatable {
    /// Body radius (m).
    public var radius: Float = 0.5
    /// Distance from the centre to each wheel (m).
    public var halfTrack: Float = 0.4
    public var mass: Float = 10
    /// Terminal forward speed with both wheels at +1 (m/s).
    public var topSpeed: Float = 1.2
    /// Terminal turn rate with wheels at ∓1 (rad/s).
    public var topTurnRate: Float = 2.5
    /// Linear floor damping (1/s): time constant of speed changes is 1/linearDamping.
    public var linearDamping: Float = 2
    /// Seconds per env step. v1 used D4RL antmaze's 0.1 s; v2 uses 0.25 s so that the
    /// planner's path from start to goal takes about 80 / 130 / 180 steps (umaze / medium /
    /// large) instead of 200 / 320 / 460. D4RL's antmaze horizons suit its 1M-step protocol
    /// (arXiv 2004.07219, Sec. 5): at the stand-ins' 50k steps, IQL's sparse-reward values had
    /// not propagated from the goal to the start on v1 (0 % success, values near −58 of −96).
    public var controlPeriod: Float = 0.25
    /// Box2D sub-steps per env step (0.025 s each, as in v1).
    public var substeps: Int = 10

    public init() {}

    /// Rotational inertia of the uniform disc (kg·m²).
    public var inertia: Float { 0.5 * mass * radius * radius }
    /// Force of one wheel at action 1 (N): two wheels balance damping at `topSpeed`.
    public var maxWheelForce: Float { mass * linearDamping * topSpeed / 2 }
    /// Angular damping (1/s) that makes `topTurnRate` the terminal spin rate.
    public var angularDamping: Float { 2 * maxWheelForce * halfTrack / (inertia * topTurnRate) }
}

/// What the maze env does at reset and on reaching the goal; the default is evaluation.
///
/// Data collection changes these between episodes (commanded goals, random starts, no
/// termination at the goal); the env reads them at every reset.
public struct MazeOptions: Sendable, Equatable {
    /// Goal cell; nil = the layout's evaluation goal `G`.
    public var goalCell: MazeCell?
    /// Half-width (m) of the uniform noise added to the goal cell's centre on each axis.
    public var goalNoise: Float = 0.25
    /// Success radius around the goal point (m), as D4RL's 0.5.
    public var goalRadius: Float = 0.5
    /// Start cell; nil = the layout's `S`.
    public var startCell: MazeCell?
    /// Half-width (m) of the uniform noise on the start position (each axis).
    public var startNoise: Float = 0.1
    /// Heading at the start (rad, 0 = +x) and the half-width of its uniform noise.
    public var startHeading: Float = 0
    public var startHeadingNoise: Float = 0.1
    /// End the episode (terminated) on the first step within `goalRadius` of the goal.
    public var terminateOnSuccess = true
    /// With `terminateOnSuccess` off: cut the episode there instead (truncated, so values still
    /// bootstrap), for data collection in legs that end on arrival.
    public var truncateOnSuccess = false

    public init(goalCell: MazeCell? = nil, startCell: MazeCell? = nil, terminateOnSuccess: Bool = true) {
        self.goalCell = goalCell; self.startCell = startCell; self.terminateOnSuccess = terminateOnSuccess
    }

    /// The registered evaluation configuration.
    public static let evaluation = MazeOptions()
}

/// `maze-{umaze,medium,large}` (env v3): a differential-drive rover in a D4RL antmaze grid that
/// must reach the goal cell; the goal is not observed (as in antmaze).
///
/// Top-down Box2D world (no gravity): walls are static boxes (4 m cells, coordinates as in
/// ``MazeLayout``: start-cell centre at the origin, x = column, y = row), the rover is a
/// disc of radius 0.5 m (``RoverModel``).
///
/// ## Action space
/// `Box(-1, 1, (2,))`: left and right wheel force, × 12 N each (`RoverModel.maxWheelForce`).
/// Both at +1 drive forward at 1.2 m/s, opposite signs spin in place. Values outside
/// [-1, 1] are clipped; NaN throws.
///
/// ## Observation space
/// 17 float32 values:
/// - 0, 1: x, y of the rover centre (m; bounded by the grid)
/// - 2, 3: cos θ, sin θ of the heading θ (counter-clockwise from +x)
/// - 4, 5: vx, vy (m/s, world frame)
/// - 6: ω, turn rate (rad/s, counter-clockwise)
/// - 7, 8: left and right wheel ground speed (m/s): v_forward ∓ ω·halfTrack
/// - 9 … 16: wall ranges (m): the distance from the rover centre to the nearest wall along
///   8 rays at θ + k·45° (k = 0 … 7; 0 straight ahead, 2 to the left), at most 4 m (one
///   cell). A rover touching a wall reads 0.5 m (its radius) on the ray into it.
///
/// ## Rewards
/// Sparse: 1 when the rover centre is within 0.5 m of the goal point, else 0.
///
/// ## Starting state
/// Centre of the start cell `S` plus uniform noise in ±0.1 m per axis, heading 0 (+x)
/// ± 0.1 rad, at rest. The goal point is the centre of `G` plus uniform noise in ±0.25 m
/// per axis (so the cell centre is always within the success radius), both drawn from the
/// episode seed. ``MazeOptions`` changes start, goal and noise for data collection.
///
/// ## Episode end
/// Terminates on the first step within the goal radius (evaluation; the return is 0 or 1
/// and the normalised score is the success rate); `terminateOnSuccess = false` keeps going
/// and pays 1 on every step at the goal (maze2d style). Truncated by the spec after 280
/// steps (umaze) or 400 (medium, large), 0.25 s each (v1: 700 and 1000 steps of 0.1 s).
///
/// ## Info
/// `success` (1 once the goal radius was reached this episode), `distance_to_goal`,
/// `x`, `y`, `goal_x`, `goal_y`, `goal_row`, `goal_col`.
///
/// ## Physics
/// Box2D 2.4.1, 4 sub-steps of 25 ms per step, rover–wall friction 0.3, no restitution.
///
/// ## Version history
/// - v1: first release (0.1 s steps).
/// - v2: 0.25 s steps.
/// - v3: wall ranges (observation 9 … 16). Learned policies that met a wall stayed pinned
///   against it, since nothing they observed told a wall from open floor; with the ranges
///   IQL reaches G from every start on maze-medium-diverse where it scored 0, 20 and 24
///   (results/mazes-v8.md). Dynamics, rewards and the first 9 values are v2's.
public final class MazeEnv: Environment {
    /// Wall-range rays appended to the observation, and their reach (m).
    public static let wallRays = 8
    public static let wallRange: Float = 4
    public static let observationDimension = 9 + wallRays
    public static let actionDimension = 2

    public let id: EnvID
    public let layout: MazeLayout
    public let rover: RoverModel
    /// Start/goal/termination configuration read at every reset.
    public var options: MazeOptions
    public let observationSpace: Box
    public let actionSpace = Box.unitCube(2)

    /// Current goal point (m) and its cell.
    public private(set) var goal = SIMD2<Float>(0, 0)
    public private(set) var goalCell: MazeCell

    private var world = World(gravity: (0, 0))
    private var body = BodyID(raw: 0)
    private let substepDt: Float
    private let maxForce: Float

    private var rng = SeededRNG(seed: 0)
    private var episodeSeed: UInt64 = 0
    private var generatorStateAfterReset: UInt64 = 0
    private var actionLog: [Float] = []
    private var hasReset = false

    private var state = BodyState(x: 0, y: 0, angle: 0, vx: 0, vy: 0, omega: 0)
    private var reachedGoal = false

    public init(id: EnvID, layout: MazeLayout, rover: RoverModel = RoverModel(), options: MazeOptions = .evaluation) {
        self.id = id; self.layout = layout; self.rover = rover; self.options = options
        let b = layout.bounds
        let inf = Float.infinity
        observationSpace = Box(low: [b.min.x, b.min.y, -1, -1, -inf, -inf, -inf, -inf, -inf] + Array(repeating: 0, count: Self.wallRays),
                               high: [b.max.x, b.max.y, 1, 1, inf, inf, inf, inf, inf] + Array(repeating: Self.wallRange, count: Self.wallRays))
        substepDt = rover.controlPeriod / Float(rover.substeps)
        maxForce = rover.maxWheelForce
        goalCell = layout.goal
        goal = layout.center(of: layout.goal)
        actionLog.reserveCapacity(1000 * 2)
        build(start: layout.center(of: layout.start), heading: 0)
    }

    // MARK: Physics construction

    /// Builds a fresh world: one static body carrying the merged wall boxes, and the rover.
    private func build(start: SIMD2<Float>, heading: Float) {
        let w = World(gravity: (0, 0))
        w.setAllowSleeping(false)
        w.setContinuousPhysics(false)
        let walls = try! w.createBody(.staticBody, x: 0, y: 0)
        for r in layout.wallRectangles() {
            try! w.addBox(walls, halfWidth: r.halfExtents.x, halfHeight: r.halfExtents.y, center: (r.center.x, r.center.y),
                          material: Material(density: 0, friction: 0.3))
        }
        let b = try! w.createBody(.dynamic, x: start.x, y: start.y, angle: heading)
        let area = Float.pi * rover.radius * rover.radius
        try! w.addCircle(b, radius: rover.radius, material: Material(density: rover.mass / area, friction: 0.3))
        w.setDamping(b, linear: rover.linearDamping, angular: rover.angularDamping)
        world = w
        body = b
    }

    // MARK: Environment

    public func reset(seed: UInt64?, observation: UnsafeMutablePointer<Float>) {
        if let seed { rng = SeededRNG(seed: seed) }
        episodeSeed = rng.next()
        generatorStateAfterReset = rng.state
        start(observation: observation)
    }

    private func start(observation: UnsafeMutablePointer<Float>) {
        actionLog.removeAll(keepingCapacity: true)
        var g = SeededRNG(seed: episodeSeed)
        let o = options
        let startCell = o.startCell ?? layout.start
        precondition(!layout.isWall(startCell), "maze start cell \(startCell) is a wall")
        let gCell = o.goalCell ?? layout.goal
        precondition(!layout.isWall(gCell), "maze goal cell \(gCell) is a wall")
        func u(_ h: Float) -> Float { Float(g.uniform(-Double(h), Double(h))) }
        let p = layout.center(of: startCell) + SIMD2(u(o.startNoise), u(o.startNoise))
        let heading = o.startHeading + u(o.startHeadingNoise)
        goalCell = gCell
        goal = layout.center(of: gCell) + SIMD2(u(o.goalNoise), u(o.goalNoise))
        build(start: p, heading: heading)
        state = world.state(body)
        reachedGoal = distanceToGoal <= o.goalRadius
        writeObservation(observation)
        hasReset = true
    }

    public func step(action: UnsafePointer<Float>, observation: UnsafeMutablePointer<Float>) throws(EnvError) -> StepOutcome {
        guard hasReset else { throw .notReset }
        if action[0].isNaN { throw .nanAction(index: 0) }
        if action[1].isNaN { throw .nanAction(index: 1) }
        let left = min(max(action[0], -1), 1), right = min(max(action[1], -1), 1)
        actionLog.append(left); actionLog.append(right)
        simulate(left: left, right: right)
        state = world.state(body)
        writeObservation(observation)
        let success = distanceToGoal <= options.goalRadius
        if success { reachedGoal = true }
        return StepOutcome(reward: success ? 1 : 0, terminated: success && options.terminateOnSuccess,
                           truncated: success && options.truncateOnSuccess && !options.terminateOnSuccess)
    }

    /// Runs the sub-steps of one control period: wheel forces, lateral tyre grip, Box2D step.
    @inline(__always)
    private func simulate(left: Float, right: Float) {
        let w = world, b = body
        let force = (left + right) * maxForce
        let torque = (right - left) * maxForce * rover.halfTrack
        let m = rover.mass
        for _ in 0..<rover.substeps {
            let s = w.state(b)
            let c = cosf(s.angle), sn = sinf(s.angle)
            // Lateral (body-y) velocity is removed: the tyres do not slide sideways.
            let lateral = -sn * s.vx + c * s.vy
            w.applyLinearImpulse(b, m * lateral * sn, -m * lateral * c, at: (s.x, s.y))
            w.applyForceToCenter(b, force * c, force * sn)
            w.applyTorque(b, torque)
            w.step(substepDt, velocityIterations: 6, positionIterations: 2)
        }
    }

    private func writeObservation(_ o: UnsafeMutablePointer<Float>) {
        let c = cosf(state.angle), s = sinf(state.angle)
        let forward = c * state.vx + s * state.vy
        o[0] = state.x; o[1] = state.y; o[2] = c; o[3] = s
        o[4] = state.vx; o[5] = state.vy; o[6] = state.omega
        o[7] = forward - state.omega * rover.halfTrack
        o[8] = forward + state.omega * rover.halfTrack
        let p = SIMD2(state.x, state.y)
        for k in 0..<Self.wallRays {
            let a = state.angle + Float(k) * (2 * .pi / Float(Self.wallRays))
            o[9 + k] = layout.rayDistance(from: p, direction: SIMD2(cosf(a), sinf(a)), maxRange: Self.wallRange)
        }
    }

    private var distanceToGoal: Float {
        let dx = state.x - goal.x, dy = state.y - goal.y
        return (dx * dx + dy * dy).squareRoot()
    }

    public func info() -> EnvInfo {
        EnvInfo([
            ("success", reachedGoal ? 1 : 0), ("distance_to_goal", Double(distanceToGoal)),
            ("x", Double(state.x)), ("y", Double(state.y)),
            ("goal_x", Double(goal.x)), ("goal_y", Double(goal.y)),
            ("goal_row", Double(goalCell.row)), ("goal_col", Double(goalCell.col)),
        ])
    }

    /// Moves the goal now (for data collection that re-targets mid-episode): the point is
    /// the cell's centre plus `offset`. `success` stays 1 if an earlier goal was reached.
    /// Not recorded in snapshots (the goal does not affect the dynamics, so restored states
    /// are still exact).
    public func setGoal(cell: MazeCell, offset: SIMD2<Float> = .zero) {
        precondition(!layout.isWall(cell), "maze goal cell \(cell) is a wall")
        goalCell = cell
        goal = layout.center(of: cell) + offset
        reachedGoal = reachedGoal || distanceToGoal <= options.goalRadius
    }

    public func snapshot() -> EnvSnapshot {
        EnvSnapshot(id: id, episodeSeed: episodeSeed, generatorState: generatorStateAfterReset,
                    actions: actionLog, actionDimension: 2)
    }

    /// Replays the snapshot's actions from its seed under the env's current ``options``.
    public func restore(_ snapshot: EnvSnapshot) throws(EnvError) {
        try snapshot.check(id: id, actionDimension: 2)
        episodeSeed = snapshot.episodeSeed
        rng.state = snapshot.generatorState
        generatorStateAfterReset = snapshot.generatorState
        let obs = UnsafeMutablePointer<Float>.allocate(capacity: Self.observationDimension)
        defer { obs.deallocate() }
        start(observation: obs)
        snapshot.replay(observationDimension: Self.observationDimension) { a, o throws(EnvError) in try step(action: a, observation: o) }
    }

    // MARK: Read-outs for policies, renderers and tests

    /// Rover centre (m).
    public var position: SIMD2<Float> { SIMD2(state.x, state.y) }
    /// Rover heading (rad, counter-clockwise from +x).
    public var heading: Float { state.angle }
    /// Whether the goal radius was reached during this episode.
    public var succeeded: Bool { reachedGoal }
}

/// Registered specs of the three maze envs.
public enum Maze {
    /// Builds the spec of one maze. `maxEpisodeSteps` keeps D4RL antmaze's time limits in
    /// seconds (70 s umaze, 100 s otherwise; 700 and 1000 steps of 0.1 s) at v2's 0.25 s steps.
    static func spec(_ id: EnvID, _ layout: MazeLayout, steps: Int, summary: String) -> EnvSpec {
        EnvSpec(id: id, version: 3, domain: .maze, observationDimension: MazeEnv.observationDimension,
                actionDimension: MazeEnv.actionDimension, maxEpisodeSteps: steps,
                controlPeriod: Double(RoverModel().controlPeriod), summary: summary,
                makeBare: { MazeEnv(id: id, layout: layout) })
    }

    public static let umaze = spec(.mazeUmaze, .umaze, steps: 280,
                                   summary: "differential-drive rover in D4RL's U-maze (5x5 cells of 4 m); sparse goal reward")
    public static let medium = spec(.mazeMedium, .medium, steps: 400,
                                    summary: "differential-drive rover in D4RL's medium maze (8x8); sparse goal reward")
    public static let large = spec(.mazeLarge, .large, steps: 400,
                                   summary: "differential-drive rover in D4RL's large maze (9x12); sparse goal reward")
    /// The three maze specs in listing order.
    public static let specs = [umaze, medium, large]

    /// The layout registered under a maze env id, or nil for other ids.
    public static func layout(for id: EnvID) -> MazeLayout? {
        switch id {
        case .mazeUmaze: return .umaze
        case .mazeMedium: return .medium
        case .mazeLarge: return .large
        default: return nil
        }
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Randomness
