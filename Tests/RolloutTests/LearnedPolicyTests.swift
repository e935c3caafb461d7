import Datasets
import Envs
import Foundation
import OFQL
import Randomness
import Testing
import TestSupport
@testable import Rollout

/// The repository's datasets/ folder (committed behaviour policies).
let datasetsFolder = datasetsPath

@Suite("Learned policies in the rollout engine")
struct LearnedPolicyTests {
    @Test("evaluating a saved checkpoint gives identical per-episode returns with 1 and 2 workers", arguments: Algorithm.allCases)
    func checkpointWorkerInvariance(_ algo: Algorithm) throws {
        let spec = try EnvRegistry.spec(.hopper)
        var cfg = OFQLConfig.defaults(for: algo)
        cfg.hidden = [64, 64]; cfg.criticHidden = [64, 64]; cfg.batchSize = 32
        let agent = try Learners.create(config: cfg, obsDim: spec.observationDimension, actDim: spec.actionDimension, seed: 3)
        let dir = URL(fileURLWithPath: makeTemporaryDirectory("ckpt"))
        defer { try? FileManager.default.removeItem(at: dir) }
        try Checkpoint.save(agent, to: dir, datasetID: "test", seed: 3, trainerRNG: nil, blasThreads: 1)
        let (policy, info) = try CheckpointPolicy.load(dir.path, lanes: 4)
        #expect(info.obsDim == 11 && info.config.algo == algo)
        let one = try RolloutEngine.run(spec: spec, policy: policy, options: RolloutOptions(episodes: 12, workers: 1, seed: 7, lanes: 4))
        let two = try RolloutEngine.run(spec: spec, policy: policy, options: RolloutOptions(episodes: 12, workers: 2, seed: 7, lanes: 4))
        #expect(one.episodes == two.episodes)
        #expect(one.episodes.allSatisfy { $0.totalReward.isFinite })
        // The loaded policy acts like the in-memory one.
        let direct = try RolloutEngine.run(spec: spec, policy: CheckpointPolicy(agent: agent, name: "mem", lanes: 4),
                                           options: RolloutOptions(episodes: 12, workers: 2, seed: 7, lanes: 4))
        #expect(direct.episodes == one.episodes)
    }

    @Test("a noise scale of 0 gives each learner's policy at z = 0 whatever the noise stream; 1 is the policy as trained",
          arguments: Algorithm.allCases)
    func noiseScale(_ algo: Algorithm) throws {
        var cfg = OFQLConfig.defaults(for: algo)
        cfg.hidden = [32, 32]; cfg.criticHidden = [32, 32]; cfg.batchSize = 16
        let agent = try Learners.create(config: cfg, obsDim: 5, actDim: 3, seed: 11)
        let dir = URL(fileURLWithPath: makeTemporaryDirectory("noise-scale"))
        defer { try? FileManager.default.removeItem(at: dir) }
        try Checkpoint.save(agent, to: dir, datasetID: "test", seed: 11, trainerRNG: nil, blasThreads: 1)
        let rows = 4
        var obsRNG = Xoshiro(seed: 5)
        var obs = [Float](repeating: 0, count: rows * 5)
        obs.withUnsafeMutableBufferPointer { obsRNG.fillNormal($0.baseAddress!, count: rows * 5) }
        let lanes = Array(0..<rows)
        func act(_ policy: CheckpointPolicy, streamSeed: UInt64) -> [Float] {
            var rngs = (0..<rows).map { Xoshiro(seed: streamSeed + UInt64($0)) }
            var out = [Float](repeating: .nan, count: rows * 3)
            policy.act(observations: obs, count: rows, lanes: lanes, actions: &out, rngs: &rngs)
            return out
        }
        let asTrained = try CheckpointPolicy.load(dir.path, lanes: rows).policy
        let one = try CheckpointPolicy.load(dir.path, lanes: rows, noiseScale: 1).policy
        let zero = try CheckpointPolicy.load(dir.path, lanes: rows, noiseScale: 0).policy
        #expect(act(one, streamSeed: 100) == act(asTrained, streamSeed: 100))
        // Scale 0 is the sampler fed zeros, for every stream, and survives the workers' copies.
        let sampler = zero.sampler
        var zeros = [Float](repeating: 0, count: rows * sampler.noiseDim)
        var atZero = [Float](repeating: .nan, count: rows * 3)
        sampler.sample(observations: obs, count: rows, noise: &zeros, into: &atZero)
        #expect(act(zero, streamSeed: 100) == atZero)
        #expect(act(zero, streamSeed: 900) == atZero)
        #expect(act(zero.makeWorkerCopy() as! CheckpointPolicy, streamSeed: 900) == atZero)
        if sampler.needsNoise {
            // The noise matters at scale 1, and half the noise is a third policy.
            #expect(act(one, streamSeed: 100) != act(one, streamSeed: 900))
            let half = try CheckpointPolicy.load(dir.path, lanes: rows, noiseScale: 0.5).policy
            #expect(act(half, streamSeed: 100) != act(one, streamSeed: 100))
            #expect(act(half, streamSeed: 100) != atZero)
        }
        for bad: Float in [-1, .nan, .infinity] {
            #expect(throws: RolloutError.self) { _ = try CheckpointPolicy.load(dir.path, lanes: rows, noiseScale: bad) }
        }
        if algo == .ofql {
            let selection = CandidateSelection(candidates: 4, beta: 1)
            #expect(throws: RolloutError.self) { _ = try CheckpointPolicy.load(dir.path, lanes: rows, selection: selection, noiseScale: 0) }
        }
    }

    @Test("a policy trained briefly on a small hopper dataset scores clearly above uniform random")
    func briefTrainingBeatsRandom() throws {
        let spec = try EnvRegistry.spec(.hopper)
        let entry = try DatasetCatalog.entry("hopper-medium-v1")
        let data = try DatasetGenerator.generate(entry, size: 20_000, seed: 0, workers: 2,
                                                 provider: BundledBehaviors(datasets: datasetsFolder))
        let t = try data.makeTransitions()
        var cfg = OFQLConfig()
        cfg.algo = .bc
        cfg.hidden = [64, 64]
        cfg.batchSize = 64
        cfg.actorLR = 1e-3
        let trainer = try Trainer(config: cfg, data: t, seed: 0, datasetID: entry.id, outDir: nil)
        try trainer.run(until: 1500)
        let out = try RolloutEngine.run(spec: spec, policy: CheckpointPolicy(agent: trainer.agent, name: "bc", lanes: 8),
                                        options: RolloutOptions(episodes: 10, workers: 2, seed: 1_000_000))
        let report = EvaluationReport(spec: spec, policy: "bc", seed: 1_000_000, workers: 2, output: out, seconds: 0)
        let score = try #require(report.normalized_score?.mean)
        // Uniform random scores 0 by definition; the medium behaviour scores about 45.
        #expect(score > 10, "normalised score \(score)")
    }
}
