import Datasets
import Foundation
import Randomness
import Testing
import TestSupport
@testable import OFQL

extension Array where Element == Double {
    func withPointer<R>(_ body: (UnsafeMutablePointer<Double>) throws -> R) rethrows -> R {
        var copy = self
        return try copy.withUnsafeMutableBufferPointer { try body($0.baseAddress!) }
    }
}

/// Central differences (h = 1e-6) of `loss` in every parameter of `block`, against `analytic`;
/// expects the worst relative error below 1e-5.
func checkParameterGradient(_ block: ParameterBlock<Double>, analytic: [Double], loss: () -> Double,
                            sourceLocation: SourceLocation = #_sourceLocation) {
    let h = 1e-6
    var worst = 0.0
    for i in 0..<block.count {
        let x = block.values[i]
        block.values[i] = x + h; let up = loss()
        block.values[i] = x - h; let down = loss()
        block.values[i] = x
        let fd = (up - down) / (2 * h)
        worst = max(worst, abs(fd - analytic[i]) / max(1e-4, abs(fd) + abs(analytic[i])))
    }
    #expect(worst < 1e-5, "worst relative error \(worst) over \(block.count) parameters", sourceLocation: sourceLocation)
}

/// One-step bandit: 1-D states, actions −0.5 (reward 0) and +0.5 (reward 1) in equal numbers,
/// every transition terminal.
func banditTransitions() throws -> Transitions {
    var rng = Xoshiro(seed: 41)
    let n = 1024
    var obs: [Float] = [], act: [Float] = [], rew: [Float] = []
    for i in 0..<n {
        obs.append(Float(rng.uniform() * 2 - 1))
        let good = i % 2 == 0
        act.append((good ? 0.5 : -0.5) + Float(0.04 * rng.normal()))
        rew.append(good ? 1 : 0)
    }
    return try Transitions(observations: obs, actions: act, rewards: rew, nextObservations: obs,
                           terminals: [Float](repeating: 1, count: n), obsDim: 1, actDim: 1)
}

/// Trains a learner on ``banditTransitions()`` (32 × 32 networks, batch 128, learning rates
/// 1e-3, 800 steps, seed 3, after `configure`) and returns its mean action over 200·`repeats`
/// states spread over [−1, 1), sampled with `sampler` (default: the learner's own) and noise
/// from seed 4. The bandit's data are half −0.5 (reward 0), half +0.5 (reward 1), so cloning
/// gives about 0 and a working Q term moves the mean toward +0.5.
func banditMeanAction(_ algo: Algorithm, repeats: Int = 1, sampler: ((any Learner, Int) -> PolicySampler)? = nil,
                      configure: (inout OFQLConfig) -> Void) throws -> Float {
    var c = OFQLConfig.defaults(for: algo)
    c.hidden = [32, 32]; c.criticHidden = [32, 32]; c.batchSize = 128
    c.actorLR = 1e-3; c.criticLR = 1e-3
    configure(&c)
    let t = try Trainer(config: c, data: try banditTransitions(), seed: 3, datasetID: "bandit", outDir: nil)
    try t.run(until: 800, options: TrainerOptions(logEvery: 0, checkpointEvery: 0))
    let obs = (0..<(200 * repeats)).map { Float($0 % 200) / 100 - 1 }
    let smp = sampler?(t.agent, obs.count) ?? t.agent.makeSampler(maxRows: obs.count)
    var rng = Xoshiro(seed: 4)
    var noise = [Float](repeating: 0, count: obs.count * smp.noiseDim)
    if smp.needsNoise { rng.fillNormal(&noise, count: noise.count) }
    var out = [Float](repeating: 0, count: obs.count)
    smp.sample(observations: obs, count: obs.count, noise: noise, into: &out)
    return out.reduce(0, +) / Float(out.count)
}
