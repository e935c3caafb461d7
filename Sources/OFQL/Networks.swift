import BLAS
import Randomness

/// How the policy sees the times r and t.
public enum TimeInput: String, Codable, Sendable {
    /// Sinusoidal embedding (max period 10000) of scale·t and scale·r, each through its own
    /// small MLP dim → 2·dim → Mish → dim (DQL/CleanDiffuser), concatenated to [z, s, e_t, e_r].
    case sinusoidal
    /// The raw scalars: input [s, z, r, t] (the JAX/PyTorch reference benchmarks' shape).
    case raw
}

/// Sinusoidal time features and their exact derivative in t.
///
/// With half = dim/2 and ω_k = 10000^(−k/(half−1)), τ = scale·t:
/// e(t) = [sin(ω_k τ)]_k ++ [cos(ω_k τ)]_k, de/dt = scale·[ω_k cos(ω_k τ)]_k ++ [−ω_k sin(ω_k τ)]_k.
public struct SinusoidalEmbedding<T: NetScalar>: Sendable {
    public let dim: Int
    public let scale: T
    public let frequencies: [T]

    public init(dim: Int, scale: T) {
        precondition(dim >= 4 && dim % 2 == 0, "time embedding dimension must be even and ≥ 4, got \(dim)")
        self.dim = dim; self.scale = scale
        let half = dim / 2
        let c = 9.210340371976184 / Double(half - 1)   // ln(10000)/(half − 1)
        frequencies = (0..<half).map { T(Double.expm(-c * Double($0))) }
    }

    /// Writes e(t) into `out` (dim values).
    @inline(__always)
    public func features(_ t: T, into out: UnsafeMutablePointer<T>) {
        let half = dim / 2
        for k in 0..<half {
            let a = frequencies[k] * scale * t
            out[k] = T.sinm(a); out[half + k] = T.cosm(a)
        }
    }

    /// Writes ṫ·de/dt into `out`.
    @inline(__always)
    public func tangent(_ t: T, _ tDot: T, into out: UnsafeMutablePointer<T>) {
        let half = dim / 2
        for k in 0..<half {
            let w = frequencies[k] * scale
            let a = w * t
            out[k] = tDot * w * T.cosm(a); out[half + k] = -tDot * w * T.sinm(a)
        }
    }

    /// ∂L/∂t = Σ_k ∂L/∂e_k · de_k/dt.
    public func backward(_ t: T, dFeatures: UnsafePointer<T>) -> T {
        let half = dim / 2
        var g: T = 0
        for k in 0..<half {
            let w = frequencies[k] * scale
            let a = w * t
            g += dFeatures[k] * w * T.cosm(a) - dFeatures[half + k] * w * T.sinm(a)
        }
        return g
    }
}


/// The architecture of the average-velocity policy u_θ(z, r, t; s).
public struct PolicySpec: Codable, Sendable, Equatable {
    public var obsDim: Int
    public var actDim: Int
    public var hidden: [Int]
    public var activation: Activation
    public var layerNorm: Bool
    public var timeInput: TimeInput
    public var timeEmbeddingDim: Int
    /// Multiplies t and r before the sinusoid (1 = raw t ∈ [0, 1], as MeanFlow's JAX code).
    public var timeScale: Double

    public init(obsDim: Int, actDim: Int, hidden: [Int] = [256, 256, 256], activation: Activation = .mish,
                layerNorm: Bool = false, timeInput: TimeInput = .sinusoidal, timeEmbeddingDim: Int = 64, timeScale: Double = 1) {
        self.obsDim = obsDim; self.actDim = actDim; self.hidden = hidden; self.activation = activation
        self.layerNorm = layerNorm; self.timeInput = timeInput; self.timeEmbeddingDim = timeEmbeddingDim; self.timeScale = timeScale
    }

    /// Width of the body MLP's input.
    public var bodyInputDim: Int {
        timeInput == .raw ? obsDim + actDim + 2 : actDim + obsDim + 2 * timeEmbeddingDim
    }
}

