import Envs
import Foundation
import OFQL

/// A trained policy (OFQL, BC, TD3+BC) in the rollout engine: batched sampling with the
/// observation normaliser stored in the checkpoint, and each episode's own noise stream.
public final class CheckpointPolicy: BatchPolicy {
    public let name: String
    let sampler: PolicySampler
    let noise: UnsafeMutablePointer<Float>
    public var observationDimension: Int { sampler.obsDim }
    public var actionDimension: Int { sampler.actDim }

    /// Wraps `agent`'s target policy; `lanes` bounds the batch (the engine's lanes).
    public init(agent: any Learner, name: String, lanes: Int = 64) {
        self.name = name
        sampler = agent.makeSampler(maxRows: lanes)
        noise = .allocate(capacity: lanes * agent.actDim)
    }

    init(sampler: PolicySampler, name: String) {
        self.name = name; self.sampler = sampler
        noise = .allocate(capacity: sampler.maxRows * sampler.actDim)
    }

    deinit { noise.deallocate() }

    /// Loads a checkpoint folder (`…/checkpoints/step-N` or a run folder with `checkpoints/latest`).
    public static func load(_ path: String, lanes: Int = 64) throws -> (policy: CheckpointPolicy, info: CheckpointInfo) {
        var dir = path
        if !FileManager.default.fileExists(atPath: dir + "/checkpoint.json"), let latest = Trainer.latestCheckpoint(in: path) {
            dir = latest
        }
        let (agent, info) = try Checkpoint.load(from: URL(fileURLWithPath: dir), optimizer: false)
        return (CheckpointPolicy(agent: agent, name: "\(info.config.algo.rawValue)@\(info.step)", lanes: lanes), info)
    }

    public func makeWorkerCopy() -> BatchPolicy { CheckpointPolicy(sampler: sampler.copy(), name: name) }

    public func act(observations: UnsafePointer<Float>, count: Int, lanes: UnsafePointer<Int>,
                    actions: UnsafeMutablePointer<Float>, rngs: UnsafeMutablePointer<Xoshiro>) {
        let ad = actionDimension
        var start = 0
        while start < count {
            let n = min(sampler.maxRows, count - start)
            if sampler.needsNoise {
                for r in 0..<n { rngs[start + r].fillNormal(noise + r * ad, count: ad) }
            }
            sampler.sample(observations: observations + start * observationDimension, count: n, noise: noise,
                           into: actions + start * ad)
            start += n
        }
    }
}
