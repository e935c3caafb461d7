import Envs
import Foundation
import OFQL
import Randomness

/// A trained policy (any learner's checkpoint) in the rollout engine: batched sampling with the
/// observation normaliser stored in the checkpoint, and each episode's own noise stream;
/// OFQL optionally with evaluation-time ``CandidateSelection``, any stochastic sampler optionally
/// with its noise scaled (`noiseScale` 0: the deterministic policy the sampler gives at z = 0).
public final class CheckpointPolicy: BatchPolicy {
    public let name: String
    let sampler: PolicySampler
    let selector: SelectingSampler?
    /// Factor on every noise draw the sampler takes (1: as trained).
    public let noiseScale: Float
    let noise: UnsafeMutablePointer<Float>
    public var observationDimension: Int { sampler.obsDim }
    public var actionDimension: Int { sampler.actDim }

    /// Wraps `agent`'s target policy; `lanes` bounds the batch (the engine's lanes); `noiseScale`
    /// multiplies every noise draw (see ``validateNoiseScale(_:)``).
    public init(agent: any Learner, name: String, lanes: Int = 64, noiseScale: Float = 1) {
        self.name = name
        sampler = agent.makeSampler(maxRows: lanes)
        selector = nil
        precondition(noiseScale.isFinite && noiseScale >= 0, "noise scale must be finite and ≥ 0, got \(noiseScale)")
        self.noiseScale = noiseScale
        noise = .allocate(capacity: lanes * sampler.noiseDim)
    }

    /// Wraps `agent` with candidate selection (OFQL only: it needs a stochastic policy and critics).
    public init(agent: OFQLAgent, selection: CandidateSelection, name: String, lanes: Int = 64) throws {
        try selection.validate()
        self.name = name
        sampler = agent.makeSampler(maxRows: 1)
        selector = agent.makeSelectingSampler(selection, maxStates: lanes)
        noiseScale = 1
        noise = .allocate(capacity: agent.actDim)
    }

    /// Wraps `agent` sampled in an evaluation mode (``SamplingMode``: `ddim1`, `flow-K`, `meanflow-K`).
    public init(agent: any Learner, sampling: String, name: String, lanes: Int = 64, noiseScale: Float = 1) throws {
        self.name = name
        sampler = try SamplingMode.sampler(agent, mode: sampling, maxRows: lanes)
        selector = nil
        precondition(noiseScale.isFinite && noiseScale >= 0, "noise scale must be finite and ≥ 0, got \(noiseScale)")
        self.noiseScale = noiseScale
        noise = .allocate(capacity: lanes * sampler.noiseDim)
    }

    init(sampler: PolicySampler, selector: SelectingSampler?, name: String, noiseScale: Float) {
        self.name = name; self.sampler = sampler; self.selector = selector; self.noiseScale = noiseScale
        noise = .allocate(capacity: sampler.maxRows * sampler.noiseDim)
    }

    /// A noise scale must be finite and ≥ 0: 0 evaluates a generative policy at z = 0 (for DQL
    /// also without the denoising steps' noise), a common deterministic diagnostic of flow and
    /// diffusion policies; 1 is the sampler as trained.
    public static func validateNoiseScale(_ scale: Float) throws {
        guard scale.isFinite, scale >= 0 else { throw RolloutError.invalid("the noise scale must be finite and ≥ 0, got \(scale)") }
    }

    deinit { noise.deallocate() }

    /// Loads a checkpoint folder (`…/checkpoints/step-N` or a run folder with `checkpoints/latest`).
    /// With `selection`, the checkpoint must hold an OFQL policy; with `sampling`, a learner
    /// that has that mode. `noiseScale` multiplies the sampler's noise draws; candidate selection
    /// has its own noise temperature, so the two do not combine.
    public static func load(_ path: String, lanes: Int = 64, selection: CandidateSelection? = nil, sampling: String? = nil,
                            noiseScale: Float = 1) throws
        -> (policy: CheckpointPolicy, info: CheckpointInfo) {
        try validateNoiseScale(noiseScale)
        if selection != nil && noiseScale != 1 {
            throw RolloutError.invalid("candidate selection scales its candidates' noise by its own temperature; a noise scale does not apply")
        }
        var dir = path
        if !FileManager.default.fileExists(atPath: dir + "/checkpoint.json"), let latest = Trainer.latestCheckpoint(in: path) {
            dir = latest
        }
        let (agent, info) = try Checkpoint.load(from: URL(fileURLWithPath: dir), optimizer: false)
        let name = "\(info.config.algo.rawValue)@\(info.step)"
        let scaled = noiseScale == 1 ? "" : " noise×\(noiseScale)"
        if let sampling {
            do {
                return (try CheckpointPolicy(agent: agent, sampling: sampling, name: name + " " + sampling + scaled, lanes: lanes,
                                             noiseScale: noiseScale), info)
            } catch {
                throw RolloutError.invalid("\(dir): \(error)")
            }
        }
        guard let selection else { return (CheckpointPolicy(agent: agent, name: name + scaled, lanes: lanes, noiseScale: noiseScale), info) }
        guard let ofql = agent as? OFQLAgent else {
            throw RolloutError.invalid("candidate selection needs an OFQL checkpoint; \(dir) holds \(info.config.algo.rawValue)")
        }
        return (try CheckpointPolicy(agent: ofql, selection: selection, name: name + " " + selection.modeName, lanes: lanes), info)
    }

    public func makeWorkerCopy() -> BatchPolicy {
        CheckpointPolicy(sampler: sampler.copy(), selector: selector?.copy(), name: name, noiseScale: noiseScale)
    }

    public func act(observations: UnsafePointer<Float>, count: Int, lanes: UnsafePointer<Int>,
                    actions: UnsafeMutablePointer<Float>, rngs: UnsafeMutablePointer<Xoshiro>) {
        let ad = actionDimension
        if let selector {
            var start = 0
            while start < count {
                let n = min(selector.maxStates, count - start)
                selector.sample(observations: observations + start * observationDimension, count: n, rngs: rngs + start,
                                into: actions + start * ad)
                start += n
            }
            return
        }
        var start = 0
        while start < count {
            let n = min(sampler.maxRows, count - start)
            if sampler.needsNoise {
                let nd = sampler.noiseDim
                for r in 0..<n { rngs[start + r].fillNormal(noise + r * nd, count: nd) }
                if noiseScale != 1 { for i in 0..<(n * nd) { noise[i] *= noiseScale } }
            }
            sampler.sample(observations: observations + start * observationDimension, count: n, noise: noise,
                           into: actions + start * ad)
            start += n
        }
    }
}
