import BLAS
import Randomness

/// TD3+BC's networks and its two losses (Fujimoto & Gu 2021, arXiv 2106.06860, §4 eq. 3 and
/// Algorithm 1), generic over the scalar so the finite-difference tests run them in Double.
///
/// Actor π(s) = tanh(f_θ(s)) with f an MLP (2 × 256 ReLU as published); twin critics
/// Q_i(s, a); target copies θ', φ'. Observations arrive normalised.
public final class TD3BCNets<T: NetScalar> {
    public let obsDim: Int, actDim: Int, rows: Int
    let actor: MLP<T>
    let critics: CriticEnsemble<T>
    /// θ and θ' (layout `policy.body.*`), φ and φ' (layout `critic.q{1,2}.*`).
    public let actorParams: ParameterBlock<T>, actorTarget: ParameterBlock<T>
    public let criticParams: ParameterBlock<T>, criticTarget: ParameterBlock<T>
    /// π(s) of the last actor loss (rows × actDim) and scratch.
    let pi, nextAction, y, dQ, dA: UnsafeMutablePointer<T>
    private let work: [UnsafeMutablePointer<T>]

    public init(obsDim: Int, actDim: Int, config: OFQLConfig, rows: Int, rng: inout Xoshiro) {
        self.obsDim = obsDim; self.actDim = actDim; self.rows = rows
        var al = ParameterLayout()
        actor = MLP(MLPSpec(inputDim: obsDim, hidden: config.hidden, outputDim: actDim, activation: config.activation,
                            layerNorm: config.policyLayerNorm), prefix: "policy.body", layout: &al, maxRows: rows)
        actorParams = ParameterBlock(layout: al); actorTarget = ParameterBlock(layout: al)
        var cl = ParameterLayout()
        critics = CriticEnsemble(count: 2, obsDim: obsDim, actDim: actDim, hidden: config.criticHidden,
                                 activation: config.criticActivation, layerNorm: config.criticLayerNorm,
                                 prefix: "critic", layout: &cl, maxRows: rows)
        criticParams = ParameterBlock(layout: cl); criticTarget = ParameterBlock(layout: cl)
        actor.initialize(actorParams.values, rng: &rng)
        critics.initialize(criticParams.values, rng: &rng)
        actorTarget.copyValues(from: actorParams); criticTarget.copyValues(from: criticParams)
        func alloc(_ n: Int) -> UnsafeMutablePointer<T> {
            let p = UnsafeMutablePointer<T>.allocate(capacity: n); p.initialize(repeating: 0, count: n); return p
        }
        pi = alloc(rows * actDim); nextAction = alloc(rows * actDim); y = alloc(rows); dQ = alloc(2 * rows); dA = alloc(rows * actDim)
        work = [pi, nextAction, y, dQ, dA]
    }
    deinit { for p in work { p.deallocate() } }

    /// What one critic loss evaluation measured.
    public struct CriticResult { public var loss: T, qMean: T, targetMean: T }

    /// Critic loss Σ_i mean_b (Q_i(s, a) − y)², with the TD3 target
    /// y = r̃ + γ·mask·min_i Q'_i(s', clip(π'(s') + ξ, −1, 1)), ξ = `smoothing` (already
    /// clipped noise); r̃ = rewardScale·r + rewardShift. Writes ∂loss/∂φ into
    /// `criticParams.grads`.
    public func criticLoss(s: UnsafePointer<T>, a: UnsafePointer<T>, r: UnsafePointer<T>, s2: UnsafePointer<T>,
                           mask: UnsafePointer<T>, smoothing: UnsafePointer<T>, gamma: T, rewardScale: T = 1,
                           rewardShift: T = 0, parallel: Bool = false) -> CriticResult {
        let B = rows, A = actDim
        actor.forward(actorTarget.values, input: s2, rows: B, derivatives: false, parallel: parallel)
        for k in 0..<(B * A) {
            let x = ActivationMath.tanh(actor.output[k]).y + smoothing[k]
            nextAction[k] = x < -1 ? -1 : (x > 1 ? 1 : x)
        }
        let yMean = critics.bootstrapTargets(criticTarget.values, s2: s2, a2: nextAction, r: r, mask: mask, rows: B, gamma: gamma,
                                             rewardScale: rewardScale, rewardShift: rewardShift, parallel: parallel, into: y)
        let (loss, q1) = critics.regress(criticParams, s: s, a: a, rows: B, targets: y, scratch: dQ, parallel: parallel)
        return CriticResult(loss: loss, qMean: q1, targetMean: yMean)
    }

    /// What one actor loss evaluation measured.
    public struct ActorResult { public var loss: T, qTerm: T, bcTerm: T, lambda: T, saturated: Int }

