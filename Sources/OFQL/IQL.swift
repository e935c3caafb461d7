import BLAS
#if canImport(Glibc)
import Glibc
#endif
import Randomness

/// IQL's networks and its three losses (Kostrikov, Nair & Levine 2022, arXiv 2110.06169,
/// §4: eq. 5 value, eq. 6 critic, eq. 7 advantage-weighted actor), generic over the scalar so
/// the finite-difference tests run them in Double.
///
/// Value V_ψ(s), twin critics Q_φi(s, a) with a Polyak target φ', and a Gaussian actor
/// N(μ(s), diag σ²) with μ(s) = tanh(f_θ(s)) and a state-independent log σ clipped to
/// [−5, 2], as the authors' code (`NormalTanhPolicy`, `tanh_squash_distribution=False`).
/// Observations arrive normalised.
public final class IQLNets<T: NetScalar> {
    public let obsDim: Int, actDim: Int, rows: Int
    static var logStdRange: ClosedRange<Double> { -5...2 }
    let actor: MLP<T>
    let value: MLP<T>
    let critics: CriticEnsemble<T>
    /// θ (`policy.body.*`), log σ (`policy.log_std`), ψ (`value.*`), φ and φ' (`critic.q{1,2}.*`).
    public let actorParams: ParameterBlock<T>, logStd: ParameterBlock<T>, valueParams: ParameterBlock<T>
    public let criticParams: ParameterBlock<T>, criticTarget: ParameterBlock<T>
    /// min_i Q'_i(s, a) of the last value loss; the advantage weights of the last ``advantageWeights``.
    let qTargetMin, weights, dV, dQ, dMu, y: UnsafeMutablePointer<T>
    private let work: [UnsafeMutablePointer<T>]

    public init(obsDim: Int, actDim: Int, config: OFQLConfig, rows: Int, rng: inout Xoshiro) {
        self.obsDim = obsDim; self.actDim = actDim; self.rows = rows
        var al = ParameterLayout()
        actor = MLP(MLPSpec(inputDim: obsDim, hidden: config.hidden, outputDim: actDim, activation: config.activation,
                            layerNorm: config.policyLayerNorm), prefix: "policy.body", layout: &al, maxRows: rows)
        actorParams = ParameterBlock(layout: al)
        var sl = ParameterLayout()
        _ = sl.add("policy.log_std", shape: [actDim])
        logStd = ParameterBlock(layout: sl)            // zeros, as the authors initialise it
        var vl = ParameterLayout()
        value = MLP(MLPSpec(inputDim: obsDim, hidden: config.criticHidden, outputDim: 1, activation: config.criticActivation,
                            layerNorm: config.criticLayerNorm), prefix: "value", layout: &vl, maxRows: rows)
        valueParams = ParameterBlock(layout: vl)
        var cl = ParameterLayout()
        critics = CriticEnsemble(count: 2, obsDim: obsDim, actDim: actDim, hidden: config.criticHidden,
                                 activation: config.criticActivation, layerNorm: config.criticLayerNorm,
                                 prefix: "critic", layout: &cl, maxRows: rows)
        criticParams = ParameterBlock(layout: cl); criticTarget = ParameterBlock(layout: cl)
        actor.initialize(actorParams.values, rng: &rng)
        value.initialize(valueParams.values, rng: &rng)
        critics.initialize(criticParams.values, rng: &rng)
        criticTarget.copyValues(from: criticParams)
        func alloc(_ n: Int) -> UnsafeMutablePointer<T> {
            let p = UnsafeMutablePointer<T>.allocate(capacity: n); p.initialize(repeating: 0, count: n); return p
        }
        qTargetMin = alloc(rows); weights = alloc(rows); dV = alloc(rows); dQ = alloc(2 * rows)
        dMu = alloc(rows * actDim); y = alloc(rows)
        work = [qTargetMin, weights, dV, dQ, dMu, y]
    }
    deinit { for p in work { p.deallocate() } }

