import Datasets
import Envs
import Foundation
import HDF5
import Physics

/// Supplies the behaviour policies named by dataset recipes.
public protocol BehaviorProvider {
    /// The policy for a recipe's behaviour name ("expert", "medium", "maze-play", …).
    func policy(named name: String, spec: EnvSpec) throws -> BatchPolicy
    /// The policy search's iterates up to medium level, in search order (medium-replay).
    func replayPolicies(spec: EnvSpec) throws -> [BatchPolicy]
}

/// Progress of a long generation: rows so far of the total.
public typealias GenerationProgress = @Sendable (_ rows: Int, _ total: Int) -> Void

/// Generates catalog datasets on the rollout workers.
///
/// Whole episodes are collected in rounds until the requested number of rows is reached, then
/// the concatenation is cut to exactly that size (the last episode may end with neither flag,
/// as in D4RL). Round sizes depend only on the data already collected, and episode i of a
/// round uses seed base + i, so the arrays are identical whatever the worker count.
public enum DatasetGenerator {
    public static let generatorVersion = "ofql-eval 0.1.0 / dataset generator 1"

    public static func generate(_ entry: DatasetEntry, size: Int, seed: UInt64, workers: Int,
                                provider: BehaviorProvider, progress: GenerationProgress? = nil) throws -> D4RLDataset {
        guard size >= 1 else { throw RolloutError.invalid("--size must be at least 1, got \(size)") }
        guard size <= 50_000_000 else { throw RolloutError.invalid("--size \(size) is larger than this tool generates (50,000,000)") }
        let spec = try EnvRegistry.spec(entry.env)
        var parts: [EpisodeRecord] = []
        var behaviour = ""
        func run(_ recipe: DatasetRecipe, rows: Int, seed: UInt64, offset: Int) throws {
            switch recipe {
            case .random:
                behaviour += "random"
                let p = RandomPolicy(observationDimension: spec.observationDimension, actionDimension: spec.actionDimension)
                parts += try collect(spec: spec, policy: p, rows: rows, seed: seed, workers: workers) { progress?(offset + $0, size) }
            case .behavior(let name):
                behaviour += name
                let p = try provider.policy(named: name, spec: spec)
                parts += try collect(spec: spec, policy: p, rows: rows, seed: seed, workers: workers) { progress?(offset + $0, size) }
            case .mediumReplay:
                behaviour += "medium-replay"
                let iterates = try provider.replayPolicies(spec: spec)
                guard !iterates.isEmpty else { throw RolloutError.invalid("\(spec.id): no search history to replay") }
                // An equal share of rows per iterate, in search order.
                var done = 0
                for (k, p) in iterates.enumerated() {
                    let share = (rows - done) / (iterates.count - k)
                    if share <= 0 { continue }
                    let before = offset + done
                    let got = try collect(spec: spec, policy: p, rows: share, seed: seed &+ UInt64(k) &* 1_000_003, workers: workers) {
                        progress?(before + $0, size)
                    }
                    done += got.reduce(0) { $0 + $1.rewards.count }
                    parts += got
                    if done >= rows { break }
                }
            case .onlineReplay:
                behaviour += "online-td3-replay"
                // The target: the medium behaviour policy's mean return over seeded episodes.
                let medium = try provider.policy(named: "medium", spec: spec)
                let ref = try RolloutEngine.run(spec: spec, policy: medium,
                                                options: RolloutOptions(episodes: 20, workers: workers, seed: seed &+ 2_000_000_000))
                let target = ref.episodes.reduce(0) { $0 + $1.totalReward } / Double(ref.episodes.count)
                let r = try OnlineReplay.collect(spec: spec, options: .init(targetReturn: target, maxSteps: rows, seed: seed)) { t, _ in
                    progress?(offset + t, size)
                }
                behaviour += r.reachedAt.map { " (medium return \(Int(target)) reached at \($0) steps)" } ?? " (stopped at \(rows) steps below medium return \(Int(target)))"
                parts += r.records
            case .evaluationGoalRewards:
                throw RolloutError.invalid("\(entry.id): evaluation-goal rewards wrap a whole recipe, not a part of one")
            case .concat(let a, let b):
                let first = rows / 2
                try run(a, rows: first, seed: seed, offset: offset)
                trim(&parts, to: offset + first)
                // Like D4RL's stitching, the first part ends at its last complete episode, so
                // no episode is cut in the middle of the file.
                // When the first part holds no complete episode (tiny sizes), its cut episode is
                // kept and marked as truncated instead: its next observations are stored, so it
                // stays usable for bootstrapping.
                if let last = parts.last, last.terminals.last != true, last.timeouts.last != true {
                    if parts.count > 1 { parts.removeLast() } else if !last.timeouts.isEmpty {
                        parts[parts.count - 1].timeouts[last.timeouts.count - 1] = true
                    }
                }
                let have = parts.reduce(0) { $0 + $1.rewards.count }
                behaviour += "+"
                try run(b, rows: offset + rows - have, seed: seed &+ 1_000_000_007, offset: have)
            }
        }
        var relabel = false
        var recipe = entry.recipe
        if case .evaluationGoalRewards(let inner) = recipe { recipe = inner; relabel = true }
        try run(recipe, rows: size, seed: seed, offset: 0)
        trim(&parts, to: size)
        var ds = assemble(parts, spec: spec)
        if relabel {
            try rewardEvaluationGoal(&ds, spec: spec)
            behaviour += ", rewards at the evaluation goal"
        }
        ds.metadata = [
            "dataset_id": .string(entry.id), "env_id": .string(spec.id.rawValue), "env_version": .int(Int64(spec.version)),
            "behavior_policy": .string(behaviour), "seed": .int(Int64(bitPattern: seed)), "size": .int(Int64(ds.count)),
            "generator": .string(generatorVersion), "box2d_version": .string(World.box2DVersion),
            "max_episode_steps": .int(Int64(spec.maxEpisodeSteps)),
        ]
        return ds
    }

