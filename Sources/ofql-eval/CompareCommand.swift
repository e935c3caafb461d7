import ArgumentParser
import Datasets
import Experiments
import Foundation

/// `ofql-eval compare`: training runs side by side with the critic's diagnostics against the
/// data's Monte-Carlo discounted returns (the budget study of the OFQL-learns issue).
struct CompareCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract: "Evaluation curves of training runs side by side, with mean Q, critic loss, clipped actions and flow loss against the data's discounted returns.")
    @Option(name: .customLong("run"), help: "NAME=DIR of a `train` run with evaluations (repeat for each run).") var runs: [String] = []
    @Option(help: "The dataset the runs trained on, for the Monte-Carlo reference of mean Q.") var dataset: String?
    @Option(help: "Heading of the report (default: the dataset's file name).") var title: String?
    @Option(help: "Markdown file to write (an SVG of the same name goes beside it); without it the Markdown goes to stdout.") var out: String?
    @Option(help: "Points within which an evaluation counts as settled at the final score.") var tolerance = 5.0

    func parsedRuns() throws -> [CurveReport.Run] {
        try runs.map { s in
            guard let eq = s.firstIndex(of: "="), eq != s.startIndex, s.index(after: eq) != s.endIndex else {
                throw ValidationError("--run expects NAME=DIR, got '\(s)'")
            }
            return CurveReport.Run(name: String(s[..<eq]), dir: String(s[s.index(after: eq)...]))
        }
    }

    func validate() throws {
        guard !runs.isEmpty else { throw ValidationError("--run: give at least one NAME=DIR") }
        _ = try parsedRuns()
        if let out { guard out.hasSuffix(".md") else { throw ValidationError("--out must name a Markdown file ending in .md, got \(out)") } }
        guard tolerance.isFinite && tolerance >= 0 else { throw ValidationError("--tolerance must be a non-negative number, got \(tolerance)") }
    }

    func run() throws {
        var data: D4RLDataset?, maxSteps: Int?
        if let dataset {
            let (ds, spec) = try loadDatasetAndEnv(dataset, env: nil)
            data = ds; maxSteps = spec?.maxEpisodeSteps
        }
        let name = dataset.map { (($0 as NSString).lastPathComponent as NSString).deletingPathExtension } ?? "runs"
        var report = try CurveReport(title: title ?? name, runs: try parsedRuns(), dataset: data,
                                     datasetName: dataset.map { ($0 as NSString).lastPathComponent } ?? "not given", maxEpisodeSteps: maxSteps)
        report.tolerance = tolerance
        guard let out else { print(report.markdown(svgName: nil, command: nil), terminator: ""); return }
        let folder = (out as NSString).deletingLastPathComponent
        if !folder.isEmpty { try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) }
        let svgPath = String(out.dropLast(3)) + ".svg"
        let command = (["ofql-eval compare"] + runs.map { "--run \($0)" } + (dataset.map { ["--dataset \($0)"] } ?? [])
                       + (title.map { ["--title '\($0)'"] } ?? []) + ["--out \(out)"]).joined(separator: " ")
        try writeAtomically(report.svg(), to: svgPath, flag: "--out")
        try writeAtomically(report.markdown(svgName: (svgPath as NSString).lastPathComponent, command: command), to: out, flag: "--out")
        print("wrote \(out) and \(svgPath)")
    }
}
