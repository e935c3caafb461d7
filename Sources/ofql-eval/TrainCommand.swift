import ArgumentParser
import BLAS
import Datasets
import Envs
import Experiments
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
    @Option(help: "Learner: ofql, bc, td3bc, iql, fql, fbrac or dql (overrides the config's algo; unset keys take that algorithm's defaults).") var algo: String?
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