    /// Expectile value loss (eq. 5): mean_b |τ − 1(u < 0)|·u², u = min_i Q'_i(s, a) − V(s).
    /// Writes ∂loss/∂ψ into `valueParams.grads`; returns (loss, mean V).
    public func valueLoss(s: UnsafePointer<T>, a: UnsafePointer<T>, expectile: T, parallel: Bool = false) -> (loss: T, vMean: T) {
        let B = rows
        critics.setInput(rows: B, s: s, a: a)
        let critics = self.critics, ct = criticTarget.values
        Workers.pair(parallel) { critics.forward(ct, rows: B, only: $0, derivatives: false) }
        for b in 0..<B { qTargetMin[b] = Swift.min(critics.q(0)[b], critics.q(1)[b]) }
        value.forward(valueParams.values, input: s, rows: B, derivatives: true, parallel: parallel)
        var loss: T = 0, vSum: T = 0
        for b in 0..<B {
            let u = qTargetMin[b] - value.output[b]
            let w = u < 0 ? 1 - expectile : expectile
            loss += w * u * u
            vSum += value.output[b]
            dV[b] = -2 * w * u / T(B)
        }
        value.backward(valueParams.values, grads: valueParams.grads, rows: B, dOutput: dV, inputGrad: false, parallel: parallel)
        return (loss / T(B), vSum / T(B))
    }

    /// Advantage weights min(exp(β·(min_i Q'_i(s, a) − V(s))), clip) into ``weights``, with Q'
    /// from the last ``valueLoss`` on the same batch and V from the current ψ. Returns the mean
    /// advantage.
    @discardableResult
    public func advantageWeights(s: UnsafePointer<T>, temperature: T, clip: T) -> T {
        let B = rows
        value.forward(valueParams.values, input: s, rows: B, derivatives: false)
        var adv: T = 0
        for b in 0..<B {
            let u = qTargetMin[b] - value.output[b]
            adv += u
            weights[b] = Swift.min(T.expm(Swift.min(temperature * u, T.logm(clip) + 1)), clip)
        }
        return adv / T(B)
    }

    /// Advantage-weighted regression (eq. 7): −mean_b w_b·log N(a_b; μ(s_b), σ²), with the
    /// weights `w` held constant. Writes ∂loss/∂θ into `actorParams.grads` and ∂loss/∂log σ
    /// into `logStd.grads`.
    /// With `dropout` the actor's hidden units are masked by its last drawn masks (the IQL
    /// authors' kitchen setting, dropout 0.1 on the actor). With `deterministic` the loss is the
    /// weighted squared error mean_b w_b·Σ_j (a_bj − μ_j(s_b))² instead (CORL's `iql_deterministic`
    /// actor; Tarasov et al. 2023, arXiv 2210.07105), and log σ gets no gradient.
    public func actorLoss(s: UnsafePointer<T>, a: UnsafePointer<T>, weights w: UnsafePointer<T>, parallel: Bool = false,
                          dropout: Bool = false, deterministic: Bool = false) -> T {
        let B = rows, A = actDim
        actor.forward(actorParams.values, input: s, rows: B, derivatives: true, parallel: parallel, dropout: dropout)
        let range = Self.logStdRange
        var invVar = [T](repeating: 0, count: A), logSig = [T](repeating: 0, count: A), inside = [Bool](repeating: true, count: A)
        for j in 0..<A {
            let raw = logStd.values[j]
            let c = Swift.min(Swift.max(raw, T(range.lowerBound)), T(range.upperBound))
            inside[j] = c == raw
            logSig[j] = c
            invVar[j] = T.expm(-2 * c)
            logStd.grads[j] = 0
        }
        let halfLog2Pi = T(0.9189385332046727)
        var loss: T = 0
        for b in 0..<B {
            var logp: T = 0
            for j in 0..<A {
                let k = b * A + j
                let (mu, dmu) = ActivationMath.tanh(actor.output[k])
                let d = a[k] - mu
                if deterministic {
                    // Per-row term −Σ (a − μ)² in place of log p; ∂(w (a − μ)²)/∂μ = −2w (a − μ).
                    logp -= d * d
                    dMu[k] = -2 * w[b] * d / T(B) * dmu
                    continue
                }
                logp += -T(0.5) * d * d * invVar[j] - logSig[j] - halfLog2Pi
                // ∂(−w log p)/∂μ = −w (a − μ)/σ²; ∂/∂log σ = −w ((a − μ)²/σ² − 1).
                dMu[k] = -w[b] * d * invVar[j] / T(B) * dmu
                if inside[j] { logStd.grads[j] += -w[b] * (d * d * invVar[j] - 1) / T(B) }
            }
            loss -= w[b] * logp
        }
        actor.backward(actorParams.values, grads: actorParams.grads, rows: B, dOutput: dMu, inputGrad: false, parallel: parallel)
        return loss / T(B)
    }

