import Foundation
import Randomness
import Testing
import TestSupport
@testable import Envs

@Suite("Behaviour policies and their search")
struct BehaviorTests {
    @Test("committed experts beat random actions by a wide margin", arguments: [
        ("hopper", 1500.0, 100.0), ("walker2d", 2000.0, 100.0), ("halfcheetah", 2000.0, 0.0),
    ])
    func expertBeatsRandom(id: String, expertAtLeast: Double, randomAtMost: Double) throws {
        let spec = try EnvRegistry.spec(EnvID(rawValue: id))
        let expert = try BehaviorPolicy.load(datasets: datasetsPath, env: spec.id, level: .expert)
        let e = evaluate(spec: spec, actor: .behavior(expert), episodes: 3, seedBase: 0)
        let r = evaluate(spec: spec, actor: .random, episodes: 3, seedBase: 0)
        #expect(e.meanReturn >= expertAtLeast, "expert \(e.meanReturn)")
        #expect(r.meanReturn <= randomAtMost, "random \(r.meanReturn)")
        #expect(e.meanLength >= 5 * r.meanLength || spec.id == .halfcheetah, "expert \(e.meanLength) vs random \(r.meanLength) steps")
        #expect(e.meanSpeed > r.meanSpeed + 1, "expert \(e.meanSpeed) m/s vs random \(r.meanSpeed) m/s")
    }

    @Test("the medium policy sits between random and expert", arguments: ["hopper", "halfcheetah"])
    func mediumBetween(id: String) throws {
        let spec = try EnvRegistry.spec(EnvID(rawValue: id))
        let file = try BehaviorFile.load(BehaviorFile.path(datasets: datasetsPath, env: spec.id))
        #expect(file.medium.iteration < file.expert.iteration)
        let ratio = file.medium.meanReturn / file.expert.meanReturn
        #expect(ratio > 0.25 && ratio < 0.6, "medium/expert = \(ratio)")
        #expect(file.history.contains { $0.iteration == file.medium.iteration })
        #expect((0...file.medium.iteration).allSatisfy { i in file.history.contains { $0.iteration == i } })
    }

    @Test("behaviour files round-trip through JSON exactly")
    func fileRoundTrip() throws {
        let file = try BehaviorFile.load(BehaviorFile.path(datasets: datasetsPath, env: .hopper))
        let again = try BehaviorFile.parse(file.json().serialized(), name: "round-trip")
        #expect(again == file)
        // hopper carries an independent search's medium (medium-expert v3), from another seed.
        #expect(file.independentMedium != nil && file.independentMediumSeed != nil && file.independentMediumSeed != file.seed)
        #expect(file.independentMedium != file.medium)
        var text = file.json().serialized()
        text = text.replacingOccurrences(of: "\"search_seed\"", with: "\"seed_of_search\"")
        #expect(throws: BehaviorError.self) { try BehaviorFile.parse(text, name: "no search seed") }
        #expect(throws: BehaviorError.self) { try BehaviorFile.parse("{\"env\": \"hopper\"}", name: "bad") }
        #expect(throws: BehaviorError.self) { try BehaviorFile.load("/nonexistent/hopper.json") }
    }

    @Test("a controller tuned on another version of the env is refused with a message saying so")
    func envVersionChecked() throws {
        let file = try BehaviorFile.load(datasets: datasetsPath, env: .halfcheetah)
        #expect(file.envVersion == (try EnvRegistry.spec(.halfcheetah)).version)
        var stale = file
        stale.envVersion = file.envVersion - 1
        let dir = URL(fileURLWithPath: makeTemporaryDirectory("behavior"))
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("behavior"), withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try stale.write(to: BehaviorFile.path(datasets: dir.path, env: .halfcheetah))
        do {
            _ = try BehaviorPolicy.load(datasets: dir.path, env: .halfcheetah, level: .expert)
            Issue.record("a stale behaviour file was accepted")
        } catch {
            #expect(error.description.contains("v\(file.envVersion - 1)") && error.description.contains("behavior tune"), "\(error)")
        }
    }

    @Test("policy noise is seeded and clipped")
    func noisyPolicy() throws {
        let p = try BehaviorPolicy.load(datasets: datasetsPath, env: .hopper, level: .expert, noiseStd: 0.5)
        let obs = try EnvRegistry.make(.hopper).reset(seed: 0).observation
        var g1 = SeededRNG(seed: 1), g2 = SeededRNG(seed: 1), g3 = SeededRNG(seed: 2)
        let a1 = p.act(obs, rng: &g1), a2 = p.act(obs, rng: &g2), a3 = p.act(obs, rng: &g3)
        #expect(a1 == a2 && a1 != a3)
        #expect(a1.allSatisfy { $0 >= -1 && $0 <= 1 })
    }

    @Test("a medium chosen by absolute return: the closest confirmed iterate before the expert")
    func confirmedMediumByReturn() throws {
        let spec = try EnvRegistry.spec(.hopper)
        let file = try BehaviorFile.load(datasets: datasetsPath, env: .hopper)
        var cfg = file.config
        cfg.finalEpisodes = 3; cfg.episodeSteps = 300
        let search = PolicySearch(spec: spec, seed: 5, config: cfg, workers: 2)
        let target = 0.5 * file.medium.meanReturn, before = file.medium.iteration
        let chosen = search.confirmedMedium(file.history, target: target, before: before)
        #expect(chosen.iteration < before)
        // Its confirmed return is what the same fresh episodes give, and no other candidate of
        // the pool (the five closest few-episode returns) is confirmed closer to the target.
        func confirmed(_ r: PolicyRecord) -> Double {
            let s = search.evaluate(r.policy, episodes: cfg.finalEpisodes, base: search.finalBase)
            return s.map(\.totalReturn).reduce(0, +) / Double(s.count)
        }
        #expect(chosen.meanReturn == confirmed(chosen))
        let pool = file.history.filter { $0.iteration < before }
            .sorted { abs($0.meanReturn - target) < abs($1.meanReturn - target) }.prefix(5)
        #expect(pool.contains { $0.iteration == chosen.iteration })
        for r in pool { #expect(abs(chosen.meanReturn - target) <= abs(confirmed(r) - target)) }
        // A different target picks a different iterate.
        let high = search.confirmedMedium(file.history, target: file.medium.meanReturn, before: before)
        #expect(high.iteration != chosen.iteration && high.meanReturn > chosen.meanReturn)
    }

    @Test("the search is deterministic for a seed and independent of the worker count")
    func searchDeterministic() throws {
        let spec = try EnvRegistry.spec(.hopper)
        let cfg = PolicySearchConfig(iterations: 3, directions: 3, topDirections: 2, stepSize: 0.02, noise: 0.03,
                                     episodeSteps: 40, evalEpisodes: 2, finalEpisodes: 2, survivalShift: 1)
        let a = PolicySearch(spec: spec, seed: 7, config: cfg, workers: 1).run()
        let b = PolicySearch(spec: spec, seed: 7, config: cfg, workers: 2).run()
        let c = PolicySearch(spec: spec, seed: 8, config: cfg, workers: 1).run()
        #expect(a == b)
        #expect(a.history.last!.policy.weights != c.history.last!.policy.weights)
        #expect(a.history.last!.policy.weights.contains { $0 != 0 })
    }
}
