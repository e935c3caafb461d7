import Foundation
import Randomness
import Testing
import TestSupport
@testable import OFQL

/// Diffusion-QL (arXiv 2208.06193): the VP schedule, both losses against finite differences in
/// Double (the actor's through every denoising step), the samplers against the chain, and
/// policy improvement on a bandit with a known best action.
struct DQLTests {
    func tinyConfig(steps: Int = 3) -> OFQLConfig {
        var c = OFQLConfig.defaults(for: .dql)
        c.hidden = [6, 5]; c.criticHidden = [7, 4]; c.activation = .tanh; c.criticActivation = .tanh
        c.timeEmbeddingDim = 4; c.diffusionSteps = steps
        return c
    }

    func tinyNets(rows: Int = 5, steps: Int = 3) -> DQLNets<Double> {
        var rng = Xoshiro(seed: 31)
        let nets = DQLNets<Double>(obsDim: 3, actDim: 2, config: tinyConfig(steps: steps), rows: rows, rng: &rng)
        for i in 0..<nets.criticTarget.count { nets.criticTarget.values[i] += 0.05 * rng.normal() }
        return nets
    }

    struct Batch {
        var s, a, r, s2, mask, nextNoise, bcNoise, chainNoise: [Double]
        var bcSteps: [Int]
        init(rows: Int, steps: Int, seed: UInt64) {
            var g = Xoshiro(seed: seed)
            func n(_ k: Int, _ scale: Double = 1) -> [Double] { (0..<k).map { _ in scale * g.normal() } }
            s = n(rows * 3); a = (0..<(rows * 2)).map { _ in g.uniform() * 1.6 - 0.8 }; r = n(rows); s2 = n(rows * 3)
            mask = (0..<rows).map { $0 == 1 ? 0 : 1 }
            // Small chain noise keeps most x̂_0 inside the clip, so the chain carries gradient.
            nextNoise = n(rows * steps * 2, 0.3); bcNoise = n(rows * 2); chainNoise = n(rows * steps * 2, 0.3)
            bcSteps = (0..<rows).map { $0 % steps }
        }
    }

