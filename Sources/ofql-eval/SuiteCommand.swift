import ArgumentParser
import Datasets
import Envs
import Foundation
import OFQL
import Rollout

/// A results-table plan: datasets × algorithms × seeds with one training budget.
struct SuitePlan: Codable {
    struct DatasetItem: Codable {
        var id: String
        /// Transitions to generate (default: the catalog size).
        var size: Int?
        /// Per-dataset config overrides for every algorithm (OFQLConfig keys), e.g. η.
        var config: [String: JSONNumberOrString]?
    }
    var name: String
    var datasets: [DatasetItem]
    var algorithms: [String]
    var seeds: [UInt64]
    var steps: Int
    var eval_episodes: Int
    /// Steps between evaluations (default: steps / 5).
    var eval_every: Int?
    /// Config overrides per algorithm ("ofql", "bc"), OFQLConfig keys.
    var configs: [String: [String: JSONNumberOrString]]?
    /// Seed of dataset generation.
    var data_seed: UInt64?
}

/// A JSON scalar in a plan's config overrides.
enum JSONNumberOrString: Codable {
    case number(Double), string(String), bool(Bool), array([Double])
    init(from d: Decoder) throws {
        let c = try d.singleValueContainer()
        if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else if let n = try? c.decode(Double.self) { self = .number(n) }
        else if let a = try? c.decode([Double].self) { self = .array(a) }
        else { self = .string(try c.decode(String.self)) }
    }
    func encode(to e: Encoder) throws {
        var c = e.singleValueContainer()
        switch self {
        case .number(let n): try c.encode(n)
        case .string(let s): try c.encode(s)
        case .bool(let b): try c.encode(b)
        case .array(let a): try c.encode(a)
        }
    }
    var any: Any {
        switch self {
        case .number(let n): return n == n.rounded() && abs(n) < 1e15 ? Int(n) as Any : n as Any
        case .string(let s): return s
        case .bool(let b): return b
        case .array(let a): return a.map { $0 == $0.rounded() ? Int($0) as Any : $0 as Any }
        }
    }
}

/// `ofql-eval suite --plan FILE`: trains every (dataset, algorithm, seed) of a plan, evaluates
/// on the workers and writes the results table (Markdown and HTML) in the layout of the OFQL
/// paper's Table 1. Resumable: finished runs are skipped, interrupted ones resume.
struct SuiteCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "suite",
        abstract: "Run a results-table plan (datasets × algorithms × seeds) and write the table.")

    @Option(help: "Plan JSON file.") var plan: String
    @Option(help: "Output folder (datasets/, runs/, results.md, results.html).") var out: String
    @Option(help: "Dispatch workers for generation and evaluation.") var workers = ProcessInfo.processInfo.activeProcessorCount
    @Option(help: "BLAS threads while training.") var threads = 2

    func run() throws {
        let p: SuitePlan
        do { p = try JSONDecoder().decode(SuitePlan.self, from: try Data(contentsOf: URL(fileURLWithPath: plan))) } catch {
            throw ValidationError("--plan \(plan): \(error)")
        }
        try Suite(plan: p, out: out, workers: workers, threads: threads,
                  command: (["ofql-eval"] + CommandLine.arguments.dropFirst()).joined(separator: " ")).run()
    }
}

/// Runs a plan and renders its table.
struct Suite {
    var plan: SuitePlan
    var out: String
    var workers: Int
    var threads: Int
    var command: String
    var quiet = false

    struct Cell { var scores: [Double]; var runs: [String] }

