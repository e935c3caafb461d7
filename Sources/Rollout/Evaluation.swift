import Datasets
import Envs
import Foundation

/// Mean and standard deviation (population), as JSON `{"mean", "std"}`.
public struct MeanStd: Codable, Sendable, Equatable {
    public var mean: Double
    public var std: Double
    public init(_ values: [Double]) {
        let s = Summary(values)
        mean = s.mean; std = s.std
    }
}

/// How an env's returns become D4RL-style normalised scores.
public enum Scoring: Sendable, Equatable {
    /// 100 × (R − R_random) / (R_expert − R_random).
    case reference(ReferenceScores)
    /// Success rate × 100 (mazes: the return is 0 or 1).
    case success
    /// Subtasks completed / 4 × 100 (kitchen).
    case subtasks(Int)
    /// No references measured yet.
    case unavailable

    public static func of(_ spec: EnvSpec) -> Scoring {
        switch spec.domain {
        case .maze: return .success
        case .manipulation: return .subtasks(4)
        case .locomotion:
            if let r = spec.referenceScores { return .reference(r) }
            return .unavailable
        }
    }

    /// The normalised score of one episode, nil when unavailable.
    public func score(_ e: EpisodeResult) -> Double? {
        switch self {
        case .reference(let r): return r.normalized(e.totalReward)
        case .success: return (e.success ?? (e.totalReward > 0)) ? 100 : 0
        case .subtasks(let n): return 100 * Double(e.subtasks ?? Int(e.totalReward.rounded())) / Double(n)
        case .unavailable: return nil
        }
    }
}

/// The normalised scores of a dataset's own episodes, as the evaluation would score them.
///
/// Maze data split at every terminal (each step within the evaluation goal's radius ends a
/// D4RL "episode"), so their terminal-to-terminal pieces are almost all successes. When the
/// file keeps `infos/episode`, maze data are scored per collection episode instead: 100 when
/// the rover reached the evaluation goal within it (any reward), else 0, as an evaluation
/// episode is scored. The last collection episode counts only if it ended by a terminal or
/// time-out. Other domains score the complete episodes of ``D4RLDataset/episodes(maxEpisodeSteps:)``.
public func datasetEpisodeScores(_ ds: D4RLDataset, spec: EnvSpec) -> [Double] {
    let scoring = Scoring.of(spec)
    if spec.domain == .maze, let ids = ds.infos["episode"]?.values, ids.count == ds.count, ds.count > 0 {
        var scores: [Double] = []
        var start = 0
        for i in 0..<ds.count where i == ds.count - 1 || ids[i + 1] != ids[i] {
            let last = i == ds.count - 1
            if !last || ds.terminals[i] || (ds.timeouts?[i] ?? false) {
                scores.append(ds.rewards[start...i].contains { $0 > 0 } ? 100 : 0)
            }
            start = i + 1
        }
        return scores
    }
    return ds.episodes(maxEpisodeSteps: spec.maxEpisodeSteps).filter { !$0.incomplete }.compactMap {
        scoring.score(EpisodeResult(index: 0, seed: 0, totalReward: $0.totalReward, length: $0.length,
                                    terminated: $0.terminated, truncated: $0.truncated))
    }
}

/// An evaluation report: per-episode results and their summary, in the JSON shape
/// `{"env", "policy", "seed", "episodes": [...], "return": {"mean", "std"}, "normalized_score": {"mean", "std"}}`.
public struct EvaluationReport: Codable, Sendable {
    public struct Episode: Codable, Sendable, Equatable {
        public var index: Int
        public var seed: UInt64
        public var `return`: Double
        public var length: Int
        public var terminated: Bool
        public var truncated: Bool
        public var normalized_score: Double?
        public var success: Bool?
        public var subtasks: Int?
    }
    public var env: String
    public var policy: String
    public var seed: UInt64
    public var workers: Int
    public var episodes: [Episode]
    public var `return`: MeanStd
    public var normalized_score: MeanStd?
    public var success_rate: Double?
    public var env_steps: Int
    public var seconds: Double

