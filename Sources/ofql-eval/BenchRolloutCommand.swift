import ArgumentParser
import BLAS
import Datasets
import Envs
import Experiments
import Foundation
import OFQL
import Rollout

/// `ofql-eval bench rollout`: pooled env steps/s with a 3×256 one-step policy in the loop.
struct BenchRolloutCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rollout",
        abstract: "Pooled rollout throughput (env steps/s incl. batched 3x256 OFQL policy inference) per worker count.")
    @OptionGroup var options: BenchOptions
    @Option(help: "Environment id.") var env = "hopper"
    @Option(help: "Worker counts to measure.") var workers: [Int] = [1, 2]
    @Option(help: "Episodes stepped in lock-step per worker chunk.") var lanes = 16
    @Option(help: "Episodes per repetition.") var episodes = 2048
    @Flag(help: "Random actions instead of the policy (env only).") var random = false

    func run() throws {
        let spec = try envSpec(env)
        let policy: BatchPolicy
        if random {
            policy = RandomPolicy(observationDimension: spec.observationDimension, actionDimension: spec.actionDimension)
        } else {
            // An untrained OFQL agent of the default shape: what matters here is the cost of inference.
            let agent = try OFQLAgent.create(config: OFQLConfig(), obsDim: spec.observationDimension,
                                             actDim: spec.actionDimension, seed: 0)
            policy = CheckpointPolicy(agent: agent, name: "ofql-3x256", lanes: lanes)
        }
        var medians: [Int: Double] = [:]
        for w in workers {
            var rates: [Double] = []
            var seed: UInt64 = 0
            _ = try RolloutEngine.run(spec: spec, policy: policy, options: RolloutOptions(episodes: 64, workers: w, seed: 999, lanes: lanes))
            for _ in 0..<options.reps {
                var steps = 0
                let t0 = monotonicSeconds()
                repeat {
                    let out = try RolloutEngine.run(spec: spec, policy: policy,
                                                    options: RolloutOptions(episodes: episodes, workers: w, seed: seed, lanes: lanes))
                    steps += out.steps
                    seed &+= UInt64(episodes)
                } while monotonicSeconds() - t0 < options.seconds
                rates.append(Double(steps) / (monotonicSeconds() - t0))
            }
            let line = benchLine(bench: "rollout", label: "\(env) \(random ? "random" : "ofql-3x256-mish") workers=\(w) lanes=\(lanes)",
                                 values: rates, unit: "env steps/s", extra: [("core", "\"\(BLASRuntime.coreName)\"")])
            print(line)
            medians[w] = rates.sorted()[rates.count / 2]
        }
        if let one = medians[1], let two = medians[2] {
            print("{\"bench\": \"rollout_scaling\", \"label\": \"\(env) 2 workers / 1 worker\", \"value\": \(format3(two / one))}")
        }
        StandardStream.error.write("# peer (RESULTS.md): EnvPool BipedalWalker 8 envs / 2 threads, env only ≈ 22.5k steps/s median; measure it beside this with scripts/bench.sh\n")
    }
}

/// `ofql-eval bench load FILE`: peak memory of loading a dataset for training.
struct BenchLoadCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "load", abstract: "Peak resident memory of loading a D4RL file for training, against the arrays' size.")
    @Argument(help: "A D4RL-layout HDF5 file.") var file: String

    static func kib(_ key: String) -> Int {
        guard let s = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
        for line in s.split(separator: "\n") where line.hasPrefix(key) {
            return Int(line.split(separator: " ").dropFirst().first { Int($0) != nil } ?? "0") ?? 0
        }
        return 0
    }

    func run() throws {
        let before = BenchLoadCommand.kib("VmRSS:")
        let t0 = monotonicSeconds()
        let loaded: LoadedDataset
        do { loaded = try loadD4RL(path: file) } catch { throw ValidationError("\(error)") }
        let secs = monotonicSeconds() - t0
        let peak = BenchLoadCommand.kib("VmHWM:")
        let t = loaded.transitions
        let arrays = 4 * (t.observations.count + t.actions.count + t.rewards.count + t.nextObservations.count + t.terminals.count)
        let ratio = Double((peak - before) * 1024) / Double(arrays)
        print("{\"bench\": \"dataset_load\", \"label\": \"\(loaded.datasetID) \(t.count) transitions\", \"seconds\": \(format3(secs)), "
              + "\"arrays_mib\": \(format3(Double(arrays) / 1048576)), \"peak_rss_increase_mib\": \(format3(Double((peak - before) * 1024) / 1048576)), "
              + "\"ratio\": \(format3(ratio)), \"target_ratio\": 1.5}")
    }
}
