import BLAS
import Foundation
import Randomness

/// Diffusion-QL's noise schedule: the discrete variance-preserving schedule with β_min = 0.1,
/// β_max = 10 (Wang, Hunt & Zhou 2022, "Diffusion Policies as an Expressive Policy Class for
/// Offline RL", arXiv 2208.06193, §4 and App. C; Xiao et al. 2021), with the DDPM posterior
/// coefficients of Ho et al. 2020 (arXiv 2006.11239, eq. 6–7, 11).
///
/// Step i ∈ 0..<K: β_i = 1 − exp(−β_min/K − (β_max − β_min)(2i + 1)/(2K²)), ᾱ_i = Π_{j ≤ i}(1 − β_j).
public struct DiffusionSchedule: Sendable, Equatable {
    public let steps: Int
    public let betas: [Double]
    public let alphasCumprod: [Double]
    /// √ᾱ_i and √(1 − ᾱ_i) (forward noising).
    let sqrtAC, sqrtOneMinusAC: [Double]
    /// √(1/ᾱ_i) and √(1/ᾱ_i − 1): x̂_0 = √(1/ᾱ_i)·x_i − √(1/ᾱ_i − 1)·ε.
    let recipSqrtAC, recipm1SqrtAC: [Double]
    /// Posterior mean coef1·x̂_0 + coef2·x_i and standard deviation (variance clamped at 1e-20).
    let coef1, coef2, sigma: [Double]

    public init(steps K: Int, betaMin: Double = 0.1, betaMax: Double = 10) {
        precondition(K >= 1)
        steps = K
        let k = Double(K)
        betas = (1...K).map { (t: Int) -> Double in
            let exponent: Double = -betaMin / k - 0.5 * (betaMax - betaMin) * Double(2 * t - 1) / (k * k)
            return 1 - exp(exponent)
        }
        var ac: [Double] = [], p = 1.0
        for b in betas { p *= 1 - b; ac.append(p) }
        alphasCumprod = ac
        let prev = [1.0] + ac.dropLast()
        sqrtAC = ac.map { $0.squareRoot() }; sqrtOneMinusAC = ac.map { (1 - $0).squareRoot() }
        recipSqrtAC = ac.map { (1 / $0).squareRoot() }; recipm1SqrtAC = ac.map { (1 / $0 - 1).squareRoot() }
        var c1: [Double] = [], c2: [Double] = [], sg: [Double] = []
        for i in 0..<K {
            let b = betas[i], p = prev[i], a = ac[i]
            c1.append(b * p.squareRoot() / (1 - a))
            c2.append((1 - p) * (1 - b).squareRoot() / (1 - a))
            let variance = max(b * (1 - p) / (1 - a), 1e-20)
            sg.append(exp(0.5 * log(variance)))
        }
        coef1 = c1; coef2 = c2; sigma = sg
    }
}

/// The architecture of DQL's noise-prediction network ε_θ(x_i, i, s): a sinusoidal embedding of
/// the step index through dim → 2·dim → Mish → dim (`policy.time_mlp.*`), concatenated as
/// [x, e(i), s] into the body MLP (`policy.body.*`), as DQL's code.
public struct DiffusionPolicySpec: Sendable, Equatable {
    public var obsDim: Int, actDim: Int
    public var hidden: [Int]
    public var activation: Activation
    public var layerNorm: Bool
    public var embedDim: Int
    public var steps: Int
    public var betaMin: Double, betaMax: Double

    public init(config c: OFQLConfig, obsDim: Int, actDim: Int) {
        self.obsDim = obsDim; self.actDim = actDim; hidden = c.hidden; activation = c.activation
        layerNorm = c.policyLayerNorm; embedDim = c.timeEmbeddingDim; steps = c.diffusionSteps
        betaMin = c.diffusionBetaMin; betaMax = c.diffusionBetaMax
    }

    var embedSpec: MLPSpec { MLPSpec(inputDim: embedDim, hidden: [2 * embedDim], outputDim: embedDim, activation: .mish) }
    var bodySpec: MLPSpec {
        MLPSpec(inputDim: actDim + embedDim + obsDim, hidden: hidden, outputDim: actDim, activation: activation, layerNorm: layerNorm)
    }
}

