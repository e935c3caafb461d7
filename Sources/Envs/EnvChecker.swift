/// One failed check of ``EnvChecker``: which check and what went wrong.
import Randomness
public struct EnvCheckFailure: Sendable, Equatable, CustomStringConvertible {
    public var env: EnvID
    public var check: String
    public var message: String
    public var description: String { "\(env): \(check): \(message)" }
}

/// Checks that an env honours the ``Environment`` contract (Gymnasium's env checker as
/// library code, run over every registered env by a test and by `ofql-eval envs check`).
///
/// Checks, by name:
/// - `spaces`: dimensions match the spec; the action space is exactly [-1, 1]^n; observation
///   bounds are not NaN and low ≤ high.
/// - `reset`: reset observations have the right size, are finite and inside the space.
/// - `determinism`: the same seed and the same seeded actions give bitwise-equal
///   observations, rewards and flags.
/// - `seeding`: different seeds give different start observations.
/// - `rollout`: rewards and observations stay finite over random-action episodes.
/// - `time-limit`: the bare env never truncates; the spec's wrapper truncates exactly at
///   `maxEpisodeSteps` and never before.
/// - `clipping`: an out-of-range action gives the same step as its clipped copy.
/// - `nan-action`: a NaN action throws ``EnvError/nanAction(index:)``.
/// - `snapshot`: restoring a snapshot reproduces the following steps bit-exactly.
public struct EnvChecker {
    public var spec: EnvSpec
    /// Seed of the checker's own random draws.
    public var seed: UInt64
    /// Steps per determinism/snapshot trajectory.
    public var trajectorySteps: Int

    public init(spec: EnvSpec, seed: UInt64 = 0, trajectorySteps: Int = 300) {
        self.spec = spec; self.seed = seed; self.trajectorySteps = trajectorySteps
    }

