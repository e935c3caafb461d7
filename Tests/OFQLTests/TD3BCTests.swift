import Foundation
import Randomness
import Testing
import TestSupport
@testable import OFQL

/// TD3+BC (arXiv 2106.06860): both losses against finite differences in Double, the published
/// defaults, and policy improvement on a bandit with a known best action.
struct TD3BCTests {
    /// Smooth tiny networks (tanh) so central differences are exact to O(h²).
    func tinyNets(rows: Int = 5) -> TD3BCNets<Double> {
        var c = OFQLConfig.defaults(for: .td3bc)
        c.hidden = [6, 5]; c.criticHidden = [7, 4]; c.activation = .tanh; c.criticActivation = .tanh
        var rng = Xoshiro(seed: 17)
        let nets = TD3BCNets<Double>(obsDim: 3, actDim: 2, config: c, rows: rows, rng: &rng)
        // Targets differ from the online networks, as they do after training starts.
        for i in 0..<nets.criticTarget.count { nets.criticTarget.values[i] += 0.05 * rng.normal() }
        for i in 0..<nets.actorTarget.count { nets.actorTarget.values[i] += 0.05 * rng.normal() }
        return nets
    }

    struct Batch {
        var s, a, r, s2, mask, xi: [Double]
        init(rows: Int, seed: UInt64) {
            var g = Xoshiro(seed: seed)
            func n(_ k: Int, _ scale: Double = 1) -> [Double] { (0..<k).map { _ in scale * g.normal() } }
            s = n(rows * 3); a = (0..<(rows * 2)).map { _ in g.uniform() * 1.6 - 0.8 }; r = n(rows); s2 = n(rows * 3)
            mask = (0..<rows).map { $0 == 1 ? 0 : 1 }; xi = n(rows * 2, 0.1)
        }
    }


    @Test func criticLossGradientMatchesFiniteDifferences() {
        let nets = tinyNets(), b = Batch(rows: 5, seed: 3)
        func loss() -> Double {
            nets.criticLoss(s: b.s, a: b.a, r: b.r, s2: b.s2, mask: b.mask, smoothing: b.xi, gamma: 0.9, rewardScale: 2,
                            rewardShift: -0.5).loss
        }
        let result = nets.criticLoss(s: b.s, a: b.a, r: b.r, s2: b.s2, mask: b.mask, smoothing: b.xi, gamma: 0.9,
                                     rewardScale: 2, rewardShift: -0.5)
        #expect(result.loss > 0)
        checkParameterGradient(nets.criticParams, analytic: nets.criticParams.gradArray, loss: loss)
    }

    @Test func actorLossGradientMatchesFiniteDifferences() {
        let nets = tinyNets(), b = Batch(rows: 5, seed: 4)
        let first = nets.actorLoss(s: b.s, a: b.a, alpha: 2.5)
        let analytic = nets.actorParams.gradArray
        // λ is α over the batch's mean |Q_1(s, π(s))| (π of the pass above).
        let q1 = nets.critics.nets[0]
        nets.critics.setInput(rows: 5, s: b.s, a: nets.pi)
        q1.forward(nets.criticParams.values, input: nets.critics.input, rows: 5, derivatives: false)
        let meanAbs = (0..<5).reduce(0.0) { $0 + abs(q1.output[$1]) } / 5
        #expect(abs(first.lambda - 2.5 / meanAbs) < 1e-12 * first.lambda)
        #expect(abs(first.loss - (first.qTerm + first.bcTerm)) < 1e-12)
        // λ is detached: hold it at the value of the analytic pass.
        checkParameterGradient(nets.actorParams, analytic: analytic) {
            nets.actorLoss(s: b.s, a: b.a, alpha: 2.5, lambda: first.lambda).loss
        }
    }

    @Test func configDefaultsFollowThePaper() throws {
        let c = try OFQLConfig.fromJSON(Data(#"{"algo": "td3bc"}"#.utf8))
        #expect(c.hidden == [256, 256] && c.criticHidden == [256, 256] && c.activation == .relu && c.criticActivation == .relu)
        #expect(c.td3Alpha == 2.5 && c.targetPolicyNoise == 0.2 && c.targetNoiseClip == 0.5 && c.policyDelay == 2)
        #expect(c.targetTau == 0.005 && c.actorLR == 3e-4 && c.criticLR == 3e-4 && c.batchSize == 256 && c.normalizeObservations)
        let overridden = try OFQLConfig.fromJSON(Data(#"{"algo": "td3bc", "td3Alpha": 1, "hidden": [64]}"#.utf8))
        #expect(overridden.td3Alpha == 1 && overridden.hidden == [64] && overridden.criticHidden == [256, 256])
        #expect(throws: ConfigError.invalid(field: "policyDelay", reason: "must be ≥ 1, got 0")) {
            try OFQLConfig.fromJSON(Data(#"{"algo": "td3bc", "policyDelay": 0}"#.utf8))
        }
        // --algo over a config file: the file's keys over that algorithm's defaults.
        try withTemporaryDirectory { dir in
            try #"{"td3Alpha": 4}"#.write(toFile: dir + "/c.json", atomically: true, encoding: .utf8)
            let c = try OFQLConfig.load(path: dir + "/c.json", algo: .td3bc)
            #expect(c.algo == .td3bc && c.td3Alpha == 4 && c.hidden == [256, 256])
        }
    }

    @Test func qTermMovesThePolicyTowardTheRewardedAction() throws {
        func meanAction(alpha: Double) throws -> Float {
            try banditMeanAction(.td3bc) { $0.td3Alpha = alpha }
        }
        // α = 0 is plain BC: the mean of the 50/50 mix, 0. With α = 2.5 the Q term moves the
        // policy most of the way to the rewarded +0.5.
        let bc = try meanAction(alpha: 0)
        let td3bc = try meanAction(alpha: 2.5)
        #expect(abs(bc) < 0.15, "α = 0 should imitate the mean action 0, got \(bc)")
        #expect(td3bc > 0.35, "the Q term should move the policy toward +0.5, got \(td3bc)")
    }
}