/// A DDPM policy over actions: the ε-network and its K-step reverse chain, forward and
/// backward (the chain keeps one workspace per step so the actor loss back-propagates the Q
/// term through every denoising step, as DQL does).
///
/// Noise of one sampled action (``noiseWidth`` = K·actDim values per row): the initial x_K,
/// then the noise of reverse steps i = K − 1 … 1 (step 0 adds none).
final class DiffusionChain<T: NetScalar> {
    let spec: DiffusionPolicySpec
    let schedule: DiffusionSchedule
    let rows: Int
    let sinusoid: SinusoidalEmbedding<T>
    /// The networks at the block's offsets: `embed`/`body` for batches of mixed steps (the BC
    /// loss), `stepEmbed` for one row, `chain[n]` for reverse step n (i = K − 1 − n).
    let embed: MLP<T>, body: MLP<T>, stepEmbed: MLP<T>
    let chain: [MLP<T>]
    /// Parameter ranges of the embedding and the body in the block.
    let embedRange: Range<Int>, bodyRange: Range<Int>
    let width: Int
    /// Per step n: the body's input (rows × width), the pre-clamp x̂_0 (rows × A), the state x
    /// entering the step (rows × A; index K holds the chain's output before its final clamp),
    /// the embedding features and output (embedDim).
    let inputs, xRecon, xs, features, embeddings: UnsafeMutablePointer<T>
    /// BC-loss buffers and backward scratch.
    let bcFeatures, bcInput, bcEps, dEps, dEmb, dStepEmb, g: UnsafeMutablePointer<T>
    private let work = Workspace<T>()

    var noiseWidth: Int { spec.steps * spec.actDim }

    /// Adds the networks to `layout` (embedding first) for batches of up to `rows` rows.
    init(_ spec: DiffusionPolicySpec, layout: inout ParameterLayout, rows: Int) {
        self.spec = spec; self.rows = rows
        schedule = DiffusionSchedule(steps: spec.steps, betaMin: spec.betaMin, betaMax: spec.betaMax)
        sinusoid = SinusoidalEmbedding(dim: spec.embedDim, scale: 1)
        let start = layout
        embed = MLP(spec.embedSpec, prefix: "policy.time_mlp", layout: &layout, maxRows: rows)
        let mid = layout.count
        body = MLP(spec.bodySpec, prefix: "policy.body", layout: &layout, maxRows: rows)
        embedRange = start.count..<mid; bodyRange = mid..<layout.count
        // Further workspaces at the same offsets (built on copies of the layout so far).
        var l1 = start
        stepEmbed = MLP(spec.embedSpec, prefix: "policy.time_mlp", layout: &l1, maxRows: 1)
        chain = (0..<spec.steps).map { _ in
            var l = l1
            return MLP(spec.bodySpec, prefix: "policy.body", layout: &l, maxRows: rows)
        }
        let K = spec.steps, A = spec.actDim, d = spec.embedDim
        width = spec.bodySpec.inputDim
        let alloc = { [work] (n: Int) in work.alloc(n) }
        inputs = alloc(K * rows * width); xRecon = alloc(K * rows * A); xs = alloc((K + 1) * rows * A)
        features = alloc(K * d); embeddings = alloc(K * d)
        bcFeatures = alloc(rows * d); bcInput = alloc(rows * width); bcEps = alloc(rows * A); dEps = alloc(rows * A)
        dEmb = alloc(rows * d); dStepEmb = alloc(d); g = alloc(rows * A)
    }

    func initialize(_ params: UnsafeMutablePointer<T>, rng: inout Xoshiro) {
        embed.initialize(params, rng: &rng)
        body.initialize(params, rng: &rng)
    }

    /// Rows [x, e, s] of the body input.
    private func fillInput(_ input: UnsafeMutablePointer<T>, x: UnsafePointer<T>, embedding: UnsafePointer<T>, perRow: Bool,
                           s: UnsafePointer<T>, count: Int) {
        let A = spec.actDim, d = spec.embedDim, O = spec.obsDim
        for r in 0..<count {
            let row = input + r * width
            row.update(from: x + r * A, count: A)
            (row + A).update(from: embedding + (perRow ? r * d : 0), count: d)
            (row + A + d).update(from: s + r * O, count: O)
        }
    }

