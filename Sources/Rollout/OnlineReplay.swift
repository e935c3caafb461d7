import BLAS
import Envs
import OFQL
import Randomness

/// D4RL's medium-replay recipe on the stand-ins: the replay buffer of an online agent trained
/// from scratch until it reaches the medium policy's return (Fu et al. 2020, arXiv 2004.07219,
/// §5; D4RL trains SAC, this trains TD3, arXiv 1802.09477, with the TD3+BC learner's critic and
/// actor steps and `behaviorCloning` off).
///
/// Every environment step goes into the buffer, from the uniform-random warm-up through the
/// noisy early policies to the medium-level ones, so the data covers far more of the state and
/// action space than a sequence of near-deterministic controllers does, and its quality varies
/// within and across episodes, which is what lets offline RL beat BC on D4RL's medium-replay.
///
/// Deterministic for a seed: one environment, episode k reset with seed `seed + k`, and the
/// learner's two-worker split fixed whatever the machine's core count (the bytes can differ
/// only between BLAS kernels, e.g. Haswell and SkylakeX).
public enum OnlineReplay {
    public struct Options: Sendable {
        /// Stop when the deterministic policy's mean evaluation return reaches this.
        public var targetReturn: Double
        /// Never collect more than this many transitions.
        public var maxSteps: Int
        public var seed: UInt64
        /// Uniform-random actions before the first update (TD3: 25,000; fewer suit the
        /// stand-ins' short medium runs).
        public var startSteps = 5_000
        /// Std of the Gaussian exploration noise on the policy's action (TD3: 0.1).
        public var explorationNoise = 0.1
        /// Environment steps between evaluations of the deterministic policy, and their episodes.
        public var evalEvery = 5_000
        public var evalEpisodes = 10
        /// The learner (TD3 as published, ``OnlineReplay/td3Config``).
        public var config = OnlineReplay.td3Config
        public init(targetReturn: Double, maxSteps: Int, seed: UInt64) {
            self.targetReturn = targetReturn; self.maxSteps = maxSteps; self.seed = seed
        }
    }

    public struct Result: Sendable {
        /// The buffer as episodes in collection order (the last one may be cut).
        public var records: [EpisodeRecord]
        /// Environment steps at which the evaluation first reached the target (nil: never).
        public var reachedAt: Int?
        /// (environment steps, mean evaluation return) of every evaluation.
        public var evaluations: [(step: Int, meanReturn: Double)]
    }

    /// TD3's published settings (2 × 256 ReLU, lr 3e-4, batch 256, τ = 0.005, target noise 0.2
    /// clipped at 0.5, actor delay 2), raw observations.
    public static var td3Config: OFQLConfig {
        var c = OFQLConfig.defaults(for: .td3bc)
        c.behaviorCloning = false
        c.normalizeObservations = false
        return c
    }

    public static func collect(spec: EnvSpec, options o: Options, progress: ((Int, Double?) -> Void)? = nil) throws -> Result {
        let O = spec.observationDimension, A = spec.actionDimension
        let cfg = o.config
        let agent = try TD3BCAgent.create(config: cfg, obsDim: O, actDim: A, seed: o.seed)
        let savedThreads = BLASRuntime.threads
        agent.useCores(2)       // two update workers: a fixed split, so the bytes do not depend on the cores
        defer { BLASRuntime.setThreads(savedThreads) }
        var rng = Xoshiro(seed: o.seed).derived(7)
        let env = spec.make()
        let batch = TransitionBatch(capacity: cfg.batchSize, obsDim: O, actDim: A)
        var obsBuf: [Float] = [], actBuf: [Float] = [], rewBuf: [Float] = [], nextBuf: [Float] = [], maskBuf: [Float] = []
        var records: [EpisodeRecord] = []
        var episode = EpisodeRecord()
        var obs = [Float](repeating: 0, count: O), next = [Float](repeating: 0, count: O), action = [Float](repeating: 0, count: A)
        var episodes: UInt64 = 0
        env.reset(seed: o.seed &+ episodes, observation: &obs)
        var evaluations: [(Int, Double)] = []
        var reachedAt: Int? = nil
        var t = 0
        while t < o.maxSteps {
            if t < o.startSteps {
                for j in 0..<A { action[j] = Float(rng.uniform() * 2 - 1) }
            } else {
                agent.act(observation: obs, into: &action)
                for j in 0..<A { action[j] = Swift.min(Swift.max(action[j] + Float(o.explorationNoise * rng.normal()), -1), 1) }
            }
            let out: StepOutcome
            do { out = try env.step(action: action, observation: &next) } catch { throw RolloutError.env(error) }
            obsBuf += obs; actBuf += action; rewBuf.append(out.reward); nextBuf += next
            maskBuf.append(out.terminated ? 0 : 1)
            episode.observations += obs; episode.actions += action; episode.rewards.append(out.reward)
            episode.nextObservations += next; episode.terminals.append(out.terminated)
            episode.timeouts.append(out.truncated && !out.terminated)
            t += 1
            if out.done {
                records.append(episode); episode = EpisodeRecord()
                episodes += 1
                env.reset(seed: o.seed &+ episodes, observation: &obs)
            } else {
                swap(&obs, &next)
            }
            if t >= o.startSteps {
                let n = rewBuf.count
                for k in 0..<cfg.batchSize {
                    let i = rng.index(n)
                    (batch.observations + k * O).update(from: obsBuf, fromOffset: i * O, count: O)
                    (batch.nextObservations + k * O).update(from: nextBuf, fromOffset: i * O, count: O)
                    (batch.actions + k * A).update(from: actBuf, fromOffset: i * A, count: A)
                    batch.rewards[k] = rewBuf[i]; batch.masks[k] = maskBuf[i]
                }
                batch.setCount(cfg.batchSize)
                _ = try agent.update(batch)
            }
            if t % o.evalEvery == 0 && t >= o.startSteps {
                let policy = CheckpointPolicy(agent: agent, name: "td3@\(t)", lanes: o.evalEpisodes)
                let r = try RolloutEngine.run(spec: spec, policy: policy,
                                              options: RolloutOptions(episodes: o.evalEpisodes, workers: 1, seed: o.seed &+ 1_000_000_000,
                                                                      lanes: o.evalEpisodes))
                let mean = r.episodes.reduce(0) { $0 + $1.totalReward } / Double(r.episodes.count)
                evaluations.append((t, mean))
                progress?(t, mean)
                if mean >= o.targetReturn { reachedAt = t; break }
            } else if t % 1000 == 0 {
                progress?(t, nil)
            }
        }
        if !episode.rewards.isEmpty { records.append(episode) }
        return Result(records: records, reachedAt: reachedAt, evaluations: evaluations)
    }
}

private extension UnsafeMutablePointer where Pointee == Float {
    func update(from array: [Float], fromOffset offset: Int, count: Int) {
        array.withUnsafeBufferPointer { update(from: $0.baseAddress! + offset, count: count) }
    }
}
