import BLAS
import Datasets
import Envs
import Foundation
import OFQL
import Rollout

/// One evaluation during training.
public struct EvalPoint: Codable, Sendable {
    public var step: Int
    public var return_mean: Double
    public var return_std: Double
    public var normalized_score_mean: Double?
    public var normalized_score_std: Double?
    public var success_rate: Double?
}

/// A training run with optional evaluations; shared by `train`, `suite` and `demo`.
public struct TrainRun {
    public var dataset: String
    public var configPath: String?
    public var configOverride: OFQLConfig? = nil
    public var steps: Int
    public var seed: UInt64
    public var out: String
    public var resume: Bool = false
    public var algo: String?
    public var logEvery = 1000
    public var checkpointEvery = 50_000
    public var threads = 2
    public var evalEvery = 0
    public var evalEpisodes = 10
    public var evalWorkers = 2
    public var evalSeed: UInt64 = 1_000_000
    public var env: String?
    public var quiet = false
    public var preloaded: LoadedDataset? = nil

    public init(dataset: String, configPath: String?, steps: Int, seed: UInt64, out: String, resume: Bool = false, algo: String?,
         logEvery: Int = 1000, checkpointEvery: Int = 50_000, threads: Int = 2, evalEvery: Int = 0, evalEpisodes: Int = 10,
         evalWorkers: Int = 2, evalSeed: UInt64 = 1_000_000, env: String? = nil) {
        self.dataset = dataset; self.configPath = configPath; self.steps = steps; self.seed = seed; self.out = out
        self.resume = resume; self.algo = algo; self.logEvery = logEvery; self.checkpointEvery = checkpointEvery
        self.threads = threads; self.evalEvery = evalEvery; self.evalEpisodes = evalEpisodes; self.evalWorkers = evalWorkers
        self.evalSeed = evalSeed; self.env = env
    }

    public struct Summary: Sendable {
        public var steps: Int
        public var seconds: Double
        /// Gradient steps per second of training alone (evaluations excluded).
        public var stepsPerSecond: Double
        public var evalSeconds: Double
        public var checkpoint: String
        public var final: EvalPoint?
        public var best: EvalPoint?
        public var json: String {
            func point(_ p: EvalPoint?) -> String {
                guard let p else { return "null" }
                let score = p.normalized_score_mean.map { format3($0) } ?? "null"
                return "{\"step\": \(p.step), \"return\": \(format3(p.return_mean)), \"normalized_score\": \(score)}"
            }
            return "{\"steps\": \(steps), \"seconds\": \(format3(seconds)), \"eval_seconds\": \(format3(evalSeconds)), \"steps_per_s\": \(format3(stepsPerSecond)), "
                + "\"checkpoint\": \"\(checkpoint)\", \"final_eval\": \(point(final)), \"best_eval\": \(point(best))}"
        }
    }

