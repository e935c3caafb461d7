import ArgumentParser
import BLAS
import Foundation
import OFQL

/// `ofql-eval train`: trains OFQL (or the BC baseline) on a D4RL-layout dataset, writing
/// metrics (JSON lines) and checkpoints into `--out`.
struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train OFQL on a D4RL-layout dataset.",
        discussion: """
            Writes DIR/config.json, DIR/metrics.jsonl and DIR/checkpoints/step-N/ (model.safetensors, \
            optimizer.safetensors, checkpoint.json). --resume continues from DIR/checkpoints/latest and \
            reproduces an uninterrupted run bit for bit (same BLAS thread count).
            """)

    @Option(help: "D4RL-layout HDF5 dataset.") var dataset: String
    @Option(help: "OFQLConfig JSON file (any subset of keys; the rest keep the paper defaults).") var config: String?
    @Option(help: "Total gradient steps.") var steps = 1_000_000
    @Option(help: "Seed for initialisation, noise and minibatches.") var seed: UInt64 = 0
    @Option(help: "Output folder.") var out: String
    @Flag(help: "Continue the run in --out from its latest checkpoint.") var resume = false
    @Option(help: "Learner: ofql or bc (overrides the config's algo).") var algo: String?
    @Option(help: "Steps between metric lines.") var logEvery = 1000
    @Option(help: "Steps between checkpoints.") var checkpointEvery = 50_000
    @Option(help: "BLAS threads.") var threads = 2

    func validate() throws {
        guard steps >= 1 else { throw ValidationError("--steps must be at least 1, got \(steps)") }
        guard logEvery >= 1 else { throw ValidationError("--log-every must be at least 1, got \(logEvery)") }
        guard checkpointEvery >= 0 else { throw ValidationError("--checkpoint-every must be ≥ 0, got \(checkpointEvery)") }
        guard threads >= 1 else { throw ValidationError("--threads must be at least 1, got \(threads)") }
        if let algo, Algorithm(rawValue: algo) == nil {
            throw ValidationError("--algo must be one of \(Algorithm.allCases.map(\.rawValue).joined(separator: ", ")), got \(algo)")
        }
        if resume && config != nil { throw ValidationError("--resume takes the config from the checkpoint; drop --config") }
    }

    func run() throws {
        BLASRuntime.setThreads(threads)
        var cfg = try config.map { try OFQLConfig.load(path: $0) } ?? OFQLConfig()
        if let algo { cfg.algo = Algorithm(rawValue: algo)! }
        let data = try loadD4RLTransitions(path: dataset)
        let datasetID = URL(fileURLWithPath: dataset).lastPathComponent
        let trainer: Trainer
        if resume {
            trainer = try Trainer.resume(outDir: out, data: data, datasetID: datasetID)
            if let algo, trainer.agent.config.algo.rawValue != algo {
                throw ValidationError("--algo \(algo) differs from the checkpoint's \(trainer.agent.config.algo.rawValue)")
            }
            Log.info("resuming \(out) at step \(trainer.step)")
        } else {
            trainer = try Trainer(config: cfg, data: data, seed: seed, datasetID: datasetID, outDir: out)
        }
        Log.info("train \(trainer.agent.config.algo.rawValue) on \(datasetID): \(data.count) transitions, obs \(data.obsDim), act \(data.actDim); BLAS \(BLASRuntime.coreName) × \(threads)")
        let start = trainer.step
        let progress = ProgressLine("train", unit: "steps")
        let opts = TrainerOptions(logEvery: logEvery, checkpointEvery: checkpointEvery)
        let tty = Log.stderrIsTerminal
        let t0 = monotonicSeconds()
        do {
            try trainer.run(until: steps, options: opts) { p in
                if tty { progress.update(p.step - start, of: steps - start) }
            }
        } catch let e as TrainingError {
            progress.finish()
            let last = Trainer.latestCheckpoint(in: out) ?? "none"
            throw ValidationError("\(e). Last good checkpoint: \(last)")
        }
        progress.finish()
        let secs = monotonicSeconds() - t0
        print("{\"steps\": \(trainer.step), \"seconds\": \(format3(secs)), \"steps_per_s\": \(format3(Double(trainer.step - start) / max(secs, 1e-9))), \"checkpoint\": \"\(Trainer.latestCheckpoint(in: out) ?? "")\"}")
    }
}
