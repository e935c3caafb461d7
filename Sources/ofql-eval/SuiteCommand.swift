import ArgumentParser
import Experiments
import Foundation

/// `ofql-eval suite`: runs a results-table plan cell by cell (locally, one cell, or as a Slurm
/// job array) and builds the table from the finished cells.
struct SuiteCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "suite",
        abstract: "Run a results-table plan (datasets × algorithms × seeds) and build its table from the finished cells.",
        subcommands: [SuiteRun.self, SuiteCollect.self],
        defaultSubcommand: SuiteRun.self)
}

struct SuiteRun: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Train and evaluate every cell of a plan (skipping cells whose record matches), then write the tables.",
        discussion: """
            Each finished cell is a small JSON file in the cells folder (its full config and hash, dataset \
            id, version and size, evaluation mode, final score and curve). A cell whose file matches the \
            plan is skipped; an interrupted cell resumes from its latest checkpoint. The tables \
            (results.md, results.html, results.json) are rebuilt from the cells. --task runs one cell (the \
            Slurm array task id); --slurm writes OUT/slurm/array.sbatch and collect.sbatch and submits them \
            when sbatch is on PATH.
            """)

    @Option(help: "Plan JSON file.") var plan: String
    @Option(help: "Output folder (plan.json, datasets/, runs/, cells/, results.md/.html/.json).") var out: String
    @Option(help: "Folder of finished cells (default: OUT/cells), e.g. results/<table>/cells to commit them.") var cells: String?
    @Option(help: "Run only the cell with this index (0-based, dataset-major order; the Slurm array task id).") var task: Int?
    @Option(help: "Dispatch workers for generation and evaluation.") var workers = ProcessInfo.processInfo.activeProcessorCount
    @Option(help: "BLAS threads while training.") var threads = 2
    @Flag(help: "Write a Slurm job array (one task per cell) and a dependent collection job; submit them when sbatch is on PATH.") var slurm = false
    @Flag(help: "With --slurm: write the scripts without submitting.") var dryRun = false
    @Option(help: "With --slurm: CPUs per task (default: the plan's slurm.cpus_per_task, else 2).") var cpusPerTask: Int?
    @Option(help: "With --slurm: wall time per task, e.g. 02:00:00 (default: the plan's slurm.time, else none).") var time: String?
    @Option(help: "With --slurm: at most this many tasks at once (default: the plan's slurm.throttle, else none).") var throttle: Int?
    @Option(help: "With --slurm: partition (default: the plan's slurm.partition, else the cluster's default).") var partition: String?

    func validate() throws {
        guard (1...1024).contains(workers) else { throw ValidationError("--workers must be between 1 and 1024, got \(workers)") }
        guard threads >= 1 else { throw ValidationError("--threads must be at least 1, got \(threads)") }
        if let task, task < 0 { throw ValidationError("--task must be ≥ 0, got \(task)") }
        if slurm && task != nil { throw ValidationError("--slurm submits every cell; drop --task") }
        if !slurm && (dryRun || cpusPerTask != nil || time != nil || throttle != nil || partition != nil) {
            throw ValidationError("--dry-run, --cpus-per-task, --time, --throttle and --partition need --slurm")
        }
    }

    func run() throws {
        let p = try SuitePlan.load(path: plan)
        let suite = Suite(plan: p, out: out, cellsDir: cells, workers: workers, threads: threads,
                          command: (["ofql-eval"] + CommandLine.arguments.dropFirst()).joined(separator: " "))
        if slurm {
            var s = p.slurm ?? SlurmSettings()
            if let cpusPerTask { s.cpus_per_task = cpusPerTask }
            if let time { s.time = time }
            if let throttle { s.throttle = throttle }
            if let partition { s.partition = partition }
            let sub = try suite.submitSlurm(settings: s, binary: Self.executablePath(), dryRun: dryRun)
            print("wrote \(sub.arrayScript) (\(sub.tasks) array tasks) and \(sub.collectScript)")
            if let a = sub.arrayJob, let c = sub.collectJob {
                print("submitted array job \(a) and collection job \(c) (runs after the array, also when cells fail)")
            } else {
                print(dryRun ? "dry run: not submitted" : "sbatch is not on PATH: not submitted (sbatch \(sub.arrayScript) submits it)")
            }
            return
        }
        let md = try suite.run(task: task)
        if task == nil { print(md) }
    }

    /// This executable's absolute path, for the job scripts.
    static func executablePath() -> String {
        if let p = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") { return p }
        return URL(fileURLWithPath: CommandLine.arguments[0]).standardizedFileURL.path
    }
}

struct SuiteCollect: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "collect",
        abstract: "Rebuild OUT's tables (results.md, .html, .json) from the finished cells; list missing and failed cells.")

    @Argument(help: "The suite's output folder (holds plan.json unless --plan is given).") var out: String
    @Option(help: "Folder of finished cells (default: OUT/cells).") var cells: String?
    @Option(help: "Plan JSON file (default: OUT/plan.json), e.g. to build a committed table from its cells.") var plan: String?

    func run() throws {
        let p = try SuitePlan.load(path: plan ?? out + "/plan.json")
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        let suite = Suite(plan: p, out: out, cellsDir: cells, workers: 1, threads: 1,
                          command: "ofql-eval suite collect \(out)" + (plan.map { " --plan \($0)" } ?? "")
                            + (cells.map { " --cells \($0)" } ?? ""))
        print(try suite.collect())
    }
}
