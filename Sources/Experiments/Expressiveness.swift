import Datasets
import Foundation
import OFQL
import Randomness

/// The expressiveness toy of the one-step study (arXiv 2508.13904, the u- vs v-parameterisation
/// figure): behaviour cloning of a 2-D multimodal action distribution (a ring of Gaussians,
/// one constant state) by the policies of the study, sampled as each is deployed, with a
/// distance to fresh data samples per method.
///
/// Policies (all 3 × `width` Mish, trained with their BC losses only: OFQL η = 0, DQL η = 0,
/// FQL's BC flow): OFQL's average velocity in one step (u-parameterisation); FQL's flow
/// (instantaneous velocity, v-parameterisation) in 1 and 10 Euler steps; DQL's DDPM in its
/// 5 denoising steps.
public struct ExpressivenessStudy {
    public var modes = 8
    public var radius = 0.7
    public var modeStd = 0.05
    public var width = 64
    public var batch = 1024
    public var steps = 5000
    public var samples = 2000
    public var seed: UInt64 = 0

    public init() {}

    /// One method's samples and scores.
    public struct Result {
        public let name: String
        public let detail: String
        public let samples: [Float]
        /// Squared MMD against fresh data samples (Gaussian kernel, bandwidth `mmdBandwidth`).
        public let mmd: Double
        /// Modes with at least 2 % of the samples within 3σ of their centre.
        public let modesCovered: Int
        /// Fraction of samples within 3σ of some mode.
        public let onMode: Double
        public let seconds: Double
    }

    public static let mmdBandwidth = 0.1

    func centres() -> [(Double, Double)] {
        (0..<modes).map { k in
            let a = 2 * Double.pi * Double(k) / Double(modes)
            return (radius * cos(a), radius * sin(a))
        }
    }

    /// `n` points of the mixture.
    func data(_ n: Int, rng: inout Xoshiro) -> [Float] {
        let c = centres()
        var out: [Float] = []
        out.reserveCapacity(2 * n)
        for _ in 0..<n {
            let (x, y) = c[rng.index(modes)]
            out.append(Float(x + modeStd * rng.normal())); out.append(Float(y + modeStd * rng.normal()))
        }
        return out
    }

    /// Squared maximum mean discrepancy with a Gaussian kernel (biased V-statistic).
    public static func mmd2(_ a: [Float], _ b: [Float], bandwidth h: Double = mmdBandwidth) -> Double {
        func k(_ p: [Float], _ i: Int, _ q: [Float], _ j: Int) -> Double {
            let dx = Double(p[2 * i] - q[2 * j]), dy = Double(p[2 * i + 1] - q[2 * j + 1])
            return exp(-(dx * dx + dy * dy) / (2 * h * h))
        }
        func mean(_ p: [Float], _ q: [Float]) -> Double {
            let n = p.count / 2, m = q.count / 2
            var s = 0.0
            for i in 0..<n { for j in 0..<m { s += k(p, i, q, j) } }
            return s / Double(n * m)
        }
        return mean(a, a) + mean(b, b) - 2 * mean(a, b)
    }

    func coverage(_ s: [Float]) -> (Int, Double) {
        let c = centres(), n = s.count / 2
        var counts = [Int](repeating: 0, count: modes), on = 0
        for i in 0..<n {
            for (k, (x, y)) in c.enumerated() {
                let dx = Double(s[2 * i]) - x, dy = Double(s[2 * i + 1]) - y
                if (dx * dx + dy * dy).squareRoot() < 3 * modeStd { counts[k] += 1; on += 1; break }
            }
        }
        return (counts.filter { Double($0) >= 0.02 * Double(n) }.count, Double(on) / Double(n))
    }

