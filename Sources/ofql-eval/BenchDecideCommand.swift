import ArgumentParser
import BLAS
import Datasets
import Experiments
import Foundation
import OFQL
import Randomness

/// `ofql-eval bench decide`: the one-step study's efficiency figure (arXiv 2508.13904 Fig. 3)
/// on this machine: decisions per second with plain sampling (no candidate selection) at
/// batch 1 and 256, and the training cost per step, of OFQL, DQL with K denoising steps,
/// DQL + DDIM(1), FQL (one step), FQL's BC flow with K Euler steps and FBRAC (one step).
struct BenchDecideCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "decide",
        abstract: "Decisions/s (batch 1 and 256, plain sampling) and training steps/s of OFQL, DQL-K, DQL+DDIM(1), FQL, flow-K and FBRAC (arXiv 2508.13904 Fig. 3).")
    @OptionGroup var options: BenchOptions
    @Option(help: "Observation dimension (default: halfcheetah's).") var obsDim = 17
    @Option(help: "Action dimension (default: halfcheetah's).") var actDim = 6
    @Option(help: "DQL denoising steps to measure.") var dqlSteps: [Int] = [5, 10, 20, 50]
    @Option(help: "Euler steps of the multi-step flow policy (FQL's BC flow).") var flowSteps = 10
    @Option(help: "Batch sizes of the decision measurement.") var batches: [Int] = [1, 256]
    @Flag(inversion: .prefixedNo, help: "Also measure training steps/s (batch 256, one core).") var train = true
    @Option(help: "Also write this Markdown report (and an SVG of the same name beside it).") var report: String?

    func validate() throws {
        guard obsDim >= 1, actDim >= 1, flowSteps >= 1 else { throw ValidationError("--obs-dim, --act-dim and --flow-steps must be positive") }
        guard !dqlSteps.isEmpty, dqlSteps.allSatisfy({ $0 >= 1 }) else { throw ValidationError("--dql-steps needs positive step counts, got \(dqlSteps)") }
        guard !batches.isEmpty, batches.allSatisfy({ $0 >= 1 }) else { throw ValidationError("--batches needs positive sizes, got \(batches)") }
    }

    /// One method of the figure: its learner and how it samples.
    struct Method {
        let name: String
        let learner: any Learner
        let sampler: (Int) -> PolicySampler
    }

    func methods() throws -> [Method] {
        func make(_ c: OFQLConfig) throws -> any Learner { try Learners.create(config: c, obsDim: obsDim, actDim: actDim, seed: 0) }
        var out: [Method] = []
        let ofql = try make(OFQLConfig())
        out.append(Method(name: "ofql", learner: ofql) { ofql.makeSampler(maxRows: $0) })
        for k in dqlSteps {
            var c = OFQLConfig.defaults(for: .dql)
            c.diffusionSteps = k
            let dql = try make(c) as! DQLAgent
            out.append(Method(name: "dql-\(k)", learner: dql) { dql.makeSampler(maxRows: $0) })
            if k == dqlSteps[0] { out.append(Method(name: "dql-ddim1", learner: dql) { dql.makeSampler(maxRows: $0, ddim1: true) }) }
        }
        let fql = try make(OFQLConfig.defaults(for: .fql)) as! FQLAgent
        out.append(Method(name: "fql", learner: fql) { fql.makeSampler(maxRows: $0) })
        out.append(Method(name: "flow-\(flowSteps)", learner: fql) { fql.makeSampler(maxRows: $0, flowSteps: flowSteps) })
        let fbrac = try make(OFQLConfig.defaults(for: .fbrac)) as! FQLAgent
        out.append(Method(name: "fbrac", learner: fbrac) { fbrac.makeSampler(maxRows: $0) })
        return out
    }

    func run() throws {
        BLASRuntime.setThreads(1)
        StandardStream.error.write("# openblas core \(BLASRuntime.coreName), 1 thread; \(PackageInfo.blasCoreChoice)\n")
        let list = try methods()
        var decide: [String: [Int: Double]] = [:], trainRate: [String: Double] = [:]
        for b in batches {
            var rng = Xoshiro(seed: 1)
            let obs = (0..<(b * obsDim)).map { _ in Float(rng.normal()) }
            var baseline: Double?
            for m in list {
                let sampler = m.sampler(b)
                var noise = [Float](repeating: 0, count: b * sampler.noiseDim)
                var out = [Float](repeating: 0, count: b * actDim)
                let rates = obs.withUnsafeBufferPointer { o in
                    noise.withUnsafeMutableBufferPointer { np in
                        out.withUnsafeMutableBufferPointer { op in
                            measureRates(reps: options.reps, seconds: options.seconds, unitsPerCall: Double(b)) {
                                rng.fillNormal(np.baseAddress!, count: np.count)
                                sampler.sample(observations: o.baseAddress!, count: b, noise: np.baseAddress!, into: op.baseAddress!)
                            }
                        }
                    }
                }
                let med = median(rates)
                decide[m.name, default: [:]][b] = med
                if m.name == "dql-\(dqlSteps[0])" { baseline = med }
                var extra: [(String, String)] = [("threads", "1")]
                if let base = decide["ofql"]?[b], m.name != "ofql" { extra.append(("ofql_over_this", format3(base / med))) }
                print(benchLine(bench: "decide", label: "\(m.name) batch=\(b) obs=\(obsDim) act=\(actDim)", values: rates,
                                unit: "decisions/s", extra: extra))
            }
            if let base = baseline, let o = decide["ofql"]?[b] {
                StandardStream.error.write("# batch \(b): OFQL \(format3(o / base))x DQL-\(dqlSteps[0])'s decision rate\n")
            }
        }
        if train {
            let data = try BenchTrainCommand.synthetic(obsDim: obsDim, actDim: actDim)
            var seen = Set<ObjectIdentifier>()
            for m in list where seen.insert(ObjectIdentifier(m.learner)).inserted {
                let name = m.name == "fql" ? "fql / flow-\(flowSteps)" : m.name
                let trainer = try Trainer(config: m.learner.config, data: data, seed: 0, datasetID: "synthetic", outDir: nil)
                trainer.agent.useCores(1)
                var failure: Error?
                let rates = measureRates(reps: options.reps, seconds: options.seconds, unitsPerCall: 1, warmup: 2) {
                    do { try trainer.trainStep() } catch { failure = error }
                }
                if let failure { throw failure }
                trainRate[m.name] = median(rates)
                print(benchLine(bench: "train_cost", label: "\(name) batch=\(m.learner.config.batchSize) obs=\(obsDim) act=\(actDim)",
                                values: rates, unit: "steps/s",
                                extra: [("hours_per_1M_steps", format3(1e6 / median(rates) / 3600)),
                                        ("gflop_per_step", format3(trainer.agent.gemmFlopsPerUpdate / 1e9)), ("threads", "1")]))
            }
        }
        if let report {
            try EfficiencyReport(names: list.map(\.name), decide: decide, train: trainRate, batches: batches, obsDim: obsDim,
                                 actDim: actDim, dqlBase: "dql-\(dqlSteps[0])").write(to: report)
        }
    }
}