    /// Collects whole episodes of `policy` until they hold at least `rows` transitions.
    static func collect(spec: EnvSpec, policy: BatchPolicy, rows: Int, seed: UInt64, workers: Int,
                        progress: (@Sendable (Int) -> Void)?) throws -> [EpisodeRecord] {
        var out: [EpisodeRecord] = []
        var have = 0, episodes = 0
        while have < rows {
            let meanLength = episodes == 0 ? Double(spec.maxEpisodeSteps) : Double(have) / Double(episodes)
            let want = Int((Double(rows - have) / max(meanLength, 1)).rounded(.up))
            let n = min(16_384, max(8, want))
            let base = have
            let infoKeys = (policy as? ScriptedBatchPolicy)?.infoKeys ?? []
            let chunk = try RolloutEngine.run(
                spec: spec, policy: policy,
                options: RolloutOptions(episodes: n, workers: workers, seed: seed &+ UInt64(episodes), record: true, infoKeys: infoKeys),
                progress: progress.map { cb in { @Sendable done in cb(base + done * Int(meanLength)) } })
            for r in chunk.records { have += r.rewards.count; out.append(r) }
            episodes += n
            progress?(have)
        }
        return out
    }

    /// D4RL antmaze's labels: reward 1 and terminal on the rows whose next position is within
    /// the success radius (0.5 m) of the evaluation goal cell's centre, 0 elsewhere; a row
    /// marked terminal is no longer a timeout.
    public static func rewardEvaluationGoal(_ ds: inout D4RLDataset, spec: EnvSpec) throws {
        guard spec.domain == .maze, let layout = Maze.layout(for: spec.id) else {
            throw RolloutError.invalid("\(spec.id) is not a maze: evaluation-goal rewards need a maze layout")
        }
        let goal = layout.center(of: layout.goal), radius = MazeOptions.evaluation.goalRadius
        let d = ds.observationDimension
        guard let next = ds.nextObservations else { throw RolloutError.invalid("maze data without next_observations") }
        for i in 0..<ds.count {
            let dx = next[i * d] - goal.x, dy = next[i * d + 1] - goal.y
            let success = dx * dx + dy * dy <= radius * radius
            ds.rewards[i] = success ? 1 : 0
            ds.terminals[i] = success
            if success, ds.timeouts != nil { ds.timeouts![i] = false }
        }
    }

    /// Cuts the concatenation of `parts` to `rows` transitions.
    static func trim(_ parts: inout [EpisodeRecord], to rows: Int) {
        var total = 0
        for i in parts.indices {
            let n = parts[i].rewards.count
            if total + n > rows {
                let keep = rows - total
                let od = n == 0 ? 0 : parts[i].observations.count / n
                let ad = n == 0 ? 0 : parts[i].actions.count / n
                parts[i].observations.removeLast((n - keep) * od)
                parts[i].nextObservations.removeLast((n - keep) * od)
                parts[i].actions.removeLast((n - keep) * ad)
                parts[i].rewards.removeLast(n - keep)
                parts[i].terminals.removeLast(n - keep)
                parts[i].timeouts.removeLast(n - keep)
                let w = n == 0 ? 0 : parts[i].infos.count / n
                parts[i].infos.removeLast((n - keep) * w)
                parts.removeLast(parts.count - i - (keep > 0 ? 1 : 0))
                return
            }
            total += n
        }
    }

    /// Concatenates episode records into the D4RL arrays (plus `infos/episode` and `infos/step`).
    static func assemble(_ parts: [EpisodeRecord], spec: EnvSpec) -> D4RLDataset {
        let n = parts.reduce(0) { $0 + $1.rewards.count }
        var obs: [Float] = [], next: [Float] = [], act: [Float] = [], rew: [Float] = []
        var term: [Bool] = [], tout: [Bool] = [], episode: [Float] = [], step: [Float] = [], extra: [Float] = []
        obs.reserveCapacity(n * spec.observationDimension); next.reserveCapacity(n * spec.observationDimension)
        act.reserveCapacity(n * spec.actionDimension); rew.reserveCapacity(n)
        term.reserveCapacity(n); tout.reserveCapacity(n); episode.reserveCapacity(n); step.reserveCapacity(n)
        for (e, p) in parts.enumerated() {
            obs += p.observations; next += p.nextObservations; act += p.actions; rew += p.rewards
            term += p.terminals; tout += p.timeouts; extra += p.infos
            for t in 0..<p.rewards.count { episode.append(Float(e)); step.append(Float(t)) }
        }
        var infos = ["episode": InfoArray(values: episode, shape: [n]), "step": InfoArray(values: step, shape: [n])]
        if n > 0 && extra.count == 2 * n { infos["goal"] = InfoArray(values: extra, shape: [n, 2]) }
        return D4RLDataset(observationDimension: spec.observationDimension, actionDimension: spec.actionDimension,
                           observations: obs, actions: act, rewards: rew, terminals: term, timeouts: tout,
                           nextObservations: next, infos: infos)
    }
}