    func validate() throws {
        guard !plan.datasets.isEmpty, !plan.algorithms.isEmpty, !plan.seeds.isEmpty else {
            throw ValidationError("plan: datasets, algorithms and seeds must not be empty")
        }
        for a in plan.algorithms where Algorithm(rawValue: a) == nil {
            throw ValidationError("plan: unknown algorithm '\(a)' (known: \(Algorithm.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        for d in plan.datasets {
            do { _ = try DatasetCatalog.entry(d.id) } catch { throw ValidationError("plan: \(error)") }
        }
        guard plan.steps >= 1, plan.eval_episodes >= 1 else { throw ValidationError("plan: steps and eval_episodes must be positive") }
    }

    func config(for algo: String, dataset: SuitePlan.DatasetItem) throws -> OFQLConfig {
        var dict: [String: Any] = ["algo": algo]
        for (k, v) in plan.configs?[algo] ?? [:] { dict[k] = v.any }
        for (k, v) in dataset.config ?? [:] { dict[k] = v.any }
        let data = try JSONSerialization.data(withJSONObject: dict)
        do { return try OFQLConfig.fromJSON(data) } catch { throw ValidationError("plan config for \(algo) on \(dataset.id): \(error)") }
    }

    func run() throws {
        try validate()
        let fm = FileManager.default
        try fm.createDirectory(atPath: out + "/datasets", withIntermediateDirectories: true)
        var cells: [String: [String: Cell]] = [:]
        var behaviour: [String: Double] = [:]
        let total = plan.datasets.count * plan.algorithms.count * plan.seeds.count
        var index = 0
        for item in plan.datasets {
            let entry = try DatasetCatalog.entry(item.id)
            let spec = try envSpec(entry.env.rawValue)
            let size = item.size ?? entry.defaultSize
            let path = "\(out)/datasets/\(entry.id)-\(size).hdf5"
            if !fm.fileExists(atPath: path) {
                if !quiet { Log.info("suite: generating \(entry.id) (\(size) transitions)") }
                let bar = ProgressLine("generate \(entry.id)", unit: "rows", enabled: Log.stderrIsTerminal && !quiet)
                let ds = try DatasetGenerator.generate(entry, size: size, seed: plan.data_seed ?? 0, workers: workers,
                                                       provider: BundledBehaviors(), progress: { bar.update(min($0, $1), of: $1) })
                bar.finish()
                try ds.write(to: path)
            }
            let loaded = try loadD4RL(path: path)
            behaviour[item.id] = try datasetScore(path: path, spec: spec)
            for algo in plan.algorithms {
                for seed in plan.seeds {
                    index += 1
                    let runDir = "\(out)/runs/\(entry.id)/\(algo)/seed-\(seed)"
                    let summaryPath = runDir + "/summary.json"
                    if !fm.fileExists(atPath: summaryPath) {
                        if !quiet { Log.info("suite [\(index)/\(total)]: \(algo) on \(entry.id), seed \(seed)") }
                        try fm.createDirectory(atPath: runDir, withIntermediateDirectories: true)
                        var run = TrainRun(dataset: path, configPath: nil, steps: plan.steps, seed: seed, out: runDir,
                                           resume: Trainer.latestCheckpoint(in: runDir) != nil, algo: algo,
                                           logEvery: max(1, min(1000, plan.steps / 50)), checkpointEvery: max(plan.steps / 4, 1),
                                           threads: threads, evalEvery: plan.eval_every ?? max(1, plan.steps / 5),
                                           evalEpisodes: plan.eval_episodes, evalWorkers: workers, evalSeed: 1_000_000, env: spec.id.rawValue)
                        if !run.resume { run.configOverride = try config(for: algo, dataset: item) }
                        run.preloaded = loaded
                        run.quiet = quiet
                        let s = try run.execute()
                        try writeAtomically(s.json + "\n", to: summaryPath, flag: "--out")
                    } else if !quiet {
                        Log.info("suite [\(index)/\(total)]: \(algo) on \(entry.id), seed \(seed): done, skipped")
                    }
                    let final = TrainRun.readEvals(runDir).last
                    var cell = cells[item.id, default: [:]][algo, default: Cell(scores: [], runs: [])]
                    if let f = final { cell.scores.append(f.normalized_score_mean ?? f.return_mean) }
                    cell.runs.append(runDir)
                    cells[item.id, default: [:]][algo] = cell
                }
            }
        }
        let md = markdown(cells: cells, behaviour: behaviour)
        try writeAtomically(md, to: out + "/results.md", flag: "--out")
        try writeAtomically(html(cells: cells, behaviour: behaviour), to: out + "/results.html", flag: "--out")
        print(md)
    }

    /// Mean normalised score of the dataset's own complete episodes.
    func datasetScore(path: String, spec: EnvSpec) throws -> Double {
        let ds = try D4RLDataset.load(path, loadInfos: false)
        let scoring = Scoring.of(spec)
        let s = ds.episodes(maxEpisodeSteps: spec.maxEpisodeSteps).filter { !$0.incomplete }.compactMap {
            scoring.score(EpisodeResult(index: 0, seed: 0, totalReward: $0.totalReward, length: $0.length,
                                        terminated: $0.terminated, truncated: $0.truncated))
        }
        return Summary(s).mean
    }

    func cellText(_ c: Cell?) -> String {
        guard let c, !c.scores.isEmpty else { return "–" }
        let s = Summary(c.scores)
        return String(format: "%.1f ± %.1f", s.mean, s.std)
    }

    func domain(_ id: String) -> String {
        (try? DatasetCatalog.entry(id)).flatMap { try? EnvRegistry.spec($0.env).domain.rawValue } ?? "other"
    }

    func markdown(cells: [String: [String: Cell]], behaviour: [String: Double]) -> String {
        var o = "# \(plan.name)\n\n"
        o += "Normalised scores (D4RL-style, this suite's reference scores) of the final evaluation: mean ± std over seeds \(plan.seeds.map(String.init).joined(separator: ", ")); "
        o += "\(plan.steps) gradient steps, \(plan.eval_episodes) evaluation episodes per seed, same budget for every algorithm.\n\n"
        o += "| Dataset | data | " + plan.algorithms.map { $0.uppercased() }.joined(separator: " | ") + " |\n"
        o += "|---|---:|" + plan.algorithms.map { _ in "---:" }.joined(separator: "|") + "|\n"
        var byDomain: [String: [String]] = [:]
        for item in plan.datasets {
            byDomain[domain(item.id), default: []].append(item.id)
            o += "| \(item.id) | \(String(format: "%.1f", behaviour[item.id] ?? .nan)) | "
            o += plan.algorithms.map { cellText(cells[item.id]?[$0]) }.joined(separator: " | ") + " |\n"
        }
        for d in byDomain.keys.sorted() {
            let ids = byDomain[d]!
            o += "| **\(d) average** | \(String(format: "%.1f", Summary(ids.compactMap { behaviour[$0] }).mean)) | "
            o += plan.algorithms.map { a in
                let means = ids.compactMap { cells[$0]?[a] }.filter { !$0.scores.isEmpty }.map { Summary($0.scores).mean }
                return means.count == ids.count ? String(format: "**%.1f**", Summary(means).mean) : "–"
            }.joined(separator: " | ") + " |\n"
        }
        o += "\n\"data\" is the mean normalised score of the dataset's own complete episodes.\n\n"
        o += "Regenerate with:\n\n```sh\n\(command)\n```\n\nRun folders (metrics.jsonl, eval.jsonl, checkpoints, report.html):\n\n"
        for item in plan.datasets {
            for a in plan.algorithms { for r in cells[item.id]?[a]?.runs ?? [] { o += "- `\(r)`\n" } }
        }
        return o
    }

    func html(cells: [String: [String: Cell]], behaviour: [String: Double]) -> String {
        var r = HTMLReport(title: plan.name)
        var rows = [["dataset", "data"] + plan.algorithms.map { $0.uppercased() }]
        for item in plan.datasets {
            rows.append([item.id, String(format: "%.1f", behaviour[item.id] ?? .nan)] + plan.algorithms.map { cellText(cells[item.id]?[$0]) })
        }
        r.add(.paragraph("Final normalised scores, mean ± std over seeds; \(plan.steps) steps, \(plan.eval_episodes) evaluation episodes."))
        r.add(.table(rows))
        for item in plan.datasets {
            r.add(.heading(item.id))
            var runs: [(name: String, dir: String)] = []
            for a in plan.algorithms {
                for (k, dir) in (cells[item.id]?[a]?.runs ?? []).enumerated() { runs.append(("\(a) seed \(plan.seeds[k])", dir)) }
            }
            for svg in RunReport.chartSVGs(runs: runs).prefix(2) { r.add(.svg(svg)) }
            // One evaluation episode of each algorithm's first run, where the env can be drawn.
            for a in plan.algorithms {
                guard let dir = cells[item.id]?[a]?.runs.first, let entry = try? DatasetCatalog.entry(item.id),
                      let spec = try? EnvRegistry.spec(entry.env),
                      let loaded = try? CheckpointPolicy.load(dir),
                      let svg = try? EpisodeAnimation.svg(spec: spec, policy: loaded.policy, seed: 1_000_000) else { continue }
                r.add(.paragraph("\(a.uppercased()): one evaluation episode (seed 1000000) of the final checkpoint."))
                r.add(.svg(svg))
            }
        }
        return r.html()
    }
}
