import Foundation
import Randomness
import Testing
import TestSupport
@testable import OFQL

/// FQL (arXiv 2502.02538): both losses against finite differences in Double, the sampler
/// against the networks, the config, and policy improvement on a bandit with a known best
/// action.
struct FQLTests {
    /// Smooth tiny networks (tanh) so central differences are exact to O(h²).
    func tinyNets(rows: Int = 5, flowSteps: Int = 3, algo: Algorithm = .fql) -> FQLNets<Double> {
        var c = OFQLConfig.defaults(for: algo)
        c.hidden = [6, 5]; c.criticHidden = [7, 4]; c.activation = .tanh; c.criticActivation = .tanh
        c.criticLayerNorm = false; c.flowSteps = flowSteps
        var rng = Xoshiro(seed: 29)
        let nets = FQLNets<Double>(obsDim: 3, actDim: 2, config: c, rows: rows, rng: &rng)
        for i in 0..<nets.criticTarget.count { nets.criticTarget.values[i] += 0.05 * rng.normal() }
        return nets
    }

    struct Batch {
        var s, a, r, s2, mask, zNext, x0, t, z: [Double]
        init(rows: Int, seed: UInt64) {
            var g = Xoshiro(seed: seed)
            func n(_ k: Int, _ scale: Double = 1) -> [Double] { (0..<k).map { _ in scale * g.normal() } }
            s = n(rows * 3); a = (0..<(rows * 2)).map { _ in g.uniform() * 1.6 - 0.8 }; r = n(rows); s2 = n(rows * 3)
            mask = (0..<rows).map { $0 == 1 ? 0 : 1 }; zNext = n(rows * 2); x0 = n(rows * 2)
            t = (0..<rows).map { _ in g.uniform() }; z = n(rows * 2, 0.5)
        }
    }

    @Test(arguments: [(QAggregation.mean, Algorithm.fql), (.min, .fql), (.mean, .fbrac)])
    func criticLossGradientMatchesFiniteDifferences(_ aggregation: QAggregation, _ algo: Algorithm) {
        let nets = tinyNets(algo: algo), b = Batch(rows: 5, seed: 3)
        func run() -> FQLNets<Double>.CriticResult {
            nets.criticLoss(s: b.s, a: b.a, r: b.r, s2: b.s2, mask: b.mask, zNext: b.zNext, gamma: 0.9, rewardScale: 2,
                            rewardShift: -0.5, aggregation: aggregation)
        }
        let first = run()
        #expect(first.loss > 0)
        // The target: mean or min of the target critics at a' = clip(μ(s', z')).
        let q = nets.critics
        q.setInput(rows: 5, s: b.s2, a: nets.nextAction)
        q.forward(nets.criticTarget.values, rows: 5, derivatives: false)
        var y = 0.0
        for i in 0..<5 {
            let next = aggregation == .mean ? (q.q(0)[i] + q.q(1)[i]) / 2 : min(q.q(0)[i], q.q(1)[i])
            y += 2 * b.r[i] - 0.5 + 0.9 * b.mask[i] * next
        }
        #expect(abs(first.targetMean - y / 5) < 1e-12)
        _ = run()
        checkParameterGradient(nets.criticParams, analytic: nets.criticParams.gradArray) { run().loss }
    }

    @Test(arguments: [true, false])
    func actorLossGradientMatchesFiniteDifferences(_ normalizeQ: Bool) {
        let nets = tinyNets(), b = Batch(rows: 5, seed: 4)
        let first = nets.actorLoss(s: b.s, a: b.a, x0: b.x0, t: b.t, z: b.z, alpha: 3, normalizeQ: normalizeQ)
        let analytic = nets.actorParams.gradArray
        let target = Array(UnsafeBufferPointer(start: nets.target, count: 10))
        #expect(abs(first.loss - (first.flowLoss + 3 * first.distillLoss + first.qTerm)) < 1e-12)
        #expect(normalizeQ ? first.lambda != 1 : first.lambda == 1)
        #expect(first.flowLoss > 0 && first.distillLoss > 0)
        // λ and the distillation target are detached: hold them at the analytic pass's values.
        checkParameterGradient(nets.actorParams, analytic: analytic) {
            nets.actorLoss(s: b.s, a: b.a, x0: b.x0, t: b.t, z: b.z, alpha: 3, normalizeQ: normalizeQ, lambda: first.lambda,
                           distillTarget: target).loss
        }
    }

