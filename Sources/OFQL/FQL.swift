import BLAS
import Randomness

/// How the next-state values of twin target critics are combined in a bootstrap target.
public enum QAggregation: String, Codable, Sendable {
    /// The mean of the critics (FQL's default, `q_agg = "mean"`).
    case mean
    /// The minimum (clipped double Q).
    case min
}

/// FQL's networks and losses (Park, Li & Levine 2025, "Flow Q-Learning", arXiv 2502.02538,
/// §4 and Algorithm 1), and FBRAC's, which share everything but the actor, generic over the
/// scalar so the finite-difference tests run them in Double.
///
/// FBRAC (the "flow BRAC" baseline of arXiv 2502.02538 §5 and the one-step study of arXiv
/// 2508.13904 Table 2): no one-step policy; the flow itself (`policy.body.*`) is the policy,
/// its actor loss is the flow loss plus η·(−λ·Q) back-propagated through its K Euler steps
/// (trained with 5), and its critic target's next action is its K-step action.
///
/// - BC flow v_ψ(s, x, t) in FQL's time convention (the opposite of MeanFlow's): x_0 is the
///   noise, x_1 the action, x_t = (1 − t)x_0 + t·x_1, target velocity x_1 − x_0, raw t as an
///   input (`flow.body.*`).
/// - One-step policy μ_ω(s, z), z ~ N(0, I) (`policy.body.*`), distilled from the flow's
///   K-step Euler output for the same z and pushed up the critics.
/// - Twin critics Q_i(s, a) with target copies; the critic target's next action is the
///   one-step policy's (no target actor).
///
/// Observations arrive normalised. Both actor modules live in one parameter block (one Adam,
/// as FQL's single optimiser: Adam is per parameter, so splitting it from the critic's changes
/// nothing).
public final class FQLNets<T: NetScalar> {
    public let obsDim: Int, actDim: Int, rows: Int
    /// `fql` or `fbrac`.
    public let algo: Algorithm
    /// The BC flow and its Euler integration (FQL: 10 steps), or FBRAC's policy (with a
    /// workspace per step).
    let flow: EulerFlow<T>
    /// FQL's one-step policy (nil for FBRAC).
    let oneStep: MLP<T>?
    let critics: CriticEnsemble<T>
    /// ω then ψ (`policy.body.*`, `flow.body.*`); FBRAC: ψ (`policy.body.*`).
    public let actorParams: ParameterBlock<T>
    public let criticParams: ParameterBlock<T>, criticTarget: ParameterBlock<T>
    /// The one-step policy's input [s, z] (rows × width).
    let oneStepInput: UnsafeMutablePointer<T>
    /// The distillation target, μ, clip(μ), the next actions, y, ∂/∂Q, ∂/∂μ (rows × actDim or rows).
    let target, mu, aPi, nextAction, y, dQ, dMu: UnsafeMutablePointer<T>
    /// FBRAC: a gradient buffer of the actor's size (the Euler steps accumulate through it).
    let scratch: UnsafeMutablePointer<T>
    private let work = Workspace<T>()

