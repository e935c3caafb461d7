import BLAS
import Datasets
import Envs
import Foundation
import OFQL
import Rollout

/// A results-table plan: datasets × algorithms × seeds with one training budget.
public struct SuitePlan: Codable, Sendable, Equatable {
    public struct DatasetItem: Codable, Sendable, Equatable {
        public var id: String
        /// Transitions to generate (default: the catalog size).
        public var size: Int?
        /// Gradient steps of this dataset's cells (default: the plan's `steps`), for a domain
        /// whose values need a longer budget (the mazes' sparse reward).
        public var steps: Int?
        /// Per-dataset config overrides for every algorithm (OFQLConfig keys), e.g. η.
        public var config: [String: JSONNumberOrString]?
        /// Per-dataset overrides for one algorithm, over `config` (e.g. IQL's maze expectile and
        /// reward shift beside OFQL's maze reward transform).
        public var configs: [String: [String: JSONNumberOrString]]?
        public init(id: String, size: Int? = nil, steps: Int? = nil, config: [String: JSONNumberOrString]? = nil,
                    configs: [String: [String: JSONNumberOrString]]? = nil) {
            self.id = id; self.size = size; self.steps = steps; self.config = config; self.configs = configs
        }
    }
    public var name: String
    public var datasets: [DatasetItem]
    public var algorithms: [String]
    public var seeds: [UInt64]
    public var steps: Int
    public var eval_episodes: Int
    /// Steps between evaluations (default: steps / 5).
    public var eval_every: Int?
    /// Config overrides per algorithm ("ofql", "bc", …), OFQLConfig keys.
    public var configs: [String: [String: JSONNumberOrString]]?
    /// Seed of dataset generation (default 0).
    public var data_seed: UInt64?
    /// Base seed of the evaluation episodes (default 1,000,000: disjoint from training seeds).
    public var eval_seed: UInt64?
    /// Defaults for `suite --slurm` (flags override them).
    public var slurm: SlurmSettings?
    /// Evaluation modes besides one-step sampling, applied to each finished cell's final
    /// checkpoint (e.g. candidate selection, arXiv 2508.13904 eq. 13); each gives its own cell.
    public var eval_modes: [EvalMode]?
    /// Ablation settings (arXiv 2508.13904 Tables 2–3, App. M): each variant's config keys go
    /// over the algorithm's and the dataset's, and every algorithm it names gets one cell per
    /// (dataset, variant, seed) whose rows carry the variant's name.
    public var variants: [Variant]?
    /// When set, the table gains a second read of every trained column: each seed's mean over
    /// its evaluations at steps ≥ this (e.g. 20000 of 50000), then mean ± std over seeds. One
    /// checkpoint's score can swing by tens of points between evaluations; the mean of the
    /// later curve shows whether an ordering holds beyond the final one.
    public var curve_mean_from: Int?

    /// The plan file's keys, at the top and in each nested object; any other key is refused, so
    /// a misspelt one is not silently ignored.
    static let keys: Set<String> = ["name", "datasets", "algorithms", "seeds", "steps", "eval_episodes", "eval_every", "configs",
                                    "data_seed", "eval_seed", "slurm", "eval_modes", "variants", "curve_mean_from"]
    static let nestedKeys: [String: Set<String>] = [
        "datasets": ["id", "size", "steps", "config", "configs"],
        "eval_modes": ["candidates", "noise_temperature", "beta", "sampling", "algos", "datasets"],
        "variants": ["name", "algos", "config"],
        "slurm": ["cpus_per_task", "time", "throttle", "partition"],
    ]

    /// The keys of a plan file's JSON that the plan does not know, as paths (`datasets[2].stpes`).
    static func unknownKeys(_ top: [String: Any]) -> [String] {
        var unknown = Set(top.keys).subtracting(keys).sorted()
        for (field, known) in nestedKeys.sorted(by: { $0.key < $1.key }) {
            let objects: [(String, [String: Any])]
            if let list = top[field] as? [Any] {
                objects = list.enumerated().compactMap { i, o in (o as? [String: Any]).map { ("\(field)[\(i)]", $0) } }
            } else if let o = top[field] as? [String: Any] {
                objects = [(field, o)]
            } else { continue }
            for (path, o) in objects { unknown += Set(o.keys).subtracting(known).sorted().map { "\(path).\($0)" } }
        }
        return unknown
    }

    /// A named ablation setting, e.g. `{"name": "lambda=0.75", "config": {"flowRatio": 0.75}}`.
    public struct Variant: Codable, Sendable, Equatable {
        public var name: String
        /// Algorithms it applies to (default: every algorithm of the plan).
        public var algos: [String]?
        public var config: [String: JSONNumberOrString]
        public init(name: String, algos: [String]? = nil, config: [String: JSONNumberOrString]) {
            self.name = name; self.algos = algos; self.config = config
        }
    }

    /// The variant names of `algo`'s cells ("" when no variant names it).
    public func variantNames(for algo: String) -> [String] {
        let names = (variants ?? []).filter { $0.algos?.contains(algo) ?? true }.map(\.name)
        return names.isEmpty ? [""] : names
    }

