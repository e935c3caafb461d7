import Foundation
import Randomness
import Testing
@testable import OFQL

/// IQL (arXiv 2110.06169): its three losses against finite differences in Double, the
/// data-dependent settings, and policy improvement on a bandit with a known best action.
struct IQLTests {
    func tinyNets(rows: Int = 6) -> IQLNets<Double> {
        var c = OFQLConfig.defaults(for: .iql)
        c.hidden = [6, 5]; c.criticHidden = [7, 4]; c.activation = .tanh; c.criticActivation = .tanh
        var rng = Xoshiro(seed: 23)
        let nets = IQLNets<Double>(obsDim: 3, actDim: 2, config: c, rows: rows, rng: &rng)
        for i in 0..<nets.criticTarget.count { nets.criticTarget.values[i] += 0.05 * rng.normal() }
        nets.logStd.values[0] = -0.3; nets.logStd.values[1] = 0.4
        return nets
    }

    struct Batch {
        var s, a, r, s2, mask: [Double]
        init(rows: Int, seed: UInt64) {
            var g = Xoshiro(seed: seed)
            func n(_ k: Int) -> [Double] { (0..<k).map { _ in g.normal() } }
            s = n(rows * 3); a = (0..<(rows * 2)).map { _ in g.uniform() * 1.6 - 0.8 }; r = n(rows); s2 = n(rows * 3)
            mask = (0..<rows).map { $0 == 2 ? 0 : 1 }
        }
    }

    /// The advantage weights (β = 3, clip 100) after one value step on `b`.
    func advantageWeights(_ nets: IQLNets<Double>, _ b: Batch) -> [Double] {
        _ = nets.valueLoss(s: b.s, a: b.a, expectile: 0.7)
        nets.advantageWeights(s: b.s, temperature: 3, clip: 100)
        return Array(UnsafeBufferPointer(start: nets.weights, count: b.s.count / 3))
    }

    @Test func valueLossGradientMatchesFiniteDifferences() {
        let nets = tinyNets(), b = Batch(rows: 6, seed: 5)
        let first = nets.valueLoss(s: b.s, a: b.a, expectile: 0.8)
        #expect(first.loss > 0)
        checkParameterGradient(nets.valueParams, analytic: nets.valueParams.gradArray) { nets.valueLoss(s: b.s, a: b.a, expectile: 0.8).loss }
    }

    @Test func actorLossGradientsMatchFiniteDifferences() {
        let nets = tinyNets(), b = Batch(rows: 6, seed: 6)
        let w = advantageWeights(nets, b)
        #expect(w.allSatisfy { $0 > 0 && $0 <= 100 })
        _ = nets.actorLoss(s: b.s, a: b.a, weights: w)
        let dTheta = nets.actorParams.gradArray, dLogStd = nets.logStd.gradArray
        checkParameterGradient(nets.actorParams, analytic: dTheta) { nets.actorLoss(s: b.s, a: b.a, weights: w) }
        checkParameterGradient(nets.logStd, analytic: dLogStd) { nets.actorLoss(s: b.s, a: b.a, weights: w) }
        // Outside [−5, 2] log σ is clipped and gets no gradient.
        nets.logStd.values[1] = 3
        _ = nets.actorLoss(s: b.s, a: b.a, weights: w)
        #expect(nets.logStd.grads[1] == 0 && nets.logStd.grads[0] != 0)
    }

    @Test("actor dropout: gradients through fixed masks match finite differences; masks drop about the rate")
    func actorDropoutGradients() throws {
        let nets = tinyNets(), b = Batch(rows: 6, seed: 8)
        let w = advantageWeights(nets, b)
        var rng = Xoshiro(seed: 4)
        nets.actor.drawDropoutMasks(rate: 0.3, rows: 6, rng: &rng)
        let plain = nets.actorLoss(s: b.s, a: b.a, weights: w)
        let dropped = nets.actorLoss(s: b.s, a: b.a, weights: w, dropout: true)
        #expect(plain != dropped, "the masks change the loss")
        let dTheta = nets.actorParams.gradArray
        checkParameterGradient(nets.actorParams, analytic: dTheta) { nets.actorLoss(s: b.s, a: b.a, weights: w, dropout: true) }
        // Inverted dropout: kept units scaled by 1/(1 − p); the share dropped is near p.
        nets.actor.drawDropoutMasks(rate: 0.3, rows: 6, rng: &rng)
        let m = Array(UnsafeBufferPointer(start: nets.actor.dropoutMask[0], count: 6 * 6))
        #expect(m.allSatisfy { $0 == 0 || abs($0 - 1 / 0.7) < 1e-12 })
        let share = Double(m.filter { $0 == 0 }.count) / Double(m.count)
        #expect(share > 0.1 && share < 0.5)
        // The setting is IQL's only, and a rate must be in [0, 1).
        var c = OFQLConfig.defaults(for: .iql)
        c.actorDropout = 1
        #expect(throws: ConfigError.self) { try c.validate() }
        var t = OFQLConfig.defaults(for: .td3bc)
        t.actorDropout = 0.1
        #expect(throws: ConfigError.self) { try t.validate() }
        // Unset, the key is not written (configs and cell hashes from before it stay the same).
        let json = String(decoding: try OFQLConfig.defaults(for: .iql).jsonData(), as: UTF8.self)
        #expect(!json.contains("actorDropout"))
        c.actorDropout = 0.1
        #expect(try OFQLConfig.fromJSON(c.jsonData()).actorDropout == 0.1)
    }