/// `results/efficiency.md` and its SVG: the measured decision rates and training costs.
struct EfficiencyReport {
    let names: [String]
    let decide: [String: [Int: Double]]
    let train: [String: Double]
    let batches: [Int]
    let obsDim: Int, actDim: Int
    let dqlBase: String

    func write(to path: String) throws {
        let svgPath = (path.hasSuffix(".md") ? String(path.dropLast(3)) : path) + ".svg"
        let cpu = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8))?
            .split(separator: "\n").first { $0.hasPrefix("model name") }?.split(separator: ":").last?
            .trimmingCharacters(in: .whitespaces) ?? "unknown CPU"
        var md = "# Decision rate and training cost (arXiv 2508.13904 Fig. 3, on this machine)\n\n"
        md += "Measured by `ofql-eval bench decide --report \(path)` on \(cpu), one core, OpenBLAS core \(BLASRuntime.coreName); "
        md += "obs \(obsDim), act \(actDim) (halfcheetah's shapes), 3 × 256 Mish networks, plain sampling (no candidate selection), "
        md += "median of the repetitions. Decisions at batch 1 are one episode's actions (the rollout workers' path, packed weights); "
        md += "at batch 256, a batch of states. Training: gradient steps/s at batch 256 on synthetic data; hours per 1M steps = 1e6 / rate.\n\n"
        md += "| method | " + batches.map { "decisions/s, batch \($0)" }.joined(separator: " | ") + " | training steps/s | hours per 1M steps |\n"
        md += "|---|" + batches.map { _ in "---:|" }.joined() + "---:|---:|\n"
        for n in names {
            let d = batches.map { b in decide[n]?[b].map { String(format: "%.0f", $0) } ?? "–" }
            let t = train[n].map { String(format: "%.1f", $0) } ?? "(as above)"
            let h = train[n].map { String(format: "%.2f", 1e6 / $0 / 3600) } ?? ""
            md += "| \(n) | " + d.joined(separator: " | ") + " | \(t) | \(h) |\n"
        }
        md += "\n"
        for b in batches {
            if let o = decide["ofql"]?[b], let d = decide[dqlBase]?[b] {
                let paper = b == 1 ? " (the paper's single-decision rates: 846 vs 239 Hz, 3.5x, on an A100)" : ""
                md += "- Batch \(b): OFQL decides \(String(format: "%.1f", o / d))x as fast as \(dqlBase)\(paper).\n"
            }
        }
        if let o = train["ofql"], let d = train[dqlBase] {
            md += "- Training: OFQL \(String(format: "%.1f", o / d))x \(dqlBase)'s steps/s (the paper: 6.3 h vs 11.7 h per 1M steps, 1.9x).\n"
        }
        md += "\n![decision rate and training cost](\(svgPath.split(separator: "/").last!))\n"
        try writeAtomically(md, to: path, flag: "--report")
        try writeAtomically(svg(), to: svgPath, flag: "--report")
    }

    /// Two horizontal bar panels on log scales: decisions/s at the smallest batch (one
    /// episode's decisions, as the paper's figure), hours per 1M steps.
    func svg() -> String {
        let rowH = 22, left = 110, width = 330, gap = 60
        let b = batches.min()!
        let rows = names.count, h = 50 + rowH * rows
        var s = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(2 * (left + width) + gap)\" height=\"\(h)\" font-family=\"sans-serif\" font-size=\"12\">\n"
        func panel(x0: Int, title: String, values: [String: Double], format: String) {
            s += "<text x=\"\(x0)\" y=\"16\" font-weight=\"bold\">\(title)</text>\n"
            let vs = values.values.filter { $0 > 0 }
            guard let lo = vs.min(), let hi = vs.max() else { return }
            let l0 = log10(lo) - 0.3, l1 = log10(hi) + 0.1
            for (i, n) in names.enumerated() {
                let y = 30 + i * rowH
                s += "<text x=\"\(x0 + left - 6)\" y=\"\(y + 14)\" text-anchor=\"end\">\(n)</text>\n"
                guard let v = values[n], v > 0 else { continue }
                let w = Int(Double(width - 70) * (log10(v) - l0) / (l1 - l0))
                let colour = n == "ofql" ? "#d62728" : (n.hasPrefix("dql") ? "#1f77b4" : "#7f7f7f")
                s += "<rect x=\"\(x0 + left)\" y=\"\(y + 3)\" width=\"\(max(w, 1))\" height=\"\(rowH - 6)\" fill=\"\(colour)\"/>\n"
                s += "<text x=\"\(x0 + left + max(w, 1) + 4)\" y=\"\(y + 14)\">\(String(format: format, v))</text>\n"
            }
        }
        var d: [String: Double] = [:]
        for n in names { d[n] = decide[n]?[b] }
        panel(x0: 0, title: "decisions/s, batch \(b) (log)", values: d, format: "%.0f")
        var hours: [String: Double] = [:]
        for (n, r) in train { hours[n] = 1e6 / r / 3600 }
        panel(x0: left + width + gap, title: "hours per 1M training steps (log)", values: hours, format: "%.1f")
        s += "</svg>\n"
        return s
    }
}