/// The MeanFlow average-velocity network u_θ(z, r, t; s) with fused primal + JVP forward.
///
/// Parameters (under `prefix`, e.g. `policy`): `{prefix}.body.*` (the main MLP) and, with
/// sinusoidal time input, `{prefix}.t_embed.*` and `{prefix}.r_embed.*` (dim → 2·dim → Mish → dim).
public final class AverageVelocityNet<T: NetScalar> {
    public let spec: PolicySpec
    public let maxRows: Int
    public let body: MLP<T>
    let tEmbed: MLP<T>?, rEmbed: MLP<T>?
    let sinusoid: SinusoidalEmbedding<T>?
    let bodyInput: UnsafeMutablePointer<T>
    let tIn: UnsafeMutablePointer<T>, rIn: UnsafeMutablePointer<T>
    /// ∂L/∂e_t and ∂L/∂e_r (maxRows × dim each).
    let dEmb: UnsafeMutablePointer<T>, dEmbR: UnsafeMutablePointer<T>
    private var lastT: UnsafeMutablePointer<T>, lastR: UnsafeMutablePointer<T>
    private var lastRows = 0

    /// Output u (primal rows, then tangent rows), maxRows × actDim.
    public var output: UnsafeMutablePointer<T> { body.output }

    public init(_ spec: PolicySpec, prefix: String, layout: inout ParameterLayout, maxRows: Int) {
        self.spec = spec; self.maxRows = maxRows
        let d = spec.timeEmbeddingDim
        if spec.timeInput == .sinusoidal {
            let es = MLPSpec(inputDim: d, hidden: [2 * d], outputDim: d, activation: .mish)
            tEmbed = MLP(es, prefix: "\(prefix).t_embed", layout: &layout, maxRows: maxRows)
            rEmbed = MLP(es, prefix: "\(prefix).r_embed", layout: &layout, maxRows: maxRows)
            sinusoid = SinusoidalEmbedding(dim: d, scale: T(spec.timeScale))
        } else {
            tEmbed = nil; rEmbed = nil; sinusoid = nil
        }
        body = MLP(MLPSpec(inputDim: spec.bodyInputDim, hidden: spec.hidden, outputDim: spec.actDim,
                           activation: spec.activation, layerNorm: spec.layerNorm),
                   prefix: "\(prefix).body", layout: &layout, maxRows: maxRows)
        bodyInput = .allocate(capacity: maxRows * spec.bodyInputDim); bodyInput.initialize(repeating: 0, count: maxRows * spec.bodyInputDim)
        let e = spec.timeInput == .sinusoidal ? maxRows * d : 1
        tIn = .allocate(capacity: e); tIn.initialize(repeating: 0, count: e)
        rIn = .allocate(capacity: e); rIn.initialize(repeating: 0, count: e)
        dEmb = .allocate(capacity: e); dEmb.initialize(repeating: 0, count: e)
        dEmbR = .allocate(capacity: e); dEmbR.initialize(repeating: 0, count: e)
        lastT = .allocate(capacity: maxRows); lastR = .allocate(capacity: maxRows)
        lastT.initialize(repeating: 0, count: maxRows); lastR.initialize(repeating: 0, count: maxRows)
    }
    deinit {
        bodyInput.deallocate(); tIn.deallocate(); rIn.deallocate(); dEmb.deallocate(); dEmbR.deallocate()
        lastT.deallocate(); lastR.deallocate()
    }

    public func initialize(_ params: UnsafeMutablePointer<T>, rng: inout Xoshiro) {
        tEmbed?.initialize(params, rng: &rng)
        rEmbed?.initialize(params, rng: &rng)
        body.initialize(params, rng: &rng)
    }

