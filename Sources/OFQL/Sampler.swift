/// An inference-only copy of a trained policy for rollout workers: its own weights copy and
/// scratch buffers, so several samplers run on several threads at once.
///
/// OFQL: a = clip(ε − u_θ'(ε, 0, 1; s), −1, 1) with caller-supplied noise ε (one row per
/// episode, so an episode's actions do not depend on what else shares its batch), or K steps
/// of the average velocity, z_r = z_t − (t − r)·u_θ'(z_t, r, t; s) on t = 1, (K − 1)/K, …, 0
/// (MeanFlow's few-step sampling, arXiv 2505.13447 Eq. 12; an evaluation mode, `meanflow-K`);
/// deterministic MLP policies: a = squash(f(s)) (BC: clip to [−1, 1]; TD3+BC: tanh), noise
/// ignored; FQL: a = clip(μ(s, z), −1, 1), or the BC flow's K-step Euler integration from z;
/// FBRAC: its flow policy's Euler integration; DQL: the K-step DDPM chain or one DDIM step.
/// θ' is the EMA policy when the config keeps one.
public final class PolicySampler {
    /// How a deterministic MLP policy's output becomes an action.
    public enum Squash: Sendable { case clip, tanh }
    /// The policy's networks, in the layout of the parameter block the sampler copies.
    public enum Architecture: Sendable {
        /// OFQL's average-velocity net (`policy.*`), sampled in `steps` equal steps of [0, 1]
        /// (1: the one-step policy).
        case meanFlow(PolicySpec, steps: Int)
        /// A deterministic MLP s → a (`policy.body.*`).
        case deterministic(MLPSpec, Squash)
        /// FQL's one-step policy μ(s, z) (`policy.body.*`) and BC flow v(s, x, t)
        /// (`flow.body.*`); `flowSteps` nil samples μ, else that many Euler steps of v.
        case fql(oneStep: MLPSpec, flow: MLPSpec, flowSteps: Int?)
        /// A flow policy v(s, x, t) (`policy.body.*`) integrated with `steps` Euler steps (FBRAC).
        case flow(MLPSpec, steps: Int)
        /// DQL's ε-network (`policy.time_mlp.*`, `policy.body.*`): the K-step DDPM chain, or
        /// with `ddim1` one DDIM step from x_K.
        case diffusion(DiffusionPolicySpec, ddim1: Bool)
    }
    public let obsDim: Int
    public let actDim: Int
    public let architecture: Architecture
    /// Whether ``sample(observations:count:noise:into:)`` reads its noise (OFQL's ε, FQL's z).
    public var needsNoise: Bool { bc == nil || flow != nil }
    /// Standard normals per sampled row: actDim, or K·actDim for the DDPM chain (x_K and the
    /// noise of steps K − 1 … 1).
    public var noiseDim: Int {
        if let diffusion, case .diffusion(_, false) = architecture { return diffusion.noiseWidth }
        return actDim
    }
    public var squash: Squash { if case .deterministic(_, let q) = architecture { return q } else { return .clip } }
    public let maxRows: Int
    let normalizer: ObservationNormalizer
    let params: ParameterBlock<Float>
    let net: AverageVelocityNet<Float>?
    /// The MLP that maps the (normalised) observation, with the noise for FQL, to the action.
    let bc: MLP<Float>?
    /// FQL's BC flow or FBRAC's policy, and whether actions come from it (else from FQL's μ).
    let flow: EulerFlow<Float>?
    let sampleFlow: Bool
    /// DQL's chain.
    let diffusion: DiffusionChain<Float>?
    let work: Workspace<Float>
    let s, r, t: UnsafeMutablePointer<Float>
    /// OFQL's few-step sampling: the running z_t and each step's r and t (nil for one step).
    let meanFlowSteps: (steps: Int, z: UnsafeMutablePointer<Float>, r: UnsafeMutablePointer<Float>, t: UnsafeMutablePointer<Float>)?
    /// Scratch for callers that draw the noise themselves (maxRows × noiseDim).
    let noiseScratch: UnsafeMutablePointer<Float>
    /// The packed path's input: FQL's [s, z], OFQL's time-free columns.
    let input: UnsafeMutablePointer<Float>
    /// The policy body's weights packed for small batches (nil with LayerNorm), from ``params``,
    /// which never changes after init.
    let packed: PackedWeights?
    /// Up to this many rows use ``packed``; larger batches go through BLAS, whose re-packing
    /// of the weights is then amortised.
    public static let packedRowLimit = 32
    /// Splits each packed layer's output units over the two-worker pair (see
    /// ``MLP/forwardPacked(_:input:rows:splitColumns:)``): for a caller that decides alone
    /// (one episode) with a second core free. Applies to the one-step OFQL, FQL and
    /// deterministic policies' packed path; the actions are bit-identical either way. Off
    /// by default (``copy()`` too), and to be left off in rollout workers, which share one pair.
    public var splitColumns = false

