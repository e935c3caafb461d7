import Randomness
import Testing
@testable import Envs

@Suite("Environment contract")
struct EnvContractTests {
    @Test("the checker passes on every registered env", arguments: EnvRegistry.all.map(\.id.rawValue))
    func checkerPasses(id: String) throws {
        let spec = try EnvRegistry.spec(EnvID(rawValue: id))
        let failures = EnvChecker(spec: spec, trajectorySteps: 150).run()
        #expect(failures.isEmpty, "\(failures)")
    }

    @Test("the registry lists the three locomotion envs with Gymnasium's shapes")
    func registryShapes() throws {
        let shapes = EnvRegistry.all.filter { $0.domain == .locomotion }.map { "\($0.id):\($0.observationDimension)x\($0.actionDimension)@\($0.maxEpisodeSteps)" }
        #expect(shapes == ["hopper:11x3@1000", "walker2d:17x6@1000", "halfcheetah:17x6@1000"])
        #expect(throws: EnvError.unknownEnv("ant")) { try EnvRegistry.spec("ant") }
    }

    @Test("same seed and actions give bitwise-equal trajectories; other seeds differ", arguments: locomotionIDs)
    func determinism(id: String) throws {
        let spec = try EnvRegistry.spec(EnvID(rawValue: id))
        func run(_ seed: UInt64) throws -> [UInt32] {
            let env = spec.make()
            var g = SeededRNG(seed: 42)
            var out = env.reset(seed: seed).observation.map(\.bitPattern)
            for _ in 0..<100 {
                let r = try env.step(env.actionSpace.sample(using: &g))
                out += r.observation.map(\.bitPattern) + [r.reward.bitPattern]
                if r.terminated { out += env.reset(seed: nil).observation.map(\.bitPattern) }
            }
            return out
        }
        #expect(try run(3) == run(3))
        #expect(try run(3) != run(4))
    }

    @Test("restoring a snapshot replays bit-exactly")
    func snapshotRestore() throws {
        let env = try EnvRegistry.make(.walker2d)
        var g = SeededRNG(seed: 9)
        _ = env.reset(seed: 5)
        for _ in 0..<15 { _ = try env.step(env.actionSpace.sample(using: &g)) }
        let snap = env.snapshot()
        #expect(snap.steps == 15)
        let actions = (0..<5).map { _ in env.actionSpace.sample(using: &g) }
        let a = try actions.map { try env.step($0).observation }
        let other = try EnvRegistry.make(.walker2d)
        try other.restore(snap)
        #expect(other.elapsedSteps == 15)
        let b = try actions.map { try other.step($0).observation }
        #expect(a == b)
        #expect(throws: EnvError.self) { try EnvRegistry.make(.hopper).restore(snap) }
    }

    @Test("NaN actions throw and leave the env unchanged; out-of-range actions are clipped")
    func actionValidation() throws {
        let env = try EnvRegistry.make(.hopper)
        _ = env.reset(seed: 1)
        #expect(throws: EnvError.nanAction(index: 1)) { try env.step([0, .nan, 0]) }
        #expect(throws: EnvError.wrongActionSize(expected: 3, got: 2)) { try env.step([0, 0]) }
        let a = try env.step([5, -5, 0.5])
        _ = env.reset(seed: 1)
        let b = try env.step([1, -1, 0.5])
        #expect(a.observation == b.observation && a.reward == b.reward)
    }
}

@Suite("Locomotion physics and tasks")
struct LocomotionTests {
    @Test("observation entries are the physics state: joint angles, torso height and angle", arguments: locomotionIDs)
    func observationLayout(id: String) throws {
        let env = try EnvRegistry.spec(EnvID(rawValue: id)).makeBare() as! LocomotionEnv
        let nj = env.model.hinges.count
        var g = SeededRNG(seed: 1)
        var obs = env.reset(seed: 2).observation
        for _ in 0..<10 {
            let angles = env.physicsJointAngles()
            #expect(Array(obs[2..<(2 + nj)]) == angles)
            let q = env.generalizedPositions
            #expect(obs[0] == q[1] && obs[1] == q[2])
            let v = env.generalizedVelocities
            let clip = env.model.velocityClip ?? .infinity
            #expect(Array(obs[(2 + nj)...]) == v.map { min(max($0, -clip), clip) })
            obs = try env.step(env.actionSpace.sample(using: &g)).observation
        }
        #expect(obs.count == env.model.observationDimension)
    }

    @Test("the hopper starts upright at the MuJoCo height")
    func hopperStart() throws {
        let env = try EnvRegistry.make(.hopper)
        let o = env.reset(seed: 0).observation
        #expect(abs(o[0] - 1.25) <= 0.006 && abs(o[1]) <= 0.006)
        let mass = (env.inner as! LocomotionEnv).totalMass
        #expect(mass > 14 && mass < 17)  // MuJoCo's hopper weighs about 15.8 kg
    }

    @Test("halfcheetah never terminates and is truncated exactly at 1000 steps")
    func halfcheetahNeverTerminates() throws {
        let env = try EnvRegistry.make(.halfcheetah)
        var g = SeededRNG(seed: 3)
        let r = try runEpisode(env, seed: 3, maxSteps: 1001) { _ in env.actionSpace.sample(using: &g) }
        #expect(!r.terminated && r.truncated && r.steps == 1000)
    }

    @Test("the hopper terminates when it falls, and only then")
    func hopperTerminatesWhenFalling() throws {
        let env = try EnvRegistry.make(.hopper)
        _ = env.reset(seed: 0)
        var last: [Float] = []
        var terminatedAt = 0
        for t in 1...1000 {
            let r = try env.step([1, -1, 1])  // bends the hip and knee hard: the torso tips over
            last = r.observation
            if r.terminated { terminatedAt = t; break }
            #expect(last[0] > 0.7 && abs(last[1]) < 0.2)
        }
        #expect(terminatedAt > 0 && terminatedAt < 200)
        #expect(!(last[0] > 0.7 && abs(last[1]) < 0.2 && last[2...].allSatisfy { abs($0) < 100 }))
        #expect(env.info()["is_healthy"] == 0)
    }

    @Test("walker2d terminates when the torso drops below 0.8 m")
    func walkerFalls() throws {
        let env = try EnvRegistry.make(.walker2d)
        let r = try runEpisode(env, seed: 0) { _ in [0, 0, 0, 0, 0, 0] }
        #expect(r.terminated && r.steps < 1000)
        let o = env.info()
        #expect(o["z"]! <= 0.8 || abs(o["angle"]!) >= 1)
    }

    @Test("reward is forward velocity + healthy reward − control cost")
    func rewardDecomposition() throws {
        let env = try EnvRegistry.make(.walker2d)
        _ = env.reset(seed: 4)
        let a: [Float] = [0.5, -0.2, 0.1, 0.3, 0, -0.4]
        let r = try env.step(a)
        let info = env.info()
        let expected = info["x_velocity"]! + 1 - 1e-3 * a.map { Double($0 * $0) }.reduce(0, +)
        #expect(abs(Double(r.reward) - expected) < 1e-4)
    }
}
