import Randomness
import Testing
import Glibc
import Envs

@Suite("Kitchen env")
struct KitchenTests {
    @Test("driving each target to its goal pays exactly one, once; all four terminate")
    func subtaskDetection() throws {
        let env = KitchenEnv()
        _ = env.reset(seed: 0)
        let zero: [Float] = [0, 0, 0]
        // Non-targets at their goal pay nothing.
        for o in [KitchenObject.topBurner, .hingeCabinet, .bottomBurner] {
            env.setObjectState(o, KitchenModel.goal(o))
            #expect(try env.step(zero).reward == 0)
        }
        var completed = 0
        for o in KitchenTargets.complete.reversed() {
            #expect(KitchenModel.isAtGoal(o, objectState: env.objectStateVector) == false)
            env.setObjectState(o, KitchenModel.goal(o))
            let r = try env.step(zero)
            completed += 1
            #expect(r.reward == 1, "\(o)")
            #expect(env.info()["subtasks_completed"] == Double(completed))
            #expect(env.info()[o.key] == 1)
            #expect(r.terminated == (completed == 4))
            if completed < 4 { #expect(try env.step(zero).reward == 0, "\(o) is paid only once") }
        }
        // Just outside the threshold does not count.
        _ = env.reset(seed: 1)
        for o in KitchenTargets.complete {
            var s = KitchenModel.goal(o)
            s[0] -= 1.05 * KitchenModel.threshold(o) * (o == .kettle ? 1 : (KitchenModel.hinge(o)?.openingSign ?? 1))
            env.setObjectState(o, s)
        }
        #expect(try env.step(zero).reward == 0)
        #expect(env.targetsAtGoal() == 0)
    }

    @Test("completed subtasks stay completed; the Markovian count follows the current state")
    func markovianCount() throws {
        let env = KitchenEnv()
        var o = env.reset(seed: 0).observation
        env.setObjectState(.microwave, KitchenModel.goal(.microwave))
        o = try env.step([0, 0, 0]).observation
        #expect(KitchenModel.targetsAtGoal(o, targets: KitchenTargets.complete) == 1)
        env.setObjectState(.microwave, [0])
        o = try env.step([0, 0, 0]).observation
        #expect(KitchenModel.targetsAtGoal(o, targets: KitchenTargets.complete) == 0)
        #expect(env.targetsAtGoal() == 0)
        #expect(env.info()["subtasks_completed"] == 1)
    }

    @Test("the goal part of the observation holds target goals and rest states otherwise")
    func goalObservation() {
        let o = KitchenEnv(targets: KitchenTargets.mixed).reset(seed: 0).observation
        let g = Array(o[16..<24])
        #expect(g[KitchenObject.bottomBurner.rawValue] == KitchenModel.goal(.bottomBurner)[0])
        #expect(g[KitchenObject.topBurner.rawValue] == 0)
        #expect(g[KitchenObject.slideCabinet.rawValue] == 0, "not a target in the mixed task")
        #expect(Array(g[6..<8]) == KitchenModel.goal(.kettle))
    }

    @Test("arm and object joints respect their limits under random and saturating actions")
    func jointLimits() throws {
        let env = KitchenEnv()
        var g = SeededRNG(seed: 3)
        var worstArm: Float = -.infinity, worstObject: Float = -.infinity
        for ep in 0..<4 {
            var o = env.reset(seed: UInt64(ep)).observation
            for t in 0..<280 {
                let a: [Float] = ep % 2 == 0 ? (0..<3).map { _ in Float(g.uniform(-1, 1)) }
                    : (t / 70) % 2 == 0 ? [1, 1, 1] : [-1, -1, -1]
                o = try env.step(a).observation
                for i in 0..<3 {
                    let r = KitchenModel.jointLimits[i]
                    worstArm = max(worstArm, r.lowerBound - o[i], o[i] - r.upperBound)
                }
                for obj in KitchenObject.allCases where obj != .kettle {
                    let r = KitchenModel.hinge(obj)?.limits ?? KitchenModel.slider.limits
                    worstObject = max(worstObject, r.lowerBound - o[8 + obj.rawValue], o[8 + obj.rawValue] - r.upperBound)
                }
                let finite = o.allSatisfy { $0.isFinite }
                #expect(finite)
            }
        }
        // Box2D lets a limit yield by its angular slop (2°) plus a little under impacts.
        #expect(worstArm < 0.06, "largest arm limit violation \(worstArm) rad")
        #expect(worstArm > -0.02, "saturating actions drive a joint into its limit")
        #expect(worstObject < 0.15, "largest object limit violation \(worstObject)")
    }

    @Test("same seed and actions give the same trajectory; other seeds differ")
    func determinism() throws {
        func rollout(_ seed: UInt64) throws -> [Float] {
            let env = Kitchen.spec.make()
            let p = KitchenPlanner(noise: 0.3)
            var g = SeededRNG(seed: 8)
            var o = env.reset(seed: seed).observation
            var out = o
            for _ in 0..<120 { let r = try env.step(p.act(o, rng: &g)); o = r.observation; out += o + [r.reward] }
            return out
        }
        #expect(try rollout(1) == rollout(1))
        #expect(try rollout(1) != rollout(2))
    }

    @Test("inverse kinematics inverts forward kinematics over the workspace, within the joint limits")
    func kinematics() {
        for r in stride(from: Float(0.35), through: 1.0, by: 0.05) {
            for deg in stride(from: Float(-15), through: 195, by: 15) {
                let p = r * SIMD2(cosf(deg * .pi / 180), sinf(deg * .pi / 180))
                let q = KitchenModel.inverseKinematics(p)
                let e = KitchenModel.forwardKinematics(q) - p
                #expect((e * e).sum().squareRoot() < 1e-4, "r \(r) angle \(deg)")
                for i in 0..<3 { #expect(KitchenModel.jointLimits[i].contains(q[i]), "joint \(i) at r \(r) angle \(deg): \(q[i])") }
            }
        }
    }

    @Test("scripted policy: all four targets in ≥ 90% of episodes without noise, ≥ 80% with σ = 0.1")
    func plannerBands() throws {
        for (noise, band) in [(Float(0), 18), (0.1, 16)] {
            let env = Kitchen.spec.make()
            let planner = KitchenPlanner(noise: noise)
            var full = 0
            for ep in 0..<20 {
                var g = SeededRNG(seed: SeededRNG.derive(500, UInt64(ep)))
                var o = env.reset(seed: 500 + UInt64(ep)).observation
                planner.reset()
                var ret: Float = 0
                while true {
                    let r = try env.step(planner.act(o, rng: &g))
                    o = r.observation; ret += r.reward
                    if r.terminated || r.truncated { break }
                }
                #expect(ret == Float(env.info()["subtasks_completed"]!))
                if ret == 4 { full += 1 }
            }
            #expect(full >= band, "noise \(noise): \(full)/20")
        }
    }

    @Test("the policy chains any order, including non-target objects and the mixed targets")
    func anyOrder() throws {
        let orders: [[KitchenObject]] = [
            [.slideCabinet, .lightSwitch, .kettle, .microwave],
            KitchenTargets.mixed.reversed(),
            [.hingeCabinet, .topBurner, .bottomBurner, .kettle, .microwave, .slideCabinet, .lightSwitch],
        ]
        for order in orders {
            let env = KitchenEnv(targets: order)
            let planner = KitchenPlanner(order: order, noise: 0)
            var g = SeededRNG(seed: 0)
            var o = env.reset(seed: 9).observation
            var terminated = false
            for _ in 0..<(order.count * 70) where !terminated {
                let r = try env.step(planner.act(o, rng: &g)); o = r.observation
                terminated = r.terminated
            }
            #expect(terminated, "order \(order): \(env.subtasksCompleted) done")
        }
    }

    @Test("random actions complete (almost) nothing")
    func randomFails() throws {
        let env = Kitchen.spec.make()
        var g = SeededRNG(seed: 2)
        var total: Float = 0
        for ep in 0..<5 {
            _ = env.reset(seed: UInt64(ep))
            while true {
                let r = try env.step((0..<3).map { _ in Float(g.uniform(-1, 1)) })
                total += r.reward
                if r.terminated || r.truncated { break }
            }
        }
        #expect(total <= 2)
    }
}