    /// e(i) = MLP(sinusoid(i)) of reverse step n into `embeddings + n·d` (one row).
    private func stepEmbedding(_ params: UnsafePointer<T>, step n: Int) {
        let d = spec.embedDim, i = spec.steps - 1 - n
        sinusoid.features(T(i), into: features + n * d)
        stepEmbed.forward(params, input: features + n * d, rows: 1, derivatives: false)
        (embeddings + n * d).update(from: stepEmbed.output, count: d)
    }

    /// Samples `count` actions through the K-step reverse chain (DQL's `p_sample_loop`): at step
    /// i, x̂_0 = clip(√(1/ᾱ_i)·x − √(1/ᾱ_i − 1)·ε_θ(x, i, s), −1, 1), x ← coef1_i·x̂_0 + coef2_i·x
    /// + σ_i·z (no z at i = 0); the action is clip(x, −1, 1). With `derivatives` every step keeps
    /// what ``backward(_:grads:scratch:dAction:count:)`` needs.
    /// `packed` (the body's packed weights) serves small inference batches.
    func sample(_ params: UnsafePointer<T>, s: UnsafePointer<T>, noise: UnsafePointer<T>, count: Int, derivatives: Bool,
                packed: PackedWeights? = nil, parallel: Bool = false, into out: UnsafeMutablePointer<T>) {
        precondition(count <= rows)
        let K = spec.steps, A = spec.actDim, d = spec.embedDim, sc = schedule
        for r in 0..<count { (xs + r * A).update(from: noise + r * K * A, count: A) }
        for n in 0..<K {
            let i = K - 1 - n
            stepEmbedding(params, step: n)
            let x = xs + n * rows * A, next = xs + (n + 1) * rows * A, input = inputs + n * rows * width
            fillInput(input, x: x, embedding: embeddings + n * d, perRow: false, s: s, count: count)
            let net = chain[n]
            runBody(net, params, input: input, count: count, derivatives: derivatives, packed: packed, parallel: parallel)
            let ra = T(sc.recipSqrtAC[i]), rm = T(sc.recipm1SqrtAC[i]), c1 = T(sc.coef1[i]), c2 = T(sc.coef2[i])
            let sg = T(sc.sigma[i]), xr = xRecon + n * rows * A
            for r in 0..<count {
                for j in 0..<A {
                    let k = r * A + j
                    let x0 = ra * x[k] - rm * net.output[k]
                    xr[k] = x0
                    next[k] = c1 * DiffusionChain.clip(x0) + c2 * x[k] + (i > 0 ? sg * noise[r * K * A + (n + 1) * A + j] : 0)
                }
            }
        }
        let last = xs + K * rows * A
        for k in 0..<(count * A) { out[k] = DiffusionChain.clip(last[k]) }
    }

    /// One DDIM step from t = K − 1 straight to the clean action (DQL + DDIM(1) of arXiv
    /// 2508.13904 Table 2): a = clip(√(1/ᾱ)·x_K − √(1/ᾱ − 1)·ε_θ(x_K, K − 1, s), −1, 1),
    /// x_K = the first actDim noise values of each row (row stride `noiseStride`).
    func ddim1(_ params: UnsafePointer<T>, s: UnsafePointer<T>, noise: UnsafePointer<T>, noiseStride: Int, count: Int,
               packed: PackedWeights? = nil, into out: UnsafeMutablePointer<T>) {
        let K = spec.steps, A = spec.actDim, i = K - 1, sc = schedule
        for r in 0..<count { (xs + r * A).update(from: noise + r * noiseStride, count: A) }
        stepEmbedding(params, step: 0)
        fillInput(inputs, x: xs, embedding: embeddings, perRow: false, s: s, count: count)
        runBody(chain[0], params, input: inputs, count: count, derivatives: false, packed: packed, parallel: false)
        let ra = T(sc.recipSqrtAC[i]), rm = T(sc.recipm1SqrtAC[i])
        for k in 0..<(count * A) { out[k] = DiffusionChain.clip(ra * xs[k] - rm * chain[0].output[k]) }
    }

