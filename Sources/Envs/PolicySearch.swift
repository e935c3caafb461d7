import Dispatch
import Physics
import Randomness

/// Settings of ``PolicySearch`` (Augmented Random Search V2-t, Mania et al. 2018).
public struct PolicySearchConfig: Sendable, Equatable {
    /// Search iterations (parameter updates).
    public var iterations: Int
    /// Random directions per iteration (each rolled out with +δ and −δ).
    public var directions: Int
    /// Best directions used in the update (the "-t" of V2-t).
    public var topDirections: Int
    /// Step size α.
    public var stepSize: Float
    /// Exploration noise ν (scale of δ).
    public var noise: Float
    /// Episode cap during the search (the spec's limit is the default).
    public var episodeSteps: Int
    /// Evaluation episodes of each iterate (fixed seeds, no exploration).
    public var evalEpisodes: Int
    /// Episodes used to confirm the expert candidates (the 12 best iterates) and the medium one.
    public var finalEpisodes: Int
    /// Subtracted per step from the training reward (ARS's survival-bonus shift); 0 for none.
    public var survivalShift: Float
    /// After the medium iterate, keep every `historyEvery`-th iterate in the history.
    public var historyEvery: Int
    /// Medium target as a fraction of the expert's return.
    public var mediumFraction: Double

    public init(iterations: Int, directions: Int, topDirections: Int, stepSize: Float, noise: Float,
                episodeSteps: Int = 1000, evalEpisodes: Int = 3, finalEpisodes: Int = 30, survivalShift: Float = 0,
                historyEvery: Int = 10, mediumFraction: Double = 0.4) {
        self.iterations = iterations; self.directions = directions; self.topDirections = topDirections
        self.stepSize = stepSize; self.noise = noise; self.episodeSteps = episodeSteps; self.evalEpisodes = evalEpisodes
        self.finalEpisodes = finalEpisodes; self.survivalShift = survivalShift; self.historyEvery = historyEvery
        self.mediumFraction = mediumFraction
    }

    /// The settings used for the committed policies (ARS paper values adapted per env).
    public static func defaults(for env: EnvID) -> PolicySearchConfig {
        switch env {
        case .hopper: return PolicySearchConfig(iterations: 800, directions: 8, topDirections: 4, stepSize: 0.02, noise: 0.03, survivalShift: 1)
        case .walker2d: return PolicySearchConfig(iterations: 800, directions: 16, topDirections: 8, stepSize: 0.02, noise: 0.03, survivalShift: 1)
        default: return PolicySearchConfig(iterations: 600, directions: 16, topDirections: 4, stepSize: 0.02, noise: 0.03)
        }
    }

    func json() -> JSONValue {
        .object([("method", .string("ARS V2-t")), ("iterations", .num(iterations)), ("directions", .num(directions)),
                 ("top_directions", .num(topDirections)), ("step_size", .num(stepSize)), ("noise", .num(noise)),
                 ("episode_steps", .num(episodeSteps)), ("eval_episodes", .num(evalEpisodes)),
                 ("final_episodes", .num(finalEpisodes)), ("survival_shift", .num(survivalShift)),
                 ("history_every", .num(historyEvery)), ("medium_fraction", .num(mediumFraction))])
    }

    static func from(_ v: JSONValue?) -> PolicySearchConfig? {
        guard let v, let it = v["iterations"]?.int, let n = v["directions"]?.int, let b = v["top_directions"]?.int,
              let a = v["step_size"]?.float, let nu = v["noise"]?.float else { return nil }
        return PolicySearchConfig(iterations: it, directions: n, topDirections: b, stepSize: a, noise: nu,
                                  episodeSteps: v["episode_steps"]?.int ?? 1000, evalEpisodes: v["eval_episodes"]?.int ?? 3,
                                  finalEpisodes: v["final_episodes"]?.int ?? 30, survivalShift: v["survival_shift"]?.float ?? 0,
                                  historyEvery: v["history_every"]?.int ?? 10, mediumFraction: v["medium_fraction"]?.double ?? 0.4)
    }
}

