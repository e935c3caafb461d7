import ArgumentParser
import Envs
import Experiments
import Foundation
import OFQL
import Rollout

/// Options shared by commands that roll out episodes on the workers.
struct RolloutArguments: ParsableArguments {
    @Option(help: "Episodes to run (episode i uses seed --seed + i).") var episodes = 100
    @Option(help: "Dispatch workers (BLAS runs single-threaded inside them).") var workers = ProcessInfo.processInfo.activeProcessorCount
    @Option(help: "Base seed.") var seed: UInt64 = 0

    func validate() throws {
        guard episodes >= 1 else { throw ValidationError("--episodes must be at least 1, got \(episodes)") }
        guard (1...1024).contains(workers) else { throw ValidationError("--workers must be between 1 and 1024, got \(workers)") }
    }
}

/// `ofql-eval evaluate`: roll a policy out on the workers and score it like D4RL.
struct EvaluateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate",
        abstract: "Roll out a policy on Dispatch workers and report returns and normalised scores.")

    @Option(help: "Environment id (see `ofql-eval envs list`); default for --checkpoint: the env stored in the checkpoint, else the training dataset's.") var env: String?
    @Option(help: "random, expert, medium (locomotion) or a scripted planner name.") var policy: String?
    @Option(help: "A trained policy: a run folder or a checkpoints/step-N folder.") var checkpoint: String?
    @Option(help: "Noise std of scripted behaviour policies.") var noise: Float = 0
    @Option(help: "OFQL checkpoints: pick among this many one-step candidates per state by softmax(β·min-Q) of the target critics (0: plain one-step sampling).") var select = 0
    @Option(help: "β of the candidate selection's softmax.") var selectBeta: Double = 1
    @Option(help: "Scale of the candidates' initial noise.") var selectTemperature: Double = 0.5
    @Option(help: "Sample the checkpoint in another mode: ddim1 (DQL: one DDIM step), flow-K (FQL's BC flow, FBRAC's flow: K Euler steps) or meanflow-K (OFQL: K steps of the average velocity).") var sampling: String?
    @Option(help: "Checkpoints: multiply every noise draw of the sampler (the initial noise z; for DQL also each denoising step's noise) by this; 0 evaluates the deterministic policy at z = 0, 1 the policy as trained.")
    var noiseScale: Float = 1
    @Option(help: "Mazes: start every episode in this cell (ROW,COL of the layout, 0-based) instead of S, to see from where the policy reaches the goal.")
    var startCell: String?
    @OptionGroup var rollout: RolloutArguments
    @Option(help: "Write the report as JSON to this file.") var json: String?
    @Option(help: "Write per-episode rows as CSV to this file.") var csv: String?
    @Option(help: "Write the summary and per-episode table as Markdown to this file.") var markdown: String?
    @Option(help: "Write every step (episode, step, observation, action, reward, next observation) as CSV to this file, e.g. to see where a maze policy goes (observation columns 0 and 1 are its x and y).")
    var trace: String?

    func validate() throws {
        guard (policy == nil) != (checkpoint == nil) else { throw ValidationError("give exactly one of --policy and --checkpoint") }
        if policy != nil && env == nil { throw ValidationError("--env is required with --policy") }
        guard noise >= 0, noise.isFinite else { throw ValidationError("--noise must be ≥ 0, got \(noise)") }
        guard select >= 0 else { throw ValidationError("--select must be ≥ 0, got \(select)") }
        if select > 0 && checkpoint == nil { throw ValidationError("--select needs --checkpoint") }
        guard selectBeta >= 0, selectBeta.isFinite else { throw ValidationError("--select-beta must be ≥ 0, got \(selectBeta)") }
        guard selectTemperature >= 0, selectTemperature.isFinite else {
            throw ValidationError("--select-temperature must be ≥ 0, got \(selectTemperature)")
        }
        guard noiseScale >= 0, noiseScale.isFinite else { throw ValidationError("--noise-scale must be finite and ≥ 0, got \(noiseScale)") }
        if noiseScale != 1 && checkpoint == nil { throw ValidationError("--noise-scale needs --checkpoint (scripted policies take --noise)") }
        if noiseScale != 1 && select > 0 {
            throw ValidationError("--noise-scale and --select are separate evaluation modes (--select-temperature scales the candidates' noise); pass one")
        }
        if startCell != nil { _ = try parsedStartCell() }
    }

    /// `--start-cell ROW,COL` as a cell.
    func parsedStartCell() throws -> MazeCell? {
        guard let startCell else { return nil }
        let parts = startCell.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard parts.count == 2, let r = parts[0], let c = parts[1] else {
            throw ValidationError("--start-cell must be ROW,COL (two integers), got '\(startCell)'")
        }
        return MazeCell(row: r, col: c)
    }

    func run() throws {
        let spec: EnvSpec
        let p: BatchPolicy
        let name: String
        if let checkpoint {
            let loaded: (policy: CheckpointPolicy, info: CheckpointInfo)
            let selection = select > 0 ? CandidateSelection(candidates: select, noiseTemperature: selectTemperature, beta: selectBeta) : nil
            if let sampling {
                guard select == 0 else { throw ValidationError("--sampling and --select are separate evaluation modes; pass one") }
                do { try SamplingMode.validate(sampling) } catch { throw ValidationError("--sampling: \(error)") }
            }
            do { loaded = try CheckpointPolicy.load(checkpoint, selection: selection, sampling: sampling, noiseScale: noiseScale) } catch { throw ValidationError("--checkpoint: \(error)") }
            let envName = env ?? loaded.info.envID ?? (try? DatasetCatalog.entry(loaded.info.datasetID).env.rawValue)
            guard let envName else {
                throw ValidationError("--env is required: the checkpoint's dataset '\(loaded.info.datasetID)' is not a catalog id")
            }
            spec = try envSpec(envName)
            guard spec.observationDimension == loaded.info.obsDim, spec.actionDimension == loaded.info.actDim else {
                throw ValidationError("--checkpoint takes \(loaded.info.obsDim) observations and gives \(loaded.info.actDim) actions; \(spec.id) has \(spec.observationDimension) and \(spec.actionDimension)")
            }
            p = loaded.policy
            name = "\(loaded.policy.name) (\(checkpoint))"
        } else {
            spec = try envSpec(env!)
            do { p = try BundledBehaviors(noise: noise).policy(named: policy!, spec: spec) } catch { throw ValidationError("--policy: \(error)") }
            name = policy!
        }
        var rolled = p
        if let cell = try parsedStartCell() {
            do { rolled = try MazeStartPolicy(p, cell: cell, spec: spec) } catch { throw ValidationError("--start-cell: \(error)") }
        }
        let (report, records) = try Evaluator.evaluate(spec: spec, policy: rolled, name: startCell == nil ? name : rolled.name,
                                                       rollout: rollout, record: trace != nil)
        print(report.text)
        if let trace { try writeAtomically(Evaluator.traceCSV(records, spec: spec), to: trace, flag: "--trace") }
        if let json { try writeAtomically(try report.json() + "\n", to: json, flag: "--json") }
        if let csv { try writeAtomically(report.csv, to: csv, flag: "--csv") }
        if let markdown { try writeAtomically(report.markdown, to: markdown, flag: "--markdown") }
    }
}