    private func runBody(_ net: MLP<T>, _ params: UnsafePointer<T>, input: UnsafePointer<T>, count: Int, derivatives: Bool,
                         packed: PackedWeights?, parallel: Bool) {
        if let packed, !derivatives, let fm = net as? MLP<Float> {
            fm.forwardPacked(packed, input: UnsafeRawPointer(input).assumingMemoryBound(to: Float.self), rows: count)
        } else {
            net.forward(params, input: input, rows: count, derivatives: derivatives, parallel: parallel)
        }
    }

    /// Back-propagates ∂L/∂action (after the final clip) of the last ``sample`` with
    /// `derivatives` through the chain, adding ∂L/∂θ into `grads` (`scratch`: a gradient buffer
    /// of the block's size).
    func backward(_ params: UnsafePointer<T>, grads: UnsafeMutablePointer<T>, scratch: UnsafeMutablePointer<T>,
                  dAction: UnsafePointer<T>, count: Int, parallel: Bool = false) {
        let K = spec.steps, A = spec.actDim, d = spec.embedDim, sc = schedule
        let last = xs + K * rows * A
        for k in 0..<(count * A) { g[k] = last[k] >= -1 && last[k] <= 1 ? dAction[k] : 0 }
        for n in stride(from: K - 1, through: 0, by: -1) {
            let i = K - 1 - n, net = chain[n], xr = xRecon + n * rows * A
            let ra = T(sc.recipSqrtAC[i]), rm = T(sc.recipm1SqrtAC[i]), c1 = T(sc.coef1[i]), c2 = T(sc.coef2[i])
            // next = c1·clip(x̂_0) + c2·x, x̂_0 = ra·x − rm·ε(x): ∂x̂_0 = c1·g inside the clip.
            for k in 0..<(count * A) {
                let dx0 = xr[k] >= -1 && xr[k] <= 1 ? c1 * g[k] : 0
                dEps[k] = -rm * dx0
                g[k] = c2 * g[k] + ra * dx0
            }
            net.backward(params, grads: scratch, rows: count, dOutput: dEps, inputGrad: true, parallel: parallel)
            for p in bodyRange { grads[p] += scratch[p] }
            // ∂/∂x through the network, and the step embedding's gradient summed over rows.
            let de = dStepEmb
            de.update(repeating: 0, count: d)
            for r in 0..<count {
                let row = net.dInput + r * width
                for j in 0..<A { g[r * A + j] += row[j] }
                for e in 0..<d { de[e] += row[A + e] }
            }
            stepEmbed.forward(params, input: features + n * d, rows: 1, derivatives: true)
            stepEmbed.backward(params, grads: scratch, rows: 1, dOutput: de, inputGrad: false)
            for p in embedRange { grads[p] += scratch[p] }
        }
    }

    /// DQL's BC loss (DDPM noise prediction, Ho et al. 2020 eq. 14): mean over rows and action
    /// dims of (ε_θ(√ᾱ_i a + √(1 − ᾱ_i) ε, i, s) − ε)², i = `steps[r]`. Writes ∂/∂θ into `grads`
    /// (overwriting the networks' slices).
    func bcLoss(_ params: UnsafePointer<T>, grads: UnsafeMutablePointer<T>, s: UnsafePointer<T>, a: UnsafePointer<T>,
                eps: UnsafePointer<T>, steps: UnsafePointer<Int>, count: Int, parallel: Bool = false) -> T {
        let A = spec.actDim, d = spec.embedDim, sc = schedule
        for r in 0..<count {
            let i = steps[r]
            sinusoid.features(T(i), into: bcFeatures + r * d)
            let sa = T(sc.sqrtAC[i]), sb = T(sc.sqrtOneMinusAC[i])
            for j in 0..<A { bcEps[r * A + j] = sa * a[r * A + j] + sb * eps[r * A + j] }
        }
        embed.forward(params, input: bcFeatures, rows: count, derivatives: true)
        fillInput(bcInput, x: bcEps, embedding: embed.output, perRow: true, s: s, count: count)
        body.forward(params, input: bcInput, rows: count, derivatives: true, parallel: parallel)
        var loss: T = 0
        let denom = T(count * A)
        for k in 0..<(count * A) {
            let e = body.output[k] - eps[k]
            loss += e * e
            dEps[k] = 2 * e / denom
        }
        body.backward(params, grads: grads, rows: count, dOutput: dEps, inputGrad: true, parallel: parallel)
        for r in 0..<count { (dEmb + r * d).update(from: body.dInput + r * width + A, count: d) }
        embed.backward(params, grads: grads, rows: count, dOutput: dEmb, inputGrad: false)
        return loss / denom
    }