    public func execute() throws -> Summary {
        BLASRuntime.setThreads(threads)
        // --algo picks the algorithm whose defaults the config file's keys override.
        let algorithm = algo.flatMap(Algorithm.init(rawValue:))
        let requested = try configOverride ?? configPath.map { try OFQLConfig.load(path: $0, algo: algorithm) }
            ?? OFQLConfig.defaults(for: algorithm ?? .ofql)
        let loaded: LoadedDataset
        if let preloaded { loaded = preloaded } else {
            do { loaded = try loadD4RL(path: dataset) } catch { throw RunError("--dataset: \(error)") }
        }
        let data = loaded.transitions
        guard data.count > 0 else { throw RunError("--dataset \(dataset): the dataset holds no transitions") }
        // A file that names its environment must match that environment's widths.
        if let envName = loaded.envID, let s = try? envSpec(envName),
           s.observationDimension != data.obsDim || s.actionDimension != data.actDim {
            throw RunError("--dataset \(dataset): observations have \(data.obsDim) columns and actions \(data.actDim), but its environment \(s.id) (metadata/env_id) has \(s.observationDimension) and \(s.actionDimension)")
        }
        let cfg: OFQLConfig
        do { cfg = try requested.resolved(episodeReturnRange: loaded.episodeReturnRange, steps: steps) } catch {
            throw RunError("--dataset \(dataset): \(error)")
        }
        // The environment for evaluations, checked against the data's shapes.
        var spec: EnvSpec? = nil
        if evalEvery > 0 {
            guard let envName = env ?? loaded.envID else {
                throw RunError("--eval-every needs --env: \(dataset) does not name its environment (metadata/env_id)")
            }
            let s = try envSpec(envName)
            guard s.observationDimension == data.obsDim, s.actionDimension == data.actDim else {
                throw RunError("--env \(s.id) has observations \(s.observationDimension) and actions \(s.actionDimension); the dataset has \(data.obsDim) and \(data.actDim)")
            }
            spec = s
        }
        let trainer: Trainer
        if resume {
            trainer = try Trainer.resume(outDir: out, data: data, datasetID: loaded.datasetID)
            if let algo, trainer.agent.config.algo.rawValue != algo {
                throw RunError("--algo \(algo) differs from the checkpoint's \(trainer.agent.config.algo.rawValue)")
            }
            if !quiet { Log.info("resuming \(out) at step \(trainer.step)") }
        } else {
            trainer = try Trainer(config: cfg, data: data, seed: seed, datasetID: loaded.datasetID, envID: loaded.envID, outDir: out)
        }
        // `threads` cores for the learner: two update workers over single-threaded BLAS when ≥ 2.
        trainer.agent.useCores(threads)
        if !quiet {
            Log.info("train \(trainer.agent.config.algo.rawValue) on \(loaded.datasetID): \(data.count) transitions, obs \(data.obsDim), act \(data.actDim); BLAS \(BLASRuntime.coreName) × \(threads)")
        }
        let start = trainer.step
        let progress = ProgressLine("train \(trainer.agent.config.algo.rawValue)", unit: "steps", enabled: Log.stderrIsTerminal && !quiet)
        let opts = TrainerOptions(logEvery: logEvery, checkpointEvery: checkpointEvery)
        let t0 = monotonicSeconds()
        var evals = TrainRun.readEvals(out).filter { $0.step <= start }
        var evalSeconds = 0.0
        var boundaries: [Int] = evalEvery > 0 ? Array(stride(from: (start / evalEvery + 1) * evalEvery, to: steps, by: evalEvery)) + [steps] : [steps]
        // A finished run resumed again has nothing left to train or evaluate.
        if start >= steps && (spec == nil || evals.last?.step == steps) { boundaries = [] }
        do {
            for target in boundaries {
                try trainer.run(until: target, options: opts) { p in progress.update(p.step - start, of: steps - start) }
                if let spec {
                    let e0 = monotonicSeconds()
                    defer { evalSeconds += monotonicSeconds() - e0 }
                    let point = try evaluate(trainer.agent, spec: spec, step: trainer.step)
                    evals.append(point)
                    try TrainRun.writeEvals(evals, to: out)
                    if !quiet && !Log.stderrIsTerminal {
                        Log.info("step \(point.step): return \(format3(point.return_mean)), normalised score \(point.normalized_score_mean.map(format3) ?? "n/a")")
                    }
                }
            }
        } catch let e as TrainingError {
            progress.finish()
            let last = Trainer.latestCheckpoint(in: out) ?? "none"
            throw RunError("\(e). Last good checkpoint: \(last)")
        }
        progress.finish()
        let secs = monotonicSeconds() - t0
        let best = evals.max { ($0.normalized_score_mean ?? $0.return_mean) < ($1.normalized_score_mean ?? $1.return_mean) }
        if evalEvery > 0 {
            try? RunReport.write(runDir: out, title: "\(trainer.agent.config.algo.rawValue.uppercased()) on \(loaded.datasetID)",
                                 spec: spec, agent: trainer.agent, evalSeed: evalSeed)
        }
        // Sustained training rate: evaluations excluded (checkpoints are a few ms).
        return Summary(steps: trainer.step, seconds: secs, stepsPerSecond: Double(trainer.step - start) / max(secs - evalSeconds, 1e-9),
                       evalSeconds: evalSeconds,
                       checkpoint: Trainer.latestCheckpoint(in: out) ?? "", final: evals.last, best: best)
    }

    /// Rolls the agent's target policy out on the workers (BLAS single-threaded meanwhile).
    func evaluate(_ agent: any Learner, spec: EnvSpec, step: Int) throws -> EvalPoint {
        try TrainRun.evaluate(CheckpointPolicy(agent: agent, name: "\(agent.config.algo.rawValue)@\(step)"), spec: spec, step: step,
                              episodes: evalEpisodes, workers: evalWorkers, seed: evalSeed)
    }

    /// Rolls `policy` out for `episodes` episodes from `seed` (episode i: seed + i) on the workers
    /// and summarises them as one evaluation point at `step`.
    static func evaluate(_ policy: BatchPolicy, spec: EnvSpec, step: Int, episodes: Int, workers: Int, seed: UInt64) throws -> EvalPoint {
        let out = try RolloutEngine.run(spec: spec, policy: policy, options: RolloutOptions(episodes: episodes, workers: workers, seed: seed))
        let report = EvaluationReport(spec: spec, policy: policy.name, seed: seed, workers: workers, output: out, seconds: 0)
        return EvalPoint(step: step, return_mean: report.return.mean, return_std: report.return.std,
                         normalized_score_mean: report.normalized_score?.mean, normalized_score_std: report.normalized_score?.std,
                         success_rate: report.success_rate)
    }

    public static func readEvals(_ out: String) -> [EvalPoint] {
        guard let text = try? String(contentsOfFile: out + "/eval.jsonl", encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap { try? JSONDecoder().decode(EvalPoint.self, from: Data($0.utf8)) }
    }

    public static func writeEvals(_ evals: [EvalPoint], to out: String) throws {
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys]
        let text = try evals.map { String(decoding: try enc.encode($0), as: UTF8.self) }.joined(separator: "\n") + "\n"
        try writeAtomically(text, to: out + "/eval.jsonl", flag: "--out")
    }
}
