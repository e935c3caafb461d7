import Datasets
import Foundation
import Rollout

/// Training runs side by side: the evaluation curve of each, the critic's diagnostics at every
/// evaluation (mean Q, critic loss, share of clipped action dims, the flow/BC loss) and the
/// data's Monte-Carlo discounted returns under each critic's own reward transform, the
/// reference a mean Q should approach (arXiv 2508.13904, App. B, trains 2M steps on MuJoCo and
/// 1M on AntMaze and Kitchen; the stand-ins' budget is chosen from such curves).
/// `ofql-eval compare` writes it as Markdown with an SVG beside it.
public struct CurveReport {
    public struct Run: Sendable {
        public var name: String
        public var dir: String
        public init(name: String, dir: String) { self.name = name; self.dir = dir }
    }

    /// One run as read from its folder (`eval.jsonl`, `metrics.jsonl`, `config.json`).
    public struct LoadedRun {
        public var run: Run
        public var evals: [EvalPoint]
        public var metrics: [[String: Double]]
        public var algo: String
        public var gamma: Double
        public var rewardScale: Double
        public var rewardShift: Double
        /// Whether the learner has a critic: a logged mean Q or critic loss that is not always 0
        /// (BC logs both as 0).
        public var hasCritic: Bool { metrics.contains { ($0["critic/q_mean"] ?? 0) != 0 || ($0["critic/loss"] ?? 0) != 0 } }
        /// The last metrics row at or before `step`; nil past the run's last logged step (a
        /// shorter or stopped run has no metrics at a longer run's later evaluations).
        public func metrics(at step: Int) -> [String: Double]? {
            guard let end = metrics.last?["step"], Double(step) <= end else { return nil }
            return metrics.last { ($0["step"] ?? .infinity) <= Double(step) }
        }
    }

    public var title: String
    public let runs: [LoadedRun]
    /// The data the runs trained on, for the Monte-Carlo reference (nil: no reference).
    public let dataset: D4RLDataset?
    public var datasetName: String
    public let maxEpisodeSteps: Int?
    /// The data's discounted returns under each distinct reward transform of the runs with a
    /// critic, computed once here (the Markdown and the SVG both read them).
    public private(set) var references: [Reference] = []
    /// Every evaluation of every run carries a normalised score (else the reports use returns).
    var scored: Bool { runs.allSatisfy { $0.evals.allSatisfy { $0.normalized_score_mean != nil } } }
    /// Points from a run's final evaluation within which an earlier one counts as settled
    /// (``settledStep(_:)``).
    public var tolerance = 5.0