    /// GEMM multiply–adds of one sampled row through the chain.
    var macsPerSample: Double { Double(spec.steps) * Double(spec.bodySpec.macsPerRow) }

    @inline(__always) static func clip(_ v: T) -> T { v < -1 ? -1 : (v > 1 ? 1 : v) }
}

/// DQL's networks and losses, generic over the scalar so the finite-difference tests run them
/// in Double: the diffusion policy θ (``DiffusionChain``), twin critics φ and their targets φ'.
public final class DQLNets<T: NetScalar> {
    public let obsDim: Int, actDim: Int, rows: Int
    let policy: DiffusionChain<T>
    let critics: CriticEnsemble<T>
    public let actorParams: ParameterBlock<T>
    public let criticParams: ParameterBlock<T>, criticTarget: ParameterBlock<T>
    /// A gradient buffer of the actor's size (chain steps accumulate through it).
    let scratch: UnsafeMutablePointer<T>
    let action, nextAction, y, dQ, dA: UnsafeMutablePointer<T>
    private let work = Workspace<T>()

    public init(obsDim: Int, actDim: Int, config: OFQLConfig, rows: Int, rng: inout Xoshiro) {
        self.obsDim = obsDim; self.actDim = actDim; self.rows = rows
        var al = ParameterLayout()
        policy = DiffusionChain(DiffusionPolicySpec(config: config, obsDim: obsDim, actDim: actDim), layout: &al, rows: rows)
        actorParams = ParameterBlock(layout: al)
        var cl = ParameterLayout()
        critics = CriticEnsemble(count: 2, obsDim: obsDim, actDim: actDim, hidden: config.criticHidden,
                                 activation: config.criticActivation, layerNorm: config.criticLayerNorm,
                                 prefix: "critic", layout: &cl, maxRows: rows)
        criticParams = ParameterBlock(layout: cl); criticTarget = ParameterBlock(layout: cl)
        policy.initialize(actorParams.values, rng: &rng)
        critics.initialize(criticParams.values, rng: &rng)
        criticTarget.copyValues(from: criticParams)
        let alloc = { [work] (n: Int) in work.alloc(n) }
        scratch = alloc(actorParams.count)
        action = alloc(rows * actDim); nextAction = alloc(rows * actDim); y = alloc(rows); dQ = alloc(2 * rows); dA = alloc(rows * actDim)
    }

    public struct CriticResult { public var loss: T, qMean: T, targetMean: T }

    /// Critic loss Σ_i mean_b (Q_i(s, a) − y)², y = r̃ + γ·mask·min_i Q'_i(s', a'), a' sampled
    /// by the K-step chain from `policyParams` (θ', the EMA policy, in DQL) with `noise`
    /// (rows × K·actDim). Writes ∂/∂φ into `criticParams.grads`.
    public func criticLoss(policyParams: UnsafePointer<T>, s: UnsafePointer<T>, a: UnsafePointer<T>, r: UnsafePointer<T>,
                           s2: UnsafePointer<T>, mask: UnsafePointer<T>, noise: UnsafePointer<T>, gamma: T, rewardScale: T = 1,
                           rewardShift: T = 0, parallel: Bool = false) -> CriticResult {
        let B = rows
        policy.sample(policyParams, s: s2, noise: noise, count: B, derivatives: false, parallel: parallel, into: nextAction)
        let yMean = critics.bootstrapTargets(criticTarget.values, s2: s2, a2: nextAction, r: r, mask: mask, rows: B, gamma: gamma,
                                             rewardScale: rewardScale, rewardShift: rewardShift, parallel: parallel, into: y)
        let (loss, q1) = critics.regress(criticParams, s: s, a: a, rows: B, targets: y, scratch: dQ, parallel: parallel)
        return CriticResult(loss: loss, qMean: q1, targetMean: yMean)
    }

