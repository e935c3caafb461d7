/// An inference-only copy of a trained policy for rollout workers: its own weights copy and
/// scratch buffers, so several samplers run on several threads at once.
///
/// OFQL: a = clip(ε − u_θ'(ε, 0, 1; s), −1, 1) with caller-supplied noise ε (one row per
/// episode, so an episode's actions do not depend on what else shares its batch);
/// BC: a = clip(π(s), −1, 1), noise ignored. θ' is the EMA policy when the config keeps one.
public final class PolicySampler {
    public let obsDim: Int
    public let actDim: Int
    public let algorithm: Algorithm
    public let maxRows: Int
    let normalizer: ObservationNormalizer
    let params: ParameterBlock<Float>
    let net: AverageVelocityNet<Float>?
    let bc: MLP<Float>?
    let work: Workspace
    let s, r, t: UnsafeMutablePointer<Float>
    /// Scratch for callers that draw the noise themselves (maxRows × actDim).
    let noiseScratch: UnsafeMutablePointer<Float>
    /// The policy body's weights packed for small batches (nil with LayerNorm), from ``params``,
    /// which never changes after init.
    let packed: PackedWeights?
    /// Up to this many rows use ``packed``; larger batches go through BLAS, whose re-packing
    /// of the weights is then amortised.
    public static let packedRowLimit = 32

    /// A sampler for `agent`'s target policy taking up to `maxRows` observations per call.
    public convenience init(agent: OFQLAgent, maxRows: Int) {
        self.init(policySpec: agent.policyNet?.spec, bcSpec: agent.bcNet?.spec, source: agent.targetPolicy,
                  normalizer: agent.normalizer, obsDim: agent.obsDim, actDim: agent.actDim,
                  algorithm: agent.config.algo, maxRows: maxRows)
    }

    init(policySpec: PolicySpec?, bcSpec: MLPSpec?, source: ParameterBlock<Float>, normalizer: ObservationNormalizer,
         obsDim: Int, actDim: Int, algorithm: Algorithm, maxRows: Int) {
        self.obsDim = obsDim; self.actDim = actDim; self.algorithm = algorithm; self.normalizer = normalizer
        self.maxRows = Swift.max(1, maxRows)
        var layout = ParameterLayout()
        if let policySpec {
            net = AverageVelocityNet(policySpec, prefix: "policy", layout: &layout, maxRows: self.maxRows)
            bc = nil
        } else {
            net = nil
            bc = MLP(bcSpec!, prefix: "policy.body", layout: &layout, maxRows: self.maxRows)
        }
        precondition(layout == source.layout, "sampler layout differs from the policy's")
        params = ParameterBlock(layout: layout)
        params.copyValues(from: source)
        work = Workspace(capacity: self.maxRows)
        s = work.alloc(self.maxRows * obsDim)
        r = work.alloc(self.maxRows)
        t = work.alloc(self.maxRows, value: 1)
        noiseScratch = work.alloc(self.maxRows * actDim)
        let body = net?.body ?? bc!
        packed = body.spec.layerNorm ? nil : body.packWeights(params.values)
    }

    /// An independent copy (own weights and buffers) for another thread.
    public func copy() -> PolicySampler {
        PolicySampler(policySpec: net?.spec, bcSpec: bc?.spec, source: params, normalizer: normalizer,
                      obsDim: obsDim, actDim: actDim, algorithm: algorithm, maxRows: maxRows)
    }

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
        if let bc {
            if let packed {
                bc.forwardPacked(packed, input: s, rows: count)
            } else if count == 1 { bc.forwardRow(p, input: s) } else { bc.forward(p, input: s, rows: count, derivatives: false) }
            for k in 0..<(count * actDim) { let x = bc.output[k]; out[k] = x < -1 ? -1 : (x > 1 ? 1 : x) }
            return
        }
        let net = net!
        if count == 1 {
            net.forwardRow(p, s: s, z: noise, r: 0, t: 1, packed: packed)
        } else {
            net.forward(p, rows: count, s: s, z: noise, r: r, t: t, derivatives: false, parallel: parallel, packed: packed)
        }
        let u = net.output
        for k in 0..<(count * actDim) {
            let x = noise[k] - u[k]
            out[k] = x < -1 ? -1 : (x > 1 ? 1 : x)
        }
    }
}
