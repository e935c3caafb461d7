import Physics
import Dispatch

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

/// Runs `episodes` seeded episodes (episode i uses seed `derive(seedBase, i)`) under the
/// spec's time limit, on `workers` threads; results do not depend on the worker count.
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
            let seed = SeededRNG.derive(seedBase, UInt64(e))
            var rng = SeededRNG(seed: SeededRNG.derive(seed, 0xAC7))
            env.reset(seed: seed, observation: obs)
            let x0 = env.info()["x_position"] ?? 0
            var ret = 0.0, steps = 0, terminated = false
            while true {
                switch actor {
                case .random: for i in 0..<na { act[i] = Float(rng.uniform(-1, 1)) }
                case .behavior(let p): p.act(obs, into: act, rng: &rng)
                }
                let o = try! env.step(action: act, observation: obs)
                ret += Double(o.reward); steps += 1
                if o.terminated { terminated = true; break }
                if o.truncated { break }
            }
            let x1 = env.info()["x_position"] ?? 0
            out[e] = EpisodeStats(totalReturn: ret, steps: steps, terminated: terminated,
                                  meanSpeed: (x1 - x0) / (Double(steps) * spec.controlPeriod))
            e += w
        }
    }
    return EvaluationSummary(episodes: Array(results))
}

/// Runs one episode and returns SVG filmstrip frames every `every` steps (plus the last).
public func filmstripFrames(spec: EnvSpec, actor: ActorChoice, seed: UInt64, every: Int, maxFrames: Int)
    -> (frames: [SVGFilmstrip.Frame], summary: EpisodeStats) {
    let env = spec.make()
    guard let r = env.inner as? CapsuleRenderable else { return ([], EpisodeStats(totalReturn: 0, steps: 0, terminated: false, meanSpeed: 0)) }
    var rng = SeededRNG(seed: SeededRNG.derive(seed, 0xAC7))
    var obs = env.reset(seed: seed).observation
    let x0 = env.info()["x_position"] ?? 0
    var frames = [SVGFilmstrip.Frame(step: 0, capsules: r.renderCapsules(), cameraX: r.cameraX)]
    var ret = 0.0, steps = 0, terminated = false
    while true {
        var a: [Float]
        switch actor {
        case .random: a = (0..<spec.actionDimension).map { _ in Float(rng.uniform(-1, 1)) }
        case .behavior(let p): a = p.act(obs, rng: &rng)
        }
        let o = try! env.step(a)
        obs = o.observation; ret += Double(o.reward); steps += 1
        let last = o.terminated || o.truncated
        if (steps % every == 0 || last) && frames.count < maxFrames {
            frames.append(.init(step: steps, capsules: r.renderCapsules(), cameraX: r.cameraX,
                                caption: "x = \(String((Float(env.info()["x_position"] ?? 0) * 100).rounded() / 100)) m"))
        }
        if o.terminated { terminated = true }
        if last { break }
    }
    let x1 = env.info()["x_position"] ?? 0
    return (frames, EpisodeStats(totalReturn: ret, steps: steps, terminated: terminated,
                                 meanSpeed: (x1 - x0) / (Double(steps) * spec.controlPeriod)))
}