    /// Runs every check and returns the failures (empty when the env passes).
    public func run() -> [EnvCheckFailure] {
        var failures: [EnvCheckFailure] = []
        func fail(_ check: String, _ msg: String) { failures.append(EnvCheckFailure(env: spec.id, check: check, message: msg)) }
        let env = spec.makeBare()
        let no = spec.observationDimension, na = spec.actionDimension

        // spaces
        if env.observationSpace.dimension != no { fail("spaces", "observation space has \(env.observationSpace.dimension) dims, spec says \(no)") }
        if env.actionSpace.dimension != na { fail("spaces", "action space has \(env.actionSpace.dimension) dims, spec says \(na)") }
        if env.actionSpace != .unitCube(na) { fail("spaces", "action space is \(env.actionSpace), expected Box(-1, 1, (\(na),))") }
        let os = env.observationSpace
        if zip(os.low, os.high).contains(where: { $0.isNaN || $1.isNaN || $0 > $1 }) { fail("spaces", "observation bounds are NaN or low > high") }
        if spec.maxEpisodeSteps <= 0 { fail("spaces", "maxEpisodeSteps is \(spec.maxEpisodeSteps)") }
        if env.id != spec.id { fail("spaces", "env reports id \(env.id)") }
        guard failures.isEmpty else { return failures }

        // reset
        for s in 0..<5 {
            let (o, _) = env.reset(seed: seed &+ UInt64(s))
            if o.count != no || !os.contains(o) { fail("reset", "seed \(seed &+ UInt64(s)): observation not finite or outside the space: \(o)") }
        }

        // determinism
        let a = trajectory(env, seed: seed, actionsSeed: seed ^ 0xAC7)
        let b = trajectory(spec.makeBare(), seed: seed, actionsSeed: seed ^ 0xAC7)
        if a != b { fail("determinism", "two runs with seed \(seed) and the same actions differ at step \(firstDifference(a, b))") }

        // seeding
        let o1 = env.reset(seed: seed).observation, o2 = env.reset(seed: seed &+ 1).observation
        if o1 == o2 { fail("seeding", "seeds \(seed) and \(seed &+ 1) give the same start observation") }

        // rollout
        var rng = SeededRNG(seed: seed ^ 0x5A5A)
        for ep in 0..<3 {
            _ = env.reset(seed: seed &+ 100 &+ UInt64(ep))
            for t in 0..<spec.maxEpisodeSteps {
                guard let r = try? env.step(env.actionSpace.sample(using: &rng)) else { fail("rollout", "step threw"); break }
                if !r.reward.isFinite { fail("rollout", "episode \(ep) step \(t): reward \(r.reward)"); break }
                if !r.observation.allSatisfy(\.isFinite) { fail("rollout", "episode \(ep) step \(t): non-finite observation"); break }
                if r.truncated { fail("time-limit", "the bare env truncated at step \(t + 1)"); break }
                if r.terminated { break }
            }
        }

        // time-limit
        let limited = spec.make()
        var steps = 0
        _ = limited.reset(seed: seed)
        let zero = [Float](repeating: 0, count: na)
        var episodes = 0
        while episodes < 3, steps < 3 * spec.maxEpisodeSteps + 3 {
            guard let r = try? limited.step(zero) else { fail("time-limit", "step threw"); break }
            steps += 1
            let n = limited.elapsedSteps
            if r.truncated && n < spec.maxEpisodeSteps { fail("time-limit", "truncated after \(n) steps, limit \(spec.maxEpisodeSteps)"); break }
            if !r.truncated && !r.terminated && n >= spec.maxEpisodeSteps { fail("time-limit", "not truncated at the limit \(n)"); break }
            if r.terminated || r.truncated { episodes += 1; _ = limited.reset(seed: seed &+ UInt64(episodes)) }
        }

        let short = TimeLimit(spec.makeBare(), maxEpisodeSteps: 5)
        _ = short.reset(seed: seed)
        for t in 1...5 {
            guard let r = try? short.step(zero) else { fail("time-limit", "step threw"); break }
            if r.terminated { break }
            if r.truncated != (t == 5) { fail("time-limit", "a 5-step limit gave truncated=\(r.truncated) at step \(t)"); break }
        }

        // clipping
        var big = [Float](repeating: 0, count: na), clipped = big
        for i in 0..<na { big[i] = (i % 2 == 0 ? 3 : -7) * Float(i + 1); clipped[i] = min(max(big[i], -1), 1) }
        _ = env.reset(seed: seed)
        let rb = try? env.step(big)
        _ = env.reset(seed: seed)
        let rc = try? env.step(clipped)
        if rb == nil || rc == nil || rb!.observation != rc!.observation || rb!.reward != rc!.reward {
            fail("clipping", "an out-of-range action did not behave like its clipped copy")
        }

        // nan-action
        _ = env.reset(seed: seed)
        var nan = zero; nan[na - 1] = .nan
        do { _ = try env.step(nan); fail("nan-action", "a NaN action was accepted") } catch {
            if error != .nanAction(index: na - 1) { fail("nan-action", "threw \(error), expected nanAction(index: \(na - 1))") }
        }

        // snapshot
        _ = env.reset(seed: seed &+ 7)
        var g = SeededRNG(seed: seed ^ 0x51A9)
        for _ in 0..<20 { if (try? env.step(env.actionSpace.sample(using: &g)))?.terminated ?? true { break } }
        let snap = env.snapshot()
        let acts = (0..<10).map { _ in env.actionSpace.sample(using: &g) }
        let after1 = acts.map { (try? env.step($0)).map { $0.observation + [$0.reward] } ?? [] }
        let other = spec.makeBare()
        do {
            try other.restore(snap)
            let after2 = acts.map { (try? other.step($0)).map { $0.observation + [$0.reward] } ?? [] }
            if after1 != after2 { fail("snapshot", "steps after restore differ from the original") }
        } catch { fail("snapshot", "restore threw \(error)") }
        return failures
    }

    /// Observations, rewards and flags of a seeded random-action trajectory, flattened.
    func trajectory(_ env: any Environment, seed: UInt64, actionsSeed: UInt64) -> [[UInt32]] {
        var g = SeededRNG(seed: actionsSeed)
        var out: [[Float]] = [env.reset(seed: seed).observation]
        for _ in 0..<trajectorySteps {
            guard let r = try? env.step(env.actionSpace.sample(using: &g)) else { break }
            out.append(r.observation + [r.reward, r.terminated ? 1 : 0, r.truncated ? 1 : 0])
            if r.terminated { _ = env.reset(seed: nil) }
        }
        return out.map { $0.map(\.bitPattern) }
    }

    func firstDifference(_ a: [[UInt32]], _ b: [[UInt32]]) -> Int {
        for i in 0..<min(a.count, b.count) where a[i] != b[i] { return i }
        return min(a.count, b.count)
    }
}