    /// Computes u on `rows` primal rows (s, z, r, t) and, on `tangentRows` extra rows, the JVP
    /// along (ż, ṙ, ṫ) of the first `tangentRows` primal rows (the tangent on s is 0).
    /// Nil tangent pointers mean zero tangents. Result: ``output``.
    public func forward(_ params: UnsafePointer<T>, rows: Int, tangentRows: Int = 0,
                        s: UnsafePointer<T>, z: UnsafePointer<T>, r: UnsafePointer<T>, t: UnsafePointer<T>,
                        zDot: UnsafePointer<T>? = nil, rDot: UnsafePointer<T>? = nil, tDot: UnsafePointer<T>? = nil,
                        derivatives: Bool = true, parallel: Bool = false) {
        let obs = spec.obsDim, act = spec.actDim, width = spec.bodyInputDim
        let total = rows + tangentRows
        precondition(total <= maxRows, "policy rows \(total) exceed workspace \(maxRows)")
        lastRows = rows
        lastT.update(from: t, count: rows); lastR.update(from: r, count: rows)
        switch spec.timeInput {
        case .raw:
            for i in 0..<rows {
                let row = bodyInput + i * width
                row.update(from: s + i * obs, count: obs)
                (row + obs).update(from: z + i * act, count: act)
                row[obs + act] = r[i]; row[obs + act + 1] = t[i]
            }
            for i in 0..<tangentRows {
                let row = bodyInput + (rows + i) * width
                row.update(repeating: 0, count: obs)
                if let zDot { (row + obs).update(from: zDot + i * act, count: act) } else { (row + obs).update(repeating: 0, count: act) }
                row[obs + act] = rDot?[i] ?? 0; row[obs + act + 1] = tDot?[i] ?? 0
            }
        case .sinusoidal:
            let d = spec.timeEmbeddingDim
            let emb = sinusoid!, tE = tEmbed!, rE = rEmbed!, tIn = self.tIn, rIn = self.rIn
            // The t and r embeddings are independent: one per worker when `parallel` (each
            // network's arithmetic is the same on either path).
            Workers.pair(parallel) { w in
                let times = w == 0 ? t : r, dots = w == 0 ? tDot : rDot, input = w == 0 ? tIn : rIn
                // Runs of equal times (the one-step rows' t = 1, r = 0) reuse the row above: the
                // same inputs give the same features, without the sines and cosines.
                func same(_ a: T, _ b: T) -> Bool { a == b && a.sign == b.sign }
                for i in 0..<rows {
                    if i > 0 && same(times[i], times[i - 1]) {
                        (input + i * d).update(from: input + (i - 1) * d, count: d)
                    } else {
                        emb.features(times[i], into: input + i * d)
                    }
                }
                for i in 0..<tangentRows {
                    let dot = dots?[i] ?? 0
                    if i > 0 && same(times[i], times[i - 1]) && same(dot, dots?[i - 1] ?? 0) {
                        (input + (rows + i) * d).update(from: input + (rows + i - 1) * d, count: d)
                    } else {
                        emb.tangent(times[i], dot, into: input + (rows + i) * d)
                    }
                }
                (w == 0 ? tE : rE).forward(params, input: input, rows: rows, tangentRows: tangentRows, derivatives: derivatives)
            }
            let et = tEmbed!.output, er = rEmbed!.output
            for i in 0..<total {
                let row = bodyInput + i * width
                if i < rows {
                    row.update(from: z + i * act, count: act)
                    (row + act).update(from: s + i * obs, count: obs)
                } else {
                    if let zDot { row.update(from: zDot + (i - rows) * act, count: act) } else { row.update(repeating: 0, count: act) }
                    (row + act).update(repeating: 0, count: obs)
                }
                (row + act + obs).update(from: et + i * d, count: d)
                (row + act + obs + d).update(from: er + i * d, count: d)
            }
        }
        body.forward(params, input: bodyInput, rows: rows, tangentRows: tangentRows, derivatives: derivatives, parallel: parallel)
    }

    /// Backward over the first `rows` primal rows: parameter gradients into `grads`.
    /// `parallel`: see ``MLP/backward(_:grads:rows:dOutput:inputGrad:parallel:)``.
    public func backward(_ params: UnsafePointer<T>, grads: UnsafeMutablePointer<T>, rows: Int, dOutput: UnsafePointer<T>,
                         parallel: Bool = false) {
        switch spec.timeInput {
        case .raw:
            body.backward(params, grads: grads, rows: rows, dOutput: dOutput, inputGrad: false, parallel: parallel)
        case .sinusoidal:
            body.backward(params, grads: grads, rows: rows, dOutput: dOutput, inputGrad: true, parallel: parallel)
            let d = spec.timeEmbeddingDim, width = spec.bodyInputDim, off = spec.actDim + spec.obsDim
            let nets = [tEmbed!, rEmbed!], buffers = [dEmb, dEmbR], dInput = body.dInput
            Workers.pair(parallel) { k in
                for i in 0..<rows {
                    (buffers[k] + i * d).update(from: dInput + i * width + off + k * d, count: d)
                }
                nets[k].backward(params, grads: grads, rows: rows, dOutput: buffers[k], inputGrad: false)
            }
        }
    }