    /// Trains the policies and samples them.
    public func run() throws -> [Result] {
        var rng = Xoshiro(seed: seed)
        let n = 20_000
        let actions = data(n, rng: &rng)
        let zeros = [Float](repeating: 0, count: n)
        let transitions = try Transitions(observations: zeros, actions: actions, rewards: zeros, nextObservations: zeros,
                                          terminals: [Float](repeating: 1, count: n), obsDim: 1, actDim: 2)
        let reference = data(samples, rng: &rng)
        func config(_ algo: Algorithm) -> OFQLConfig {
            var c = OFQLConfig.defaults(for: algo)
            c.hidden = [width, width, width]; c.criticHidden = [16]; c.batchSize = batch
            c.eta = 0; c.actorLR = 1e-3
            if algo == .dql { c.timeEmbeddingDim = 16 }
            return c
        }
        func trained(_ algo: Algorithm) throws -> (any Learner, Double) {
            let t0 = Date()
            let t = try Trainer(config: config(algo), data: transitions, seed: seed, datasetID: "ring", outDir: nil)
            try t.run(until: steps, options: TrainerOptions(logEvery: 0, checkpointEvery: 0))
            return (t.agent, Date().timeIntervalSince(t0))
        }
        func sample(_ s: PolicySampler) -> [Float] {
            var r = Xoshiro(seed: seed &+ 17)
            var noise = [Float](repeating: 0, count: samples * s.noiseDim)
            r.fillNormal(&noise, count: noise.count)
            var out = [Float](repeating: 0, count: samples * 2)
            s.sample(observations: [Float](repeating: 0, count: samples), count: samples, noise: noise, into: &out)
            return out
        }
        func result(_ name: String, _ detail: String, _ s: [Float], _ seconds: Double) -> Result {
            let (covered, on) = coverage(s)
            return Result(name: name, detail: detail, samples: s, mmd: Self.mmd2(s, reference), modesCovered: covered, onMode: on,
                          seconds: seconds)
        }
        var out: [Result] = [result("data", "fresh samples of the mixture", data(samples, rng: &rng), 0)]
        let (ofql, ts) = try trained(.ofql)
        out.append(result("OFQL, 1 step", "average velocity u, a = ε − u(ε, 0, 1)", sample(ofql.makeSampler(maxRows: samples)), ts))
        let (fqlLearner, tf) = try trained(.fql)
        let fql = fqlLearner as! FQLAgent
        out.append(result("flow matching, 1 step", "instantaneous velocity v, one Euler step", sample(fql.makeSampler(maxRows: samples, flowSteps: 1)), tf))
        out.append(result("flow matching, 10 steps", "the same flow, 10 Euler steps", sample(fql.makeSampler(maxRows: samples, flowSteps: 10)), tf))
        let (dqlLearner, td) = try trained(.dql)
        let dql = dqlLearner as! DQLAgent
        out.append(result("DDPM, 5 steps", "DQL's diffusion policy (VP schedule)", sample(dql.makeSampler(maxRows: samples)), td))
        out.append(result("DDPM, DDIM 1 step", "the same network, one DDIM step", sample(dql.makeSampler(maxRows: samples, ddim1: true)), td))
        return out
    }

    /// Scatter panels of every method's samples.
    public func svg(_ results: [Result]) -> String {
        let size = 200, gap = 16, cols = 3
        let rows = (results.count + cols - 1) / cols
        let w = cols * size + (cols + 1) * gap, h = rows * (size + 30) + gap
        var s = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(w)\" height=\"\(h)\" font-family=\"sans-serif\" font-size=\"12\">\n"
        for (i, r) in results.enumerated() {
            let x0 = gap + (i % cols) * (size + gap), y0 = gap + (i / cols) * (size + 30)
            s += "<text x=\"\(x0)\" y=\"\(y0 + 10)\">\(r.name)</text>\n"
            s += "<rect x=\"\(x0)\" y=\"\(y0 + 16)\" width=\"\(size)\" height=\"\(size)\" fill=\"none\" stroke=\"#999\"/>\n"
            let n = min(r.samples.count / 2, 1000)
            for j in 0..<n {
                let px = Double(x0) + (Double(r.samples[2 * j]) + 1) / 2 * Double(size)
                let py = Double(y0 + 16) + (1 - (Double(r.samples[2 * j + 1]) + 1) / 2) * Double(size)
                s += String(format: "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"1.2\" fill=\"%@\" fill-opacity=\"0.5\"/>\n", px, py,
                            r.name == "data" ? "#444" : (r.name.hasPrefix("OFQL") ? "#d62728" : "#1f77b4"))
            }
        }
        return s + "</svg>\n"
    }

    /// The Markdown report (`svgName`: the picture beside it).
    public func markdown(_ results: [Result], svgName: String, command: String) -> String {
        var md = "# Expressiveness: one step of an average velocity against flow matching and DDPM\n\n"
        md += "The 2-D toy of arXiv 2508.13904 (u- vs v-parameterisation): \(modes) Gaussians (σ = \(modeStd)) on a ring of radius \(radius), "
        md += "one constant state; each policy is a 3 × \(width) Mish network trained by its behaviour-cloning loss alone "
        md += "(OFQL's MeanFlow loss with η = 0, FQL's flow matching, DQL's noise prediction with η = 0) for \(steps) steps at batch \(batch), "
        md += "learning rate 1e-3, seed \(seed); \(samples) samples each. MMD² against \(samples) fresh data samples, Gaussian kernel, bandwidth \(Self.mmdBandwidth) "
        md += "(lower is closer; the data row is the sampling noise floor); a mode counts as covered with ≥ 2 % of the samples within 3σ of its centre.\n\n"
        md += "| method | sampling | MMD² | modes covered | samples on a mode | training s |\n|---|---|---:|---:|---:|---:|\n"
        for r in results {
            md += String(format: "| %@ | %@ | %.4f | %d / %d | %.0f %% | %@ |\n", r.name, r.detail, r.mmd, r.modesCovered, modes,
                         100 * r.onMode, r.seconds > 0 ? String(format: "%.0f", r.seconds) : "–")
        }
        md += "\n![samples](\(svgName))\n\nRegenerate with `\(command)`.\n"
        return md
    }
}