    public struct ActorResult { public var loss: T, bcLoss: T, qTerm: T, qAbsMean: T, clipped: Int }

    /// DQL's actor loss (arXiv 2208.06193 eq. 3 as its code computes it): the BC noise
    /// prediction loss plus η·(−mean_b Q_i(s, a_θ) / sg(mean_b |Q_j(s, a_θ)|)), a_θ sampled
    /// through the K-step chain with `noise` and differentiated through every step; i = `chosen`,
    /// j the other critic. `qNorm` fixes the detached normaliser (finite-difference tests).
    /// Writes ∂/∂θ into `actorParams.grads`; the critics are only read.
    public func actorLoss(s: UnsafePointer<T>, a: UnsafePointer<T>, bcNoise: UnsafePointer<T>, bcSteps: UnsafePointer<Int>,
                          noise: UnsafePointer<T>, eta: T, chosen: Int, qNorm fixed: T? = nil, parallel: Bool = false) -> ActorResult {
        let B = rows, A = actDim, O = obsDim
        let p = actorParams.values, grads = actorParams.grads
        let bc = policy.bcLoss(p, grads: grads, s: s, a: a, eps: bcNoise, steps: bcSteps, count: B, parallel: parallel)
        policy.sample(p, s: s, noise: noise, count: B, derivatives: true, parallel: parallel, into: action)
        var clipped = 0
        let last = policy.xs + policy.spec.steps * policy.rows * A
        for k in 0..<(B * A) where last[k] < -1 || last[k] > 1 { clipped += 1 }
        critics.setInput(rows: B, s: s, a: action)
        let critics = self.critics, cv = criticParams.values, i = chosen, j = 1 - chosen
        Workers.pair(parallel) { critics.forward(cv, rows: B, only: $0, derivatives: $0 == i) }
        var meanQ: T = 0, meanAbs: T = 0
        for b in 0..<B { meanQ += critics.q(i)[b]; meanAbs += Swift.abs(critics.q(j)[b]) }
        meanQ /= T(B); meanAbs /= T(B)
        let norm = fixed ?? Swift.max(meanAbs, T(1e-8))
        for b in 0..<B { dQ[b] = -eta / (T(B) * norm) }
        critics.nets[i].backward(cv, grads: nil, rows: B, dOutput: dQ, inputGrad: true, parallel: parallel)
        let w = O + A
        for b in 0..<B { for c in 0..<A { dA[b * A + c] = critics.nets[i].dInput[b * w + O + c] } }
        policy.backward(p, grads: grads, scratch: scratch, dAction: dA, count: B, parallel: parallel)
        let qTerm = -eta * meanQ / norm
        return ActorResult(loss: bc + qTerm, bcLoss: bc, qTerm: qTerm, qAbsMean: meanAbs, clipped: clipped)
    }

    /// GEMM multiply–adds of one update.
    var macs: Double {
        let b = Double(rows), K = Double(policy.spec.steps)
        let mb = Double(policy.spec.bodySpec.macsPerRow), me = Double(policy.spec.embedSpec.macsPerRow)
        let mc = Double(critics.nets[0].spec.macsPerRow)
        let critic = K * b * mb + 2 * b * mc + 2 * 3 * b * mc        // θ' chain, target critics, online fwd + bwd
        let actor = 3 * b * (mb + me) + 3 * K * b * mb                  // BC fwd + bwd, chain fwd + bwd
            + 2 * b * mc + 2 * b * mc                                   // critics fwd, Q_i input-gradient bwd
        return critic + actor
    }
}