    /// Critic loss (eq. 6): Σ_i mean_b (Q_i(s, a) − r̃ − γ·mask·V(s'))², r̃ = rewardScale·r +
    /// rewardShift. Writes ∂loss/∂φ into `criticParams.grads`; returns (loss, mean Q_1, mean target).
    public func criticLoss(s: UnsafePointer<T>, a: UnsafePointer<T>, r: UnsafePointer<T>, s2: UnsafePointer<T>,
                           mask: UnsafePointer<T>, gamma: T, rewardScale: T = 1, rewardShift: T = 0,
                           parallel: Bool = false) -> (loss: T, qMean: T, targetMean: T) {
        let B = rows
        value.forward(valueParams.values, input: s2, rows: B, derivatives: false, parallel: parallel)
        var ySum: T = 0
        for b in 0..<B {
            y[b] = rewardScale * r[b] + rewardShift + gamma * mask[b] * value.output[b]
            ySum += y[b]
        }
        let (loss, q1) = critics.regress(criticParams, s: s, a: a, rows: B, targets: y, scratch: dQ, parallel: parallel)
        return (loss, q1, ySum / T(B))
    }

    /// GEMM multiply–adds of one update (value, weights, actor, critic steps).
    var macs: Double {
        let b = Double(rows), ma = Double(actor.spec.macsPerRow), mv = Double(value.spec.macsPerRow)
        let mc = Double(critics.nets[0].spec.macsPerRow)
        return b * (2 * mc + 3 * mv) + b * mv + 2 * b * ma + b * mv + 2 * 3 * b * mc
    }
}

/// IQL as a ``Learner`` (arXiv 2110.06169, Algorithm 1, in the order of the authors' code):
/// value step, actor step (advantage weights from the new V), critic step (targets from the
/// new V), Polyak update of the critic target. The actor's learning rate follows a cosine
/// decay over `actorCosineSteps`. Evaluation uses the actor's mean tanh(f(s)).
public final class IQLAgent: ConfigurableLearner {
    public let config: OFQLConfig
    public let obsDim: Int, actDim: Int
    public let normalizer: ObservationNormalizer
    public var step = 0
    public var rng: Xoshiro
    public private(set) var workers = 1
    public let nets: IQLNets<Float>
    let actorOpt: Adam<Float>, logStdOpt: Adam<Float>, valueOpt: Adam<Float>, criticOpt: Adam<Float>
    private let B: Int
    private let sN, s2N: UnsafeMutablePointer<Float>

    public init(config: OFQLConfig, obsDim: Int, actDim: Int, seed: UInt64, normalizer: ObservationNormalizer) {
        self.config = config; self.obsDim = obsDim; self.actDim = actDim; self.normalizer = normalizer
        B = config.batchSize
        var initRNG = Xoshiro(seed: seed)
        rng = initRNG.derived(1)
        nets = IQLNets(obsDim: obsDim, actDim: actDim, config: config, rows: B, rng: &initRNG)
        actorOpt = Adam(config, count: nets.actorParams.count, clipNorm: config.actorGradClip)
        logStdOpt = Adam(config, count: nets.logStd.count, clipNorm: nil)
        valueOpt = Adam(config, count: nets.valueParams.count, clipNorm: config.criticGradClip)
        criticOpt = Adam(config, count: nets.criticParams.count, clipNorm: config.criticGradClip)
        sN = .allocate(capacity: B * obsDim); s2N = .allocate(capacity: B * obsDim)
    }
    deinit { sN.deallocate(); s2N.deallocate() }

    public func useCores(_ cores: Int) {
        workers = cores >= 2 ? 2 : 1
        BLASRuntime.setThreads(1)
    }