/// Progress of one search iteration, for progress lines.
public struct PolicySearchProgress: Sendable {
    public var iteration: Int
    public var evalReturn: Double
    public var evalSpeed: Double
    public var bestReturn: Double
    public var envSteps: Int
}


/// Derivative-free search for linear locomotion controllers: Augmented Random Search V2-t
/// with a running observation normaliser, parallel over `DispatchQueue.concurrentPerform`.
///
/// Every random draw is derived from `(seed, iteration, index)`: direction k of iteration t
/// uses perturbation seed `derive(seed, t·N + k)` and the same episode seed for +δ and −δ;
/// per-rollout observation statistics are merged in index order. Results are therefore
/// bit-identical for any worker count.
public final class PolicySearch {
    public let spec: EnvSpec
    public let seed: UInt64
    public let config: PolicySearchConfig
    public let workers: Int

    public init(spec: EnvSpec, seed: UInt64, config: PolicySearchConfig, workers: Int = 1) {
        self.spec = spec; self.seed = seed; self.config = config; self.workers = max(1, workers)
    }

    /// Runs one episode of `policy` with episode seed `episodeSeed`; if `stats` is given,
    /// adds each observation to sums (first `obs` entries) and squared sums (next `obs`).
    public static func rollout(env: any Environment, policy: LinearPolicy, episodeSeed: UInt64, maxSteps: Int,
                               shift: Float = 0, perturbation: (delta: UnsafePointer<Float>, scale: Float)? = nil,
                               stats: UnsafeMutablePointer<Double>? = nil, shiftedReturn: UnsafeMutablePointer<Double>? = nil,
                               controlPeriod: Double) -> EpisodeStats {
        let no = policy.observationDimension, na = policy.actionDimension
        var p = policy
        if let (d, s) = perturbation { for i in 0..<p.weights.count { p.weights[i] += s * d[i] } }
        let obs = UnsafeMutablePointer<Float>.allocate(capacity: no), act = UnsafeMutablePointer<Float>.allocate(capacity: na)
        defer { obs.deallocate(); act.deallocate() }
        var shifted = 0.0
        let e = try! EpisodeRunner.run(
            env: env, seed: episodeSeed, maxSteps: maxSteps, controlPeriod: controlPeriod, observation: obs, action: act,
            act: { o, a in
                if let stats { for j in 0..<no { let v = Double(o[j]); stats[j] += v; stats[no + j] += v * v } }
                p.act(o, into: a)
            },
            observe: { _, out in shifted += Double(out.reward - shift) })
        shiftedReturn?.pointee = shifted
        return e
    }

    /// Evaluates `policy` on episodes with seeds `derive(base, 0..<episodes)` (parallel, ordered).
    public func evaluate(_ policy: LinearPolicy, episodes: Int, base: UInt64) -> [EpisodeStats] {
        let results = UnsafeMutableBufferPointer<EpisodeStats>.allocate(capacity: episodes)
        defer { results.deallocate() }
        let spec = self.spec, cap = config.episodeSteps, w = min(workers, max(episodes, 1))
        World.warmUp()
        nonisolated(unsafe) let out = results
        DispatchQueue.concurrentPerform(iterations: w) { worker in
            let env = spec.makeBare()
            var e = worker
            while e < episodes {
                out[e] = PolicySearch.rollout(env: env, policy: policy, episodeSeed: SeededRNG.derive(base, UInt64(e)),
                                              maxSteps: cap, controlPeriod: spec.controlPeriod)
                e += w
            }
        }
        return Array(results)
    }

    /// Seed base of the fixed evaluation episodes used for every iterate.
    var evalBase: UInt64 { SeededRNG.derive(seed, 0xE7A1) }
    /// Seed base of the final confirmation episodes (disjoint from the per-iterate ones).
    var finalBase: UInt64 { SeededRNG.derive(seed, 0xF1A1) }