    /// An evaluation mode of a plan: N one-step candidates at a noise temperature, picked by
    /// softmax(β·min-Q) of the target critics; or, with `sampling`, another way to sample the
    /// trained policy (``SamplingMode``: `ddim1` for DQL, `flow-K` for FQL's BC flow and FBRAC, `meanflow-K` for OFQL).
    public struct EvalMode: Codable, Sendable, Equatable {
        public var candidates: Int?
        public var noise_temperature: Double?
        public var beta: Double?
        public var sampling: String?
        /// Algorithms it applies to (default: ofql for candidate selection, the learners that
        /// have the sampling mode otherwise).
        public var algos: [String]?
        /// Datasets it applies to (default: all of the plan's), e.g. selection only where its
        /// softmax temperature was chosen (β is per task in the paper's protocol).
        public var datasets: [String]?
        public init(candidates: Int, noise_temperature: Double? = nil, beta: Double, algos: [String]? = nil,
                    datasets: [String]? = nil) {
            self.candidates = candidates; self.noise_temperature = noise_temperature; self.beta = beta; self.algos = algos
            self.datasets = datasets
        }
        public init(sampling: String, algos: [String]? = nil, datasets: [String]? = nil) {
            self.sampling = sampling; self.algos = algos; self.datasets = datasets
        }
        /// The candidate selection (nil for a sampling mode).
        public var selection: CandidateSelection? {
            sampling != nil ? nil : CandidateSelection(candidates: candidates ?? 0, noiseTemperature: noise_temperature ?? 0.5, beta: beta ?? 0)
        }
        /// The mode's name in tables and cell files (`select-50`, `ddim1`, `flow-10`).
        public var name: String { sampling ?? selection!.modeName }
        public var defaultAlgos: [String] { sampling.map { SamplingMode.algorithms($0).map(\.rawValue) } ?? ["ofql"] }
        public func applies(to algo: String) -> Bool { (algos ?? defaultAlgos).contains(algo) }
        public func applies(to algo: String, dataset: String) -> Bool { applies(to: algo) && (datasets?.contains(dataset) ?? true) }
        /// The algorithm name of this mode's rows: DQL + DDIM(1) is its own method (`dql-ddim1`,
        /// arXiv 2508.13904 Table 2); other modes keep the trained algorithm's name.
        public func rowAlgo(_ algo: String) -> String { sampling == "ddim1" ? "\(algo)-ddim1" : algo }
        /// One sentence for the table's notes (and the datasets it is limited to, if any).
        public var explanation: String {
            let only = datasets.map { " Evaluated on \($0.joined(separator: ", ")) only." } ?? ""
            return modeExplanation + only
        }
        private var modeExplanation: String {
            if let sampling {
                if sampling == "ddim1" {
                    return "ddim1: a DQL checkpoint sampled with one DDIM step from x_K (DQL + DDIM(1), arXiv 2508.13904 Table 2), on the same episodes."
                }
                if let k = SamplingMode.meanFlowSteps(sampling) {
                    return "\(sampling): OFQL's average velocity integrated in \(k) equal steps instead of one, on the same episodes."
                }
                return "\(sampling): the flow integrated in \(SamplingMode.flowSteps(sampling).map(String.init) ?? "?") Euler steps, on the same episodes."
            }
            let sel = selection!
            return "\(name): the final checkpoint evaluated with \(sel.candidates) one-step candidates at noise temperature \(sel.noiseTemperature), picked by softmax(\(sel.beta)·min-Q) (arXiv 2508.13904, eq. 13), on the same episodes."
        }
    }

    /// The gradient steps of `item`'s cells.
    public func steps(for item: DatasetItem) -> Int { item.steps ?? steps }

    /// The evaluation modes that apply to `algo` on any dataset (one-step sampling is always evaluated).
    public func evalModes(for algo: String) -> [EvalMode] { (eval_modes ?? []).filter { $0.applies(to: algo) } }
    /// The evaluation modes that apply to `algo`'s cells on `dataset`.
    public func evalModes(for algo: String, dataset: String) -> [EvalMode] {
        (eval_modes ?? []).filter { $0.applies(to: algo, dataset: dataset) }
    }

    public init(name: String, datasets: [DatasetItem], algorithms: [String], seeds: [UInt64], steps: Int, eval_episodes: Int,
                eval_every: Int? = nil, configs: [String: [String: JSONNumberOrString]]? = nil, data_seed: UInt64? = nil,
                eval_seed: UInt64? = nil, slurm: SlurmSettings? = nil) {
        self.name = name; self.datasets = datasets; self.algorithms = algorithms; self.seeds = seeds; self.steps = steps
        self.eval_episodes = eval_episodes; self.eval_every = eval_every; self.configs = configs; self.data_seed = data_seed
        self.eval_seed = eval_seed; self.slurm = slurm
    }

    /// Reads a plan file; errors name the file.
    public static func load(path: String) throws -> SuitePlan {
        guard let data = FileManager.default.contents(atPath: path) else { throw RunError("--plan \(path): cannot read the file") }
        let plan: SuitePlan
        do { plan = try JSONDecoder().decode(SuitePlan.self, from: data) } catch {
            throw RunError("--plan \(path): not a suite plan (\(error))")
        }
        if let top = try? JSONSerialization.jsonObject(with: data) as? [String: Any] {
            let unknown = unknownKeys(top)
            if !unknown.isEmpty {
                throw RunError("--plan \(path): unknown key\(unknown.count == 1 ? "" : "s") \(unknown.joined(separator: ", ")) (a plan's keys: \(keys.sorted().joined(separator: ", ")))")
            }
        }
        do { try plan.validate() } catch { throw RunError("--plan \(path): \(error)") }
        return plan
    }