    /// Actor loss −λ·mean_b Q_1(s, π(s)) + mean_{b,j} (π(s) − a)², with λ = α / mean_b|Q_1(s, π(s))|
    /// held constant (detached), or `lambda` when given (the finite-difference tests hold it
    /// fixed). Without `behaviorCloning` it is TD3's −mean_b Q_1(s, π(s)) (λ = 1, no BC term).
    /// Writes ∂loss/∂θ into `actorParams.grads`; `saturated` counts |π_j| > 0.99.
    public func actorLoss(s: UnsafePointer<T>, a: UnsafePointer<T>, alpha: T, lambda fixed: T? = nil,
                          behaviorCloning: Bool = true, parallel: Bool = false) -> ActorResult {
        let B = rows, A = actDim, O = obsDim
        actor.forward(actorParams.values, input: s, rows: B, derivatives: true, parallel: parallel)
        var saturated = 0
        for k in 0..<(B * A) {
            pi[k] = ActivationMath.tanh(actor.output[k]).y
            if Swift.abs(pi[k]) > T(0.99) { saturated += 1 }
        }
        critics.setInput(rows: B, s: s, a: pi)
        let q1 = critics.nets[0]
        q1.forward(criticParams.values, input: critics.input, rows: B, derivatives: true)
        var meanQ: T = 0, meanAbs: T = 0
        for b in 0..<B { meanQ += q1.output[b]; meanAbs += Swift.abs(q1.output[b]) }
        meanQ /= T(B); meanAbs /= T(B)
        let lambda = behaviorCloning ? fixed ?? alpha / Swift.max(meanAbs, T(1e-8)) : 1
        let bcWeight: T = behaviorCloning ? 1 : 0
        for b in 0..<B { dQ[b] = -lambda / T(B) }
        q1.backward(criticParams.values, grads: nil, rows: B, dOutput: dQ, inputGrad: true, parallel: parallel)
        var bc: T = 0
        let denom = T(B * A), w = O + A
        for b in 0..<B {
            for j in 0..<A {
                let k = b * A + j, d = pi[k] - a[k]
                bc += d * d
                // ∂L/∂f = (∂L/∂π)·(1 − π²), ∂L/∂π = λ-term + 2(π − a)/(B·A).
                dA[k] = (q1.dInput[b * w + O + j] + bcWeight * 2 * d / denom) * (1 - pi[k] * pi[k])
            }
        }
        bc = bcWeight * bc / denom
        actor.backward(actorParams.values, grads: actorParams.grads, rows: B, dOutput: dA, inputGrad: false, parallel: parallel)
        return ActorResult(loss: -lambda * meanQ + bc, qTerm: -lambda * meanQ, bcTerm: bc, lambda: lambda, saturated: saturated)
    }

    /// θ' ← τθ + (1 − τ)θ', φ' ← τφ + (1 − τ)φ'.
    public func updateTargets(tau: T) {
        VectorMath.polyak(target: actorTarget.values, online: actorParams.values, actorParams.count, tau: tau)
        VectorMath.polyak(target: criticTarget.values, online: criticParams.values, criticParams.count, tau: tau)
    }

    /// GEMM multiply–adds of one critic step and one actor step.
    var macs: (critic: Double, actor: Double) {
        let b = Double(rows), ma = Double(actor.spec.macsPerRow), mc = Double(critics.nets[0].spec.macsPerRow)
        let critic = b * ma + 2 * b * mc + 2 * 3 * b * mc          // target actor, target critics, online fwd + bwd
        let actorStep = 3 * b * ma + b * mc + 2 * b * mc           // actor fwd + bwd, Q_1 fwd + input-gradient bwd
        return (critic, actorStep)
    }
}

/// TD3+BC as a ``Learner`` (Fujimoto & Gu 2021, arXiv 2106.06860, Algorithm 1): every update
/// is a critic step; every `policyDelay`-th update also an actor step and Polyak updates of
/// both targets. Evaluation uses the online actor, as the authors' code does.
public final class TD3BCAgent: ConfigurableLearner {
    public let config: OFQLConfig
    public let obsDim: Int, actDim: Int
    public let normalizer: ObservationNormalizer
    public var step = 0
    public var rng: Xoshiro
    public private(set) var workers = 1
    public let nets: TD3BCNets<Float>
    let actorOpt: Adam<Float>, criticOpt: Adam<Float>
    private let B: Int
    private let sN, s2N, smoothing: UnsafeMutablePointer<Float>
    /// The latest actor step's metrics, carried on the critic-only updates between actor steps.
    private var lastActor = UpdateMetrics()

