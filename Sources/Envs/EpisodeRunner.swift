import Randomness

/// The one seeding rule of every command that runs episodes (`evaluate`, `envs eval`, `envs
/// render`, report animations, `suite`): episode i of a run from base seed s resets its env
/// with seed s + i (wrapping), so `--seed 0` means the same episodes everywhere. Scripted and
/// random actors draw their noise from a stream derived from the episode's seed; learned
/// policies draw theirs from the rollout engine's per-episode streams.
public enum EpisodeSeeding {
    /// The env seed of episode `index` of a run from `base`.
    @inlinable
    public static func episodeSeed(base: UInt64, index: Int) -> UInt64 { base &+ UInt64(index) }

    /// The noise stream of a scripted or random actor in the episode with env seed `episodeSeed`.
    @inlinable
    public static func actorRNG(episodeSeed: UInt64) -> SeededRNG { SeededRNG(seed: SeededRNG.derive(episodeSeed, 0xAC7)) }
}

/// Outcome of one episode.
public struct EpisodeStats: Sendable, Equatable {
    public var totalReturn: Double
    public var steps: Int
    public var terminated: Bool
    /// Forward distance of the torso frame (m) divided by elapsed simulated time (s).
    public var meanSpeed: Double
}

/// The one single-episode loop: reset with a seed, then act and step until the env terminates,
/// truncates or `maxSteps` steps have run. Evaluation, renders, animations and the policy
/// search all run their episodes through it; the batched rollout engine steps many episodes in
/// lockstep with the same seeding rule (``EpisodeSeeding``).
public enum EpisodeRunner {
    /// Runs one episode of `env` from `seed`. `act(observation, action)` writes the action for
    /// the current observation; `observe(step, outcome)` sees each step after the env moved
    /// (for renders and statistics). `observation` and `action` are caller-owned buffers of the
    /// env's widths; after the call `observation` holds the last observation.
    @discardableResult
    public static func run(
        env: any Environment, seed: UInt64, maxSteps: Int = .max, controlPeriod: Double,
        observation: UnsafeMutablePointer<Float>, action: UnsafeMutablePointer<Float>,
        act: (UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>) throws -> Void,
        observe: ((Int, StepOutcome) throws -> Void)? = nil
    ) throws -> EpisodeStats {
        env.reset(seed: seed, observation: observation)
        let x0 = env.info()["x_position"] ?? 0
        var ret = 0.0, steps = 0, terminated = false
        while steps < maxSteps {
            try act(observation, action)
            let o = try env.step(action: action, observation: observation)
            ret += Double(o.reward); steps += 1
            try observe?(steps, o)
            if o.terminated { terminated = true; break }
            if o.truncated { break }
        }
        let x1 = env.info()["x_position"] ?? 0
        return EpisodeStats(totalReturn: ret, steps: steps, terminated: terminated,
                            meanSpeed: steps == 0 ? 0 : (x1 - x0) / (Double(steps) * controlPeriod))
    }
}