    /// The medium iterate for a return `target`: of the iterates before iteration `before`
    /// (all of them if none is), the five whose few-episode return is closest to `target` are
    /// re-evaluated on `finalEpisodes` fresh episodes, and the closest confirmed one wins (its
    /// record carries the confirmed return).
    public func confirmedMedium(_ records: [PolicyRecord], target: Double, before: Int) -> PolicyRecord {
        precondition(!records.isEmpty, "no iterates to choose a medium from")
        let earlier = records.filter { $0.iteration < before }
        let pool = (earlier.isEmpty ? records : earlier).enumerated()
            .sorted { (abs($0.element.meanReturn - target), $0.offset) < (abs($1.element.meanReturn - target), $1.offset) }
            .prefix(5).map(\.element)
        var medium = pool[0]
        var mediumGap = Double.infinity
        for candidate in pool {
            let ms = evaluate(candidate.policy, episodes: config.finalEpisodes, base: finalBase)
            let confirmed = PolicyRecord(iteration: candidate.iteration, policy: candidate.policy,
                                         meanReturn: ms.map(\.totalReturn).reduce(0, +) / Double(ms.count),
                                         meanSpeed: ms.map(\.meanSpeed).reduce(0, +) / Double(ms.count))
            if abs(confirmed.meanReturn - target) < mediumGap { mediumGap = abs(confirmed.meanReturn - target); medium = confirmed }
        }
        return medium
    }