    /// The body input's columns that do not depend on (r, t), row by row into `out`: [s, z]
    /// (raw) or [z, s] (sinusoidal); the time columns follow them in the full input.
    public func leadingInput(s: UnsafePointer<T>, z: UnsafePointer<T>, rows: Int, into out: UnsafeMutablePointer<T>) {
        let obs = spec.obsDim, act = spec.actDim, w = obs + act
        for i in 0..<rows {
            let row = out + i * w
            if spec.timeInput == .raw {
                row.update(from: s + i * obs, count: obs); (row + obs).update(from: z + i * act, count: act)
            } else {
                row.update(from: z + i * act, count: act); (row + act).update(from: s + i * obs, count: obs)
            }
        }
    }

    /// The body input's time columns at fixed (r, t): [r, t] (raw) or [e_t(t), e_r(r)] through
    /// the embedding MLPs (sinusoidal).
    public func timeColumns(_ params: UnsafePointer<T>, r: T, t: T) -> [T] {
        switch spec.timeInput {
        case .raw: return [r, t]
        case .sinusoidal:
            sinusoid!.features(t, into: tIn); sinusoid!.features(r, into: rIn)
            tEmbed!.forwardRow(params, input: tIn); rEmbed!.forwardRow(params, input: rIn)
            let d = spec.timeEmbeddingDim
            return Array(UnsafeBufferPointer(start: tEmbed!.output, count: d)) + Array(UnsafeBufferPointer(start: rEmbed!.output, count: d))
        }
    }

    /// One row at batch size 1 (gemv path; raw or sinusoidal).
    public func forwardRow(_ params: UnsafePointer<T>, s: UnsafePointer<T>, z: UnsafePointer<T>, r: T, t: T) {
        let obs = spec.obsDim, act = spec.actDim
        switch spec.timeInput {
        case .raw:
            bodyInput.update(from: s, count: obs)
            (bodyInput + obs).update(from: z, count: act)
            bodyInput[obs + act] = r; bodyInput[obs + act + 1] = t
        case .sinusoidal:
            let d = spec.timeEmbeddingDim
            sinusoid!.features(t, into: tIn); sinusoid!.features(r, into: rIn)
            tEmbed!.forwardRow(params, input: tIn); rEmbed!.forwardRow(params, input: rIn)
            bodyInput.update(from: z, count: act)
            (bodyInput + act).update(from: s, count: obs)
            (bodyInput + act + obs).update(from: tEmbed!.output, count: d)
            (bodyInput + act + obs + d).update(from: rEmbed!.output, count: d)
        }
        body.forwardRow(params, input: bodyInput)
    }
}

/// An ensemble of Q-networks Q_i(s, a) = MLP_i(concat(s, a)) sharing one input buffer.
///
/// Parameters: `{prefix}.q{i+1}.layers.*` (e.g. `critic.q1.layers.0.weight`).
public final class CriticEnsemble<T: NetScalar> {
    public let nets: [MLP<T>]
    public let obsDim: Int, actDim: Int, maxRows: Int
    /// The concatenated input, maxRows × (obsDim + actDim).
    public let input: UnsafeMutablePointer<T>

    public init(count: Int, obsDim: Int, actDim: Int, hidden: [Int], activation: Activation, layerNorm: Bool,
                prefix: String, layout: inout ParameterLayout, maxRows: Int) {
        self.obsDim = obsDim; self.actDim = actDim; self.maxRows = maxRows
        let spec = MLPSpec(inputDim: obsDim + actDim, hidden: hidden, outputDim: 1, activation: activation, layerNorm: layerNorm)
        nets = (0..<count).map { MLP(spec, prefix: "\(prefix).q\($0 + 1)", layout: &layout, maxRows: maxRows) }
        input = .allocate(capacity: maxRows * (obsDim + actDim)); input.initialize(repeating: 0, count: maxRows * (obsDim + actDim))
    }
    deinit { input.deallocate() }

