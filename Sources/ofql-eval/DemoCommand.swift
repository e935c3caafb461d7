import ArgumentParser
import Datasets
import Foundation
import Experiments
import Physics

/// `ofql-eval demo`: the main job end to end on a small embedded default.
struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Run the main job end to end on a small embedded default.",
        discussion: """
            Checks the native libraries, generates a small hopper dataset from the committed behaviour \
            policies, trains OFQL and the BC baseline with the same budget, evaluates both on the rollout \
            workers, prints their normalised scores beside the data's and writes an HTML report.
            """)

    @Option(help: "Catalog dataset to generate.") var dataset = "hopper-medium-v1"
    @Option(help: "Transitions to generate.") var size = 50_000
    @Option(help: "Gradient steps per algorithm.") var steps = 6_000
    @Option(help: "Evaluation episodes.") var evalEpisodes = 10
    @Option(help: "Output folder (its runs/ are replaced; generated datasets are reused).") var out = "demo-out"
    @Option(help: "Rollout workers.") var workers = ProcessInfo.processInfo.activeProcessorCount
    @Flag(help: "A tiny budget (seconds; for CI): 5,000 transitions, 300 steps, 2 episodes.") var tiny = false

    /// The short-budget settings of the committed results table (results/plan-stand-ins-v1.json):
    /// η = 0.1 and observation normalisation; with the paper's η = 1, a few thousand steps
    /// are dominated by the Q term (see the results notes).
    static let configs: [String: [String: JSONNumberOrString]] = [
        "ofql": ["eta": .number(0.1), "normalizeObservations": .bool(true)],
        "bc": ["normalizeObservations": .bool(true)],
    ]

    func validate() throws {
        guard size >= 1000 else { throw ValidationError("--size must be at least 1000, got \(size)") }
        guard steps >= 10 else { throw ValidationError("--steps must be at least 10, got \(steps)") }
        guard evalEpisodes >= 1 else { throw ValidationError("--eval-episodes must be at least 1, got \(evalEpisodes)") }
    }

    func run() throws {
        let report = Doctor.run()
        let failed = report.checks.filter { !$0.passed }
        guard failed.isEmpty else {
            print(report.text)
            throw ValidationError("demo: library checks failed: " + failed.map(\.name).joined(separator: ", "))
        }
        print("ofql-eval \(PackageInfo.version): Box2D, OpenBLAS (\(PackageInfo.blasCoreChoice)) and HDF5 self-tests passed")
        let size = tiny ? 5_000 : self.size, steps = tiny ? 300 : self.steps, episodes = tiny ? 2 : evalEpisodes
        let plan = SuitePlan(name: "Demo: OFQL vs BC on \(dataset)", datasets: [.init(id: dataset, size: size, config: nil)],
                             algorithms: ["ofql", "bc"], seeds: [0], steps: steps, eval_episodes: episodes,
                             eval_every: max(1, steps / 4), configs: DemoCommand.configs, data_seed: 0)
        print("plan: \(size) transitions of \(dataset); OFQL and BC, \(steps) gradient steps each; \(episodes) evaluation episodes on \(workers) workers")
        let t0 = monotonicSeconds()
        // The demo always trains afresh (generated datasets are reused).
        try? FileManager.default.removeItem(atPath: out + "/runs")
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        // The demo always trains afresh: its cells go with its runs.
        try? FileManager.default.removeItem(atPath: out + "/cells")
        print(try Suite(plan: plan, out: out, workers: workers, threads: 2,
                        command: "ofql-eval demo --dataset \(dataset) --size \(size) --steps \(steps) --eval-episodes \(episodes) --out \(out)").run())
        print(String(format: "demo finished in %.0f s; report: %@/results.html", monotonicSeconds() - t0, out))
        print("note: \(steps) steps is a smoke-level budget (the paper trains 2M); results/stand-ins-v1.md has the first table and what it taught us")
    }
}