    @Test("FBRAC: the actor loss's gradient through the Euler chain matches finite differences")
    func fbracActorLossGradientMatchesFiniteDifferences() {
        let nets = tinyNets(algo: .fbrac), b = Batch(rows: 5, seed: 6)
        let first = nets.fbracActorLoss(s: b.s, a: b.a, x0: b.x0, t: b.t, z: b.z, eta: 1.5, normalizeQ: true)
        let analytic = nets.actorParams.gradArray
        #expect(first.flowLoss > 0 && first.qTerm != 0 && abs(first.loss - (first.flowLoss + first.qTerm)) < 1e-12)
        #expect(nets.oneStep == nil && nets.actorParams.layout.entries.allSatisfy { $0.name.hasPrefix("policy.body.") })
        checkParameterGradient(nets.actorParams, analytic: analytic) {
            nets.fbracActorLoss(s: b.s, a: b.a, x0: b.x0, t: b.t, z: b.z, eta: 1.5, normalizeQ: true, lambda: first.lambda).loss
        }
    }

    @Test("the distillation target is the flow's K-step Euler integration from z, clipped")
    func distillationTargetIsEuler() {
        let nets = tinyNets(rows: 4, flowSteps: 4), b = Batch(rows: 4, seed: 9)
        _ = nets.actorLoss(s: b.s, a: b.a, x0: b.x0, t: b.t, z: b.z, alpha: 1, normalizeQ: true)
        // Euler by hand with single-row forwards.
        for i in 0..<4 {
            var x = Array(b.z[(2 * i)..<(2 * i + 2)])
            for k in 0..<4 {
                let input = Array(b.s[(3 * i)..<(3 * i + 3)]) + x + [Double(k) / 4]
                nets.flow.net.forwardRow(nets.actorParams.values, input: input)
                for j in 0..<2 { x[j] += nets.flow.net.output[j] / 4 }
            }
            for j in 0..<2 { #expect(abs(nets.target[2 * i + j] - max(-1, min(1, x[j]))) < 1e-12) }
        }
    }

    @Test func configDefaultsAndJSON() throws {
        let c = try OFQLConfig.fromJSON(Data(#"{"algo": "fql"}"#.utf8))
        #expect(c.fqlAlpha == 10 && c.flowSteps == 10 && c.normalizeQLoss && c.qAggregation == .mean)
        #expect(c.hidden == [256, 256, 256] && c.criticLayerNorm && !c.policyEMA)
        let json = String(decoding: try c.jsonData(), as: UTF8.self)
        #expect(json.contains("\"fqlAlpha\"") && json.contains("\"qAggregation\""))
        // Other algorithms' configs do not gain the keys (their hashes stay put) unless set.
        let ofql = String(decoding: try OFQLConfig().jsonData(), as: UTF8.self)
        #expect(!ofql.contains("fqlAlpha") && !ofql.contains("flowSteps"))
        #expect(try OFQLConfig.fromJSON(try c.jsonData()) == c)
        #expect(throws: ConfigError.invalid(field: "flowSteps", reason: "must be ≥ 1, got 0")) {
            try OFQLConfig.fromJSON(Data(#"{"algo": "fql", "flowSteps": 0}"#.utf8))
        }
        #expect(throws: ConfigError.self) { try OFQLConfig.fromJSON(Data(#"{"algo": "fql", "qAggregation": "max"}"#.utf8)) }
        let fbrac = try OFQLConfig.fromJSON(Data(#"{"algo": "fbrac"}"#.utf8))
        #expect(fbrac.flowSteps == 5 && fbrac.criticLayerNorm && fbrac.eta == 1 && fbrac.normalizeQLoss)
        #expect(try OFQLConfig.fromJSON(try fbrac.jsonData()) == fbrac)
    }

    @Test("FBRAC samples its flow in one Euler step, or in as many as asked")
    func fbracSamplers() throws {
        var c = OFQLConfig.defaults(for: .fbrac)
        c.hidden = [16, 16]; c.criticHidden = [16, 16]; c.batchSize = 8
        let agent = try FQLAgent.create(config: c, obsDim: 3, actDim: 2, seed: 5)
        var rng = Xoshiro(seed: 8)
        let n = 40
        var s = [Float](repeating: 0, count: n * 3), z = [Float](repeating: 0, count: n * 2)
        rng.fillNormal(&s, count: s.count); rng.fillNormal(&z, count: z.count)
        for steps in [1, 5] {
            let sampler = steps == 1 ? agent.makeSampler(maxRows: n) : agent.makeSampler(maxRows: n, flowSteps: steps)
            var out = [Float](repeating: 0, count: n * 2), want = out
            sampler.sample(observations: s, count: n, noise: z, into: &out)
            var layout = ParameterLayout()
            let flow = EulerFlow<Float>(agent.nets.flow.spec, obsDim: 3, actDim: 2, steps: steps, prefix: "policy.body",
                                        layout: &layout, rows: n)
            flow.sample(agent.nets.actorParams.values, s: s, z: z, count: n, derivatives: false, into: &want)
            #expect(out == want, "\(steps) steps")
        }
    }

    @Test("the samplers reproduce the one-step policy and the flow's Euler integration")
    func samplersMatchTheNetworks() throws {
        var c = OFQLConfig.defaults(for: .fql)
        c.hidden = [16, 16]; c.criticHidden = [16, 16]; c.batchSize = 8; c.flowSteps = 5
        let agent = try FQLAgent.create(config: c, obsDim: 3, actDim: 2, seed: 5)
        var rng = Xoshiro(seed: 8)
        let n = 40
        var s = [Float](repeating: 0, count: n * 3), z = [Float](repeating: 0, count: n * 2)
        rng.fillNormal(&s, count: s.count); rng.fillNormal(&z, count: z.count)
        for (steps, rows) in [(nil as Int?, n), (5, n), (nil, 3), (5, 3)] {
            let sampler = agent.makeSampler(maxRows: rows, flowSteps: steps)
            var out = [Float](repeating: 0, count: rows * 2)
            sampler.sample(observations: s, count: rows, noise: z, into: &out)
            let nets = FQLNets<Float>(obsDim: 3, actDim: 2, config: c, rows: rows, rng: &rng)
            nets.actorParams.copyValues(from: agent.nets.actorParams)
            var want = [Float](repeating: 0, count: rows * 2)
            if steps == nil {
                nets.oneStepForward(nets.actorParams.values, s: s, z: z, count: rows, derivatives: false, parallel: false)
                for k in 0..<(rows * 2) { want[k] = max(-1, min(1, nets.oneStep!.output[k])) }
            } else {
                nets.flow.sample(nets.actorParams.values, s: s, z: z, count: rows, derivatives: false, into: &want)
            }
            // Small batches use packed weights (another summation order): equal to rounding.
            for k in 0..<(rows * 2) { #expect(abs(out[k] - want[k]) < 1e-5, "steps \(String(describing: steps)) rows \(rows)") }
        }
    }

    @Test func fbracQTermMovesThePolicyTowardTheRewardedAction() throws {
        func meanAction(eta: Double) throws -> Float {
            // Evaluated with the 5 Euler steps it was trained with (one step of a bimodal flow
            // lands between the modes, which says nothing about the Q term).
            try banditMeanAction(.fbrac, repeats: 2, sampler: { ($0 as! FQLAgent).makeSampler(maxRows: $1, flowSteps: 5) }) { $0.eta = eta }
        }
        let cloning = try meanAction(eta: 0)
        let fbrac = try meanAction(eta: 3)
        #expect(abs(cloning) < 0.15, "η = 0 should imitate the mean action 0, got \(cloning)")
        #expect(fbrac > 0.35, "the Q term should move the policy toward +0.5, got \(fbrac)")
    }

    @Test func qTermMovesThePolicyTowardTheRewardedAction() throws {
        func meanAction(alpha: Double) throws -> Float {
            try banditMeanAction(.fql, repeats: 2) { c in c.flowSteps = 5; c.fqlAlpha = alpha }
        }
        // A large α makes the one-step policy copy the flow, which imitates the 50/50 mix of
        // −0.5 and +0.5 (mean 0); a small α lets the normalised Q term pull it toward +0.5.
        let cloning = try meanAction(alpha: 1000)
        let fql = try meanAction(alpha: 0.3)
        #expect(abs(cloning) < 0.15, "α = 1000 should imitate the mean action 0, got \(cloning)")
        #expect(fql > 0.35, "the Q term should move the policy toward +0.5, got \(fql)")
    }
}