    public func validate() throws {
        guard !datasets.isEmpty, !algorithms.isEmpty, !seeds.isEmpty else {
            throw RunError("plan: datasets, algorithms and seeds must not be empty")
        }
        for a in algorithms where Algorithm(rawValue: a) == nil {
            throw RunError("plan: unknown algorithm '\(a)' (known: \(Algorithm.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        for d in datasets {
            do { _ = try DatasetCatalog.entry(d.id) } catch { throw RunError("plan: \(error)") }
            if let s = d.size, s < 1 { throw RunError("plan: dataset \(d.id) has size \(s); expected at least 1") }
            if let s = d.steps, s < 1 { throw RunError("plan: dataset \(d.id) has steps \(s); expected at least 1") }
            for a in (d.configs ?? [:]).keys.sorted() where !algorithms.contains(a) {
                throw RunError("plan: dataset \(d.id) has configs for '\(a)', which is not among the plan's algorithms \(algorithms)")
            }
        }
        for a in (configs ?? [:]).keys.sorted() where !algorithms.contains(a) {
            throw RunError("plan: configs has keys for '\(a)', which is not among the plan's algorithms \(algorithms)")
        }
        guard steps >= 1, eval_episodes >= 1 else { throw RunError("plan: steps and eval_episodes must be positive") }
        if let e = eval_every, e < 1 { throw RunError("plan: eval_every must be positive, got \(e)") }
        if let f = curve_mean_from, !(1...datasets.map(steps(for:)).min()!).contains(f) {
            throw RunError("plan: curve_mean_from must be a step from 1 to the shortest run's \(datasets.map(steps(for:)).min()!), got \(f)")
        }
        if Set(seeds).count != seeds.count { throw RunError("plan: seeds repeat") }
        let modes = eval_modes ?? []
        for m in modes {
            for d in m.datasets ?? [] where !datasets.contains(where: { $0.id == d }) {
                throw RunError("plan: eval_modes: \(m.name) names dataset '\(d)', which is not among the plan's datasets")
            }
            if m.datasets?.isEmpty == true { throw RunError("plan: eval_modes: \(m.name) has an empty datasets list (omit it for all datasets)") }
            if let sampling = m.sampling {
                guard m.candidates == nil, m.beta == nil, m.noise_temperature == nil else {
                    throw RunError("plan: eval_modes: '\(sampling)' is a sampling mode; candidates, beta and noise_temperature belong to candidate selection")
                }
                do { try SamplingMode.validate(sampling) } catch { throw RunError("plan: eval_modes: \(error)") }
                for a in m.algos ?? [] where !m.defaultAlgos.contains(a) {
                    throw RunError("plan: eval_modes: \(sampling) applies to \(m.defaultAlgos.joined(separator: " and ")), not '\(a)'")
                }
                continue
            }
            guard m.candidates != nil, m.beta != nil else { throw RunError("plan: eval_modes: candidate selection needs candidates and beta (or a sampling mode)") }
            do { try m.selection!.validate() } catch { throw RunError("plan: eval_modes: \(error)") }
            for a in m.algos ?? ["ofql"] where a != "ofql" {
                throw RunError("plan: eval_modes: candidate selection needs OFQL's noise input and critics; '\(a)' has no such mode")
            }
        }
        if Set(modes.map(\.name)).count != modes.count { throw RunError("plan: two eval_modes share a name (\(modes.map(\.name)))") }
        let vs = variants ?? []
        if Set(vs.map(\.name)).count != vs.count { throw RunError("plan: two variants share a name (\(vs.map(\.name)))") }
        for v in vs {
            guard !v.name.isEmpty, v.name.allSatisfy({ $0.isLetter || $0.isNumber || "=._-".contains($0) }) else {
                throw RunError("plan: variant name '\(v.name)' must be letters, digits and = . _ - (it names files)")
            }
            for a in v.algos ?? [] where !algorithms.contains(a) {
                throw RunError("plan: variant \(v.name) names '\(a)', which is not among the plan's algorithms \(algorithms)")
            }
        }
        for d in datasets { for a in algorithms { for v in variantNames(for: a) { _ = try requestedConfig(algo: a, dataset: d, variant: v) } } }
    }

    public var evalSeed: UInt64 { eval_seed ?? 1_000_000 }
    public var dataSeed: UInt64 { data_seed ?? 0 }

    /// Every (dataset, algorithm, seed) of the plan in task order: the index of a cell is its
    /// Slurm array task id.
    public var cells: [CellKey] {
        datasets.flatMap { d in
            algorithms.flatMap { a in variantNames(for: a).flatMap { v in seeds.map { CellKey(dataset: d.id, algo: a, seed: $0, variant: v) } } }
        }
    }

    /// Transitions of a dataset item (its size, else the catalog's default).
    public func size(of item: DatasetItem) throws -> Int { try item.size ?? DatasetCatalog.entry(item.id).defaultSize }

    func item(_ id: String) -> DatasetItem? { datasets.first { $0.id == id } }

    /// The config a cell trains with before it meets its data: the algorithm's defaults, the
    /// plan's per-algorithm keys, the dataset's keys, the dataset's keys for this algorithm,
    /// then the variant's.
    public func requestedConfig(algo: String, dataset: DatasetItem, variant: String = "") throws -> OFQLConfig {
        var dict: [String: Any] = ["algo": algo]
        for (k, v) in configs?[algo] ?? [:] { dict[k] = v.any }
        for (k, v) in dataset.config ?? [:] { dict[k] = v.any }
        for (k, v) in dataset.configs?[algo] ?? [:] { dict[k] = v.any }
        for (k, v) in (variants ?? []).first(where: { $0.name == variant })?.config ?? [:] { dict[k] = v.any }
        let data = try JSONSerialization.data(withJSONObject: dict)
        let label = variant.isEmpty ? algo : "\(algo) (\(variant))"
        do { return try OFQLConfig.fromJSON(data) } catch { throw RunError("plan config for \(label) on \(dataset.id): \(error)") }
    }
}

/// A JSON scalar in a plan's config overrides.
public enum JSONNumberOrString: Codable, Sendable, Equatable {
    case number(Double), string(String), bool(Bool), array([Double])
    public init(from d: Decoder) throws {
        let c = try d.singleValueContainer()
        if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else if let n = try? c.decode(Double.self) { self = .number(n) }
        else if let a = try? c.decode([Double].self) { self = .array(a) }
        else { self = .string(try c.decode(String.self)) }
    }
    public func encode(to e: Encoder) throws {
        var c = e.singleValueContainer()
        switch self {
        case .number(let n): try c.encode(n)
        case .string(let s): try c.encode(s)
        case .bool(let b): try c.encode(b)
        case .array(let a): try c.encode(a)
        }
    }
    public var any: Any {
        switch self {
        case .number(let n): return n == n.rounded() && abs(n) < 1e15 ? Int(n) as Any : n as Any
        case .string(let s): return s
        case .bool(let b): return b
        case .array(let a): return a.map { $0 == $0.rounded() ? Int($0) as Any : $0 as Any }
        }
    }
}

/// One cell of a table: a dataset, an algorithm and a training seed.
public struct CellKey: Hashable, Sendable, CustomStringConvertible {
    public var dataset: String
    public var algo: String
    public var seed: UInt64
    /// The evaluation mode ("one-step", or a plan's eval mode such as "select-50").
    public var eval: String
    /// The plan variant ("" when none).
    public var variant: String
    public init(dataset: String, algo: String, seed: UInt64, eval: String = "one-step", variant: String = "") {
        self.dataset = dataset; self.algo = algo; self.seed = seed; self.eval = eval; self.variant = variant
    }
    /// The cell's file name in a cells folder.
    public var fileName: String {
        "\(dataset).\(algo)\(variant.isEmpty ? "" : "." + variant).seed-\(seed)\(eval == "one-step" ? "" : "." + eval).json"
    }
    public var description: String {
        "\(algo)\(variant.isEmpty ? "" : " " + variant)\(eval == "one-step" ? "" : " (" + eval + ")") on \(dataset), seed \(seed)"
    }
    /// The same training cell under another evaluation mode.
    public func evaluated(_ mode: String) -> CellKey { CellKey(dataset: dataset, algo: algo, seed: seed, eval: mode, variant: variant) }
}

/// A finished cell, committed as a small JSON file (`<cells>/<dataset>.<algo>.seed-<seed>.json`):
/// everything that decides its score (full config and its hash, dataset id, version, size and
/// generation seed, steps, evaluation mode, episodes and seed) beside the score and its curve.
/// A table is rebuilt from these files alone, so it can grow piece by piece on several machines.
public struct CellRecord: Codable, Sendable, Equatable {
    public struct CurvePoint: Codable, Sendable, Equatable {
        public var step: Int
        public var score: Double
    }
    public var dataset: String
    public var dataset_version: Int?
    public var dataset_size: Int
    public var data_seed: UInt64
    public var domain: String
    public var algo: String
    public var seed: UInt64
    public var steps: Int
    /// Normalised score of the final policy (mean over the evaluation episodes).
    public var score: Double
    /// Standard deviation of the per-episode normalised scores.
    public var score_episode_std: Double
    public var `return`: Double
    /// Evaluation mode ("one-step": one evaluation of the policy per action).
    public var eval: String
    /// Ablation setting ("" when none).
    public var variant: String
    public var episodes: Int
    public var eval_seed: UInt64
    /// The resolved config the learner trained with, and the SHA-256 of its canonical JSON.
    public var config: OFQLConfig
    public var config_sha256: String
    public var curve: [CurvePoint]
    /// Mean normalised score of the dataset's own episodes (``datasetEpisodeScores(_:spec:)``).
    public var data_score: Double?
    /// Sustained training speed on the machine that ran the cell (not part of the result).
    public var steps_per_s: Double?
    /// The candidate selection of a non-one-step evaluation mode.
    public var selection: CandidateSelection? = nil
    /// The sampling mode of a non-one-step evaluation mode (`ddim1`, `flow-K`).
    public var sampling: String? = nil