    private convenience init(copying other: PolicySampler) {
        self.init(architecture: other.architecture, source: other.params, normalizer: other.normalizer,
                  obsDim: other.obsDim, actDim: other.actDim, maxRows: other.maxRows)
    }

    /// `policySpec` for an OFQL policy, else `mlpSpec` for a deterministic MLP policy.
    convenience init(policySpec: PolicySpec?, mlpSpec bcSpec: MLPSpec?, squash: Squash = .clip, source: ParameterBlock<Float>,
                     normalizer: ObservationNormalizer, obsDim: Int, actDim: Int, maxRows: Int) {
        self.init(architecture: policySpec.map { .meanFlow($0, steps: 1) } ?? .deterministic(bcSpec!, squash), source: source,
                  normalizer: normalizer, obsDim: obsDim, actDim: actDim, maxRows: maxRows)
    }

    init(architecture: Architecture, source: ParameterBlock<Float>, normalizer: ObservationNormalizer,
         obsDim: Int, actDim: Int, maxRows: Int) {
        self.obsDim = obsDim; self.actDim = actDim; self.architecture = architecture; self.normalizer = normalizer
        self.maxRows = Swift.max(1, maxRows)
        var layout = ParameterLayout()
        switch architecture {
        case .meanFlow(let spec, let steps):
            precondition(steps >= 1, "meanflow-K needs K ≥ 1, got \(steps)")
            net = AverageVelocityNet(spec, prefix: "policy", layout: &layout, maxRows: self.maxRows)
            bc = nil; flow = nil; diffusion = nil; sampleFlow = false
        case .deterministic(let spec, _):
            net = nil; flow = nil; diffusion = nil; sampleFlow = false
            bc = MLP(spec, prefix: "policy.body", layout: &layout, maxRows: self.maxRows)
        case .fql(let oneStep, let flowSpec, let steps):
            net = nil; diffusion = nil; sampleFlow = steps != nil
            bc = MLP(oneStep, prefix: "policy.body", layout: &layout, maxRows: self.maxRows)
            flow = EulerFlow(flowSpec, obsDim: obsDim, actDim: actDim, steps: steps ?? 1, prefix: "flow.body", layout: &layout,
                             rows: self.maxRows)
        case .flow(let spec, let steps):
            net = nil; bc = nil; diffusion = nil; sampleFlow = true
            flow = EulerFlow(spec, obsDim: obsDim, actDim: actDim, steps: steps, prefix: "policy.body", layout: &layout,
                             rows: self.maxRows)
        case .diffusion(let spec, _):
            net = nil; bc = nil; flow = nil; sampleFlow = false
            diffusion = DiffusionChain(spec, layout: &layout, rows: self.maxRows)
        }
        precondition(layout == source.layout, "sampler layout differs from the policy's")
        params = ParameterBlock(layout: layout)
        params.copyValues(from: source)
        work = Workspace<Float>()
        s = work.alloc(self.maxRows * obsDim)
        r = work.alloc(self.maxRows)
        t = work.alloc(self.maxRows, value: 1)
        noiseScratch = work.alloc(self.maxRows * (diffusion?.noiseWidth ?? actDim))
        input = work.alloc(self.maxRows * (obsDim + actDim))
        if case .meanFlow(_, let steps) = architecture, steps > 1 {
            meanFlowSteps = (steps, work.alloc(self.maxRows * actDim), work.alloc(self.maxRows), work.alloc(self.maxRows))
        } else {
            meanFlowSteps = nil
        }
        let body: MLP<Float>
        if let flow { body = sampleFlow ? flow.net : bc! } else { body = diffusion?.body ?? net?.body ?? bc! }
        if body.spec.layerNorm || meanFlowSteps != nil {
            packed = nil
        } else if let net {
            // One-step sampling always runs at r = 0, t = 1: the time columns are constants,
            // folded into the first layer's bias.
            packed = body.packWeights(params.values, constantTail: net.timeColumns(params.values, r: 0, t: 1))
        } else {
            packed = body.packWeights(params.values)
        }
    }

