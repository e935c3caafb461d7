import ArgumentParser
import BLAS
import Datasets
import Envs
import Foundation
import OFQL
import Rollout

/// `ofql-eval train`: trains OFQL (or a baseline: BC, TD3+BC, IQL) on a D4RL-layout dataset, writing
/// metrics (JSON lines), evaluations and checkpoints into `--out`.
struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train OFQL (or a baseline: BC, TD3+BC, IQL) on a D4RL-layout dataset.",
        discussion: """
            Writes DIR/config.json, DIR/metrics.jsonl, DIR/checkpoints/step-N/ (model.safetensors, \
            optimizer.safetensors, checkpoint.json), and with --eval-every DIR/eval.jsonl and DIR/report.html. \
            --resume continues from DIR/checkpoints/latest and reproduces an uninterrupted run bit for bit \
            (same BLAS thread count).
            """)

    @Option(help: "D4RL-layout HDF5 dataset.") var dataset: String
    @Option(help: "OFQLConfig JSON file (any subset of keys; the rest keep the paper defaults).") var config: String?
    @Option(help: "Total gradient steps.") var steps = 1_000_000
    @Option(help: "Seed for initialisation, noise and minibatches.") var seed: UInt64 = 0
    @Option(help: "Output folder.") var out: String
    @Flag(help: "Continue the run in --out from its latest checkpoint.") var resume = false
    @Option(help: "Learner: ofql, bc, td3bc or iql (overrides the config's algo; unset keys take that algorithm's defaults).") var algo: String?
    @Option(help: "Steps between metric lines.") var logEvery = 1000
    @Option(help: "Steps between checkpoints.") var checkpointEvery = 50_000
    @Option(help: "BLAS threads for the learner.") var threads = 2
    @Option(help: "Steps between evaluations on the rollout workers (0: none).") var evalEvery = 0
    @Option(help: "Episodes per evaluation.") var evalEpisodes = 10
    @Option(help: "Rollout workers for evaluations.") var evalWorkers = ProcessInfo.processInfo.activeProcessorCount
    @Option(help: "Base seed of evaluation episodes.") var evalSeed: UInt64 = 1_000_000
    @Option(help: "Environment for evaluations (default: the dataset's metadata/env_id).") var env: String?

    func validate() throws {
        guard steps >= 1 else { throw ValidationError("--steps must be at least 1, got \(steps)") }
        guard logEvery >= 1 else { throw ValidationError("--log-every must be at least 1, got \(logEvery)") }
        guard checkpointEvery >= 0 else { throw ValidationError("--checkpoint-every must be ≥ 0, got \(checkpointEvery)") }
        guard threads >= 1 else { throw ValidationError("--threads must be at least 1, got \(threads)") }
        guard evalEvery >= 0 else { throw ValidationError("--eval-every must be ≥ 0, got \(evalEvery)") }
        guard evalEpisodes >= 1 else { throw ValidationError("--eval-episodes must be at least 1, got \(evalEpisodes)") }
        guard (1...1024).contains(evalWorkers) else { throw ValidationError("--eval-workers must be between 1 and 1024, got \(evalWorkers)") }
        if let algo, Algorithm(rawValue: algo) == nil {
            throw ValidationError("--algo must be one of \(Algorithm.allCases.map(\.rawValue).joined(separator: ", ")), got \(algo)")
        }
        if resume && config != nil { throw ValidationError("--resume takes the config from the checkpoint; drop --config") }
    }

    func run() throws {
        let summary = try TrainRun(
            dataset: dataset, configPath: config, steps: steps, seed: seed, out: out, resume: resume, algo: algo,
            logEvery: logEvery, checkpointEvery: checkpointEvery, threads: threads, evalEvery: evalEvery,
            evalEpisodes: evalEpisodes, evalWorkers: evalWorkers, evalSeed: evalSeed, env: env
        ).execute()
        print(summary.json)
    }
}

/// One evaluation during training.
struct EvalPoint: Codable {
    var step: Int
    var return_mean: Double
    var return_std: Double
    var normalized_score_mean: Double?
    var normalized_score_std: Double?
    var success_rate: Double?
}

/// A training run with optional evaluations; shared by `train`, `suite` and `demo`.
struct TrainRun {
    var dataset: String
    var configPath: String?
    var configOverride: OFQLConfig? = nil
    var steps: Int
    var seed: UInt64
    var out: String
    var resume: Bool = false
    var algo: String?
    var logEvery = 1000
    var checkpointEvery = 50_000
    var threads = 2
    var evalEvery = 0
    var evalEpisodes = 10
    var evalWorkers = 2
    var evalSeed: UInt64 = 1_000_000
    var env: String?
    var quiet = false
    var preloaded: LoadedDataset? = nil

    init(dataset: String, configPath: String?, steps: Int, seed: UInt64, out: String, resume: Bool = false, algo: String?,
         logEvery: Int = 1000, checkpointEvery: Int = 50_000, threads: Int = 2, evalEvery: Int = 0, evalEpisodes: Int = 10,
         evalWorkers: Int = 2, evalSeed: UInt64 = 1_000_000, env: String? = nil) {
        self.dataset = dataset; self.configPath = configPath; self.steps = steps; self.seed = seed; self.out = out
        self.resume = resume; self.algo = algo; self.logEvery = logEvery; self.checkpointEvery = checkpointEvery
        self.threads = threads; self.evalEvery = evalEvery; self.evalEpisodes = evalEpisodes; self.evalWorkers = evalWorkers
        self.evalSeed = evalSeed; self.env = env
    }