enum Evaluator {
    /// The report, and every episode's steps when `record` is set (else none).
    static func evaluate(spec: EnvSpec, policy: BatchPolicy, name: String, rollout: RolloutArguments,
                         record: Bool = false) throws -> (EvaluationReport, [EpisodeRecord]) {
        let bar = ProgressLine("evaluate \(spec.id)", unit: "episodes")
        let total = rollout.episodes
        let t0 = monotonicSeconds()
        let out = try RolloutEngine.run(spec: spec, policy: policy,
                                        options: RolloutOptions(episodes: total, workers: rollout.workers, seed: rollout.seed, record: record),
                                        progress: { bar.update($0, of: total) })
        bar.finish()
        return (EvaluationReport(spec: spec, policy: name, seed: rollout.seed, workers: rollout.workers, output: out,
                                 seconds: monotonicSeconds() - t0), out.records)
    }

    /// One CSV row per step: `episode,step,obs_0…,action_0…,reward,next_obs_0…`; `obs` is the
    /// observation the action was chosen on, `next_obs` the one after the step (a maze episode
    /// succeeds on a step whose next observation lies within the goal radius).
    static func traceCSV(_ records: [EpisodeRecord], spec: EnvSpec) -> String {
        let od = spec.observationDimension, ad = spec.actionDimension
        var out = (["episode", "step"] + (0..<od).map { "obs_\($0)" } + (0..<ad).map { "action_\($0)" } + ["reward"]
                   + (0..<od).map { "next_obs_\($0)" }).joined(separator: ",") + "\n"
        for (e, r) in records.enumerated() {
            for t in 0..<r.rewards.count {
                let row = ["\(e)", "\(t)"] + r.observations[(t * od)..<((t + 1) * od)].map { "\($0)" }
                    + r.actions[(t * ad)..<((t + 1) * ad)].map { "\($0)" } + ["\(r.rewards[t])"]
                    + r.nextObservations[(t * od)..<((t + 1) * od)].map { "\($0)" }
                out += row.joined(separator: ",") + "\n"
            }
        }
        return out
    }
}