    /// Whether this record answers `want` (same config hash, dataset, size, data seed, steps,
    /// evaluation mode, episodes and evaluation seed).
    public func matches(_ want: CellRecord) -> Bool {
        config_sha256 == want.config_sha256 && dataset == want.dataset && dataset_size == want.dataset_size
            && data_seed == want.data_seed && algo == want.algo && seed == want.seed && steps == want.steps
            && eval == want.eval && variant == want.variant && episodes == want.episodes && eval_seed == want.eval_seed
            && selection == want.selection && sampling == want.sampling
    }
}

/// The canonical JSON of a config (sorted keys, no whitespace) and its SHA-256.
public func configHash(_ config: OFQLConfig) throws -> String {
    let e = JSONEncoder()
    e.outputFormatting = [.sortedKeys]
    return sha256Hex(try e.encode(config))
}

/// The version number at the end of a dataset id (`hopper-medium-v1` → 1).
func datasetVersion(_ id: String) -> Int? {
    guard let r = id.range(of: "-v", options: .backwards) else { return nil }
    return Int(id[r.upperBound...])
}

/// Runs a plan's cells and builds its table from the cells folder.
///
/// Layout of `out`: `plan.json` (the plan as run), `datasets/` (generated once), `runs/<dataset>/<algo>/seed-<s>/`
/// (metrics, evaluations, checkpoints), `cells/` (the finished cells, unless `cells` points elsewhere),
/// `failed/` (the error of each cell that failed), and the tables `results.md`, `results.html`, `results.json`.
public struct Suite {
    public var plan: SuitePlan
    public var out: String
    /// Folder of finished cells (default `out/cells`); point it at `results/<table>/cells` to commit them.
    public var cellsDir: String
    public var workers: Int
    public var threads: Int
    public var command: String
    public var quiet = false

    public init(plan: SuitePlan, out: String, cellsDir: String? = nil, workers: Int, threads: Int, command: String) {
        self.plan = plan; self.out = out; self.cellsDir = cellsDir ?? out + "/cells"; self.workers = workers
        self.threads = threads; self.command = command
    }

    func datasetPath(_ item: SuitePlan.DatasetItem) throws -> String { "\(out)/datasets/\(item.id)-\(try plan.size(of: item)).hdf5" }
    func runDir(_ c: CellKey) -> String {
        "\(out)/runs/\(c.dataset)/\(c.algo)\(c.variant.isEmpty ? "" : "." + c.variant)/seed-\(c.seed)"
    }
    func failedPath(_ c: CellKey) -> String { "\(out)/failed/\(c.fileName).txt" }
    /// The log file of array task `index` when the plan runs on Slurm.
    public func slurmLog(task index: Int) -> String { "\(out)/slurm/logs/task-\(index).out" }

    /// Writes `out/plan.json` and, unless `datasets` is false, generates every dataset that is
    /// missing (before any cell runs; a single task generates only its own).
    public func prepare(datasets: Bool = true) throws {
        try plan.validate()
        let fm = FileManager.default
        try fm.createDirectory(atPath: out + "/datasets", withIntermediateDirectories: true)
        try fm.createDirectory(atPath: cellsDir, withIntermediateDirectories: true)
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys]
        try writeAtomically(String(decoding: try enc.encode(plan), as: UTF8.self) + "\n", to: out + "/plan.json", flag: "--out")
        if datasets { for item in plan.datasets { try ensureDataset(item) } }
    }

    func ensureDataset(_ item: SuitePlan.DatasetItem) throws {
        let path = try datasetPath(item)
        guard !FileManager.default.fileExists(atPath: path) else { return }
        let entry = try DatasetCatalog.entry(item.id)
        let size = try plan.size(of: item)
        if !quiet { Log.info("suite: generating \(entry.id) (\(size) transitions)") }
        let bar = ProgressLine("generate \(entry.id)", unit: "rows", enabled: Log.stderrIsTerminal && !quiet)
        let ds = try DatasetGenerator.generate(entry, size: size, seed: plan.dataSeed, workers: workers,
                                               provider: BundledBehaviors(), progress: { bar.update(min($0, $1), of: $1) })
        bar.finish()
        try ds.write(to: path)
    }

    /// Runs every cell (or only the cell with task index `task`), skipping cells whose
    /// committed record matches, then rebuilds the tables when the whole plan ran.
    /// Returns the Markdown table (empty for a single task).
    @discardableResult
    public func run(task: Int? = nil) throws -> String {
        try prepare(datasets: task == nil)
        let cells = plan.cells
        if let task {
            guard cells.indices.contains(task) else {
                throw RunError("--task \(task): the plan has \(cells.count) cells (tasks 0…\(cells.count - 1))")
            }
            try runCell(cells[task], index: task)
            return ""
        }
        var loaded: [String: LoadedDataset] = [:]
        for (i, c) in cells.enumerated() {
            try runCell(c, index: i, cache: &loaded)
        }
        return try collect()
    }