    public func initialize(_ params: UnsafeMutablePointer<T>, rng: inout Xoshiro) {
        for n in nets { n.initialize(params, rng: &rng) }
    }

    /// Writes concat(s, a) for `rows` rows into ``input``.
    public func setInput(rows: Int, s: UnsafePointer<T>, a: UnsafePointer<T>) {
        precondition(rows <= maxRows, "critic rows \(rows) exceed workspace \(maxRows)")
        let w = obsDim + actDim
        for i in 0..<rows {
            (input + i * w).update(from: s + i * obsDim, count: obsDim)
            (input + i * w + obsDim).update(from: a + i * actDim, count: actDim)
        }
    }

    /// Runs every network (or only network `only`) on the current input; Q_i is `nets[i].output`.
    public func forward(_ params: UnsafePointer<T>, rows: Int, only: Int? = nil, derivatives: Bool) {
        for i in nets.indices where only == nil || only == i {
            nets[i].forward(params, input: input, rows: rows, derivatives: derivatives)
        }
    }

    /// Q values of network i (rows values).
    public func q(_ i: Int) -> UnsafeMutablePointer<T> { nets[i].output }

    /// Bootstrap targets y_b = rewardScale·r_b + rewardShift + γ·mask_b·agg_i Q'_i(s'_b, a'_b) of
    /// a twin ensemble under `targetParams` (agg: min, clipped double Q, or mean), written into
    /// `y`; returns mean_b y_b. Overwrites the input buffer and the networks' outputs.
    public func bootstrapTargets(_ targetParams: UnsafePointer<T>, s2: UnsafePointer<T>, a2: UnsafePointer<T>, r: UnsafePointer<T>,
                                 mask: UnsafePointer<T>, rows: Int, gamma: T, rewardScale: T, rewardShift: T,
                                 aggregation: QAggregation = .min, parallel: Bool, into y: UnsafeMutablePointer<T>) -> T {
        precondition(nets.count == 2, "bootstrap targets aggregate two critics")
        setInput(rows: rows, s: s2, a: a2)
        Workers.pair(parallel) { self.forward(targetParams, rows: rows, only: $0, derivatives: false) }
        let q1 = q(0), q2 = q(1)
        var sum: T = 0
        for b in 0..<rows {
            let next = aggregation == .min ? Swift.min(q1[b], q2[b]) : (q1[b] + q2[b]) / 2
            y[b] = rewardScale * r[b] + rewardShift + gamma * mask[b] * next
            sum += y[b]
        }
        return sum / T(rows)
    }

    /// Regression of every network on targets y: loss Σ_i mean_b (Q_i(s, a) − y_b)², its
    /// gradient written into `params.grads` (each network in its own slice). `scratch` holds
    /// count × rows values. Returns the loss and mean Q_1.
    public func regress(_ params: ParameterBlock<T>, s: UnsafePointer<T>, a: UnsafePointer<T>, rows: Int,
                        targets y: UnsafePointer<T>, scratch: UnsafeMutablePointer<T>, parallel: Bool) -> (loss: T, q1Mean: T) {
        precondition(nets.count == 2 || !parallel, "the two-worker split pairs two networks")
        setInput(rows: rows, s: s, a: a)
        let nets = self.nets, input = UnsafePointer(self.input), pv = params.values, pg = params.grads
        let fit = { (i: Int) in
            let net = nets[i], q = net.output, d = scratch + i * rows
            net.forward(pv, input: input, rows: rows, derivatives: true)
            for b in 0..<rows { d[b] = 2 * (q[b] - y[b]) / T(rows) }
            net.backward(pv, grads: pg, rows: rows, dOutput: d, inputGrad: false)
        }
        if nets.count == 2 { Workers.pair(parallel) { fit($0) } } else { for i in nets.indices { fit(i) } }
        var loss: T = 0, q1: T = 0
        for i in nets.indices {
            for b in 0..<rows { let d = q(i)[b] - y[b]; loss += d * d / T(rows) }
        }
        for b in 0..<rows { q1 += q(0)[b] }
        return (loss, q1 / T(rows))
    }
}