    public init(obsDim: Int, actDim: Int, config: OFQLConfig, rows: Int, rng: inout Xoshiro) {
        precondition(config.algo == .fql || config.algo == .fbrac)
        self.obsDim = obsDim; self.actDim = actDim; self.rows = rows; algo = config.algo
        var al = ParameterLayout()
        let specs = FQLNets.specs(obsDim: obsDim, actDim: actDim, config: config)
        if algo == .fql {
            oneStep = MLP(specs.oneStep, prefix: "policy.body", layout: &al, maxRows: rows)
            flow = EulerFlow(specs.flow, obsDim: obsDim, actDim: actDim, steps: config.flowSteps, prefix: "flow.body", layout: &al,
                             rows: rows)
        } else {
            oneStep = nil
            flow = EulerFlow(specs.flow, obsDim: obsDim, actDim: actDim, steps: config.flowSteps, prefix: "policy.body", layout: &al,
                             rows: rows, workspaces: config.flowSteps)
        }
        actorParams = ParameterBlock(layout: al)
        var cl = ParameterLayout()
        critics = CriticEnsemble(count: 2, obsDim: obsDim, actDim: actDim, hidden: config.criticHidden,
                                 activation: config.criticActivation, layerNorm: config.criticLayerNorm,
                                 prefix: "critic", layout: &cl, maxRows: rows)
        criticParams = ParameterBlock(layout: cl); criticTarget = ParameterBlock(layout: cl)
        oneStep?.initialize(actorParams.values, rng: &rng)
        flow.net.initialize(actorParams.values, rng: &rng)
        critics.initialize(criticParams.values, rng: &rng)
        criticTarget.copyValues(from: criticParams)
        let alloc = { [work] (n: Int) in work.alloc(n) }
        oneStepInput = alloc(rows * specs.oneStep.inputDim)
        let ra = rows * actDim
        target = alloc(ra); mu = alloc(ra); aPi = alloc(ra); nextAction = alloc(ra)
        y = alloc(rows); dQ = alloc(2 * rows); dMu = alloc(ra); scratch = alloc(algo == .fbrac ? actorParams.count : 1)
    }

    /// The one-step policy's and the flow's architectures (config `hidden`, `activation`,
    /// `policyLayerNorm` for both).
    static func specs(obsDim: Int, actDim: Int, config: OFQLConfig) -> (oneStep: MLPSpec, flow: MLPSpec) {
        (MLPSpec(inputDim: obsDim + actDim, hidden: config.hidden, outputDim: actDim, activation: config.activation,
                 layerNorm: config.policyLayerNorm),
         MLPSpec(inputDim: obsDim + actDim + 1, hidden: config.hidden, outputDim: actDim, activation: config.activation,
                 layerNorm: config.policyLayerNorm))
    }

    /// μ_ω(s, z) into `oneStep.output` (and clipped into `out` when given).
    func oneStepForward(_ params: UnsafePointer<T>, s: UnsafePointer<T>, z: UnsafePointer<T>, count: Int,
                        derivatives: Bool, parallel: Bool) {
        FQLNets.concat(s, obsDim, z, actDim, rows: count, into: oneStepInput)
        oneStep!.forward(params, input: oneStepInput, rows: count, derivatives: derivatives, parallel: parallel)
    }

    /// What one critic loss evaluation measured.
    public struct CriticResult { public var loss: T, qMean: T, targetMean: T }

    /// Critic loss Σ_i mean_b (Q_i(s, a) − y)² with y = r̃ + γ·mask·agg_i Q'_i(s', a'),
    /// a' = clip(μ_ω(s', z'), −1, 1) (FBRAC: its K-step action from z') and
    /// r̃ = rewardScale·r + rewardShift. Writes ∂/∂φ into
    /// `criticParams.grads`. (FQL averages over the two critics instead of summing: the same
    /// Adam step up to ε.)
    public func criticLoss(s: UnsafePointer<T>, a: UnsafePointer<T>, r: UnsafePointer<T>, s2: UnsafePointer<T>,
                           mask: UnsafePointer<T>, zNext: UnsafePointer<T>, gamma: T, rewardScale: T = 1,
                           rewardShift: T = 0, aggregation: QAggregation = .mean, parallel: Bool = false) -> CriticResult {
        let B = rows, A = actDim
        if let oneStep {
            oneStepForward(actorParams.values, s: s2, z: zNext, count: B, derivatives: false, parallel: parallel)
            for k in 0..<(B * A) { nextAction[k] = EulerFlow<T>.clip(oneStep.output[k]) }
        } else {
            flow.sample(actorParams.values, s: s2, z: zNext, count: B, derivatives: false, parallel: parallel, into: nextAction)
        }
        let yMean = critics.bootstrapTargets(criticTarget.values, s2: s2, a2: nextAction, r: r, mask: mask, rows: B, gamma: gamma,
                                             rewardScale: rewardScale, rewardShift: rewardShift, aggregation: aggregation,
                                             parallel: parallel, into: y)
        let (loss, q1) = critics.regress(criticParams, s: s, a: a, rows: B, targets: y, scratch: dQ, parallel: parallel)
        return CriticResult(loss: loss, qMean: q1, targetMean: yMean)
    }