    public init(spec: EnvSpec, policy: String, seed: UInt64, workers: Int, output: RolloutEngine.Output, seconds: Double) {
        let scoring = Scoring.of(spec)
        env = spec.id.rawValue
        self.policy = policy
        self.seed = seed
        self.workers = workers
        episodes = output.episodes.map {
            Episode(index: $0.index, seed: $0.seed, return: $0.totalReward, length: $0.length, terminated: $0.terminated,
                    truncated: $0.truncated, normalized_score: scoring.score($0), success: $0.success, subtasks: $0.subtasks)
        }
        self.return = MeanStd(output.episodes.map(\.totalReward))
        let scores = output.episodes.compactMap { scoring.score($0) }
        normalized_score = scores.count == output.episodes.count && !scores.isEmpty ? MeanStd(scores) : nil
        let successes = output.episodes.compactMap(\.success)
        success_rate = successes.isEmpty ? nil : Double(successes.filter { $0 }.count) / Double(successes.count)
        env_steps = output.steps
        self.seconds = seconds
    }

    /// A one-paragraph human summary.
    public var text: String {
        var s = "\(env) · \(policy) · \(episodes.count) episodes (seeds \(seed)…\(seed &+ UInt64(max(episodes.count, 1) - 1))) on \(workers) worker(s)\n"
        s += "  return            \(format2(self.return.mean)) ± \(format2(self.return.std))\n"
        if let n = normalized_score { s += "  normalised score  \(format2(n.mean)) ± \(format2(n.std))\n" } else {
            s += "  normalised score  n/a (no reference scores for \(env))\n"
        }
        if let r = success_rate { s += "  success rate      \(format2(100 * r)) %\n" }
        let lengths = episodes.map { Double($0.length) }
        s += "  length            \(format2(Summary(lengths).mean)) mean; \(episodes.filter(\.terminated).count) terminated, \(episodes.filter(\.truncated).count) truncated\n"
        s += "  throughput        \(format2(Double(env_steps) / max(seconds, 1e-9))) env steps/s (\(env_steps) steps in \(format2(seconds)) s)"
        return s
    }

    /// CSV, one row per episode.
    public var csv: String {
        var rows = ["index,seed,return,length,terminated,truncated,normalized_score"]
        for e in episodes {
            rows.append("\(e.index),\(e.seed),\(e.return),\(e.length),\(e.terminated),\(e.truncated),\(e.normalized_score.map { String($0) } ?? "")")
        }
        return rows.joined(separator: "\n") + "\n"
    }

    /// A Markdown summary and per-episode table.
    public var markdown: String {
        var o = "# \(env) · \(policy)\n\n"
        o += "| episodes | seeds | return | normalised score | success rate |\n|---:|---|---:|---:|---:|\n"
        o += "| \(episodes.count) | \(seed)…\(seed &+ UInt64(max(episodes.count, 1) - 1)) | \(format2(self.return.mean)) ± \(format2(self.return.std)) | "
        o += (normalized_score.map { "\(format2($0.mean)) ± \(format2($0.std))" } ?? "n/a") + " | "
        o += (success_rate.map { format2(100 * $0) + " %" } ?? "") + " |\n\n"
        o += "| index | seed | return | length | terminated | truncated | normalised score |\n|---:|---:|---:|---:|---|---|---:|\n"
        for e in episodes {
            o += "| \(e.index) | \(e.seed) | \(format2(e.return)) | \(e.length) | \(e.terminated) | \(e.truncated) | \(e.normalized_score.map(format2) ?? "") |\n"
        }
        return o
    }

    public func json() throws -> String {
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys]
        return String(decoding: try enc.encode(self), as: UTF8.self)
    }
}

/// Two decimals ("nan"/"inf" spelled out).
public func format2(_ v: Double) -> String {
    guard v.isFinite else { return "\(v)" }
    return String(format: "%.2f", v)
}
