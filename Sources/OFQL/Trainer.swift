import BLAS
import Datasets
import Foundation
import Randomness

/// How long to train and how often to log and checkpoint.
public struct TrainerOptions: Sendable {
    /// Steps between metric lines (means over the interval).
    public var logEvery: Int = 1000
    /// Steps between checkpoints (0: only at the end).
    public var checkpointEvery: Int = 50_000
    /// Checkpoint folders kept (oldest removed first).
    public var keepCheckpoints: Int = 2
    public init(logEvery: Int = 1000, checkpointEvery: Int = 50_000, keepCheckpoints: Int = 2) {
        self.logEvery = logEvery; self.checkpointEvery = checkpointEvery; self.keepCheckpoints = keepCheckpoints
    }
}

/// Where training stands, for progress displays.
public struct TrainProgress: Sendable {
    public var step: Int
    public var totalSteps: Int
    /// Steps per second since the run (or resume) started.
    public var rate: Double
    public var last: UpdateMetrics
}

/// Trains a ``Learner`` on ``Transitions`` with seeded minibatches, JSON-line metrics,
/// periodic checkpoints and bit-identical resume.
///
/// Output folder: `config.json`, `metrics.jsonl` (one line per `logEvery` steps),
/// `checkpoints/step-<n>/` (see ``Checkpoint``) and `checkpoints/latest` (the newest folder's
/// name). A resumed run (same seed, same BLAS thread count) produces exactly the parameters an
/// uninterrupted run would.
public final class Trainer {
    public let agent: any Learner
    public let data: Transitions
    public let datasetID: String
    /// The dataset's environment, stored in checkpoints so evaluation needs no `--env`.
    public let envID: String?
    public let seed: UInt64
    /// Output folder (nil: nothing written).
    public let outDir: String?
    /// The minibatch index stream.
    public private(set) var rng: Xoshiro
    let batch: TransitionBatch
    private var indices: [Int]

    /// A fresh run: builds the agent (normaliser from `data` when the config asks for it).
    public init(config: OFQLConfig, data: Transitions, seed: UInt64, datasetID: String, envID: String? = nil,
                outDir: String?) throws {
        let norm = config.normalizeObservations ? data.observationStatistics() : .identity(data.obsDim)
        agent = try Learners.create(config: config, obsDim: data.obsDim, actDim: data.actDim, seed: seed, normalizer: norm)
        self.data = data; self.datasetID = datasetID; self.envID = envID; self.seed = seed; self.outDir = outDir
        rng = Xoshiro(seed: seed).derived(2)
        batch = TransitionBatch(capacity: config.batchSize, obsDim: data.obsDim, actDim: data.actDim)
        indices = .init(repeating: 0, count: config.batchSize)
        if let outDir {
            try FileManager.default.createDirectory(atPath: outDir + "/checkpoints", withIntermediateDirectories: true)
            try Checkpoint.writeAtomically(config.jsonData(), to: URL(fileURLWithPath: outDir + "/config.json"))
        }
    }

    private init(agent: any Learner, info: CheckpointInfo, data: Transitions, outDir: String) {
        self.agent = agent; self.data = data; self.datasetID = info.datasetID; self.envID = info.envID; self.seed = info.seed
        self.outDir = outDir
        rng = info.trainerRNG ?? Xoshiro(seed: info.seed).derived(2)
        batch = TransitionBatch(capacity: agent.config.batchSize, obsDim: data.obsDim, actDim: data.actDim)
        indices = .init(repeating: 0, count: agent.config.batchSize)
    }

    /// The newest checkpoint folder in `outDir`, if any.
    public static func latestCheckpoint(in outDir: String) -> String? {
        guard let name = try? String(contentsOfFile: outDir + "/checkpoints/latest", encoding: .utf8) else { return nil }
        let trimmed = name.trimmingCharacters(in: .whitespacesAndNewlines)
        return trimmed.isEmpty ? nil : outDir + "/checkpoints/" + trimmed
    }

    /// Continues the run in `outDir` from its latest checkpoint; the dataset must match the
    /// checkpoint's dimensions and id.
    public static func resume(outDir: String, data: Transitions, datasetID: String) throws -> Trainer {
        guard let dir = latestCheckpoint(in: outDir) else {
            throw CheckpointError.missingFile(outDir + "/checkpoints/latest (nothing to resume)")
        }
        let (agent, info) = try Checkpoint.load(from: URL(fileURLWithPath: dir))
        guard info.obsDim == data.obsDim, info.actDim == data.actDim else {
            throw CheckpointError.mismatch("\(dir) was trained on obs \(info.obsDim) / act \(info.actDim), the dataset has \(data.obsDim) / \(data.actDim)")
        }
        guard info.datasetID == datasetID else {
            throw CheckpointError.mismatch("\(dir) was trained on dataset \"\(info.datasetID)\", not \"\(datasetID)\"")
        }
        return Trainer(agent: agent, info: info, data: data, outDir: outDir)
    }