    /// What one actor loss evaluation measured.
    public struct ActorResult { public var loss: T, flowLoss: T, distillLoss: T, qTerm: T, lambda: T, clipped: Int }

    /// FQL's actor loss (arXiv 2502.02538 eq. 7 with the flow loss of eq. 3):
    /// mean‖v_ψ(s, x_t, t) − (a − x_0)‖² + α·mean‖μ_ω(s, z) − sg(flow(s, z))‖² − λ·mean_b mean_i Q_i(s, clip(μ_ω(s, z))),
    /// the means over batch and action dims; λ = 1/sg(mean_b |mean_i Q_i|) with `normalizeQ`
    /// (FQL's `normalize_q_loss`), 1 otherwise, or `lambda` when given. The distillation target
    /// is the flow's Euler output (``target`` afterwards), or `distillTarget` when given (the
    /// finite-difference tests hold λ and the detached target fixed). Clipping passes no
    /// gradient outside [−1, 1]. Writes ∂/∂(ω, ψ) into `actorParams.grads`; the critics are
    /// only read.
    public func actorLoss(s: UnsafePointer<T>, a: UnsafePointer<T>, x0: UnsafePointer<T>, t: UnsafePointer<T>,
                          z: UnsafePointer<T>, alpha: T, normalizeQ: Bool, lambda fixed: T? = nil,
                          distillTarget: UnsafePointer<T>? = nil, parallel: Bool = false) -> ActorResult {
        let B = rows, A = actDim, denom = T(B * A)
        let p = actorParams.values, g = actorParams.grads
        let flowLoss = flow.bcLoss(p, grads: g, s: s, a: a, x0: x0, t: t, count: B, parallel: parallel)
        // Distillation target from the same noise as μ (no gradient into ψ).
        if let distillTarget { target.update(from: distillTarget, count: B * A) } else {
            flow.sample(p, s: s, z: z, count: B, derivatives: false, parallel: parallel, into: target)
        }
        oneStepForward(p, s: s, z: z, count: B, derivatives: true, parallel: parallel)
        var clipped = 0
        for k in 0..<(B * A) {
            mu[k] = oneStep!.output[k]
            aPi[k] = EulerFlow<T>.clip(mu[k])
            if aPi[k] != mu[k] { clipped += 1 }
        }
        // Q term on the clipped one-step action, both critics averaged.
        let (meanQ, lambda) = qGradient(s: s, a: aPi, weight: 1, normalizeQ: normalizeQ, fixed: fixed, parallel: parallel)
        var distill: T = 0
        for k in 0..<(B * A) {
            let d = mu[k] - target[k]
            distill += d * d
            let inside = mu[k] >= -1 && mu[k] <= 1
            dMu[k] = alpha * 2 * d / denom + (inside ? dMu[k] : 0)
        }
        distill /= denom
        oneStep!.backward(p, grads: g, rows: B, dOutput: dMu, inputGrad: false, parallel: parallel)
        let qTerm = -lambda * meanQ
        return ActorResult(loss: flowLoss + alpha * distill + qTerm, flowLoss: flowLoss, distillLoss: distill, qTerm: qTerm,
                           lambda: lambda, clipped: clipped)
    }