    /// Reads every run; throws naming the folder when it holds no evaluations.
    public init(title: String, runs: [Run], dataset: D4RLDataset?, datasetName: String, maxEpisodeSteps: Int?) throws {
        self.title = title; self.dataset = dataset; self.datasetName = datasetName; self.maxEpisodeSteps = maxEpisodeSteps
        guard !runs.isEmpty else { throw RunError("--run: give at least one NAME=DIR") }
        self.runs = try runs.map { r in
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: r.dir, isDirectory: &isDir), isDir.boolValue else {
                throw RunError("--run \(r.name)=\(r.dir): no such run folder")
            }
            let evals = TrainRun.readEvals(r.dir)
            guard !evals.isEmpty else {
                throw RunError("--run \(r.name)=\(r.dir): no evaluations in \(r.dir)/eval.jsonl (train with --eval-every)")
            }
            var algo = "?", gamma = 0.99, scale = 1.0, shift = 0.0
            if let data = FileManager.default.contents(atPath: r.dir + "/config.json") {
                guard let obj = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
                    throw RunError("--run \(r.name)=\(r.dir): \(r.dir)/config.json is not a JSON object")
                }
                algo = obj["algo"] as? String ?? algo
                gamma = (obj["gamma"] as? NSNumber)?.doubleValue ?? gamma
                scale = (obj["rewardScale"] as? NSNumber)?.doubleValue ?? scale
                shift = (obj["rewardShift"] as? NSNumber)?.doubleValue ?? shift
            }
            return LoadedRun(run: r, evals: evals.sorted { $0.step < $1.step }, metrics: RunReport.metrics(r.dir),
                             algo: algo, gamma: gamma, rewardScale: scale, rewardShift: shift)
        }
        references = Self.references(runs: self.runs, dataset: dataset, maxEpisodeSteps: maxEpisodeSteps)
    }

    /// Mean and p10/p50/p90 of the data's discounted returns under one reward transform.
    public struct Reference: Equatable {
        public var gamma: Double, scale: Double, shift: Double
        public var mean: Double, p10: Double, p50: Double, p90: Double
    }

    /// One reference per distinct (γ, scale, shift) among the runs with a critic.
    static func references(runs: [LoadedRun], dataset: D4RLDataset?, maxEpisodeSteps: Int?) -> [Reference] {
        guard let dataset else { return [] }
        var out: [Reference] = []
        for r in runs where r.hasCritic {
            if out.contains(where: { $0.gamma == r.gamma && $0.scale == r.rewardScale && $0.shift == r.rewardShift }) { continue }
            let g = dataset.discountedReturns(gamma: r.gamma, scale: r.rewardScale, shift: r.rewardShift, maxEpisodeSteps: maxEpisodeSteps)
            let q = Summary.quantiles(g, [0.1, 0.5, 0.9])
            out.append(Reference(gamma: r.gamma, scale: r.rewardScale, shift: r.rewardShift, mean: Summary(g).mean,
                                 p10: q[0], p50: q[1], p90: q[2]))
        }
        return out
    }

    /// The score of an evaluation point (normalised when the env has reference scores).
    static func score(_ p: EvalPoint) -> Double { p.normalized_score_mean ?? p.return_mean }

    /// The first evaluation step from which every later evaluation stays within `tolerance` of
    /// the final one (nil when only the final one does).
    public func settledStep(_ r: LoadedRun) -> Int? {
        guard let last = r.evals.last else { return nil }
        let f = Self.score(last)
        var first: Int? = last.step
        for p in r.evals.reversed() {
            if abs(Self.score(p) - f) <= tolerance { first = p.step } else { break }
        }
        return first
    }

    public func markdown(svgName: String?, command: String?) -> String {
        var md = "## \(title)\n\n"
        let unit = scored ? "normalised score" : "return"
        md += "Data: `\(datasetName)`"
        if let dataset { md += ", \(dataset.count) rows" }
        md += ". Each run's \(unit) at each evaluation (mean over its episodes)"
        md += "; for the runs with a critic, the logged training metrics at that step.\n\n"
        for ref in references {
            md += String(format: "Monte-Carlo discounted return of the data per row (γ %g, reward × %g %@ %g, to each episode's end): mean %.1f, p10 %.1f, p50 %.1f, p90 %.1f. ",
                         ref.gamma, ref.scale, ref.shift < 0 ? "−" : "+", abs(ref.shift), ref.mean, ref.p10, ref.p50, ref.p90)
            md += "A critic of the behaviour policy would settle near the mean; a policy that improves on the data sits above it, but a mean Q far above the p90 is extrapolation.\n\n"
        }
        if let svgName { md += "![\(title)](\(svgName))\n\n" }
        let critics = runs.filter(\.hasCritic)
        var header = "| step |" + runs.map { " \($0.run.name) |" }.joined()
        var rule = "|---:|" + String(repeating: "---:|", count: runs.count)
        for c in critics {
            header += " \(c.run.name) mean Q | critic loss | clipped | flow loss |"
            rule += "---:|---:|---:|---:|"
        }
        md += header + "\n" + rule + "\n"
        let steps = Array(Set(runs.flatMap { $0.evals.map(\.step) })).sorted()
        func cell(_ v: Double?, _ fmt: String) -> String { v.map { " " + String(format: fmt, $0) + " |" } ?? " – |" }
        for s in steps {
            var line = "| \(s) |"
            for r in runs { line += cell(r.evals.first { $0.step == s }.map(Self.score), "%.1f") }
            for c in critics {
                let m = c.metrics(at: s)
                line += cell(m?["critic/q_mean"], "%.1f") + cell(m?["critic/loss"], "%.3g")
                line += cell(m?["actor/clipped_fraction"].map { 100 * $0 }, "%.0f %%") + cell(m?["actor/flow_loss"], "%.3g")
            }
            md += line + "\n"
        }
        md += "\n"
        for r in runs {
            let last = r.evals.last!
            let best = r.evals.max { Self.score($0) < Self.score($1) }!
            md += String(format: "- **%@** (%@): final %.1f at %d steps, best %.1f at %d; ", r.run.name, r.algo,
                         Self.score(last), last.step, Self.score(best), best.step)
            if let s = settledStep(r), s < last.step {
                md += String(format: "within %.0f points of the final from %d steps on.\n", tolerance, s)
            } else {
                md += String(format: "the evaluation before the last is more than %.0f points away from it.\n", tolerance)
            }
        }
        if let command { md += "\nMade by `\(command)`.\n" }
        return md
    }

    /// The evaluation curves and, when a run has a critic, mean Q against the data's mean
    /// discounted return, stacked in one SVG.
    public func svg() -> String {
        var charts = [SVGLineChart(title: "\(title): evaluation", xLabel: "gradient step", yLabel: scored ? "normalised score" : "return",
                                   series: runs.map { r in .init(name: r.run.name, points: r.evals.map { (Double($0.step), Self.score($0)) }) })]
        let critics = runs.filter(\.hasCritic)
        if !critics.isEmpty {
            var series: [SVGLineChart.Series] = critics.map { r in
                .init(name: "\(r.run.name) mean Q", points: r.metrics.compactMap { m in
                    guard let s = m["step"], let q = m["critic/q_mean"] else { return nil }
                    return (s, q)
                })
            }
            let xMax = Double(runs.flatMap { $0.evals.map(\.step) }.max() ?? 1)
            for (k, ref) in references.enumerated() {
                series.append(.init(name: "data MC mean" + (k > 0 ? " \(k + 1)" : ""), points: [(0, ref.mean), (xMax, ref.mean)]))
                series.append(.init(name: "data MC p90" + (k > 0 ? " \(k + 1)" : ""), points: [(0, ref.p90), (xMax, ref.p90)]))
            }
            charts.append(SVGLineChart(title: "\(title): mean Q", xLabel: "gradient step", yLabel: "Q", series: series))
        }
        let w = charts.map(\.width).max()!, h = charts.map(\.height).reduce(0, +)
        var o = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(w))\" height=\"\(Int(h))\" viewBox=\"0 0 \(Int(w)) \(Int(h))\">"
        var y = 0.0
        for c in charts {
            // Each chart is a complete <svg>; nested, it takes its place from x/y.
            o += c.svg().replacingOccurrences(of: "<svg xmlns=\"http://www.w3.org/2000/svg\"", with: "<svg x=\"0\" y=\"\(Int(y))\"")
            y += c.height
        }
        return o + "</svg>\n"
    }
}