/// Diffusion-QL as a ``Learner`` (arXiv 2208.06193, Algorithm 1; the settings of its code):
/// critic step with next actions from the EMA policy's K-step chain, then the actor step (BC
/// noise prediction + η·normalised Q through the chain) against the updated critics, the EMA
/// every `emaEvery` steps from `emaStartStep`, and a Polyak step of the target critics.
/// Evaluation samples the EMA policy's chain, as OFQL's evaluation samples its EMA policy,
/// so that the one-step strategy is the only difference between the two (DQL's code samples
/// the online actor).
public final class DQLAgent: ConfigurableLearner {
    public let config: OFQLConfig
    public let obsDim: Int, actDim: Int
    public let normalizer: ObservationNormalizer
    public var step = 0
    public var rng: Xoshiro
    public private(set) var workers = 1
    public let nets: DQLNets<Float>
    /// θ' (nil when `policyEMA` is off: the critic target and evaluation use θ).
    public let policyEMA: ParameterBlock<Float>?
    let actorOpt: Adam<Float>, criticOpt: Adam<Float>
    private let B: Int
    private let sN, s2N, nextNoise, bcNoise, chainNoise: UnsafeMutablePointer<Float>
    private let work = Workspace<Float>()
    private let bcSteps: UnsafeMutablePointer<Int>

    public init(config: OFQLConfig, obsDim: Int, actDim: Int, seed: UInt64, normalizer: ObservationNormalizer) {
        self.config = config; self.obsDim = obsDim; self.actDim = actDim; self.normalizer = normalizer
        B = config.batchSize
        var initRNG = Xoshiro(seed: seed)
        rng = initRNG.derived(1)
        nets = DQLNets(obsDim: obsDim, actDim: actDim, config: config, rows: B, rng: &initRNG)
        if config.policyEMA {
            let e = ParameterBlock<Float>(layout: nets.actorParams.layout)
            e.copyValues(from: nets.actorParams)
            policyEMA = e
        } else {
            policyEMA = nil
        }
        actorOpt = Adam(config, count: nets.actorParams.count, clipNorm: config.actorGradClip)
        criticOpt = Adam(config, count: nets.criticParams.count, clipNorm: config.criticGradClip)
        let K = config.diffusionSteps
        let alloc = { [work] (n: Int) in work.alloc(n) }
        sN = alloc(B * obsDim); s2N = alloc(B * obsDim)
        nextNoise = alloc(B * K * actDim); bcNoise = alloc(B * actDim); chainNoise = alloc(B * K * actDim)
        bcSteps = .allocate(capacity: B); bcSteps.initialize(repeating: 0, count: B)
    }
    deinit { bcSteps.deallocate() }

    public func useCores(_ cores: Int) {
        workers = cores >= 2 ? 2 : 1
        BLASRuntime.setThreads(1)
    }

    /// θ' if the EMA is on, else θ.
    public var targetPolicy: ParameterBlock<Float> { policyEMA ?? nets.actorParams }

    public var parameterSets: [ParameterSet] {
        var sets = [ParameterSet(nets.actorParams, optimizer: ("actor", actorOpt))]
        if let e = policyEMA { sets.append(ParameterSet(e, rename: ("policy.", "policy_ema."))) }
        sets.append(ParameterSet(nets.criticParams, optimizer: ("critic", criticOpt)))
        sets.append(ParameterSet(nets.criticTarget, rename: ("critic.", "critic_target.")))
        return sets
    }

    /// The K-step chain of θ'.
    public func makeSampler(maxRows: Int) -> PolicySampler { makeSampler(maxRows: maxRows, ddim1: false) }

    /// With `ddim1`, one DDIM step from x_K instead (the `dql-ddim1` row of arXiv 2508.13904 Table 2).
    public func makeSampler(maxRows: Int, ddim1: Bool) -> PolicySampler {
        PolicySampler(architecture: .diffusion(DiffusionPolicySpec(config: config, obsDim: obsDim, actDim: actDim), ddim1: ddim1),
                      source: targetPolicy, normalizer: normalizer, obsDim: obsDim, actDim: actDim, maxRows: maxRows)
    }