    public init(config: OFQLConfig, obsDim: Int, actDim: Int, seed: UInt64, normalizer: ObservationNormalizer) {
        self.config = config; self.obsDim = obsDim; self.actDim = actDim; self.normalizer = normalizer
        B = config.batchSize
        var initRNG = Xoshiro(seed: seed)
        rng = initRNG.derived(1)
        nets = TD3BCNets(obsDim: obsDim, actDim: actDim, config: config, rows: B, rng: &initRNG)
        actorOpt = Adam(config, count: nets.actorParams.count, clipNorm: config.actorGradClip)
        criticOpt = Adam(config, count: nets.criticParams.count, clipNorm: config.criticGradClip)
        sN = .allocate(capacity: B * obsDim); s2N = .allocate(capacity: B * obsDim); smoothing = .allocate(capacity: B * actDim)
    }
    deinit { sN.deallocate(); s2N.deallocate(); smoothing.deallocate() }

    public func useCores(_ cores: Int) {
        workers = cores >= 2 ? 2 : 1
        BLASRuntime.setThreads(1)
    }

    public var parameterSets: [ParameterSet] {
        [ParameterSet(nets.actorParams, optimizer: ("actor", actorOpt)),
         ParameterSet(nets.actorTarget, rename: ("policy.", "policy_target.")),
         ParameterSet(nets.criticParams, optimizer: ("critic", criticOpt)),
         ParameterSet(nets.criticTarget, rename: ("critic.", "critic_target."))]
    }

    public func makeSampler(maxRows: Int) -> PolicySampler {
        PolicySampler(policySpec: nil, mlpSpec: nets.actor.spec, squash: .tanh, source: nets.actorParams,
                      normalizer: normalizer, obsDim: obsDim, actDim: actDim, maxRows: maxRows)
    }

    public var gemmFlopsPerUpdate: Double {
        let m = nets.macs
        return 2 * (m.critic + m.actor / Double(config.policyDelay))
    }

    /// The deterministic action tanh(f_θ(s)) of the live actor for one raw observation (for
    /// online data collection, where the policy changes every step).
    public func act(observation: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>) {
        normalizer.apply(observation, into: sN, rows: 1)
        nets.actor.forwardRow(nets.actorParams.values, input: sN)
        for j in 0..<actDim { out[j] = ActivationMath.tanh(nets.actor.output[j]).y }
    }

    public func update(_ batch: TransitionBatch) throws -> UpdateMetrics {
        precondition(batch.count == B, "batch has \(batch.count) rows, the learner was built for \(B)")
        precondition(batch.obsDim == obsDim && batch.actDim == actDim, "batch dimensions differ from the learner's")
        let parallel = workers >= 2   // useCores(_:) set BLAS to one thread; see OFQLAgent.workers
        normalizer.apply(batch.observations, into: sN, rows: B)
        normalizer.apply(batch.nextObservations, into: s2N, rows: B)
        // Target policy smoothing ξ = clip(σ·N(0, 1), −c, c).
        rng.fillNormal(smoothing, count: B * actDim)
        let sigma = Float(config.targetPolicyNoise), c = Float(config.targetNoiseClip)
        for k in 0..<(B * actDim) { smoothing[k] = Swift.min(Swift.max(sigma * smoothing[k], -c), c) }

        let cr = nets.criticLoss(s: sN, a: batch.actions, r: batch.rewards, s2: s2N, mask: batch.masks, smoothing: smoothing,
                                 gamma: Float(config.gamma), rewardScale: Float(config.rewardScale),
                                 rewardShift: Float(config.rewardShift), parallel: parallel)
        guard cr.loss.isFinite else { throw TrainingError.diverged(step: step, what: "critic loss is \(cr.loss)") }
        var m = lastActor
        do { m.criticGradNorm = try criticOpt.update(nets.criticParams, lr: config.criticLR) } catch {
            throw TrainingError.diverged(step: step, what: "critic \(error)")
        }
        m.criticLoss = Double(cr.loss); m.qMean = Double(cr.qMean); m.targetMean = Double(cr.targetMean)

        if (step + 1) % config.policyDelay == 0 {
            let ar = nets.actorLoss(s: sN, a: batch.actions, alpha: Float(config.td3Alpha),
                                    behaviorCloning: config.behaviorCloning, parallel: parallel)
            guard ar.loss.isFinite else { throw TrainingError.diverged(step: step, what: "actor loss is \(ar.loss)") }
            do { m.actorGradNorm = try actorOpt.update(nets.actorParams, lr: config.actorLR) } catch {
                throw TrainingError.diverged(step: step, what: "actor \(error)")
            }
            m.actorLoss = Double(ar.loss); m.qLoss = Double(ar.qTerm); m.flowLoss = Double(ar.bcTerm)
            m.qAbsMean = Double(config.td3Alpha / Double(ar.lambda))
            m.clippedFraction = Double(ar.saturated) / Double(B * actDim)
            lastActor = m
            nets.updateTargets(tau: Float(config.targetTau))
        }
        step += 1
        return m
    }
}