    /// Runs the search and returns the behaviour file (expert, medium, history).
    public func run(progress: (PolicySearchProgress) -> Void = { _ in }) -> BehaviorFile {
        World.warmUp()
        let no = spec.observationDimension, na = spec.actionDimension, np = na * (no + 1)
        let n = config.directions, b = min(config.topDirections, config.directions)
        var policy = LinearPolicy(observationDimension: no, actionDimension: na)
        var count = 0.0
        var sum = [Double](repeating: 0, count: no), sumSq = [Double](repeating: 0, count: no)
        var records: [PolicyRecord] = []
        var best = -Double.infinity
        var envSteps = 0
        let deltas = UnsafeMutablePointer<Float>.allocate(capacity: n * np)
        let returns = UnsafeMutablePointer<Double>.allocate(capacity: 2 * n)
        let stepsOut = UnsafeMutablePointer<Int>.allocate(capacity: 2 * n)
        let stats = UnsafeMutablePointer<Double>.allocate(capacity: 2 * n * 2 * no)
        defer { deltas.deallocate(); returns.deallocate(); stepsOut.deallocate(); stats.deallocate() }

        for t in 0..<config.iterations {
            // Evaluate the current iterate (recorded with the normaliser it acts with).
            let ev = evaluate(policy, episodes: config.evalEpisodes, base: evalBase)
            let evRet = ev.map(\.totalReturn).reduce(0, +) / Double(max(ev.count, 1))
            let evSpeed = ev.map(\.meanSpeed).reduce(0, +) / Double(max(ev.count, 1))
            envSteps += ev.map(\.steps).reduce(0, +)
            records.append(PolicyRecord(iteration: t, policy: policy, meanReturn: evRet, meanSpeed: evSpeed))
            best = max(best, evRet)
            progress(PolicySearchProgress(iteration: t, evalReturn: evRet, evalSpeed: evSpeed, bestReturn: best, envSteps: envSteps))

            // Perturbations for this iteration.
            for k in 0..<n {
                var g = SeededRNG(seed: SeededRNG.derive(seed, UInt64(t * n + k)))
                for i in 0..<np { deltas[k * np + i] = Float(g.gaussian()) }
            }
            stats.initialize(repeating: 0, count: 2 * n * 2 * no)
            let tasks = 2 * n, w = min(workers, tasks)
            let spec = self.spec, cfg = config, pol = policy, base = seed
            nonisolated(unsafe) let d = deltas, r = returns, st = stats, so = stepsOut
            DispatchQueue.concurrentPerform(iterations: w) { worker in
                let env = spec.makeBare()
                var task = worker
                while task < tasks {
                    let k = task / 2, sgn: Float = task % 2 == 0 ? 1 : -1
                    let epSeed = SeededRNG.derive(base ^ 0x5EED, UInt64(t * n + k))
                    var shifted = 0.0
                    let s = PolicySearch.rollout(env: env, policy: pol, episodeSeed: epSeed, maxSteps: cfg.episodeSteps,
                                                 shift: cfg.survivalShift, perturbation: (UnsafePointer(d + k * np), sgn * cfg.noise),
                                                 stats: st + task * 2 * no, shiftedReturn: &shifted, controlPeriod: spec.controlPeriod)
                    r[task] = shifted; so[task] = s.steps
                    task += w
                }
            }
            // Update (ARS V2-t): top-b directions by max(r+, r−), scaled by the std of their returns.
            let order = (0..<n).sorted { (max(returns[2 * $0], returns[2 * $0 + 1]), $1) > (max(returns[2 * $1], returns[2 * $1 + 1]), $0) }
            let top = order.prefix(b)
            var used: [Double] = []
            for k in top { used.append(returns[2 * k]); used.append(returns[2 * k + 1]) }
            let mean = used.reduce(0, +) / Double(used.count)
            let sigma = (used.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(used.count)).squareRoot()
            if sigma > 1e-8 {
                let scale = Double(config.stepSize) / (Double(b) * sigma)
                var grad = [Double](repeating: 0, count: np)
                for k in top {
                    let diff = returns[2 * k] - returns[2 * k + 1]
                    for i in 0..<np { grad[i] += diff * Double(deltas[k * np + i]) }
                }
                for i in 0..<np { policy.weights[i] += Float(scale * grad[i]) }
            }
            // Merge observation statistics in task order, then refresh the normaliser.
            for task in 0..<tasks {
                count += Double(stepsOut[task]); envSteps += stepsOut[task]
                for j in 0..<no { sum[j] += stats[task * 2 * no + j]; sumSq[j] += stats[task * 2 * no + no + j] }
            }
            if count > 1 {
                for j in 0..<no {
                    let m = sum[j] / count
                    let v = max(sumSq[j] / count - m * m, 0)
                    policy.observationMean[j] = Float(m)
                    policy.observationStd[j] = Float(max(v.squareRoot(), 1e-2))
                }
            }
        }
        // Final iterate.
        let ev = evaluate(policy, episodes: config.evalEpisodes, base: evalBase)
        records.append(PolicyRecord(iteration: config.iterations, policy: policy,
                                    meanReturn: ev.map(\.totalReturn).reduce(0, +) / Double(max(ev.count, 1)),
                                    meanSpeed: ev.map(\.meanSpeed).reduce(0, +) / Double(max(ev.count, 1))))

        // Expert: confirm the best iterates on more episodes; prefer those that survive
        // (≥ 95% of the confirmation episodes end by the time limit), then the highest return.
        let candidates = records.indices.sorted { (records[$0].meanReturn, $1) > (records[$1].meanReturn, $0) }.prefix(12)
        var expert = records[candidates.first!]
        var expertKey = (0, -Double.infinity)
        for c in candidates.sorted() {
            let s = evaluate(records[c].policy, episodes: config.finalEpisodes, base: finalBase)
            let m = s.map(\.totalReturn).reduce(0, +) / Double(s.count)
            let survival = Double(s.filter { !$0.terminated }.count) / Double(s.count)
            let key = (survival >= 0.95 ? 1 : 0, m)
            if key > expertKey {
                expertKey = key
                expert = PolicyRecord(iteration: records[c].iteration, policy: records[c].policy, meanReturn: m,
                                      meanSpeed: s.map(\.meanSpeed).reduce(0, +) / Double(s.count))
            }
        }
        let medium = confirmedMedium(records, target: config.mediumFraction * expert.meanReturn, before: expert.iteration)
        let history = records.filter { $0.iteration <= medium.iteration || $0.iteration % max(config.historyEvery, 1) == 0 }
        return BehaviorFile(env: spec.id, envVersion: spec.version, seed: seed, config: config,
                            expert: expert, medium: medium, history: history)
    }
}