    /// An independent copy (own weights and buffers) for another thread.
    public func copy() -> PolicySampler { PolicySampler(copying: self) }

    /// Writes `count` actions for raw observations; `noise` holds count × actDim standard
    /// normals (ignored by BC). `count` must not exceed ``maxRows``.
    public func sample(observations: UnsafePointer<Float>, count: Int, noise: UnsafePointer<Float>,
                       into out: UnsafeMutablePointer<Float>) {
        sample(params: UnsafePointer(params.values), observations: observations, count: count, noise: noise,
               parallel: false, into: out)
    }

    /// The same with other parameters of this policy's layout (the agent's live θ'); `parallel`
    /// splits large batches over two workers (see `OFQLAgent.workers`).
    func sample(params p: UnsafePointer<Float>, observations: UnsafePointer<Float>, count: Int, noise: UnsafePointer<Float>,
                parallel: Bool, into out: UnsafeMutablePointer<Float>) {
        precondition(count <= maxRows, "sampler built for \(maxRows) rows, asked for \(count)")
        if count == 0 { return }
        normalizer.apply(observations, into: s, rows: count)
        // The packed weights are a copy of this sampler's own parameters: other parameters
        // (the agent's live θ') take the BLAS path.
        let packed = p == UnsafePointer(params.values) && count <= Self.packedRowLimit ? self.packed : nil
        if let diffusion {
            if case .diffusion(_, true) = architecture {
                diffusion.ddim1(p, s: s, noise: noise, noiseStride: actDim, count: count, packed: packed, into: out)
            } else {
                diffusion.sample(p, s: s, noise: noise, count: count, derivatives: false, packed: packed, parallel: parallel, into: out)
            }
            return
        }
        if let flow, sampleFlow {
            flow.sample(p, s: s, z: noise, count: count, derivatives: false, packed: packed, parallel: parallel, into: out)
            return
        }
        if flow != nil, let bc {
            // FQL's one-step policy: a = clip(μ(s, z), −1, 1).
            FQLNets<Float>.concat(s, obsDim, noise, actDim, rows: count, into: input)
            if let packed { bc.forwardPacked(packed, input: input, rows: count, splitColumns: splitColumns) } else { bc.forward(p, input: input, rows: count, derivatives: false) }
            for k in 0..<(count * actDim) { out[k] = EulerFlow<Float>.clip(bc.output[k]) }
            return
        }
        if let bc {
            if let packed {
                bc.forwardPacked(packed, input: s, rows: count, splitColumns: splitColumns)
            } else if count == 1 { bc.forwardRow(p, input: s) } else { bc.forward(p, input: s, rows: count, derivatives: false) }
            switch squash {
            case .clip: for k in 0..<(count * actDim) { let x = bc.output[k]; out[k] = x < -1 ? -1 : (x > 1 ? 1 : x) }
            case .tanh: for k in 0..<(count * actDim) { out[k] = ActivationMath.tanh(bc.output[k]).y }
            }
            return
        }
        let net = net!
        if let few = meanFlowSteps {
            // z_1 = ε; z_r = z_t − (t − r)·u(z_t, r, t) down to r = 0.
            let n = count * actDim
            few.z.update(from: noise, count: n)
            for i in stride(from: few.steps, to: 0, by: -1) {
                let tv = Float(i) / Float(few.steps), rv = Float(i - 1) / Float(few.steps)
                for k in 0..<count { few.t[k] = tv; few.r[k] = rv }
                net.forward(p, rows: count, s: s, z: few.z, r: few.r, t: few.t, derivatives: false, parallel: parallel)
                let u = net.output
                for k in 0..<n { few.z[k] -= (tv - rv) * u[k] }
            }
            for k in 0..<n { let x = few.z[k]; out[k] = x < -1 ? -1 : (x > 1 ? 1 : x) }
            return
        }
        if let packed {
            net.leadingInput(s: s, z: noise, rows: count, into: input)
            net.body.forwardPacked(packed, input: input, rows: count, splitColumns: splitColumns)
        } else if count == 1 {
            net.forwardRow(p, s: s, z: noise, r: 0, t: 1)
        } else {
            net.forward(p, rows: count, s: s, z: noise, r: r, t: t, derivatives: false, parallel: parallel)
        }
        let u = net.output
        for k in 0..<(count * actDim) {
            let x = noise[k] - u[k]
            out[k] = x < -1 ? -1 : (x > 1 ? 1 : x)
        }
    }
}