    /// FBRAC's actor loss: mean‖v_ψ(s, x_t, t) − (a − x_0)‖² − η·λ·mean_b mean_i Q_i(s, a_ψ(s, z)),
    /// a_ψ the K-step Euler action (clipped), differentiated through every step; λ as FQL's.
    /// Writes ∂/∂ψ into `actorParams.grads`.
    public func fbracActorLoss(s: UnsafePointer<T>, a: UnsafePointer<T>, x0: UnsafePointer<T>, t: UnsafePointer<T>,
                               z: UnsafePointer<T>, eta: T, normalizeQ: Bool, lambda fixed: T? = nil,
                               parallel: Bool = false) -> ActorResult {
        precondition(algo == .fbrac)
        let B = rows, A = actDim
        let p = actorParams.values, g = actorParams.grads
        let flowLoss = flow.bcLoss(p, grads: g, s: s, a: a, x0: x0, t: t, count: B, parallel: parallel)
        flow.sample(p, s: s, z: z, count: B, derivatives: true, parallel: parallel, into: aPi)
        let last = flow.xs + flow.steps * flow.rows * A
        var clipped = 0
        for k in 0..<(B * A) where last[k] < -1 || last[k] > 1 { clipped += 1 }
        let (meanQ, lambda) = qGradient(s: s, a: aPi, weight: eta, normalizeQ: normalizeQ, fixed: fixed, parallel: parallel)
        flow.backward(p, grads: g, scratch: scratch, dAction: dMu, count: B, parallel: parallel)
        let qTerm = -eta * lambda * meanQ
        return ActorResult(loss: flowLoss + qTerm, flowLoss: flowLoss, distillLoss: 0, qTerm: qTerm, lambda: lambda, clipped: clipped)
    }

    /// mean_b mean_i Q_i(s, a) and λ (1/sg(mean_b |mean_i Q_i|) with `normalizeQ`, else 1, or
    /// `fixed`); writes ∂(−weight·λ·mean Q)/∂a into ``dMu``.
    private func qGradient(s: UnsafePointer<T>, a: UnsafePointer<T>, weight: T, normalizeQ: Bool, fixed: T?,
                           parallel: Bool) -> (meanQ: T, lambda: T) {
        let B = rows, A = actDim, O = obsDim
        critics.setInput(rows: B, s: s, a: a)
        let critics = self.critics, cv = criticParams.values
        Workers.pair(parallel) { critics.forward(cv, rows: B, only: $0, derivatives: true) }
        var meanQ: T = 0, meanAbs: T = 0
        for b in 0..<B {
            let q = (critics.q(0)[b] + critics.q(1)[b]) / 2
            meanQ += q; meanAbs += Swift.abs(q)
        }
        meanQ /= T(B); meanAbs /= T(B)
        let lambda = fixed ?? (normalizeQ ? 1 / Swift.max(meanAbs, T(1e-8)) : 1)
        let dq = dQ
        for b in 0..<B { dq[b] = -weight * lambda / (2 * T(B)) }
        Workers.pair(parallel) { critics.nets[$0].backward(cv, grads: nil, rows: B, dOutput: dq, inputGrad: true) }
        let w = O + A
        for b in 0..<B {
            for j in 0..<A { dMu[b * A + j] = critics.nets[0].dInput[b * w + O + j] + critics.nets[1].dInput[b * w + O + j] }
        }
        return (meanQ, lambda)
    }

    /// φ' ← τφ + (1 − τ)φ'.
    public func updateTarget(tau: T, parallel: Bool = false) {
        VectorMath.polyak(target: criticTarget.values, online: criticParams.values, criticParams.count, tau: tau,
                          parallel: parallel)
    }

    /// GEMM multiply–adds of one update (critic step, then actor step).
    var macs: Double {
        let b = Double(rows), mf = Double(flow.spec.macsPerRow), K = Double(flow.steps)
        let mc = Double(critics.nets[0].spec.macsPerRow)
        guard let oneStep else {
            // Next actions (K steps), target critics, online fwd + bwd; flow loss fwd + bwd, the
            // chain fwd + bwd, critics fwd + input-gradient bwd.
            return K * b * mf + 2 * b * mc + 2 * 3 * b * mc + 3 * b * mf + 3 * K * b * mf + 2 * b * mc + 2 * 2 * b * mc
        }
        let mo = Double(oneStep.spec.macsPerRow), flowSteps = flow.steps
        let critic = b * mo + 2 * b * mc + 2 * 3 * b * mc                 // μ(s', z'), target critics, online fwd + bwd
        let actor = 3 * b * mf + Double(flowSteps) * b * mf                // flow fwd + bwd, Euler target
            + 3 * b * mo + 2 * b * mc + 2 * 2 * b * mc                     // μ fwd + bwd, critics fwd + input-gradient bwd
        return critic + actor
    }

