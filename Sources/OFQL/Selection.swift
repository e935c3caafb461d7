import BLAS
import Randomness

/// Evaluation-time action selection (CleanDiffuser's protocol, which arXiv 2508.13904 App. B
/// says it follows): for each state draw `candidates` one-step actions with the initial noise
/// scaled by `noiseTemperature`, score each with the target critics' min-Q, and pick one with
/// probability softmax(β·Q). Published β: HalfCheetah 50, Hopper-ME 8, Hopper-M/MR 100,
/// Walker2d 300, AntMaze 5–10, Kitchen 3 — for CleanDiffuser's reward scales, so retune them.
public struct CandidateSelection: Codable, Sendable, Equatable {
    public var candidates: Int
    public var noiseTemperature: Double
    public var beta: Double
    public init(candidates: Int = 50, noiseTemperature: Double = 0.5, beta: Double) {
        self.candidates = candidates; self.noiseTemperature = noiseTemperature; self.beta = beta
    }
    /// The evaluation mode's name in result tables (`select-50`).
    public var modeName: String { "select-\(candidates)" }

    public func validate() throws {
        guard candidates >= 1 else { throw ConfigError.invalid(field: "candidates", reason: "must be ≥ 1, got \(candidates)") }
        guard noiseTemperature >= 0, noiseTemperature.isFinite else {
            throw ConfigError.invalid(field: "noiseTemperature", reason: "must be ≥ 0, got \(noiseTemperature)")
        }
        guard beta >= 0, beta.isFinite else { throw ConfigError.invalid(field: "beta", reason: "must be ≥ 0, got \(beta)") }
    }
}

/// An inference copy of an OFQL policy and its target critics that applies
/// ``CandidateSelection``; like ``PolicySampler``, one per thread.
public final class SelectingSampler {
    public let selection: CandidateSelection
    public let maxStates: Int
    let base: PolicySampler
    let critics: CriticEnsemble<Float>
    let criticParams: ParameterBlock<Float>
    let normalizer: ObservationNormalizer
    private let work: Workspace<Float>
    private let repObs, noise, actions, sN: UnsafeMutablePointer<Float>

    public var obsDim: Int { base.obsDim }
    public var actDim: Int { base.actDim }

    init(base: PolicySampler, criticSource: ParameterBlock<Float>, criticHidden: [Int], activation: Activation, layerNorm: Bool,
         selection: CandidateSelection, maxStates: Int) {
        self.base = base; self.selection = selection; self.maxStates = maxStates; normalizer = base.normalizer
        let rows = maxStates * selection.candidates
        var layout = ParameterLayout()
        critics = CriticEnsemble(count: 2, obsDim: base.obsDim, actDim: base.actDim, hidden: criticHidden, activation: activation,
                                 layerNorm: layerNorm, prefix: "critic", layout: &layout, maxRows: rows)
        precondition(layout == criticSource.layout, "critic layout differs from the learner's")
        criticParams = ParameterBlock(layout: layout)
        criticParams.copyValues(from: criticSource)
        work = Workspace<Float>()
        repObs = work.alloc(rows * base.obsDim); noise = work.alloc(rows * base.actDim)
        actions = work.alloc(rows * base.actDim); sN = work.alloc(rows * base.obsDim)
    }

    /// An independent copy for another thread.
    public func copy() -> SelectingSampler {
        SelectingSampler(base: base.copy(), criticSource: criticParams, criticHidden: critics.nets[0].spec.hidden,
                         activation: critics.nets[0].spec.activation, layerNorm: critics.nets[0].spec.layerNorm,
                         selection: selection, maxStates: maxStates)
    }

    /// Writes `count` selected actions for raw observations; state i draws its candidates' noise
    /// and then its pick from `rngs[i]` only, so its action does not depend on the batch.
    public func sample(observations: UnsafePointer<Float>, count: Int, rngs: UnsafeMutablePointer<Xoshiro>,
                       into out: UnsafeMutablePointer<Float>) {
        precondition(count <= maxStates, "selecting sampler built for \(maxStates) states, asked for \(count)")
        let N = selection.candidates, O = obsDim, A = actDim, rows = count * N
        let temp = Float(selection.noiseTemperature)
        for i in 0..<count {
            for k in 0..<N { (repObs + (i * N + k) * O).update(from: observations + i * O, count: O) }
            rngs[i].fillNormal(noise + i * N * A, count: N * A)
        }
        for k in 0..<(rows * A) { noise[k] *= temp }
        // Candidates in chunks the policy sampler takes.
        var start = 0
        while start < rows {
            let n = Swift.min(base.maxRows, rows - start)
            base.sample(observations: repObs + start * O, count: n, noise: noise + start * A, into: actions + start * A)
            start += n
        }
        normalizer.apply(repObs, into: sN, rows: rows)
        critics.setInput(rows: rows, s: sN, a: actions)
        critics.forward(criticParams.values, rows: rows, derivatives: false)
        let q1 = critics.q(0), q2 = critics.q(1), beta = selection.beta
        for i in 0..<count {
            var best = -Double.infinity
            for k in 0..<N { best = Swift.max(best, Double(Swift.min(q1[i * N + k], q2[i * N + k]))) }
            var total = 0.0
            var weights = [Double](repeating: 0, count: N)
            for k in 0..<N {
                weights[k] = Double.expm(beta * (Double(Swift.min(q1[i * N + k], q2[i * N + k])) - best))
                total += weights[k]
            }
            var u = rngs[i].uniform() * total, pick = N - 1
            for k in 0..<N { u -= weights[k]; if u < 0 { pick = k; break } }
            (out + i * A).update(from: actions + (i * N + pick) * A, count: A)
        }
    }
}

extension OFQLAgent {
    /// A selecting sampler over the target policy (the EMA when on) and the target critics.
    public func makeSelectingSampler(_ selection: CandidateSelection, maxStates: Int) -> SelectingSampler {
        SelectingSampler(base: makeSampler(maxRows: Swift.min(256, maxStates * selection.candidates)), criticSource: criticTarget,
                         criticHidden: config.criticHidden, activation: config.criticActivation, layerNorm: config.criticLayerNorm,
                         selection: selection, maxStates: maxStates)
    }
}
