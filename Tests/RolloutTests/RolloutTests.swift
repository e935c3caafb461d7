import Envs
import OFQL
import Testing
@testable import Rollout

@Suite("Rollout engine")
struct RolloutTests {
    let spec = try! EnvRegistry.spec(.hopper)

    func run(workers: Int, lanes: Int = 4, episodes: Int = 12, record: Bool = false) throws -> RolloutEngine.Output {
        let policy = RandomPolicy(observationDimension: spec.observationDimension, actionDimension: spec.actionDimension)
        return try RolloutEngine.run(spec: spec, policy: policy,
                                     options: RolloutOptions(episodes: episodes, workers: workers, seed: 100, lanes: lanes, record: record))
    }

    @Test("results are bit-identical with 1 and 4 workers; episode i uses seed base + i")
    func workerInvariance() throws {
        let one = try run(workers: 1, record: true)
        let four = try run(workers: 4, record: true)
        #expect(one.episodes == four.episodes)
        #expect(one.episodes.map(\.seed) == (0..<12).map { 100 + UInt64($0) })
        #expect(one.episodes.map(\.index) == Array(0..<12))
        for i in 0..<12 {
            #expect(one.records[i].observations == four.records[i].observations)
            #expect(one.records[i].actions == four.records[i].actions)
        }
        #expect(one.steps == four.steps)
        #expect(Set(one.episodes.map(\.totalReward)).count > 1, "different seeds give different episodes")
    }

    @Test("recorded transitions chain: next observation of step t is the observation of step t + 1")
    func recordsChain() throws {
        let out = try run(workers: 2, episodes: 5, record: true)
        let d = spec.observationDimension
        for (e, r) in zip(out.episodes, out.records) {
            #expect(r.rewards.count == e.length)
            #expect(abs(r.rewards.map(Double.init).reduce(0, +) - e.totalReward) < 1e-3)
            for t in 0..<(e.length - 1) {
                #expect(Array(r.nextObservations[(t * d)..<((t + 1) * d)]) == Array(r.observations[((t + 1) * d)..<((t + 2) * d)]))
            }
            #expect(r.terminals.last == e.terminated)
            #expect(r.terminals.dropLast().allSatisfy { !$0 })
            #expect(r.actions.allSatisfy { abs($0) <= 1 })
        }
    }

    @Test("a policy with the wrong shape is refused with a clear error")
    func shapeMismatch() {
        let wrong = RandomPolicy(observationDimension: 3, actionDimension: 1)
        let e = #expect(throws: RolloutError.self) {
            try RolloutEngine.run(spec: spec, policy: wrong, options: RolloutOptions(episodes: 1))
        }
        #expect(e?.description.contains("hopper has 11 and 3") == true)
    }
}

@Suite("Reference scores")
struct ReferenceScoreTests {
    @Test("R_random and R_expert are reproduced exactly from their seeds", arguments: ["hopper", "walker2d", "halfcheetah"])
    func reproducible(env: String) throws {
        let spec = try EnvRegistry.spec(EnvID(rawValue: env))
        let committed = try #require(ReferenceCatalog.scores(for: spec.id))
        let provider = BundledBehaviors(noise: 0)
        for (name, want) in [("random", committed.random), ("expert", committed.expert)] {
            let out = try RolloutEngine.run(spec: spec, policy: try provider.policy(named: name, spec: spec),
                                            options: RolloutOptions(episodes: 100, workers: 2, seed: 0))
            let mean = out.episodes.map(\.totalReward).reduce(0, +) / 100
            #expect(mean == want, "\(env) \(name): recomputed \(mean), committed \(want)")
        }
        #expect(committed.expert > committed.random + 1000, "the expert is far above random")
    }
}