    static func concat(_ a: UnsafePointer<T>, _ da: Int, _ b: UnsafePointer<T>, _ db: Int, rows: Int,
                       into out: UnsafeMutablePointer<T>) {
        for i in 0..<rows {
            (out + i * (da + db)).update(from: a + i * da, count: da)
            (out + i * (da + db) + da).update(from: b + i * db, count: db)
        }
    }

}

/// FQL and FBRAC as ``Learner``s (arXiv 2502.02538, Algorithm 1): each update computes the
/// critic's and the actor's gradients from the same parameters (the critic is read by the
/// actor loss before its own step, as FQL's joint loss), then one Adam step each and a Polyak
/// step of the target critics. Evaluation: FQL samples the one-step policy,
/// a = clip(μ_ω(s, z), −1, 1); FBRAC integrates its flow in one Euler step (arXiv 2508.13904
/// Table 2's "FBRAC (1)"; ``makeSampler(maxRows:flowSteps:)`` takes more).
public final class FQLAgent: ConfigurableLearner {
    public let config: OFQLConfig
    public let obsDim: Int, actDim: Int
    public let normalizer: ObservationNormalizer
    public var step = 0
    public var rng: Xoshiro
    public private(set) var workers = 1
    public let nets: FQLNets<Float>
    let actorOpt: Adam<Float>, criticOpt: Adam<Float>
    private let B: Int
    private let sN, s2N, zNext, x0, t, z: UnsafeMutablePointer<Float>
    private let work = Workspace<Float>()

    public init(config: OFQLConfig, obsDim: Int, actDim: Int, seed: UInt64, normalizer: ObservationNormalizer) {
        self.config = config; self.obsDim = obsDim; self.actDim = actDim; self.normalizer = normalizer
        B = config.batchSize
        var initRNG = Xoshiro(seed: seed)
        rng = initRNG.derived(1)
        nets = FQLNets(obsDim: obsDim, actDim: actDim, config: config, rows: B, rng: &initRNG)
        actorOpt = Adam(config, count: nets.actorParams.count, clipNorm: config.actorGradClip)
        criticOpt = Adam(config, count: nets.criticParams.count, clipNorm: config.criticGradClip)
        let w = work
        sN = w.alloc(B * obsDim); s2N = w.alloc(B * obsDim)
        zNext = w.alloc(B * actDim); x0 = w.alloc(B * actDim); t = w.alloc(B); z = w.alloc(B * actDim)
    }

    public func useCores(_ cores: Int) {
        workers = cores >= 2 ? 2 : 1
        BLASRuntime.setThreads(1)
    }

    public var parameterSets: [ParameterSet] {
        [ParameterSet(nets.actorParams, optimizer: ("actor", actorOpt)),
         ParameterSet(nets.criticParams, optimizer: ("critic", criticOpt)),
         ParameterSet(nets.criticTarget, rename: ("critic.", "critic_target."))]
    }

    /// FQL's one-step policy; FBRAC's flow in one Euler step.
    public func makeSampler(maxRows: Int) -> PolicySampler { makeSampler(maxRows: maxRows, flowSteps: nil) }