    /// Completed steps.
    public var step: Int { agent.step }

    /// Samples a minibatch and runs one update.
    @discardableResult
    public func trainStep() throws -> UpdateMetrics {
        let n = data.count
        for k in indices.indices { indices[k] = rng.index(n) }
        batch.fill(from: data, indices: indices)
        return try agent.update(batch)
    }

    /// Trains until `totalSteps` completed steps, logging and checkpointing on the way (and a
    /// final checkpoint). On divergence the error propagates and the newest checkpoint on disk
    /// is the last good one.
    @discardableResult
    public func run(until totalSteps: Int, options: TrainerOptions = TrainerOptions(),
                    progress: ((TrainProgress) -> Void)? = nil) throws -> UpdateMetrics {
        let start = monotonicNow()
        let startStep = step
        var acc = UpdateMetrics(), accN = 0
        var last = UpdateMetrics()
        while step < totalSteps {
            let m = try trainStep()
            acc.add(m); accN += 1; last = m
            if options.logEvery > 0, step % options.logEvery == 0 || step == totalSteps {
                let mean = acc.scaled(by: Double(accN))
                let elapsed = monotonicNow() - start
                try logLine(mean, seconds: elapsed, rate: Double(step - startStep) / max(elapsed, 1e-9))
                acc = UpdateMetrics(); accN = 0
                progress?(TrainProgress(step: step, totalSteps: totalSteps, rate: Double(step - startStep) / max(elapsed, 1e-9), last: mean))
            }
            if options.checkpointEvery > 0, step % options.checkpointEvery == 0, step < totalSteps {
                try saveCheckpoint(keep: options.keepCheckpoints)
            }
        }
        if outDir != nil { try saveCheckpoint(keep: options.keepCheckpoints) }
        return last
    }

    /// Writes `checkpoints/step-<n>` and points `latest` at it; refuses non-finite parameters.
    @discardableResult
    public func saveCheckpoint(keep: Int = 2) throws -> String? {
        guard let outDir else { return nil }
        for set in agent.parameterSets where !set.block.allFinite {
            let name = set.storedName(set.block.layout.entries.first?.name ?? "?")
            throw TrainingError.diverged(step: step, what: "parameters (\(name) …) are not finite")
        }
        let name = String(format: "step-%09d", step)
        let root = outDir + "/checkpoints"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        try Checkpoint.save(agent, to: URL(fileURLWithPath: root + "/" + name), datasetID: datasetID, envID: envID, seed: seed,
                            trainerRNG: rng, blasThreads: Swift.max(BLASRuntime.threads, agent.workers))
        try Checkpoint.writeAtomically(Data((name + "\n").utf8), to: URL(fileURLWithPath: root + "/latest"))
        let all = (try? FileManager.default.contentsOfDirectory(atPath: root))?.filter { $0.hasPrefix("step-") }.sorted() ?? []
        if keep > 0, all.count > keep {
            for old in all.prefix(all.count - keep) where old != name {
                try? FileManager.default.removeItem(atPath: root + "/" + old)
            }
        }
        return root + "/" + name
    }

    private func logLine(_ m: UpdateMetrics, seconds: Double, rate: Double) throws {
        guard let outDir else { return }
        func f(_ v: Double) -> String { v.isFinite ? String(format: "%.6g", v) : "null" }
        var fields = ["\"step\": \(step)", "\"seconds\": \(f(seconds))", "\"steps_per_s\": \(f(rate))"]
        fields += [("critic/loss", m.criticLoss), ("critic/q_mean", m.qMean), ("critic/target_mean", m.targetMean),
                   ("critic/grad_norm", m.criticGradNorm), ("actor/loss", m.actorLoss), ("actor/flow_loss", m.flowLoss),
                   ("actor/q_loss", m.qLoss), ("actor/q_abs_mean", m.qAbsMean), ("actor/grad_norm", m.actorGradNorm),
                   ("actor/clipped_fraction", m.clippedFraction)].map { "\"\($0.0)\": \(f($0.1))" }
        let line = "{" + fields.joined(separator: ", ") + "}\n"
        let path = outDir + "/metrics.jsonl"
        if !FileManager.default.fileExists(atPath: path) { _ = FileManager.default.createFile(atPath: path, contents: nil) }
        guard let h = Foundation.FileHandle(forWritingAtPath: path) else { throw CheckpointError.missingFile(path) }
        defer { try? h.close() }
        try h.seekToEnd()
        try h.write(contentsOf: Data(line.utf8))
    }
}

/// Monotonic seconds.
func monotonicNow() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
}
