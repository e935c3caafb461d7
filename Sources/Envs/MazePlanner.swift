/// The maze behaviour policy: BFS over free cells → waypoints (cell centres) → pure-pursuit
/// steering (PD on heading, speed control) → seeded Gaussian action noise.
///
/// It acts from the maze observation (position, heading, velocities) plus its commanded goal;
/// the only per-episode state is cached, so ``reset()`` is cheap and ``act(observation:action:rng:)``
/// allocates nothing. Changing the goal (``setGoal(cell:point:)``) re-runs the BFS (allocates).
///
/// Steering: the target is a point `lookahead` metres ahead along the polyline of cell
/// centres from the rover's cell towards the goal (the goal point itself inside the goal
/// cell); the heading error drives the turn rate, the forward speed falls with the heading
/// error and near the goal; the wheel commands are feed-forward from the rover's damping
/// plus proportional feedback on the measured forward speed and turn rate.
public final class MazePlanner {
    public let layout: MazeLayout
    public let rover: RoverModel
    /// Standard deviation of the Gaussian noise added to each wheel command (then clipped).
    public var noise: Float
    /// Current commanded goal cell and point.
    public private(set) var goalCell: MazeCell
    public private(set) var goalPoint: SIMD2<Float>

    /// Pure-pursuit look-ahead along the path (m).
    public var lookahead: Float = 2.0
    /// Cruise speed (m/s) and the distance over which it ramps down at the goal (m).
    public var cruiseSpeed: Float = 1.15
    public var slowRadius: Float = 1.2
    /// Whether the speed ramps down within `slowRadius` of the goal; off, the rover drives
    /// through the goal at cruise speed (collection legs that end on arrival).
    public var brakesAtGoal = true
    /// Heading gain (1/s) and the turn-rate cap (rad/s).
    public var headingGain: Float = 3
    public var maxTurnRate: Float = 2.2
    /// Feedback gains on forward-speed and turn-rate errors (action per m/s, per rad/s).
    public var speedGain: Float = 1.0
    public var turnGain: Float = 0.3
    /// Within this distance of the goal point the planner brakes and holds still (m).
    public var holdRadius: Float = 0.1

    /// Next cell towards the goal for every cell (row-major index), -1 for the goal/walls.
    private var nextCell: [Int32]

    /// Plans towards `goalCell` (default: the layout's evaluation goal) and its centre.
    public init(layout: MazeLayout, goalCell: MazeCell? = nil, noise: Float = 0.2, rover: RoverModel = RoverModel()) {
        self.layout = layout; self.rover = rover; self.noise = noise
        let g = goalCell ?? layout.goal
        self.goalCell = g
        goalPoint = layout.center(of: g)
        nextCell = []
        setGoal(cell: g)
    }

    /// Commands a new goal: `point` inside `cell` (default: the cell centre). Re-plans (BFS).
    public func setGoal(cell: MazeCell, point: SIMD2<Float>? = nil) {
        precondition(!layout.isWall(cell), "planner goal cell \(cell) is a wall")
        goalCell = cell
        goalPoint = point ?? layout.center(of: cell)
        let d = layout.distances(to: cell)
        var next = [Int32](repeating: -1, count: d.count)
        for i in 0..<layout.height {
            for j in 0..<layout.width {
                let c = MazeCell(row: i, col: j)
                let dc = d[layout.index(c)]
                guard dc > 0 else { continue }
                for (di, dj) in MazeLayout.neighbourOffsets {
                    let n = MazeCell(row: i + di, col: j + dj)
                    if !layout.isWall(n) && d[layout.index(n)] == dc - 1 { next[layout.index(c)] = Int32(layout.index(n)); break }
                }
            }
        }
        nextCell = next
    }

    /// Starts a new episode (the planner keeps no episode state besides its goal).
    public func reset() {}

    /// Writes the two wheel commands for `observation` (9 maze values) into `action`;
    /// noise draws come from `rng`.
    public func act<G: RandomNumberGenerator>(observation o: UnsafePointer<Float>, action: UnsafeMutablePointer<Float>,
                                              rng: inout G) {
        control(observation: o, action: action)
        addActionNoise(action, count: 2, std: noise, rng: &rng)
    }