    /// With `flowSteps`, the flow integrated in that many Euler steps instead (FQL: the BC flow
    /// it distils from, no Q in its actions; FBRAC: its policy with as many steps as trained).
    public func makeSampler(maxRows: Int, flowSteps: Int?) -> PolicySampler {
        let specs = FQLNets<Float>.specs(obsDim: obsDim, actDim: actDim, config: config)
        let arch: PolicySampler.Architecture = config.algo == .fql
            ? .fql(oneStep: specs.oneStep, flow: specs.flow, flowSteps: flowSteps) : .flow(specs.flow, steps: flowSteps ?? 1)
        return PolicySampler(architecture: arch, source: nets.actorParams, normalizer: normalizer, obsDim: obsDim, actDim: actDim,
                             maxRows: maxRows)
    }

    public var gemmFlopsPerUpdate: Double { 2 * nets.macs }

    public func update(_ batch: TransitionBatch) throws -> UpdateMetrics {
        precondition(batch.count == B, "batch has \(batch.count) rows, the learner was built for \(B)")
        precondition(batch.obsDim == obsDim && batch.actDim == actDim, "batch dimensions differ from the learner's")
        let parallel = workers >= 2   // useCores(_:) set BLAS to one thread; see OFQLAgent.workers
        normalizer.apply(batch.observations, into: sN, rows: B)
        normalizer.apply(batch.nextObservations, into: s2N, rows: B)
        // Noise in a fixed order: z' (next actions), x_0 and t (flow matching), z (the actor's action).
        rng.fillNormal(zNext, count: B * actDim)
        rng.fillNormal(x0, count: B * actDim)
        rng.fillUniform(t, count: B, 0, 1)
        rng.fillNormal(z, count: B * actDim)

        let cr = nets.criticLoss(s: sN, a: batch.actions, r: batch.rewards, s2: s2N, mask: batch.masks, zNext: zNext,
                                 gamma: Float(config.gamma), rewardScale: Float(config.rewardScale),
                                 rewardShift: Float(config.rewardShift), aggregation: config.qAggregation, parallel: parallel)
        guard cr.loss.isFinite else { throw TrainingError.diverged(step: step, what: "critic loss is \(cr.loss)") }
        let ar = config.algo == .fql
            ? nets.actorLoss(s: sN, a: batch.actions, x0: x0, t: t, z: z, alpha: Float(config.fqlAlpha),
                             normalizeQ: config.normalizeQLoss, parallel: parallel)
            : nets.fbracActorLoss(s: sN, a: batch.actions, x0: x0, t: t, z: z, eta: Float(config.eta),
                                  normalizeQ: config.normalizeQLoss, parallel: parallel)
        guard ar.loss.isFinite else {
            throw TrainingError.diverged(step: step, what: "actor loss is \(ar.loss) (flow \(ar.flowLoss), distill \(ar.distillLoss), Q term \(ar.qTerm))")
        }
        var m = UpdateMetrics()
        // Both gradients are finite before either optimiser moves a parameter.
        let cNorm = criticOpt.gradientNorm(nets.criticParams), aNorm = actorOpt.gradientNorm(nets.actorParams)
        guard cNorm.isFinite else { throw TrainingError.diverged(step: step, what: "critic gradient norm is \(cNorm)") }
        guard aNorm.isFinite else { throw TrainingError.diverged(step: step, what: "actor gradient norm is \(aNorm)") }
        do {
            m.criticGradNorm = try criticOpt.update(nets.criticParams, lr: config.criticLR, norm: cNorm, parallel: parallel)
            m.actorGradNorm = try actorOpt.update(nets.actorParams, lr: config.actorLR, norm: aNorm, parallel: parallel)
        } catch {
            throw TrainingError.diverged(step: step, what: "\(error)")
        }
        nets.updateTarget(tau: Float(config.targetTau), parallel: parallel)
        m.criticLoss = Double(cr.loss); m.qMean = Double(cr.qMean); m.targetMean = Double(cr.targetMean)
        m.actorLoss = Double(ar.loss); m.flowLoss = Double(ar.flowLoss); m.qLoss = Double(ar.qTerm)
        m.qAbsMean = Double(1 / ar.lambda)
        m.clippedFraction = Double(ar.clipped) / Double(B * actDim)
        step += 1
        return m
    }
}
