import Foundation
import Randomness
import Testing
import Envs

/// Runs one maze episode of `planner` under the spec's time limit; returns (success, steps).
func runMazeEpisode(_ env: TimeLimit, _ planner: MazePlanner, seed: UInt64) throws -> (success: Bool, steps: Int) {
    var rng = SeededRNG(seed: SeededRNG.derive(seed, 1))
    var (o, _) = env.reset(seed: seed)
    planner.reset()
    var t = 0
    while true {
        let r = try env.step(planner.act(o, rng: &rng))
        o = r.observation; t += 1
        if r.terminated { return (env.info()["success"] == 1, t) }
        if r.truncated { return (false, t) }
    }
}

@Suite("Maze envs")
struct MazeTests {
    @Test("shortest-path checks: in the medium maze (6, 5) is reached only through G, (2, 6) is not")
    func shortestPathPasses() {
        let m = MazeLayout.medium
        #expect(m.goal == MazeCell(row: 6, col: 6))
        #expect(m.shortestPathPasses(from: m.start, to: MazeCell(row: 6, col: 5), via: m.goal))
        #expect(!m.shortestPathPasses(from: m.start, to: MazeCell(row: 2, col: 6), via: m.goal))
        #expect(!m.shortestPathPasses(from: m.start, to: MazeCell(row: 5, col: 1), via: m.goal))
        #expect(m.shortestPathPasses(from: m.start, to: m.goal, via: m.goal))
        #expect(!m.shortestPathPasses(from: m.start, to: MazeCell(row: 0, col: 0), via: m.goal), "walls are never on a path")
    }