    public var gemmFlopsPerUpdate: Double { 2 * nets.macs }

    public func update(_ batch: TransitionBatch) throws -> UpdateMetrics {
        precondition(batch.count == B, "batch has \(batch.count) rows, the learner was built for \(B)")
        precondition(batch.obsDim == obsDim && batch.actDim == actDim, "batch dimensions differ from the learner's")
        let parallel = workers >= 2   // useCores(_:) set BLAS to one thread; see OFQLAgent.workers
        let K = config.diffusionSteps
        normalizer.apply(batch.observations, into: sN, rows: B)
        normalizer.apply(batch.nextObservations, into: s2N, rows: B)
        // Noise in a fixed order: the next actions' chain, the BC loss's ε and steps, the
        // actor's chain, the critic the normaliser differentiates.
        rng.fillNormal(nextNoise, count: B * K * actDim)
        rng.fillNormal(bcNoise, count: B * actDim)
        for b in 0..<B { bcSteps[b] = rng.index(K) }
        rng.fillNormal(chainNoise, count: B * K * actDim)
        let chosen = rng.index(2)

        let cr = nets.criticLoss(policyParams: targetPolicy.values, s: sN, a: batch.actions, r: batch.rewards, s2: s2N,
                                 mask: batch.masks, noise: nextNoise, gamma: Float(config.gamma),
                                 rewardScale: Float(config.rewardScale), rewardShift: Float(config.rewardShift), parallel: parallel)
        guard cr.loss.isFinite else { throw TrainingError.diverged(step: step, what: "critic loss is \(cr.loss)") }
        var m = UpdateMetrics()
        do { m.criticGradNorm = try criticOpt.update(nets.criticParams, lr: config.criticLR, parallel: parallel) } catch {
            throw TrainingError.diverged(step: step, what: "critic \(error)")
        }
        let ar = nets.actorLoss(s: sN, a: batch.actions, bcNoise: bcNoise, bcSteps: bcSteps, noise: chainNoise,
                                eta: Float(config.eta), chosen: chosen, parallel: parallel)
        guard ar.loss.isFinite else { throw TrainingError.diverged(step: step, what: "actor loss is \(ar.loss) (BC \(ar.bcLoss), Q term \(ar.qTerm))") }
        do { m.actorGradNorm = try actorOpt.update(nets.actorParams, lr: config.actorLR, parallel: parallel) } catch {
            throw TrainingError.diverged(step: step, what: "actor \(error)")
        }
        if let e = policyEMA { PolicyAverage.step(e, online: nets.actorParams, step: step, config: config, parallel: parallel) }
        if (step + 1) % config.targetUpdateEvery == 0 {
            VectorMath.polyak(target: nets.criticTarget.values, online: nets.criticParams.values, nets.criticParams.count,
                              tau: Float(config.targetTau), parallel: parallel)
        }
        m.criticLoss = Double(cr.loss); m.qMean = Double(cr.qMean); m.targetMean = Double(cr.targetMean)
        m.actorLoss = Double(ar.loss); m.flowLoss = Double(ar.bcLoss); m.qLoss = Double(ar.qTerm); m.qAbsMean = Double(ar.qAbsMean)
        m.clippedFraction = Double(ar.clipped) / Double(B * actDim)
        step += 1
        return m
    }
}

/// The policy EMA θ' ← ρθ' + (1 − ρ)θ every `emaEvery` steps from `emaStartStep`, held or
/// copied before it (DQL's `step_ema`; arXiv 2508.13904 App. B keeps it).
enum PolicyAverage {
    /// Called after update `step` (0-based) has moved θ.
    static func step(_ ema: ParameterBlock<Float>, online: ParameterBlock<Float>, step k: Int, config: OFQLConfig,
                     parallel: Bool = false) {
        guard k % config.emaEvery == 0 else { return }
        if k >= config.emaStartStep {
            VectorMath.polyak(target: ema.values, online: online.values, online.count, tau: Float(1 - config.emaDecay),
                              parallel: parallel)
        } else if config.emaWarmup == .copy {
            ema.copyValues(from: online)
        }
    }
}
