import ArgumentParser
import Datasets
import Envs
import Experiments
import Foundation
import Rollout

/// `ofql-eval dataset …`: the catalog, generation, inspection and verification.
struct DatasetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dataset",
        abstract: "List, generate, inspect and verify D4RL-layout datasets.",
        subcommands: [List.self, Generate.self, Info.self, Verify.self])

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The dataset catalog.")
        func run() throws {
            let registered = Set(EnvRegistry.all.map(\.id))
            for e in DatasetCatalog.all {
                let status = registered.contains(e.env) ? "" : "  (env not available yet)"
                print(e.id.padding(toLength: 30, withPad: " ", startingAt: 0)
                      + String(e.defaultSize).leftPad(10) + "  " + e.summary + status)
            }
        }
    }

    struct Generate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Generate a catalog dataset on the rollout workers (deterministic for id, size and seed).")
        @Argument(help: "Dataset id (see `ofql-eval dataset list`).") var id: String
        @Option(help: "Transitions (default: the catalog's D4RL size).") var size: Int?
        @Option(help: "Dispatch workers.") var workers = ProcessInfo.processInfo.activeProcessorCount
        @Option(help: "Base seed.") var seed: UInt64 = 0
        @Option(help: "Output folder; the file is <out>/<id>.hdf5.") var out: String
        @Option(help: "Action noise σ of the behaviour policies instead of the catalog's (0.1; mazes 0.5), for experiments on the data: the file is then not the catalog's data for its id, and its metadata/behavior_noise says so.")
        var noise: Float?

        func validate() throws {
            if let noise { guard noise.isFinite && (0...2).contains(noise) else { throw ValidationError("--noise must be between 0 and 2, got \(noise)") } }
            if let size { guard (1...50_000_000).contains(size) else { throw ValidationError("--size must be between 1 and 50000000, got \(size)") } }
            guard (1...1024).contains(workers) else { throw ValidationError("--workers must be between 1 and 1024, got \(workers)") }
        }

        func run() throws {
            let entry: DatasetEntry
            do { entry = try DatasetCatalog.entry(id) } catch { throw ValidationError("\(error)") }
            _ = try envSpec(entry.env.rawValue, flag: "dataset \(id)")
            var isDir: ObjCBool = false
            if FileManager.default.fileExists(atPath: out, isDirectory: &isDir), !isDir.boolValue {
                throw ValidationError("--out: \(out) is a file, not a folder")
            }
            do { try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true) } catch {
                throw ValidationError("--out: cannot create the folder \(out): \(error.localizedDescription)")
            }
            let n = size ?? entry.defaultSize
            let path = URL(fileURLWithPath: out).appendingPathComponent("\(entry.id).hdf5").path
            let bar = ProgressLine("generate \(entry.id)", unit: "rows")
            let t0 = monotonicSeconds()
            var ds = try DatasetGenerator.generate(entry, size: n, seed: seed, workers: workers, provider: BundledBehaviors(noise: noise),
                                                   progress: { bar.update(min($0, $1), of: $1) })
            bar.finish()
            if let noise { ds.metadata["behavior_noise"] = .double(Double(noise)) }
            let t1 = monotonicSeconds()
            try ds.write(to: path)
            let eps = ds.episodes()
            Log.info(String(format: "wrote %@: %d transitions, %d episodes in %.1f s (+ %.1f s writing)",
                            path, ds.count, eps.count, t1 - t0, monotonicSeconds() - t1))
            print(path)
        }
    }

    struct Info: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Shapes, episodes, returns and the data's normalised score.")
        @Argument(help: "An HDF5 file in the D4RL layout.") var file: String
        @Option(help: "Environment id for scoring (default: the file's metadata/env_id).") var env: String?
        @Option(help: "Discount of the Monte-Carlo return line (what a critic's mean Q estimates for the data).") var gamma = 0.99

        func validate() throws {
            guard gamma.isFinite && gamma >= 0 && gamma < 1 else { throw ValidationError("--gamma must be in [0, 1), got \(gamma)") }
        }

        func run() throws {
            let (ds, spec) = try loadDatasetAndEnv(file, env: env)
            let eps = ds.episodes(maxEpisodeSteps: spec?.maxEpisodeSteps)
            print("file               \(file)")
            for k in ds.metadata.keys.sorted() { print("metadata/\(k) = \(ds.metadata[k]!)") }
            print("observations       (\(ds.count), \(ds.observationDimension))")
            print("actions            (\(ds.count), \(ds.actionDimension))")
            print("next_observations  \(ds.nextObservations == nil ? "absent" : "present")")
            print("timeouts           \(ds.timeouts == nil ? "absent" : "present")")
            print("infos              \(ds.infos.keys.sorted().joined(separator: ", "))")
            let complete = eps.filter { !$0.incomplete }
            print("episodes           \(eps.count) (\(eps.filter(\.terminated).count) terminated, \(eps.filter(\.truncated).count) truncated, \(eps.count - complete.count) incomplete)")
            let returns = complete.map(\.totalReward)
            let s = Summary(returns)
            print(String(format: "return             %.2f ± %.2f (min %.2f, max %.2f) over complete episodes", s.mean, s.std, s.min, s.max))
            let lengths = Summary(eps.map { Double($0.length) })
            print(String(format: "episode length     %.1f mean (min %.0f, max %.0f)", lengths.mean, lengths.min, lengths.max))
            let g = ds.discountedReturns(gamma: gamma, maxEpisodeSteps: spec?.maxEpisodeSteps)
            let q = Summary.quantiles(g, [0.1, 0.5, 0.9])
            print(String(format: "discounted return  %.2f mean (p10 %.2f, p50 %.2f, p90 %.2f) per row, γ %g, to the episode's end",
                         Summary(g).mean, q[0], q[1], q[2], gamma))
            if let spec {
                let scores = datasetEpisodeScores(ds, spec: spec)
                if !scores.isEmpty {
                    let n = Summary(scores)
                    let per = spec.domain == .maze && ds.infos["episode"] != nil ? ", per collection episode" : ""
                    print(String(format: "normalised score   %.1f ± %.1f (%@%@)", n.mean, n.std, spec.id.rawValue, per))
                } else {
                    print("normalised score   n/a (no reference scores for \(spec.id))")
                }
            }
        }
    }

    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Check schema, finiteness, bounds, episode structure and next observations.")
        @Argument(help: "An HDF5 file in the D4RL layout.") var file: String
        @Option(help: "Environment id (default: the file's metadata/env_id).") var env: String?

        func run() throws {
            let (ds, spec) = try loadDatasetAndEnv(file, env: env)
            let problems = ds.verify(maxEpisodeSteps: spec?.maxEpisodeSteps, observationDimension: spec?.observationDimension,
                                     actionDimension: spec?.actionDimension)
            if problems.isEmpty {
                print("ok: \(file): \(ds.count) transitions, \(ds.episodes().count) episodes\(spec.map { " (\($0.id))" } ?? "")")
                return
            }
            for p in problems { print("violation: \(p)") }
            throw ValidationError("\(file): \(problems.count) violation(s)")
        }
    }
}

/// Loads a dataset for `info`/`verify` and its env: `--env`, else the file's metadata/env_id.
func loadDatasetAndEnv(_ file: String, env: String?) throws -> (D4RLDataset, EnvSpec?) {
    let ds: D4RLDataset
    do { ds = try D4RLDataset.load(file) } catch { throw ValidationError("\(error)") }
    let envName: String? = env ?? { if case .string(let s)? = ds.metadata["env_id"] { return s }; return nil }()
    return (ds, try envName.map { try envSpec($0) })
}

extension String {
    func leftPad(_ n: Int) -> String { String(repeating: " ", count: max(0, n - count)) + self }
}