    @Test("goal pocket: the cells beyond the last junction before G; none in the umaze")
    func goalPocket() {
        let cells = { (l: [(Int, Int)]) in Set(l.map { MazeCell(row: $0.0, col: $0.1) }) }
        #expect(MazeLayout.medium.goalPocket == cells([(4, 5), (4, 6), (5, 6), (6, 6), (6, 5)]))
        #expect(MazeLayout.large.goalPocket == cells([(6, 8), (7, 8), (7, 9), (7, 10)]))
        #expect(MazeLayout.umaze.goalPocket.isEmpty, "the umaze path from S to G is one corridor")
        for m in [MazeLayout.medium, .large] {
            let pocket = m.goalPocket, outside = m.freeCells.filter { !pocket.contains($0) }
            // No shortest path between two outside cells enters the pocket.
            for a in outside { for b in outside where a != b { #expect(!pocket.contains { m.shortestPathPasses(from: a, to: b, via: $0) }) } }
            #expect(!m.pocketPlayGoals.isEmpty && m.pocketPlayGoals.allSatisfy { outside.contains($0) }, "\(m.name): v4 play goals lie outside the pocket")
            let legs = m.pocketPlayLegs
            #expect(legs.toGoal.allSatisfy { $0.goal == m.goal && $0.start != m.start } && legs.toGoal.count == m.pocketPlayGoals.count)
            #expect(legs.outside.count == m.pocketPlayGoals.count * m.pocketPlayGoals.count, "each goal from S and from the other goals")
        }
    }

    @Test("S is the origin and G lies where D4RL puts it (x = 4·col, y = 4·row from S)")
    func startAndGoalCoordinates() throws {
        let expected: [(MazeLayout, MazeCell, MazeCell, SIMD2<Float>)] = [
            (.umaze, MazeCell(row: 1, col: 1), MazeCell(row: 3, col: 1), SIMD2(0, 8)),
            (.medium, MazeCell(row: 1, col: 1), MazeCell(row: 6, col: 6), SIMD2(20, 20)),
            (.large, MazeCell(row: 1, col: 1), MazeCell(row: 7, col: 9), SIMD2(32, 24)),
        ]
        for (layout, s, g, gp) in expected {
            #expect(layout.start == s)
            #expect(layout.goal == g)
            #expect(layout.center(of: s) == SIMD2(0, 0))
            #expect(layout.center(of: g) == gp)
            #expect(layout.center(of: MazeCell(row: s.row, col: s.col + 1)) == SIMD2(4, 0), "x grows with the column")
            #expect(layout.center(of: MazeCell(row: s.row + 1, col: s.col)) == SIMD2(0, 4), "y grows with the row")
            for c in layout.freeCells {
                #expect(layout.cell(containing: layout.center(of: c) + SIMD2(1.9, -1.9)) == c)
            }
        }
        // The env starts near S and aims at G plus at most 0.25 m per axis.
        for spec in Maze.specs {
            let env = spec.makeBare() as! MazeEnv
            for seed in 0..<5 as Range<UInt64> {
                let (o, info) = env.reset(seed: seed)
                #expect(abs(o[0]) <= 0.1 && abs(o[1]) <= 0.1)
                let g = env.layout.center(of: env.layout.goal)
                #expect(abs(Float(info["goal_x"]!) - g.x) <= 0.25 && abs(Float(info["goal_y"]!) - g.y) <= 0.25)
            }
        }
    }

    @Test("merged wall boxes cover exactly the wall cells")
    func wallRectangles() {
        for layout in [MazeLayout.umaze, .medium, .large] {
            let rects = layout.wallRectangles()
            #expect(rects.count < layout.rows.joined().filter { $0 == "#" }.count)
            for i in 0..<layout.height {
                for j in 0..<layout.width {
                    let c = MazeCell(row: i, col: j), p = layout.center(of: c)
                    let covering = rects.filter { abs(p.x - $0.center.x) < $0.halfExtents.x && abs(p.y - $0.center.y) < $0.halfExtents.y }
                    #expect(covering.count == (layout.isWall(c) ? 1 : 0), "cell \(c) in \(layout.name)")
                }
            }
        }
    }

    @Test("wall ranges: exact at S, 0 inside a wall, and equal to a fine march along random rays")
    func rayDistances() {
        let m = MazeLayout.medium
        // S = (0, 0) in cell (1, 1); walls: column 0 (x < −2), row 0 (y < −2), (1, 3) from x = 6, (3, 1) from y = 6.
        #expect(m.rayDistance(from: SIMD2(0, 0), direction: SIMD2(1, 0), maxRange: 10) == 6)
        #expect(m.rayDistance(from: SIMD2(0, 0), direction: SIMD2(-1, 0), maxRange: 10) == 2)
        #expect(m.rayDistance(from: SIMD2(0, 0), direction: SIMD2(0, 1), maxRange: 10) == 6)
        #expect(m.rayDistance(from: SIMD2(0, 0), direction: SIMD2(0, -1), maxRange: 10) == 2)
        #expect(m.rayDistance(from: SIMD2(0, 0), direction: SIMD2(1, 0), maxRange: 4) == 4)
        #expect(m.rayDistance(from: SIMD2(-3, 0), direction: SIMD2(1, 0), maxRange: 4) == 0)
        var rng = SeededRNG(seed: 7)
        for layout in [MazeLayout.umaze, .medium, .large] {
            let free = layout.freeCells
            for _ in 0..<200 {
                let c = layout.center(of: free[Int(rng.next() % UInt64(free.count))])
                let p = c + SIMD2(Float.random(in: -1.9...1.9, using: &rng), Float.random(in: -1.9...1.9, using: &rng))
                let a = Float.random(in: 0..<(2 * .pi), using: &rng), d = SIMD2(cosf(a), sinf(a))
                var t: Float = 0
                while t < 12 && !layout.isWall(layout.cell(containing: p + t * d)) { t += 0.001 }
                let got = layout.rayDistance(from: p, direction: d, maxRange: 12)
                #expect(abs(got - min(t, 12)) <= 0.002, "\(layout.name) from \(p) at \(a) rad: \(got) vs marched \(t)")
            }
        }
    }

    @Test("the observation's wall ranges read the rover's surroundings; touching a wall reads its radius")
    func observedRanges() throws {
        let env = MazeEnv(id: .mazeMedium, layout: .medium)
        var o = [Float](repeating: 0, count: MazeEnv.observationDimension)
        env.reset(seed: 3, observation: &o)
        let p = env.position, h = env.heading
        for k in 0..<MazeEnv.wallRays {
            let a = h + Float(k) * .pi / 4
            #expect(o[9 + k] == MazeLayout.medium.rayDistance(from: p, direction: SIMD2(cosf(a), sinf(a)), maxRange: MazeEnv.wallRange))
        }
        // Drive straight at the west wall (turn around first): the backward ray ends at ~0.5 m.
        var action: [Float] = [-1, -1]
        var last = o
        for _ in 0..<40 { _ = try env.step(action: &action, observation: &last) }
        #expect(abs(last[13] - 0.5) < 0.05, "backward range \(last[13]) at x = \(env.position.x)")
        #expect((9..<17).allSatisfy { last[$0] >= 0 && last[$0] <= MazeEnv.wallRange })
    }

    @Test("same seed and actions give the same trajectory; other seeds differ")
    func determinism() throws {
        func rollout(_ seed: UInt64) throws -> [Float] {
            let env = Maze.medium.make()
            var g = SeededRNG(seed: 99)
            var out = env.reset(seed: seed).observation
            for _ in 0..<200 {
                out += try env.step([Float(g.uniform(-1, 1)), Float(g.uniform(-1, 1))]).observation
            }
            return out
        }
        let a = try rollout(3), b = try rollout(3), c = try rollout(4)
        #expect(a == b)
        #expect(a != c)
    }

    @Test("the rover never ends up inside a wall cell", arguments: [Maze.umaze, Maze.medium, Maze.large])
    func neverInsideWalls(spec: EnvSpec) throws {
        let env = spec.makeBare() as! MazeEnv
        let rects = env.layout.wallRectangles()
        var g = SeededRNG(seed: 5)
        var minClearance = Float.infinity
        for ep in 0..<4 {
            var o = env.reset(seed: UInt64(ep)).observation
            var a: [Float] = [1, 1]
            for t in 0..<spec.maxEpisodeSteps {
                // Random actions, with long stretches of full throttle that ram the walls.
                if ep % 2 == 0 || t % 40 < 10 { a = [Float(g.uniform(-1, 1)), Float(g.uniform(-1, 1))] }
                else if t % 40 == 10 { a = [1, 1] }
                o = try env.step(a).observation
                let p = SIMD2(o[0], o[1])
                #expect(!env.layout.isWall(env.layout.cell(containing: p)), "rover centre in a wall cell at \(p)")
                for r in rects {
                    let dx = max(abs(p.x - r.center.x) - r.halfExtents.x, 0), dy = max(abs(p.y - r.center.y) - r.halfExtents.y, 0)
                    minClearance = min(minClearance, (dx * dx + dy * dy).squareRoot())
                }
            }
        }
        // The disc (radius 0.5) may sink into a wall by Box2D's slop at most.
        #expect(minClearance > env.rover.radius - 0.05)
        #expect(minClearance < env.rover.radius + 0.05, "the test never drove into a wall")
    }

    @Test("planner reaches the evaluation goal: ≥ 95% without noise, ≥ 80% with σ = 0.2",
          arguments: [Maze.umaze, Maze.medium, Maze.large])
    func plannerBands(spec: EnvSpec) throws {
        let layout = Maze.layout(for: spec.id)!
        for (noise, band) in [(Float(0), 19), (0.2, 16)] {
            let env = spec.make()
            let planner = MazePlanner(layout: layout, noise: noise)
            var successes = 0
            for ep in 0..<20 { if try runMazeEpisode(env, planner, seed: 1000 + UInt64(ep)).success { successes += 1 } }
            #expect(successes >= band, "\(spec.id) noise \(noise): \(successes)/20")
        }
    }

    @Test("random actions almost never reach the goal")
    func randomFails() throws {
        let env = Maze.medium.make()
        var g = SeededRNG(seed: 1)
        var successes = 0
        for ep in 0..<5 {
            _ = env.reset(seed: UInt64(ep))
            while true {
                let r = try env.step([Float(g.uniform(-1, 1)), Float(g.uniform(-1, 1))])
                if r.terminated { successes += 1 }
                if r.terminated || r.truncated { break }
            }
        }
        #expect(successes == 0)
    }

    @Test("commanded goals and collection mode: no termination, reward while at the goal")
    func commandedGoal() throws {
        let layout = MazeLayout.large
        let goal = MazeCell(row: 3, col: 10)
        let env = MazeEnv(id: .mazeLarge, layout: layout, options: MazeOptions(goalCell: goal, terminateOnSuccess: false))
        let planner = MazePlanner(layout: layout, goalCell: goal, noise: 0)
        var rng = SeededRNG(seed: 0)
        var (o, info) = env.reset(seed: 2)
        #expect(info["goal_row"] == 3 && info["goal_col"] == 10)
        var rewardSteps = 0, firstReward = -1
        for t in 0..<1000 {
            let r = try env.step(planner.act(o, rng: &rng))
            o = r.observation
            #expect(!r.terminated)
            if r.reward == 1 { rewardSteps += 1; if firstReward < 0 { firstReward = t } }
        }
        #expect(firstReward > 0 && rewardSteps > 100, "parks at the goal and keeps collecting reward")
        #expect(env.info()["success"] == 1)
        // Re-targeting mid-episode moves the goal and the planner follows.
        let next = MazeCell(row: 7, col: 1)
        env.setGoal(cell: next)
        planner.setGoal(cell: next)
        #expect(env.info()["success"] == 1, "success stays set for the episode")
        var reached = false
        for _ in 0..<1000 where !reached {
            let r = try env.step(planner.act(o, rng: &rng))
            o = r.observation
            reached = r.reward == 1
        }
        #expect(reached)
        #expect(layout.cell(containing: SIMD2(o[0], o[1])) == next)
    }

    @Test("the observation is consistent: heading unit vector, wheel speeds from v and ω")
    func observationLayout() throws {
        let env = Maze.umaze.makeBare() as! MazeEnv
        var o = env.reset(seed: 0).observation
        // 3 s of driving: enough to reach speed, too short to meet a wall.
        for _ in 0..<Int((3 / env.rover.controlPeriod).rounded()) { o = try env.step([1, 0.3]).observation }
        #expect(abs(o[2] * o[2] + o[3] * o[3] - 1) < 1e-5)
        let forward = o[2] * o[4] + o[3] * o[5]
        let lateral = -o[3] * o[4] + o[2] * o[5]
        #expect(forward > 0.3)
        #expect(abs(lateral) < 0.05, "tyres do not slide sideways")
        #expect(abs((o[7] + o[8]) / 2 - forward) < 1e-4)
        #expect(abs((o[8] - o[7]) / (2 * env.rover.halfTrack) - o[6]) < 1e-4)
        #expect(o[6] < 0, "left wheel faster than right turns clockwise")
    }
}