    public var parameterSets: [ParameterSet] {
        [ParameterSet(nets.actorParams, optimizer: ("actor", actorOpt)),
         ParameterSet(nets.logStd, optimizer: ("log_std", logStdOpt)),
         ParameterSet(nets.valueParams, optimizer: ("value", valueOpt)),
         ParameterSet(nets.criticParams, optimizer: ("critic", criticOpt)),
         ParameterSet(nets.criticTarget, rename: ("critic.", "critic_target."))]
    }

    public func makeSampler(maxRows: Int) -> PolicySampler {
        PolicySampler(policySpec: nil, mlpSpec: nets.actor.spec, squash: .tanh, source: nets.actorParams,
                      normalizer: normalizer, obsDim: obsDim, actDim: actDim, maxRows: maxRows)
    }

    public var gemmFlopsPerUpdate: Double { 2 * nets.macs }

    /// The actor learning rate at `step`: lr·½(1 + cos(π·min(step, T)/T)) (optax's
    /// `cosine_decay_schedule`), or lr without a schedule.
    public var actorLearningRate: Double {
        guard let total = config.actorCosineSteps, total > 0 else { return config.actorLR }
        return config.actorLR * 0.5 * (1 + cos(Double.pi * Double(Swift.min(step, total)) / Double(total)))
    }

    public func update(_ batch: TransitionBatch) throws -> UpdateMetrics {
        precondition(batch.count == B, "batch has \(batch.count) rows, the learner was built for \(B)")
        precondition(batch.obsDim == obsDim && batch.actDim == actDim, "batch dimensions differ from the learner's")
        let parallel = workers >= 2   // useCores(_:) set BLAS to one thread; see OFQLAgent.workers
        normalizer.apply(batch.observations, into: sN, rows: B)
        normalizer.apply(batch.nextObservations, into: s2N, rows: B)
        func diverged(_ what: String) -> TrainingError { .diverged(step: step, what: what) }
        var m = UpdateMetrics()

        let (vLoss, vMean) = nets.valueLoss(s: sN, a: batch.actions, expectile: Float(config.expectile), parallel: parallel)
        guard vLoss.isFinite else { throw diverged("value loss is \(vLoss)") }
        do { _ = try valueOpt.update(nets.valueParams, lr: config.criticLR) } catch { throw diverged("value \(error)") }

        let adv = nets.advantageWeights(s: sN, temperature: Float(config.iqlTemperature), clip: Float(config.advantageClip))
        let dropout = config.actorDropout > 0
        if dropout { nets.actor.drawDropoutMasks(rate: config.actorDropout, rows: B, rng: &rng) }
        let aLoss = nets.actorLoss(s: sN, a: batch.actions, weights: nets.weights, parallel: parallel, dropout: dropout,
                                   deterministic: config.iqlDeterministicActor)
        guard aLoss.isFinite else { throw diverged("actor loss is \(aLoss)") }
        let lr = actorLearningRate
        do {
            m.actorGradNorm = try actorOpt.update(nets.actorParams, lr: lr)
            _ = try logStdOpt.update(nets.logStd, lr: lr)
        } catch { throw diverged("actor \(error)") }

        let cr = nets.criticLoss(s: sN, a: batch.actions, r: batch.rewards, s2: s2N, mask: batch.masks,
                                 gamma: Float(config.gamma), rewardScale: Float(config.rewardScale),
                                 rewardShift: Float(config.rewardShift), parallel: parallel)
        guard cr.loss.isFinite else { throw diverged("critic loss is \(cr.loss)") }
        do { m.criticGradNorm = try criticOpt.update(nets.criticParams, lr: config.criticLR) } catch { throw diverged("critic \(error)") }
        VectorMath.polyak(target: nets.criticTarget.values, online: nets.criticParams.values, nets.criticParams.count,
                          tau: Float(config.targetTau))

        m.criticLoss = Double(cr.loss); m.qMean = Double(cr.qMean); m.targetMean = Double(cr.targetMean)
        m.actorLoss = Double(aLoss)
        // For IQL: flow_loss carries the expectile value loss, q_loss the mean advantage and
        // q_abs_mean the mean V (see UpdateMetrics).
        m.flowLoss = Double(vLoss); m.qLoss = Double(adv); m.qAbsMean = Double(vMean)
        step += 1
        return m
    }
}
