import ArgumentParser
import BLAS
import Experiments
import Foundation

/// `ofql-eval expressiveness`: the one-step study's 2-D toy (arXiv 2508.13904): one-step OFQL
/// against flow matching (1 and 10 Euler steps) and DDPM on a ring of Gaussians.
struct ExpressivenessCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "expressiveness",
        abstract: "Behaviour cloning of a 2-D ring of Gaussians by one-step OFQL, flow matching (1 and 10 steps) and DDPM; MMD and mode coverage, with a picture.")
    @Option(help: "Markdown report to write (an SVG of the same name goes beside it).") var out: String
    @Option(help: "Gradient steps per policy.") var steps = 5000
    @Option(help: "Hidden width (3 layers).") var width = 64
    @Option(help: "Batch size.") var batch = 1024
    @Option(help: "Seed of the data, the networks and the sampling.") var seed: UInt64 = 0

    func validate() throws {
        guard steps >= 1, width >= 1, batch >= 1 else { throw ValidationError("--steps, --width and --batch must be positive") }
        guard out.hasSuffix(".md") else { throw ValidationError("--out must name a Markdown file ending in .md, got \(out)") }
    }

    func run() throws {
        BLASRuntime.setThreads(1)
        var study = ExpressivenessStudy()
        study.steps = steps; study.width = width; study.batch = batch; study.seed = seed
        let results = try study.run()
        let folder = (out as NSString).deletingLastPathComponent
        if !folder.isEmpty { try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) }
        let svgPath = String(out.dropLast(3)) + ".svg"
        let command = "ofql-eval expressiveness --out \(out)" + (steps != 5000 ? " --steps \(steps)" : "") + (seed != 0 ? " --seed \(seed)" : "")
        try writeAtomically(study.svg(results), to: svgPath, flag: "--out")
        try writeAtomically(study.markdown(results, svgName: (svgPath as NSString).lastPathComponent, command: command), to: out, flag: "--out")
        for r in results {
            print(String(format: "%-24@ MMD² %.4f  modes %d/%d  on-mode %.0f %%", r.name as NSString, r.mmd, r.modesCovered, study.modes, 100 * r.onMode))
        }
    }
}
