import Datasets
import Randomness
import Testing
@testable import OFQL

/// Small end-to-end learning properties: mode coverage of the one-step flow policy and
/// policy improvement by the Q term.
struct LearningTests {
    static let modes: [(Float, Float)] = [(0.5, 0.5), (-0.5, 0.5), (-0.5, -0.5), (0.5, -0.5)]

    /// 2-D actions from 4 separated modes, one constant state.
    func fourModeData() throws -> Transitions {
        var rng = Xoshiro(seed: 31)
        let n = 2048
        var act: [Float] = []
        for i in 0..<n {
            let m = Self.modes[i % 4]
            act.append(m.0 + Float(0.04 * rng.normal())); act.append(m.1 + Float(0.04 * rng.normal()))
        }
        let obs = [Float](repeating: 0, count: n)
        return try Transitions(observations: obs, actions: act, rewards: .init(repeating: 0, count: n), nextObservations: obs,
                               terminals: [Float](repeating: 1, count: n), obsDim: 1, actDim: 2)
    }

    func smallConfig(_ algo: Algorithm) -> OFQLConfig {
        var c = OFQLConfig()
        c.algo = algo
        c.hidden = [64, 64]; c.criticHidden = [16]
        c.timeEmbeddingDim = 8
        c.batchSize = 128
        c.actorLR = 2e-3; c.criticLR = 1e-3
        c.policyEMA = false
        c.eta = 0
        return c
    }

    func samples(_ agent: any Learner, obs: [Float], seed: UInt64) -> [Float] {
        var rng = Xoshiro(seed: seed)
        return agent.sampleActions(observations: obs, rng: &rng)
    }

    @Test func flowBCCoversEveryModeWhereMSECollapses() throws {
        let data = try fourModeData()
        let n = 800
        let obs = [Float](repeating: 0, count: n)

        let flow = try Trainer(config: smallConfig(.ofql), data: data, seed: 1, datasetID: "modes", outDir: nil)
        try flow.run(until: 1000, options: TrainerOptions(logEvery: 0, checkpointEvery: 0))
        let a = samples(flow.agent, obs: obs, seed: 2)
        var counts = [0, 0, 0, 0], near = 0, away = 0
        for i in 0..<n {
            let x = a[2 * i], y = a[2 * i + 1]
            let d = Self.modes.map { (x - $0.0) * (x - $0.0) + (y - $0.1) * (y - $0.1) }
            let k = d.indices.min { d[$0] < d[$1] }!
            counts[k] += 1
            if d[k] < 0.3 * 0.3 { near += 1 }
            if x * x + y * y > 0.3 * 0.3 { away += 1 }
        }
        // Every mode is populated, and samples sit at the modes rather than at the mean (0, 0),
        // which is 0.71 from every mode.
        #expect(counts.allSatisfy { $0 > n / 10 }, "samples per mode \(counts)")
        #expect(near > n / 5, "only \(near) of \(n) samples within 0.3 of a mode")
        #expect(away > n / 2, "only \(away) of \(n) samples farther than 0.3 from the mean")

        let bc = try Trainer(config: smallConfig(.bc), data: data, seed: 1, datasetID: "modes", outDir: nil)
        try bc.run(until: 600, options: TrainerOptions(logEvery: 0, checkpointEvery: 0))
        let b = samples(bc.agent, obs: obs, seed: 2)
        var maxRadius: Float = 0
        for i in 0..<n {
            let x = b[2 * i], y = b[2 * i + 1]
            maxRadius = max(maxRadius, (x * x + y * y).squareRoot())
        }
        #expect(maxRadius < 0.2, "the MSE regressor should sit at the mean (0, 0); max radius \(maxRadius)")
    }

    @Test func qTermMovesThePolicyToTheBetterAction() throws {
        let data = try banditTransitions()
        func goodFraction(eta: Double) throws -> Double {
            var c = smallConfig(.ofql)
            c.eta = eta
            c.criticHidden = [32, 32]
            let t = try Trainer(config: c, data: data, seed: 3, datasetID: "bandit", outDir: nil)
            try t.run(until: 800, options: TrainerOptions(logEvery: 0, checkpointEvery: 0))
            let obs = (0..<400).map { Float($0) / 200 - 1 }
            let a = samples(t.agent, obs: obs, seed: 4)
            return Double(a.filter { $0 > 0 }.count) / Double(a.count)
        }
        let imitation = try goodFraction(eta: 0)
        let improved = try goodFraction(eta: 1)
        #expect(imitation > 0.3 && imitation < 0.7, "flow BC alone should imitate the 50/50 mix, got \(imitation)")
        #expect(improved > 0.9, "the Q term should pick the rewarded action, got \(improved)")
    }
}

/// Evaluation-time candidate selection (CleanDiffuser's protocol, arXiv 2508.13904 App. B).
struct SelectionTests {
    func banditAgent() throws -> OFQLAgent {
        var c = LearningTests().smallConfig(.ofql)
        c.criticHidden = [32, 32]
        let t = try Trainer(config: c, data: try banditTransitions(), seed: 3, datasetID: "bandit", outDir: nil)
        try t.run(until: 800, options: TrainerOptions(logEvery: 0, checkpointEvery: 0))
        return t.agent as! OFQLAgent
    }

    func goodFraction(_ a: [Float]) -> Double { Double(a.filter { $0 > 0 }.count) / Double(a.count) }

    @Test func selectionPicksTheCandidatesTheCriticsPrefer() throws {
        let agent = try banditAgent()   // η = 0: the policy imitates the 50/50 mix, the critics learn which half pays
        let n = 200
        let obs = (0..<n).map { Float($0) / 100 - 1 }
        func run(_ sel: CandidateSelection?) -> [Float] {
            var rngs = (0..<n).map { Xoshiro(seed: 9).derived(UInt64($0)) }
            var out = [Float](repeating: 0, count: n)
            if let sel {
                let s = agent.makeSelectingSampler(sel, maxStates: n)
                rngs.withUnsafeMutableBufferPointer { r in s.sample(observations: obs, count: n, rngs: r.baseAddress!, into: &out) }
            } else {
                let s = agent.makeSampler(maxRows: n)
                var noise = [Float](repeating: 0, count: n)
                for i in 0..<n { rngs[i].fillNormal(&noise[i], count: 1) }
                s.sample(observations: obs, count: n, noise: noise, into: &out)
            }
            return out
        }
        let plain = goodFraction(run(nil))
        let selected = goodFraction(run(CandidateSelection(candidates: 10, noiseTemperature: 1, beta: 100)))
        let uniform = goodFraction(run(CandidateSelection(candidates: 10, noiseTemperature: 1, beta: 0)))
        #expect(plain > 0.3 && plain < 0.7, "one-step sampling imitates the mix, got \(plain)")
        #expect(uniform > 0.3 && uniform < 0.7, "β = 0 picks uniformly among candidates, got \(uniform)")
        #expect(selected > 0.9, "β = 100 should pick the rewarded candidates, got \(selected)")
        // One candidate at temperature 1 is plain one-step sampling, draw for draw.
        #expect(run(CandidateSelection(candidates: 1, noiseTemperature: 1, beta: 5)) == run(nil))
    }

    @Test func badSelectionsAreRefused() {
        #expect(throws: ConfigError.self) { try CandidateSelection(candidates: 0, beta: 1).validate() }
        #expect(throws: ConfigError.self) { try CandidateSelection(candidates: 5, noiseTemperature: -1, beta: 1).validate() }
        #expect(throws: ConfigError.self) { try CandidateSelection(candidates: 5, beta: .nan).validate() }
    }
}