    func runCell(_ c: CellKey, index: Int) throws {
        var cache: [String: LoadedDataset] = [:]
        try runCell(c, index: index, cache: &cache)
    }

    /// Trains and evaluates one cell unless a matching record exists; a cell whose run
    /// folder holds a checkpoint resumes from it (bit-identical to an uninterrupted run).
    /// A cell that fails leaves its error in `out/failed/` for `collect` to list.
    func runCell(_ c: CellKey, index: Int, cache: inout [String: LoadedDataset]) throws {
        do { try runCellBody(c, index: index, cache: &cache) } catch {
            try? FileManager.default.createDirectory(atPath: out + "/failed", withIntermediateDirectories: true)
            try? writeAtomically("\(error)\n", to: failedPath(c), flag: "--out")
            throw error
        }
    }

    func runCellBody(_ c: CellKey, index: Int, cache: inout [String: LoadedDataset]) throws {
        let label = "suite [\(index + 1)/\(plan.cells.count)]: \(c)"
        guard let item = plan.item(c.dataset) else { throw RunError("plan: no dataset \(c.dataset)") }
        let path = try datasetPath(item)
        try ensureDataset(item)
        let data: LoadedDataset
        if let d = cache[path] { data = d } else {
            do { data = try loadD4RL(path: path) } catch { throw RunError("\(path): \(error)") }
            cache = [path: data]
        }
        let config: OFQLConfig
        do {
            config = try plan.requestedConfig(algo: c.algo, dataset: item, variant: c.variant)
                .resolved(episodeReturnRange: data.episodeReturnRange, steps: plan.steps(for: item))
        } catch let e as RunError { throw e } catch { throw RunError("plan config for \(c): \(error)") }
        let want = try expectedRecord(c, item: item, config: config)
        let cellPath = "\(cellsDir)/\(c.fileName)"
        if let have = try? Suite.readCell(cellPath), have.matches(want) {
            if !quiet { Log.info("\(label): done, skipped") }
        } else {
            if !quiet { Log.info(label) }
            try train(c, item: item, path: path, data: data, config: config, want: want, cellPath: cellPath)
        }
        for mode in plan.evalModes(for: c.algo, dataset: c.dataset) {
            try evaluateMode(mode, cell: c, want: want)
        }
    }

    /// Trains (or resumes) one cell's run and records its one-step evaluation.
    func train(_ c: CellKey, item: SuitePlan.DatasetItem, path: String, data: LoadedDataset, config: OFQLConfig,
               want: CellRecord, cellPath: String) throws {
        let fm = FileManager.default
        let dir = runDir(c)
        // A finished run of another config (or an older record) must not be resumed.
        if let old = try? OFQLConfig.load(path: dir + "/config.json"), (try? configHash(old)) != want.config_sha256 {
            try? fm.removeItem(atPath: dir)
        }
        try fm.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try? fm.removeItem(atPath: failedPath(c))
        let spec = try envSpec(DatasetCatalog.entry(c.dataset).env.rawValue)
        let steps = plan.steps(for: item)
        var run = TrainRun(dataset: path, configPath: nil, steps: steps, seed: c.seed, out: dir,
                           resume: Trainer.latestCheckpoint(in: dir) != nil, algo: c.algo,
                           logEvery: max(1, min(1000, steps / 50)), checkpointEvery: max(steps / 4, 1),
                           threads: threads, evalEvery: plan.eval_every ?? max(1, steps / 5),
                           evalEpisodes: plan.eval_episodes, evalWorkers: workers, evalSeed: plan.evalSeed, env: spec.id.rawValue)
        if !run.resume { run.configOverride = config }
        run.preloaded = data
        run.quiet = quiet
        let summary = try run.execute()
        try writeAtomically(summary.json + "\n", to: dir + "/summary.json", flag: "--out")
        let evals = TrainRun.readEvals(dir)
        guard let final = evals.last else { throw RunError("\(dir): the run wrote no evaluation") }
        var record = want
        record.score = final.normalized_score_mean ?? final.return_mean
        record.score_episode_std = final.normalized_score_std ?? final.return_std
        record.return = final.return_mean
        record.curve = evals.map { .init(step: $0.step, score: $0.normalized_score_mean ?? $0.return_mean) }
        record.data_score = try? Suite.datasetScore(path: path, spec: spec)
        record.steps_per_s = summary.stepsPerSecond > 0 ? summary.stepsPerSecond : nil  // nil: a finished run was recorded
        try Suite.writeCell(record, to: cellPath)
    }

    /// Evaluates a finished cell's final checkpoint in an evaluation mode (same episodes and
    /// seeds as its one-step evaluation) and records it as its own cell, unless a matching one exists.
    func evaluateMode(_ mode: SuitePlan.EvalMode, cell c: CellKey, want trained: CellRecord) throws {
        let key = c.evaluated(mode.name)
        let cellPath = "\(cellsDir)/\(key.fileName)"
        var want = trained
        want.eval = mode.name
        want.selection = mode.selection
        want.sampling = mode.sampling
        if let have = try? Suite.readCell(cellPath), have.matches(want) { return }
        let dir = runDir(c)
        guard Trainer.latestCheckpoint(in: dir) != nil else {
            throw RunError("\(key): no checkpoint in \(dir) to evaluate (the one-step cell was made elsewhere; rerun it here)")
        }
        let loaded = try CheckpointPolicy.load(dir, selection: mode.selection, sampling: mode.sampling)
        let spec = try envSpec(DatasetCatalog.entry(c.dataset).env.rawValue)
        if !quiet { Log.info("suite: \(key): evaluating the final checkpoint") }
        let point = try TrainRun.evaluate(loaded.policy, spec: spec, step: trained.steps, episodes: plan.eval_episodes,
                                          workers: workers, seed: plan.evalSeed)
        var record = want
        record.score = point.normalized_score_mean ?? point.return_mean
        record.score_episode_std = point.normalized_score_std ?? point.return_std
        record.return = point.return_mean
        record.curve = [.init(step: trained.steps, score: record.score)]
        // The one-step cell already measured the data's score; the dataset is not read again.
        record.data_score = (try? Suite.readCell("\(cellsDir)/\(c.fileName)"))?.data_score
        record.steps_per_s = nil
        try Suite.writeCell(record, to: cellPath)
    }

