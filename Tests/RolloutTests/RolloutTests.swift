import Envs
import Foundation
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
        let committed = try #require(spec.referenceScores)
        let provider = BundledBehaviors(noise: 0)
        for (name, want) in [("random", committed.random), ("expert", committed.expert)] {
            let out = try RolloutEngine.run(spec: spec, policy: try provider.policy(named: name, spec: spec),
                                            options: RolloutOptions(episodes: 100, workers: 2, seed: 0))
            let mean = out.episodes.map(\.totalReward).reduce(0, +) / 100
            #expect(mean == want, "\(env) \(name): recomputed \(mean), committed \(want)")
        }
        #expect(committed.expert > committed.random + 1000, "the expert is far above random")
    }

    @Test("datasets/catalog.json exports exactly the env specs' reference scores")
    func catalogExport() throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: datasetsFolder + "/catalog.json"))
        let root = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let refs = try #require(root["reference_scores"] as? [String: [String: Any]])
        // The dataset listing is the catalog's, in order (regenerate with `ofql-eval reference --update`).
        let listed = (root["datasets"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
        #expect(listed == DatasetCatalog.all.map(\.id))
        let scored = EnvRegistry.all.filter { $0.referenceScores != nil }
        #expect(Set(refs.keys) == Set(scored.map(\.id.rawValue)))
        // Foundation's JSON reader may round the last digit of a Double: compare to 1e-12.
        func same(_ a: Any?, _ b: Double?) -> Bool {
            guard let a = a as? Double, let b else { return false }
            return abs(a - b) <= 1e-12 * abs(b)
        }
        for spec in scored {
            #expect(same(refs[spec.id.rawValue]?["random"], spec.referenceScores?.random))
            #expect(same(refs[spec.id.rawValue]?["expert"], spec.referenceScores?.expert))
            #expect(refs[spec.id.rawValue]?["env_version"] as? Int == spec.version)
        }
    }
}

@Suite("One seeding rule for every command that runs episodes")
struct EpisodeSeedingTests {
    @Test("evaluate (rollout engine), envs eval, envs render and the runner play the same episodes from seed s + i")
    func sameEpisodes() throws {
        let spec = try EnvRegistry.spec(.hopper)
        // A noise-free expert: an episode then depends on its env seed alone.
        let expert = try BehaviorPolicy.load(datasets: datasetsFolder, env: .hopper, level: .expert, noiseStd: 0)
        let base: UInt64 = 41, n = 3
        let engine = try RolloutEngine.run(spec: spec, policy: LinearBatchPolicy(name: "expert", policy: expert.policy, noiseStd: 0),
                                           options: RolloutOptions(episodes: n, workers: 2, seed: base))
        let envsEval = Envs.evaluate(spec: spec, actor: .behavior(expert), episodes: n, seedBase: base, workers: 2)
        #expect(engine.episodes.map(\.seed) == (0..<n).map { base + UInt64($0) })
        for i in 0..<n {
            let seed = EpisodeSeeding.episodeSeed(base: base, index: i)
            let env = spec.make()
            let obs = UnsafeMutablePointer<Float>.allocate(capacity: spec.observationDimension)
            let act = UnsafeMutablePointer<Float>.allocate(capacity: spec.actionDimension)
            defer { obs.deallocate(); act.deallocate() }
            let single = try EpisodeRunner.run(env: env, seed: seed, controlPeriod: spec.controlPeriod, observation: obs, action: act,
                                               act: { o, a in expert.policy.act(o, into: a) })
            let film = filmstripFrames(spec: spec, actor: .behavior(expert), seed: seed, every: 100, maxFrames: 3).summary
            #expect(envsEval.episodes[i] == single)
            #expect(film == single)
            #expect(abs(engine.episodes[i].totalReward - single.totalReturn) < 1e-6 * max(1, abs(single.totalReturn)))
            #expect(engine.episodes[i].length == single.steps)
        }
        #expect(Set(envsEval.episodes.map(\.steps)).count + Set(envsEval.episodes.map(\.totalReturn)).count > 2,
                "different seeds give different episodes")
    }

    @Test("the runner stops at maxSteps and reports the steps it ran")
    func maxSteps() throws {
        let spec = try EnvRegistry.spec(.hopper)
        let obs = UnsafeMutablePointer<Float>.allocate(capacity: spec.observationDimension)
        let act = UnsafeMutablePointer<Float>.allocate(capacity: spec.actionDimension)
        defer { obs.deallocate(); act.deallocate() }
        var seen = 0
        let e = try EpisodeRunner.run(env: spec.make(), seed: 0, maxSteps: 5, controlPeriod: spec.controlPeriod, observation: obs,
                                      action: act, act: { _, a in for j in 0..<3 { a[j] = 0 } }, observe: { t, _ in seen = t })
        #expect(e.steps == 5 && seen == 5 && !e.terminated)
    }
}