    /// The noiseless wheel commands (clipped to [-1, 1]).
    private func control(observation o: UnsafePointer<Float>, action: UnsafeMutablePointer<Float>) {
        let p = SIMD2(o[0], o[1])
        let c = o[2], s = o[3]
        let forward = c * o[4] + s * o[5]
        let omega = o[6]
        let target = pursuitTarget(from: p)
        let d = target - p
        let dist = (d * d).sum().squareRoot()
        var vDes: Float = 0, wDes: Float = 0
        let atGoal = layout.cell(containing: p) == goalCell && dist < holdRadius
        if !atGoal {
            let err = wrapToPi(atan2f(d.y, d.x) - atan2f(s, c))
            let align = max(0, cosf(err))
            let ramp = brakesAtGoal ? min(1, (reachesGoal(from: p) ? dist : lookahead) / slowRadius) : 1
            vDes = cruiseSpeed * ramp * align * align
            wDes = min(max(headingGain * err, -maxTurnRate), maxTurnRate)
        }
        // Feed-forward: a = v/topSpeed for speed, a = ω·I·c_ang/(2·h·F) for turning.
        let ffV = vDes / rover.topSpeed
        let ffW = wDes * rover.inertia * rover.angularDamping / (2 * rover.halfTrack * rover.maxWheelForce)
        let fbV = speedGain * (vDes - forward)
        let fbW = turnGain * (wDes - omega)
        let left = ffV + fbV - ffW - fbW
        let right = ffV + fbV + ffW + fbW
        action[0] = min(max(left, -1), 1)
        action[1] = min(max(right, -1), 1)
    }

    /// Array convenience for ``act(observation:action:rng:)``.
    public func act<G: RandomNumberGenerator>(_ observation: [Float], rng: inout G) -> [Float] {
        precondition(observation.count == MazeEnv.observationDimension, "maze observations have \(MazeEnv.observationDimension) values")
        var a: [Float] = [0, 0]
        observation.withUnsafeBufferPointer { o in a.withUnsafeMutableBufferPointer { act(observation: o.baseAddress!, action: $0.baseAddress!, rng: &rng) } }
        return a
    }

    /// Whether the look-ahead from `p` ends at the goal point (the path is shorter than it).
    private func reachesGoal(from p: SIMD2<Float>) -> Bool {
        var cell = layout.cell(containing: p)
        if layout.isWall(cell) { return false }
        var remaining = lookahead + layout.cellSize
        while remaining > 0 {
            let n = nextCell[layout.index(cell)]
            if n < 0 { return true }
            cell = MazeCell(row: Int(n) / layout.width, col: Int(n) % layout.width)
            remaining -= layout.cellSize
        }
        return false
    }

    /// The pure-pursuit point: project `p` on the first path segment (centre of the
    /// rover's cell → next centre), then walk `lookahead` metres along the path.
    private func pursuitTarget(from p: SIMD2<Float>) -> SIMD2<Float> {
        var cell = layout.cell(containing: p)
        if layout.isWall(cell) { cell = nearestFreeCell(to: p) }
        var a = layout.center(of: cell)
        var nIndex = nextCell[layout.index(cell)]
        if nIndex < 0 { return cell == goalCell ? goalPoint : a }
        var b = layout.center(of: MazeCell(row: Int(nIndex) / layout.width, col: Int(nIndex) % layout.width))
        // Projection of p on a→b, clamped to the segment.
        let ab = b - a
        let len2 = (ab * ab).sum()
        let t = min(max(((p - a) * ab).sum() / len2, 0), 1)
        var q = a + t * ab
        var remaining = lookahead
        while true {
            let seg = b - q
            let segLen = (seg * seg).sum().squareRoot()
            if segLen >= remaining { return q + seg * (remaining / max(segLen, 1e-6)) }
            remaining -= segLen
            q = b; a = b
            let bCell = layout.cell(containing: b)
            nIndex = nextCell[layout.index(bCell)]
            if nIndex < 0 {
                // b is the goal cell's centre: finish at the goal point.
                return goalPoint
            }
            b = layout.center(of: MazeCell(row: Int(nIndex) / layout.width, col: Int(nIndex) % layout.width))
        }
    }

    /// The free cell whose centre is nearest to `p` (fallback for numerical edge cases).
    private func nearestFreeCell(to p: SIMD2<Float>) -> MazeCell {
        let c = layout.cell(containing: p)
        var best = layout.start, bestD = Float.infinity
        for di in -1...1 {
            for dj in -1...1 {
                let n = MazeCell(row: c.row + di, col: c.col + dj)
                guard !layout.isWall(n) else { continue }
                let d = layout.center(of: n) - p
                let dd = (d * d).sum()
                if dd < bestD { bestD = dd; best = n }
            }
        }
        return best
    }
}

/// Wraps an angle into (-π, π].
@inlinable
func wrapToPi(_ a: Float) -> Float {
    var x = a
    while x > .pi { x -= 2 * .pi }
    while x <= -.pi { x += 2 * .pi }
    return x
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Randomness