    @Test func scheduleFollowsTheVPFormulaAndInvertsTheNoising() {
        let sc = DiffusionSchedule(steps: 5)
        // β_i = 1 − exp(−0.1/5 − 9.9·(2i + 1)/50).
        for i in 0..<5 { #expect(abs(sc.betas[i] - (1 - exp(-0.02 - 9.9 * Double(2 * i + 1) / 50))) < 1e-15) }
        #expect(zip(sc.betas, sc.betas.dropFirst()).allSatisfy { $0 < $1 })
        #expect(abs(sc.alphasCumprod[4] - sc.betas.reduce(1) { $0 * (1 - $1) }) < 1e-15)
        // x_i = √ᾱ x_0 + √(1 − ᾱ) ε is inverted exactly by x̂_0 with the true ε, and the posterior
        // mean at x̂_0 = x_0 lies between x_0 and x_i with σ_0 ≈ 0.
        for i in 0..<5 {
            let x0 = 0.4, e = -1.3
            let xi = sc.sqrtAC[i] * x0 + sc.sqrtOneMinusAC[i] * e
            #expect(abs(sc.recipSqrtAC[i] * xi - sc.recipm1SqrtAC[i] * e - x0) < 1e-12)
            // With x̂_0 = x_0 and no noise, one reverse step lands on √ᾱ_{i−1}·x_0 + (its noise
            // share of ε): the posterior mean of a noise-free x_0 at ε = 0 is √ᾱ_{i−1}·x_0.
            let clean = sc.sqrtAC[i] * x0
            let prevScale = i == 0 ? 1 : sc.alphasCumprod[i - 1].squareRoot()
            #expect(abs(sc.coef1[i] * x0 + sc.coef2[i] * clean - prevScale * x0) < 1e-12)
        }
        #expect(sc.sigma[0] < 1e-9 && sc.sigma[4] > 0.1)
    }

    @Test func criticLossGradientMatchesFiniteDifferences() {
        let nets = tinyNets(), b = Batch(rows: 5, steps: 3, seed: 3)
        let theta = nets.actorParams.valueArray
        func run() -> DQLNets<Double>.CriticResult {
            nets.criticLoss(policyParams: theta, s: b.s, a: b.a, r: b.r, s2: b.s2, mask: b.mask, noise: b.nextNoise, gamma: 0.9,
                            rewardScale: 2, rewardShift: -0.5)
        }
        #expect(run().loss > 0)
        checkParameterGradient(nets.criticParams, analytic: nets.criticParams.gradArray) { run().loss }
    }

    @Test(arguments: [0, 1])
    func actorLossGradientMatchesFiniteDifferencesThroughTheChain(_ chosen: Int) {
        let nets = tinyNets(), b = Batch(rows: 5, steps: 3, seed: 4)
        let first = nets.actorLoss(s: b.s, a: b.a, bcNoise: b.bcNoise, bcSteps: b.bcSteps, noise: b.chainNoise, eta: 1.5,
                                   chosen: chosen)
        let analytic = nets.actorParams.gradArray
        #expect(first.bcLoss > 0 && first.qTerm != 0)
        #expect(abs(first.loss - (first.bcLoss + first.qTerm)) < 1e-12)
        // The normaliser mean|Q_j| is detached: hold it.
        checkParameterGradient(nets.actorParams, analytic: analytic) {
            nets.actorLoss(s: b.s, a: b.a, bcNoise: b.bcNoise, bcSteps: b.bcSteps, noise: b.chainNoise, eta: 1.5, chosen: chosen,
                           qNorm: first.qAbsMean).loss
        }
    }

    @Test("the K-step and DDIM(1) samplers reproduce the chain")
    func samplersMatchTheChain() throws {
        var c = OFQLConfig.defaults(for: .dql)
        c.hidden = [16, 16]; c.criticHidden = [16, 16]; c.batchSize = 8; c.timeEmbeddingDim = 8; c.policyEMA = false
        let agent = try DQLAgent.create(config: c, obsDim: 3, actDim: 2, seed: 5)
        var rng = Xoshiro(seed: 8)
        let n = 7, K = c.diffusionSteps
        var s = [Float](repeating: 0, count: n * 3), z = [Float](repeating: 0, count: n * K * 2)
        rng.fillNormal(&s, count: s.count); rng.fillNormal(&z, count: z.count)
        let chain = DiffusionChain<Float>(DiffusionPolicySpec(config: c, obsDim: 3, actDim: 2), layout: &Self.scratchLayout, rows: n)
        for ddim in [false, true] {
            let sampler = agent.makeSampler(maxRows: n, ddim1: ddim)
            #expect(sampler.noiseDim == (ddim ? 2 : K * 2))
            var noise = z
            if ddim { noise = (0..<n).flatMap { Array(z[($0 * K * 2)..<($0 * K * 2 + 2)]) } }
            var out = [Float](repeating: 0, count: n * 2), want = out
            sampler.sample(observations: s, count: n, noise: noise, into: &out)
            if ddim {
                chain.ddim1(agent.nets.actorParams.values, s: s, noise: z, noiseStride: K * 2, count: n, into: &want)
            } else {
                chain.sample(agent.nets.actorParams.values, s: s, noise: z, count: n, derivatives: false, into: &want)
            }
            // Small batches use packed weights (another summation order): equal to rounding.
            for k in 0..<(n * 2) { #expect(abs(out[k] - want[k]) < 1e-5, "ddim1 \(ddim)") }
            #expect(out.allSatisfy { abs($0) <= 1 })
        }
    }
    nonisolated(unsafe) static var scratchLayout = ParameterLayout()

    @Test func configDefaultsAndJSON() throws {
        let c = try OFQLConfig.fromJSON(Data(#"{"algo": "dql"}"#.utf8))
        #expect(c.diffusionSteps == 5 && c.diffusionBetaMin == 0.1 && c.diffusionBetaMax == 10 && c.timeEmbeddingDim == 16)
        #expect(c.eta == 1 && c.qNormalization == .dql && c.policyEMA && c.emaDecay == 0.995 && c.emaEvery == 5)
        #expect(try OFQLConfig.fromJSON(try c.jsonData()) == c)
        #expect(!String(decoding: try OFQLConfig().jsonData(), as: UTF8.self).contains("diffusionSteps"))
        #expect(throws: ConfigError.invalid(field: "maxQBackup", reason: "is not implemented for dql")) {
            try OFQLConfig.fromJSON(Data(#"{"algo": "dql", "maxQBackup": true}"#.utf8))
        }
        #expect(throws: ConfigError.self) { try OFQLConfig.fromJSON(Data(#"{"algo": "dql", "diffusionBetaMax": 0.05}"#.utf8)) }
    }

    @Test func qTermMovesThePolicyTowardTheRewardedAction() throws {
        func meanAction(eta: Double) throws -> Float {
            try banditMeanAction(.dql, repeats: 2) { c in
                c.timeEmbeddingDim = 8; c.eta = eta; c.emaStartStep = 0; c.emaEvery = 1; c.emaDecay = 0.9
            }
        }
        // η = 0 is diffusion BC of the 50/50 mix of −0.5 and +0.5 (mean 0); the Q term through
        // the chain moves the policy toward the rewarded +0.5.
        let cloning = try meanAction(eta: 0)
        let dql = try meanAction(eta: 1)
        #expect(abs(cloning) < 0.15, "η = 0 should imitate the mean action 0, got \(cloning)")
        #expect(dql > 0.35, "the Q term should move the policy toward +0.5, got \(dql)")
    }
}