    /// The record a cell would have, less its results (score, curve, speed).
    func expectedRecord(_ c: CellKey, item: SuitePlan.DatasetItem, config: OFQLConfig) throws -> CellRecord {
        CellRecord(dataset: c.dataset, dataset_version: datasetVersion(c.dataset), dataset_size: try plan.size(of: item),
                   data_seed: plan.dataSeed, domain: Suite.domain(c.dataset), algo: c.algo, seed: c.seed, steps: plan.steps(for: item),
                   score: .nan, score_episode_std: .nan, return: .nan, eval: "one-step", variant: c.variant,
                   episodes: plan.eval_episodes, eval_seed: plan.evalSeed, config: config, config_sha256: try configHash(config),
                   curve: [], data_score: nil, steps_per_s: nil)
    }

    public static func readCell(_ path: String) throws -> CellRecord {
        guard let data = FileManager.default.contents(atPath: path) else { throw RunError("\(path): cannot read") }
        do { return try JSONDecoder().decode(CellRecord.self, from: data) } catch {
            throw RunError("\(path): not a cell record (\(error))")
        }
    }

    public static func writeCell(_ r: CellRecord, to path: String) throws {
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys]
        try writeAtomically(String(decoding: try enc.encode(r), as: UTF8.self) + "\n", to: path, flag: "--cells")
    }

    /// Mean normalised score of the dataset's own episodes (``datasetEpisodeScores(_:spec:)``).
    public static func datasetScore(path: String, spec: EnvSpec) throws -> Double {
        let ds = try D4RLDataset.load(path, loadInfos: spec.domain == .maze)
        return Summary(datasetEpisodeScores(ds, spec: spec)).mean
    }

    /// `locomotion`, `maze` or `kitchen` (the stand-in table's domains).
    public static func domain(_ id: String) -> String {
        guard let entry = try? DatasetCatalog.entry(id), let spec = try? EnvRegistry.spec(entry.env) else { return "other" }
        switch spec.domain {
        case .locomotion: return "locomotion"
        case .maze: return "maze"
        case .manipulation: return "kitchen"
        }
    }

    // MARK: - Collecting the table

    /// What a cells folder holds for the plan.
    public struct Collection: Sendable {
        public var records: [CellKey: CellRecord]
        /// Cells without a matching record: the reason and where to look.
        public var missing: [(cell: CellKey, reason: String)]
    }

    /// Reads the plan's cells from the cells folder. A record counts only when it matches what
    /// the plan would train now; missing and failed cells are listed with their log paths.
    public func gather() throws -> Collection {
        var records: [CellKey: CellRecord] = [:], missing: [(CellKey, String)] = []
        var configs: [String: OFQLConfig] = [:]
        for (i, trained) in plan.cells.enumerated() {
            let log = slurmLog(task: i)
            let logNote = FileManager.default.fileExists(atPath: log) ? "; log \(log)" : ""
            let modes: [SuitePlan.EvalMode?] = [nil] + plan.evalModes(for: trained.algo, dataset: trained.dataset).map { Optional($0) }
            for mode in modes {
                let c = mode.map { trained.evaluated($0.name) } ?? trained
                let path = "\(cellsDir)/\(c.fileName)"
                guard let r = try? Suite.readCell(path) else {
                    if let why = try? String(contentsOfFile: failedPath(trained), encoding: .utf8) {
                        missing.append((c, "failed: \(why.trimmingCharacters(in: .whitespacesAndNewlines))\(logNote)"))
                    } else {
                        missing.append((c, "not run (no \(path))\(logNote)"))
                    }
                    continue
                }
                guard let item = plan.item(c.dataset) else { continue }
                // The resolved config can depend on the data (IQL's reward scale); compare the keys the
                // plan sets through the requested config when the dataset is not at hand.
                let key = "\(c.dataset)|\(c.algo)|\(c.variant)"
                if configs[key] == nil {
                    do { configs[key] = try plan.requestedConfig(algo: c.algo, dataset: item, variant: c.variant) } catch {
                        missing.append((c, "the plan's config is invalid: \(error)"))
                        continue
                    }
                }
                var want = try expectedRecord(trained, item: item, config: r.config)
                want.config_sha256 = r.config_sha256
                if let mode { want.eval = mode.name; want.selection = mode.selection; want.sampling = mode.sampling }
                if !r.matches(want) || !Suite.sameRequest(configs[key]!, resolved: r.config) {
                    missing.append((c, "stale: \(path) was made with other settings\(logNote)"))
                    continue
                }
                records[c] = r
            }
        }
        return Collection(records: records, missing: missing)
    }

    /// Whether `resolved` is what `requested` becomes: equal after the data-dependent keys are
    /// carried over.
    static func sameRequest(_ requested: OFQLConfig, resolved: OFQLConfig) -> Bool {
        var r = requested
        r.rewardScale = resolved.rewardScale
        r.rewardScaleFromReturns = resolved.rewardScaleFromReturns
        r.actorCosineSteps = resolved.actorCosineSteps
        return (try? configHash(r)) == (try? configHash(resolved))
    }

    /// Rebuilds `results.md`, `results.html` and `results.json` from the cells; returns the Markdown.
    @discardableResult
    public func collect() throws -> String {
        let c = try gather()
        let md = markdown(c)
        try writeAtomically(md, to: out + "/results.md", flag: "--out")
        try writeAtomically(html(c), to: out + "/results.html", flag: "--out")
        try writeAtomically(try json(c), to: out + "/results.json", flag: "--out")
        if !quiet {
            for (cell, why) in c.missing { Log.info("suite: missing \(cell): \(why)") }
        }
        return md
    }

    /// A column of the table: an algorithm (one variant of it) under one evaluation mode.
    struct Column {
        var algo: String, variant: String, eval: String, title: String
        /// The algorithm name of the column's rows in results.json.
        var row: String
        func key(_ dataset: String, seed: UInt64) -> CellKey { CellKey(dataset: dataset, algo: algo, seed: seed, eval: eval, variant: variant) }
    }

    /// The table's columns: each algorithm (and variant), then each (algorithm, variant,
    /// evaluation mode).
    var columns: [Column] {
        func title(_ a: String, _ v: String) -> String { v.isEmpty ? a.uppercased() : "\(a.uppercased()) \(v)" }
        let trained = plan.algorithms.flatMap { a in plan.variantNames(for: a).map { (a, $0) } }
        return trained.map { Column(algo: $0.0, variant: $0.1, eval: "one-step", title: title($0.0, $0.1), row: $0.0) }
            + trained.flatMap { a, v in
                plan.evalModes(for: a).map { m in
                    let row = m.rowAlgo(a)
                    return Column(algo: a, variant: v, eval: m.name,
                                  title: row == a ? "\(title(a, v)) \(m.name)" : title(row, v), row: row)
                }
            }
    }

    func scores(_ c: Collection, dataset: String, column col: Column) -> [Double] {
        plan.seeds.compactMap { c.records[col.key(dataset, seed: $0)]?.score }
    }

    func dataScore(_ c: Collection, dataset: String) -> Double? {
        c.records.values.first { $0.dataset == dataset && $0.data_score != nil }?.data_score
    }

    func cellText(_ s: [Double]) -> String {
        guard !s.isEmpty else { return "–" }
        let sm = Summary(s)
        let n = s.count < plan.seeds.count ? " (n=\(s.count)/\(plan.seeds.count))" : ""
        return String(format: "%.1f ± %.1f", sm.mean, sm.std) + n
    }

    /// The plan's steps, then the datasets that train for other step counts, e.g.
    /// "50000 gradient steps (maze-a: 100000)".
    func stepsText(_ unit: String) -> String {
        let own = plan.datasets.filter { $0.steps != nil && $0.steps != plan.steps }
        return "\(plan.steps) \(unit)" + (own.isEmpty ? "" : " (" + own.map { "\($0.id): \(plan.steps(for: $0))" }.joined(separator: ", ") + ")")
    }

    func markdown(_ c: Collection) -> String {
        var o = "# \(plan.name)\n\n"
        o += "Normalised scores (D4RL-style, this suite's reference scores) of the final policy: mean ± std over training seeds \(plan.seeds.map(String.init).joined(separator: ", ")); "
        o += "\(stepsText("gradient steps")), \(plan.eval_episodes) evaluation episodes per seed from evaluation seed \(plan.evalSeed), each learner's own sampling (one step; DQL: its K-step chain), the same budget for every algorithm.\n\n"
        o += "| Dataset | data | " + columns.map(\.title).joined(separator: " | ") + " |\n"
        o += "|---|---:|" + columns.map { _ in "---:" }.joined(separator: "|") + "|\n"
        var byDomain: [String: [String]] = [:]
        for item in plan.datasets {
            byDomain[Suite.domain(item.id), default: []].append(item.id)
            o += "| \(item.id) | \(dataScore(c, dataset: item.id).map { String(format: "%.1f", $0) } ?? "–") | "
            o += columns.map { cellText(scores(c, dataset: item.id, column: $0)) }.joined(separator: " | ") + " |\n"
        }
        for d in byDomain.keys.sorted() {
            let ids = byDomain[d]!
            let data = ids.compactMap { dataScore(c, dataset: $0) }
            o += "| **\(d) average** | \(data.count == ids.count ? String(format: "%.1f", Summary(data).mean) : "–") | "
            o += columns.map { col in
                let means = ids.map { scores(c, dataset: $0, column: col) }.filter { $0.count == plan.seeds.count }
                    .map { Summary($0).mean }
                return means.count == ids.count ? String(format: "**%.1f**", Summary(means).mean) : "–"
            }.joined(separator: " | ") + " |\n"
        }
        o += "\n\"data\" is the mean normalised score of the dataset's own complete episodes (mazes: the share of its collection episodes that reach the evaluation goal); std is over training seeds (population).\n"
        for m in plan.eval_modes ?? [] { o += m.explanation + "\n" }
        for v in plan.variants ?? [] {
            let keys = v.config.keys.sorted().map { "\($0) = \(v.config[$0]!.any)" }.joined(separator: ", ")
            o += "\(v.name): \(keys)\(v.algos.map { " (" + $0.joined(separator: ", ") + ")" } ?? "").\n"
        }
        if let from = plan.curve_mean_from { o += curveMeanTable(c, from: from) }
        if !c.missing.isEmpty {
            let total = plan.cells.reduce(0) { $0 + 1 + plan.evalModes(for: $1.algo, dataset: $1.dataset).count }
            o += "\nMissing cells (\(c.missing.count) of \(total)):\n\n"
            for (cell, why) in c.missing { o += "- \(cell): \(why)\n" }
        }
        o += "\nDatasets: " + plan.datasets.map { "\($0.id) (\((try? plan.size(of: $0)) ?? 0) transitions)" }.joined(separator: ", ")
        o += "; generation seed \(plan.dataSeed).\n\nRegenerate with:\n\n```sh\n\(command)\n```\n\n"
        o += "Cells (one JSON file per dataset, algorithm and seed) are in `\(cellsDir)`; a run skips every cell whose file matches the plan.\n"
        return o
    }

    /// The columns that train (one-step evaluation, with a curve of evaluations during training).
    var trainedColumns: [Column] { columns.filter { $0.eval == "one-step" } }

    /// A record's mean over its curve's evaluations at steps ≥ `from` (nil when it has none).
    static func curveMean(_ r: CellRecord, from: Int) -> Double? {
        let late = r.curve.filter { $0.step >= from }.map(\.score)
        return late.isEmpty ? nil : Summary(late).mean
    }

    /// The second read of the trained columns (``SuitePlan/curve_mean_from``): a header row,
    /// one row per dataset, then each domain's average of the per-dataset means.
    func curveMeanRows(_ c: Collection, from: Int) -> [[String]] {
        let cols = trainedColumns
        func means(_ dataset: String, _ col: Column) -> [Double] {
            plan.seeds.compactMap { c.records[col.key(dataset, seed: $0)].flatMap { Suite.curveMean($0, from: from) } }
        }
        var rows = [["Dataset"] + cols.map(\.title)]
        var byDomain: [String: [String]] = [:]
        for item in plan.datasets {
            byDomain[Suite.domain(item.id), default: []].append(item.id)
            rows.append([item.id] + cols.map { cellText(means(item.id, $0)) })
        }
        for d in byDomain.keys.sorted() {
            let ids = byDomain[d]!
            rows.append(["**\(d) average**"] + cols.map { col in
                let m = ids.map { means($0, col) }.filter { $0.count == plan.seeds.count }.map { Summary($0).mean }
                return m.count == ids.count ? String(format: "**%.1f**", Summary(m).mean) : "–"
            })
        }
        return rows
    }

    func curveMeanCaption(from: Int) -> String {
        "Each seed's mean over its evaluations (\(plan.eval_episodes) episodes each) at steps ≥ \(from), then mean ± std over seeds: a read less tied to one checkpoint than the final score."
    }

    func curveMeanTable(_ c: Collection, from: Int) -> String {
        let rows = curveMeanRows(c, from: from)
        var o = "\n## Mean of the evaluations from step \(from) on\n\n\(curveMeanCaption(from: from))\n\n"
        o += "| " + rows[0].joined(separator: " | ") + " |\n"
        o += "|---|" + rows[0].dropFirst().map { _ in "---:" }.joined(separator: "|") + "|\n"
        for row in rows.dropFirst() { o += "| " + row.joined(separator: " | ") + " |\n" }
        return o
    }

    /// The machine-readable twin: `{"protocol": {…}, "rows": [{dataset, domain, algo, seed, steps, score, eval, variant}]}`,
    /// with the data's own score as rows whose `algo` is `data`.
    func json(_ c: Collection) throws -> String {
        var rows: [[String: Any]] = []
        for item in plan.datasets {
            if let d = dataScore(c, dataset: item.id) {
                rows.append(["dataset": item.id, "domain": Suite.domain(item.id), "algo": "data", "seed": NSNull(), "steps": 0,
                             "score": d, "eval": "data", "variant": ""])
            }
            for col in columns {
                for s in plan.seeds {
                    guard let r = c.records[col.key(item.id, seed: s)] else { continue }
                    var row: [String: Any] = ["dataset": r.dataset, "domain": r.domain, "algo": col.row, "seed": r.seed, "steps": r.steps,
                                              "score": r.score, "eval": r.eval, "variant": r.variant]
                    if let from = plan.curve_mean_from, col.eval == "one-step", let m = Suite.curveMean(r, from: from) {
                        row["curve_mean"] = m
                    }
                    rows.append(row)
                }
            }
        }
        var protocolInfo: [String: Any] = [
            "name": plan.name,
            "datasets": plan.datasets.map { ["id": $0.id, "version": datasetVersion($0.id) as Any, "size": (try? plan.size(of: $0)) as Any,
                                                    "steps": plan.steps(for: $0)] },
            "data_seed": plan.dataSeed, "steps": plan.steps, "seeds": plan.seeds, "algorithms": plan.algorithms,
            "eval_episodes": plan.eval_episodes, "eval_seed": plan.evalSeed,
            "eval_modes": (plan.eval_modes ?? []).map { m -> [String: Any] in
                guard let sel = m.selection else { return ["name": m.name, "sampling": m.sampling!] }
                return ["name": m.name, "candidates": sel.candidates, "noise_temperature": sel.noiseTemperature, "beta": sel.beta]
            },
            "variants": (plan.variants ?? []).map { v -> [String: Any] in
                ["name": v.name, "algos": v.algos ?? plan.algorithms, "config": v.config.mapValues { $0.any }]
            },
            "eval_seeds": "episode i of every evaluation uses env seed eval_seed + i",
            "missing": c.missing.map { "\($0.cell): \($0.reason)" },
        ]
        if let from = plan.curve_mean_from { protocolInfo["curve_mean_from"] = from }
        let data = try JSONSerialization.data(withJSONObject: ["protocol": protocolInfo, "rows": rows],
                                              options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
        return String(decoding: data, as: UTF8.self) + "\n"
    }

    func html(_ c: Collection) -> String {
        var r = HTMLReport(title: plan.name)
        var rows = [["dataset", "data"] + columns.map(\.title)]
        for item in plan.datasets {
            rows.append([item.id, dataScore(c, dataset: item.id).map { String(format: "%.1f", $0) } ?? "–"]
                        + columns.map { cellText(scores(c, dataset: item.id, column: $0)) })
        }
        r.add(.paragraph("Final normalised scores, mean ± std over seeds; \(stepsText("steps")), \(plan.eval_episodes) evaluation episodes."))
        r.add(.table(rows))
        if let from = plan.curve_mean_from {
            r.add(.paragraph(curveMeanCaption(from: from)))
            r.add(.table(curveMeanRows(c, from: from).map { $0.map { $0.replacingOccurrences(of: "**", with: "") } }))
        }
        if !c.missing.isEmpty { r.add(.paragraph("Missing cells: " + c.missing.map { "\($0.cell) (\($0.reason))" }.joined(separator: "; "))) }
        for item in plan.datasets {
            r.add(.heading(item.id))
            // Evaluation curves from the cells; loss curves and an episode where the run folders are here.
            var series: [SVGLineChart.Series] = []
            var runs: [(name: String, dir: String)] = []
            for col in columns where col.eval == "one-step" {
                let name = col.variant.isEmpty ? col.algo : "\(col.algo) \(col.variant)"
                for s in plan.seeds {
                    guard let rec = c.records[col.key(item.id, seed: s)] else { continue }
                    series.append(.init(name: "\(name) seed \(s)", points: rec.curve.map { (Double($0.step), $0.score) }))
                    let dir = runDir(col.key(item.id, seed: s))
                    if FileManager.default.fileExists(atPath: dir + "/metrics.jsonl") { runs.append(("\(name) seed \(s)", dir)) }
                }
            }
            if !series.isEmpty {
                r.add(.svg(SVGLineChart(title: "Normalised score during training", xLabel: "gradient step", yLabel: "normalised score",
                                        series: series).svg()))
            }
            for svg in RunReport.chartSVGs(runs: runs).dropFirst().prefix(1) { r.add(.svg(svg)) }
            for col in columns where col.eval == "one-step" {
                let a = col.variant.isEmpty ? col.algo : "\(col.algo) \(col.variant)"
                let dir = runDir(col.key(item.id, seed: plan.seeds[0]))
                guard c.records[col.key(item.id, seed: plan.seeds[0])] != nil,
                      let entry = try? DatasetCatalog.entry(item.id), let spec = try? EnvRegistry.spec(entry.env),
                      let loaded = try? CheckpointPolicy.load(dir),
                      let svg = try? EpisodeAnimation.svg(spec: spec, policy: loaded.policy, seed: plan.evalSeed) else { continue }
                r.add(.paragraph("\(a.uppercased()): one evaluation episode (seed \(plan.evalSeed)) of the final checkpoint."))
                r.add(.svg(svg))
            }
        }
        return r.html()
    }
}
