/// An inference-only copy of a trained policy for rollout workers: its own weights copy and
/// scratch buffers, so several samplers run on several threads at once.
///
/// OFQL: a = clip(ε − u_θ'(ε, 0, 1; s), −1, 1) with caller-supplied noise ε (one row per
/// episode, so an episode's actions do not depend on what else shares its batch);
/// deterministic MLP policies: a = squash(f(s)) (BC: clip to [−1, 1]; TD3+BC: tanh), noise
/// ignored. θ' is the EMA policy when the config keeps one.
public final class PolicySampler {
    /// How a deterministic MLP policy's output becomes an action.
    public enum Squash: Sendable { case clip, tanh }
    public let obsDim: Int
    public let actDim: Int
    /// Whether ``sample(observations:count:noise:into:)`` reads its noise (OFQL's ε).
    public var needsNoise: Bool { net != nil }
    public let squash: Squash
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

    private convenience init(copying other: PolicySampler) {
        self.init(policySpec: other.net?.spec, mlpSpec: other.bc?.spec, squash: other.squash, source: other.params,
                  normalizer: other.normalizer, obsDim: other.obsDim, actDim: other.actDim, maxRows: other.maxRows)
    }

    /// `policySpec` for an OFQL policy, else `mlpSpec` for a deterministic MLP policy.
    init(policySpec: PolicySpec?, mlpSpec bcSpec: MLPSpec?, squash: Squash = .clip, source: ParameterBlock<Float>,
         normalizer: ObservationNormalizer, obsDim: Int, actDim: Int, maxRows: Int) {
        self.obsDim = obsDim; self.actDim = actDim; self.squash = squash; self.normalizer = normalizer
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
        work = Workspace()
        s = work.alloc(self.maxRows * obsDim)
        r = work.alloc(self.maxRows)
        t = work.alloc(self.maxRows, value: 1)
        noiseScratch = work.alloc(self.maxRows * actDim)
        let body = net?.body ?? bc!
        packed = body.spec.layerNorm ? nil : body.packWeights(params.values)
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
        if let bc {
            if let packed {
                bc.forwardPacked(packed, input: s, rows: count)
            } else if count == 1 { bc.forwardRow(p, input: s) } else { bc.forward(p, input: s, rows: count, derivatives: false) }
            switch squash {
            case .clip: for k in 0..<(count * actDim) { let x = bc.output[k]; out[k] = x < -1 ? -1 : (x > 1 ? 1 : x) }
            case .tanh: for k in 0..<(count * actDim) { out[k] = ActivationMath.tanh(bc.output[k]).y }
            }
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
