import Physics
import Dispatch
import Randomness

/// Which actor drives an evaluation or a render.
public enum ActorChoice: Sendable {
    /// Uniform random actions in [-1, 1].
    case random
    /// A behaviour policy (with its own noise setting).
    case behavior(BehaviorPolicy)
}

/// Summary of seeded evaluation episodes.
public struct EvaluationSummary: Sendable, Equatable {
    public var episodes: [EpisodeStats]
    public var meanReturn: Double { episodes.map(\.totalReturn).reduce(0, +) / Double(max(episodes.count, 1)) }
    public var meanSpeed: Double { episodes.map(\.meanSpeed).reduce(0, +) / Double(max(episodes.count, 1)) }
    public var meanLength: Double { Double(episodes.map(\.steps).reduce(0, +)) / Double(max(episodes.count, 1)) }
    /// Fraction of episodes that were not terminated (reached the time limit).
    public var survivalRate: Double { Double(episodes.filter { !$0.terminated }.count) / Double(max(episodes.count, 1)) }
}

/// Writes `actor`'s action for `observation` (uniform in [-1, 1] for `.random`).
@inline(__always)
func actorAct(_ actor: ActorChoice, _ observation: UnsafeMutablePointer<Float>, _ action: UnsafeMutablePointer<Float>,
              count: Int, rng: inout SeededRNG) {
    switch actor {
    case .random: for i in 0..<count { action[i] = Float(rng.uniform(-1, 1)) }
    case .behavior(let p): p.act(observation, into: action, rng: &rng)
    }
}

/// Runs `episodes` seeded episodes (episode i uses the env seed `seedBase + i`, the rule of
/// ``EpisodeSeeding``) under the spec's time limit, on `workers` threads; results do not depend
/// on the worker count.
public func evaluate(spec: EnvSpec, actor: ActorChoice, episodes: Int, seedBase: UInt64, workers: Int = 1) -> EvaluationSummary {
    let results = UnsafeMutableBufferPointer<EpisodeStats>.allocate(capacity: episodes)
    defer { results.deallocate() }
    nonisolated(unsafe) let out = results
    let w = max(1, min(workers, episodes))
    if w > 1 { World.warmUp() }
    DispatchQueue.concurrentPerform(iterations: w) { worker in
        let env = spec.make()
        let no = spec.observationDimension, na = spec.actionDimension
        let obs = UnsafeMutablePointer<Float>.allocate(capacity: no), act = UnsafeMutablePointer<Float>.allocate(capacity: na)
        defer { obs.deallocate(); act.deallocate() }
        var e = worker
        while e < episodes {
            let seed = EpisodeSeeding.episodeSeed(base: seedBase, index: e)
            var rng = EpisodeSeeding.actorRNG(episodeSeed: seed)
            out[e] = try! EpisodeRunner.run(env: env, seed: seed, controlPeriod: spec.controlPeriod, observation: obs, action: act,
                                            act: { o, a in actorAct(actor, o, a, count: na, rng: &rng) })
            e += w
        }
    }
    return EvaluationSummary(episodes: Array(results))
}

/// Runs one episode (env seed `seed`) and returns SVG filmstrip frames every `every` steps (plus the last).
public func filmstripFrames(spec: EnvSpec, actor: ActorChoice, seed: UInt64, every: Int, maxFrames: Int)
    -> (frames: [SVGFilmstrip.Frame], summary: EpisodeStats) {
    let env = spec.make()
    guard let r = env.inner as? CapsuleRenderable else { return ([], EpisodeStats(totalReturn: 0, steps: 0, terminated: false, meanSpeed: 0)) }
    let na = spec.actionDimension
    let obs = UnsafeMutablePointer<Float>.allocate(capacity: spec.observationDimension), act = UnsafeMutablePointer<Float>.allocate(capacity: na)
    defer { obs.deallocate(); act.deallocate() }
    var rng = EpisodeSeeding.actorRNG(episodeSeed: seed)
    var frames: [SVGFilmstrip.Frame] = []
    let stats = try! EpisodeRunner.run(
        env: env, seed: seed, controlPeriod: spec.controlPeriod, observation: obs, action: act,
        act: { o, a in
            if frames.isEmpty { frames.append(SVGFilmstrip.Frame(step: 0, capsules: r.renderCapsules(), cameraX: r.cameraX)) }
            actorAct(actor, o, a, count: na, rng: &rng)
        },
        observe: { steps, o in
            if (steps % every == 0 || o.terminated || o.truncated) && frames.count < maxFrames {
                frames.append(.init(step: steps, capsules: r.renderCapsules(), cameraX: r.cameraX,
                                    caption: "x = \(String((Float(env.info()["x_position"] ?? 0) * 100).rounded() / 100)) m"))
            }
        })
    return (frames, stats)
}