    @Test("deterministic actor: weighted squared error of the tanh mean, gradients match finite differences")
    func deterministicActorGradients() throws {
        let nets = tinyNets(), b = Batch(rows: 6, seed: 9)
        let w = advantageWeights(nets, b)
        let loss = nets.actorLoss(s: b.s, a: b.a, weights: w, deterministic: true)
        var expected = 0.0
        for k in 0..<12 { let d = b.a[k] - tanh(nets.actor.output[k]); expected += w[k / 2] * d * d }
        #expect(abs(loss - expected / 6) < 1e-12)
        #expect(nets.logStd.gradArray.allSatisfy { $0 == 0 }, "log σ is not part of the deterministic loss")
        let dTheta = nets.actorParams.gradArray
        checkParameterGradient(nets.actorParams, analytic: dTheta) { nets.actorLoss(s: b.s, a: b.a, weights: w, deterministic: true) }
        var t = OFQLConfig.defaults(for: .bc)
        t.iqlDeterministicActor = true
        #expect(throws: ConfigError.self) { try t.validate() }
        let json = String(decoding: try OFQLConfig.defaults(for: .iql).jsonData(), as: UTF8.self)
        #expect(!json.contains("iqlDeterministicActor"))
        var c = OFQLConfig.defaults(for: .iql)
        c.iqlDeterministicActor = true
        #expect(try OFQLConfig.fromJSON(c.jsonData()).iqlDeterministicActor)
    }

    @Test func advantageWeightsAreClippedExponentials() {
        let nets = tinyNets(), b = Batch(rows: 6, seed: 7)
        _ = nets.valueLoss(s: b.s, a: b.a, expectile: 0.7)
        nets.value.forward(nets.valueParams.values, input: b.s, rows: 6, derivatives: false)
        let v = Array(UnsafeBufferPointer(start: nets.value.output, count: 6))
        nets.advantageWeights(s: b.s, temperature: 50, clip: 2)
        for k in 0..<6 {
            let expected = min(exp(50 * (nets.qTargetMin[k] - v[k])), 2)
            #expect(abs(nets.weights[k] - expected) < 1e-12 * max(1, expected))
        }
    }

    @Test func criticLossGradientMatchesFiniteDifferences() {
        let nets = tinyNets(), b = Batch(rows: 6, seed: 8)
        let first = nets.criticLoss(s: b.s, a: b.a, r: b.r, s2: b.s2, mask: b.mask, gamma: 0.9, rewardScale: 3, rewardShift: -1)
        #expect(first.loss > 0)
        checkParameterGradient(nets.criticParams, analytic: nets.criticParams.gradArray) {
            nets.criticLoss(s: b.s, a: b.a, r: b.r, s2: b.s2, mask: b.mask, gamma: 0.9, rewardScale: 3, rewardShift: -1).loss
        }
    }

    @Test func dataDependentSettingsAreResolvedBeforeTraining() throws {
        let c = try OFQLConfig.fromJSON(Data(#"{"algo": "iql"}"#.utf8))
        #expect(c.expectile == 0.7 && c.iqlTemperature == 3 && c.advantageClip == 100 && c.rewardScaleFromReturns)
        let r = try c.resolved(episodeReturnRange: -100...400, steps: 5000)
        #expect(r.rewardScale == 2 && !r.rewardScaleFromReturns && r.actorCosineSteps == 5000)
        // Resolving twice changes nothing: a resumed run keeps its settings.
        #expect(try r.resolved(episodeReturnRange: 0...1, steps: 9) == r)
        #expect(throws: ConfigError.self) { try c.resolved(episodeReturnRange: 3...3, steps: 10) }
        var maze = c
        maze.rewardScaleFromReturns = false; maze.rewardShift = -1
        #expect(try maze.resolved(episodeReturnRange: nil, steps: 10).rewardScale == 1)
    }

    @Test func cosineScheduleDecaysTheActorRateToZero() throws {
        var c = OFQLConfig.defaults(for: .iql)
        c.batchSize = 4; c.hidden = [8]; c.criticHidden = [8]; c.actorCosineSteps = 100
        let agent = try IQLAgent.create(config: c, obsDim: 2, actDim: 1, seed: 0)
        #expect(agent.actorLearningRate == c.actorLR)
        agent.step = 50
        #expect(abs(agent.actorLearningRate - c.actorLR / 2) < 1e-15)
        agent.step = 150
        #expect(agent.actorLearningRate == 0)
    }

    @Test func advantageWeightingMovesThePolicyTowardTheRewardedAction() throws {
        func meanAction(temperature: Double) throws -> Float {
            try banditMeanAction(.iql) { c in c.iqlTemperature = temperature; c.rewardScaleFromReturns = false; c.targetTau = 0.05 }
        }
        // β = 0 weights every pair alike (Gaussian BC: the mean 0); β = 3 favours the rewarded +0.5.
        let bc = try meanAction(temperature: 0)
        let iql = try meanAction(temperature: 3)
        #expect(abs(bc) < 0.15, "β = 0 should imitate the mean action 0, got \(bc)")
        #expect(iql > 0.3, "advantage weights should move the policy toward +0.5, got \(iql)")
    }
}
