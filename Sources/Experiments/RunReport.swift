import Envs
import Foundation
import OFQL
import Rollout

/// The self-contained HTML report of a training run: learning curves and one evaluation episode.
public enum RunReport {
    /// Reads DIR/metrics.jsonl as rows of numbers keyed by metric name.
    public static func metrics(_ dir: String) -> [[String: Double]] {
        guard let text = try? String(contentsOfFile: dir + "/metrics.jsonl", encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap { line in
            guard let obj = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else { return nil }
            return obj.compactMapValues { ($0 as? NSNumber)?.doubleValue }
        }
    }

    public static func chartSVGs(runs: [(name: String, dir: String)]) -> [String] {
        var charts: [String] = []
        let evals = runs.map { ($0.name, TrainRun.readEvals($0.dir)) }
        if evals.contains(where: { !$0.1.isEmpty }) {
            let scored = evals.allSatisfy { $0.1.allSatisfy { $0.normalized_score_mean != nil } }
            charts.append(SVGLineChart(
                title: scored ? "Normalised score during training" : "Evaluation return during training",
                xLabel: "gradient step", yLabel: scored ? "normalised score" : "return",
                series: evals.map { name, pts in
                    .init(name: name, points: pts.map { (Double($0.step), scored ? $0.normalized_score_mean! : $0.return_mean) },
                          band: pts.map { scored ? ($0.normalized_score_std ?? 0) : $0.return_std })
                }).svg())
        }
        let metricSets = runs.map { ($0.name, metrics($0.dir)) }
        for (key, title, log) in [("actor/flow_loss", "Flow BC loss", true), ("critic/loss", "Critic loss", true),
                                  ("critic/q_mean", "Mean Q", false), ("actor/loss", "Actor loss", false)] {
            let series = metricSets.compactMap { name, rows -> SVGLineChart.Series? in
                let pts = rows.compactMap { r -> (x: Double, y: Double)? in
                    guard let s = r["step"], let v = r[key] else { return nil }
                    return (s, v)
                }
                return pts.isEmpty ? nil : .init(name: name, points: pts)
            }
            if !series.isEmpty {
                charts.append(SVGLineChart(title: title, xLabel: "gradient step", yLabel: key, series: series, logY: log).svg())
            }
        }
        return charts
    }

    /// Writes DIR/report.html for one run.
    public static func write(runDir: String, title: String, spec: EnvSpec?, agent: any Learner, evalSeed: UInt64) throws {
        var r = HTMLReport(title: title)
        let evals = TrainRun.readEvals(runDir)
        if let last = evals.last {
            var rows = [["step", "return", "normalised score", "success rate"]]
            for e in evals {
                rows.append(["\(e.step)", "\(format2(e.return_mean)) ± \(format2(e.return_std))",
                             e.normalized_score_mean.map { "\(format2($0)) ± \(format2(e.normalized_score_std ?? 0))" } ?? "n/a",
                             e.success_rate.map { format2(100 * $0) + " %" } ?? ""])
            }
            r.add(.paragraph("Final evaluation at step \(last.step): return \(format2(last.return_mean))"
                             + (last.normalized_score_mean.map { ", normalised score \(format2($0))" } ?? "") + "."))
            r.add(.heading("Learning curves"))
            for svg in chartSVGs(runs: [(agent.config.algo.rawValue, runDir)]) { r.add(.svg(svg)) }
            r.add(.heading("Evaluations"))
            r.add(.table(rows))
        }
        if let spec, let svg = try? EpisodeAnimation.svg(spec: spec, policy: CheckpointPolicy(agent: agent, name: "policy"), seed: evalSeed) {
            r.add(.heading("One evaluation episode (seed \(evalSeed))"))
            r.add(.svg(svg))
        }
        r.add(.heading("Configuration"))
        r.add(.preformatted(String(decoding: (try? agent.config.jsonData()) ?? Data(), as: UTF8.self)))
        try writeAtomically(r.html(), to: runDir + "/report.html", flag: "--out")
    }
}