    struct Summary {
        var steps: Int
        var seconds: Double
        /// Gradient steps per second of training alone (evaluations excluded).
        var stepsPerSecond: Double
        var evalSeconds: Double
        var checkpoint: String
        var final: EvalPoint?
        var best: EvalPoint?
        var json: String {
            func point(_ p: EvalPoint?) -> String {
                guard let p else { return "null" }
                let score = p.normalized_score_mean.map { format3($0) } ?? "null"
                return "{\"step\": \(p.step), \"return\": \(format3(p.return_mean)), \"normalized_score\": \(score)}"
            }
            return "{\"steps\": \(steps), \"seconds\": \(format3(seconds)), \"eval_seconds\": \(format3(evalSeconds)), \"steps_per_s\": \(format3(stepsPerSecond)), "
                + "\"checkpoint\": \"\(checkpoint)\", \"final_eval\": \(point(final)), \"best_eval\": \(point(best))}"
        }
    }

    func execute() throws -> Summary {
        BLASRuntime.setThreads(threads)
        // --algo picks the algorithm whose defaults the config file's keys override.
        let algorithm = algo.flatMap(Algorithm.init(rawValue:))
        let requested = try configOverride ?? configPath.map { try OFQLConfig.load(path: $0, algo: algorithm) }
            ?? OFQLConfig.defaults(for: algorithm ?? .ofql)
        let loaded: LoadedDataset
        if let preloaded { loaded = preloaded } else {
            do { loaded = try loadD4RL(path: dataset) } catch { throw ValidationError("--dataset: \(error)") }
        }
        let data = loaded.transitions
        guard data.count > 0 else { throw ValidationError("--dataset \(dataset): the dataset holds no transitions") }
        // A file that names its environment must match that environment's widths.
        if let envName = loaded.envID, let s = try? envSpec(envName),
           s.observationDimension != data.obsDim || s.actionDimension != data.actDim {
            throw ValidationError("--dataset \(dataset): observations have \(data.obsDim) columns and actions \(data.actDim), but its environment \(s.id) (metadata/env_id) has \(s.observationDimension) and \(s.actionDimension)")
        }
        let cfg: OFQLConfig
        do { cfg = try requested.resolved(episodeReturnRange: loaded.episodeReturnRange, steps: steps) } catch {
            throw ValidationError("--dataset \(dataset): \(error)")
        }
        // The environment for evaluations, checked against the data's shapes.
        var spec: EnvSpec? = nil
        if evalEvery > 0 {
            guard let envName = env ?? loaded.envID else {
                throw ValidationError("--eval-every needs --env: \(dataset) does not name its environment (metadata/env_id)")
            }
            let s = try envSpec(envName)
            guard s.observationDimension == data.obsDim, s.actionDimension == data.actDim else {
                throw ValidationError("--env \(s.id) has observations \(s.observationDimension) and actions \(s.actionDimension); the dataset has \(data.obsDim) and \(data.actDim)")
            }
            spec = s
        }
        let trainer: Trainer
        if resume {
            trainer = try Trainer.resume(outDir: out, data: data, datasetID: loaded.datasetID)
            if let algo, trainer.agent.config.algo.rawValue != algo {
                throw ValidationError("--algo \(algo) differs from the checkpoint's \(trainer.agent.config.algo.rawValue)")
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
        let boundaries: [Int] = evalEvery > 0 ? Array(stride(from: (start / evalEvery + 1) * evalEvery, to: steps, by: evalEvery)) + [steps] : [steps]
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
            throw ValidationError("\(e). Last good checkpoint: \(last)")
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
        let policy = CheckpointPolicy(agent: agent, name: "\(agent.config.algo.rawValue)@\(step)")
        let out = try RolloutEngine.run(spec: spec, policy: policy,
                                        options: RolloutOptions(episodes: evalEpisodes, workers: evalWorkers, seed: evalSeed))
        let report = EvaluationReport(spec: spec, policy: policy.name, seed: evalSeed, workers: evalWorkers, output: out, seconds: 0)
        return EvalPoint(step: step, return_mean: report.return.mean, return_std: report.return.std,
                         normalized_score_mean: report.normalized_score?.mean, normalized_score_std: report.normalized_score?.std,
                         success_rate: report.success_rate)
    }

    static func readEvals(_ out: String) -> [EvalPoint] {
        guard let text = try? String(contentsOfFile: out + "/eval.jsonl", encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap { try? JSONDecoder().decode(EvalPoint.self, from: Data($0.utf8)) }
    }

    static func writeEvals(_ evals: [EvalPoint], to out: String) throws {
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys]
        let text = try evals.map { String(decoding: try enc.encode($0), as: UTF8.self) }.joined(separator: "\n") + "\n"
        try writeAtomically(text, to: out + "/eval.jsonl", flag: "--out")
    }
}
