import BLAS
import Datasets
import Dispatch
import Randomness

/// A minibatch of transitions in preallocated buffers (raw observations; the agent normalises).
public final class TransitionBatch {
    public let capacity: Int, obsDim: Int, actDim: Int
    public private(set) var count = 0
    public let observations: UnsafeMutablePointer<Float>
    public let actions: UnsafeMutablePointer<Float>
    public let rewards: UnsafeMutablePointer<Float>
    public let nextObservations: UnsafeMutablePointer<Float>
    /// Bootstrap masks 1 − terminal.
    public let masks: UnsafeMutablePointer<Float>

    public init(capacity: Int, obsDim: Int, actDim: Int) {
        self.capacity = capacity; self.obsDim = obsDim; self.actDim = actDim
        func a(_ n: Int) -> UnsafeMutablePointer<Float> { let p = UnsafeMutablePointer<Float>.allocate(capacity: n); p.initialize(repeating: 0, count: n); return p }
        observations = a(capacity * obsDim); actions = a(capacity * actDim); rewards = a(capacity)
        nextObservations = a(capacity * obsDim); masks = a(capacity)
    }
    deinit {
        observations.deallocate(); actions.deallocate(); rewards.deallocate(); nextObservations.deallocate(); masks.deallocate()
    }

    /// Gathers the rows `indices` of `data`.
    public func fill(from data: Transitions, indices: UnsafeBufferPointer<Int>) {
        precondition(indices.count <= capacity && data.obsDim == obsDim && data.actDim == actDim)
        count = indices.count
        let o = obsDim, d = actDim
        data.observations.withUnsafeBufferPointer { obs in
            data.nextObservations.withUnsafeBufferPointer { nobs in
                data.actions.withUnsafeBufferPointer { act in
                    for (k, i) in indices.enumerated() {
                        (observations + k * o).update(from: obs.baseAddress! + i * o, count: o)
                        (nextObservations + k * o).update(from: nobs.baseAddress! + i * o, count: o)
                        (actions + k * d).update(from: act.baseAddress! + i * d, count: d)
                        rewards[k] = data.rewards[i]
                        masks[k] = 1 - data.terminals[i]
                    }
                }
            }
        }
    }

    /// Declares the first `n` rows filled, for callers that write the buffers themselves.
    public func setCount(_ n: Int) {
        precondition(n <= capacity, "batch of \(n) rows exceeds capacity \(capacity)")
        count = n
    }

    /// Gathers the rows `indices` (array form).
    public func fill(from data: Transitions, indices: [Int]) {
        indices.withUnsafeBufferPointer { fill(from: data, indices: $0) }
    }
}

/// What one update did (losses and scales; JSON-ready, namespaced when logged).
public struct UpdateMetrics: Codable, Sendable, Equatable {
    /// Σ_i MSE(Q_i(s, a), y) (eq. 10); 0 for BC.
    public var criticLoss: Double = 0
    /// L_FBC − α·Q (eq. 7/11); for BC the MSE.
    public var actorLoss: Double = 0
    /// L_FBC (eq. 6), unweighted; for BC the MSE.
    public var flowLoss: Double = 0
    /// −η·E[Q]/sg(E|Q|), the Q part of the actor loss.
    public var qLoss: Double = 0
    /// Mean Q_1(s, a) over the batch's dataset pairs.
    public var qMean: Double = 0
    /// The detached normaliser E|Q| used for α.
    public var qAbsMean: Double = 0
    /// Mean bootstrap target y.
    public var targetMean: Double = 0
    public var actorGradNorm: Double = 0
    public var criticGradNorm: Double = 0
    /// Fraction of one-step action components outside [−1, 1] before clipping.
    public var clippedFraction: Double = 0
    public init() {}

    /// Adds `other` (for running means).
    public mutating func add(_ o: UpdateMetrics) {
        criticLoss += o.criticLoss; actorLoss += o.actorLoss; flowLoss += o.flowLoss; qLoss += o.qLoss
        qMean += o.qMean; qAbsMean += o.qAbsMean; targetMean += o.targetMean
        actorGradNorm += o.actorGradNorm; criticGradNorm += o.criticGradNorm; clippedFraction += o.clippedFraction
    }
    /// Divides every field by `n`.
    public func scaled(by n: Double) -> UpdateMetrics {
        var m = self
        m.criticLoss /= n; m.actorLoss /= n; m.flowLoss /= n; m.qLoss /= n; m.qMean /= n; m.qAbsMean /= n
        m.targetMean /= n; m.actorGradNorm /= n; m.criticGradNorm /= n; m.clippedFraction /= n
        return m
    }
}

/// The OFQL agent: networks, optimisers, targets and preallocated workspaces for one fixed
/// batch size. Float32.
///
/// API: ``create(config:obsDim:actDim:seed:normalizer:)``, ``update(_:)`` → ``UpdateMetrics``,
/// ``sampleActions(observations:rng:)``. One `update` is, in order (PAPER Algorithm 1):
/// critic step (eq. 9–10), actor step (eq. 6, 7, 11), critic target Polyak, policy EMA.
/// No memory is allocated inside `update`.
public final class OFQLAgent: Learner {
    public let config: OFQLConfig
    public let obsDim: Int, actDim: Int
    /// Observation normalisation applied to every observation the agent sees.
    public let normalizer: ObservationNormalizer
    /// Completed updates.
    public var step = 0
    /// The agent's own noise stream (ε, t, r, critic choice).
    public var rng: Xoshiro

    // Networks and parameters.
    let policyNet: AverageVelocityNet<Float>
    /// θ: the policy u_θ.
    public let policy: ParameterBlock<Float>
    /// θ': the policy EMA (nil when `policyEMA` is off).
    public let policyEMA: ParameterBlock<Float>?
    let critics: CriticEnsemble<Float>
    /// φ and φ'.
    public let critic: ParameterBlock<Float>, criticTarget: ParameterBlock<Float>
    let actorOpt: Adam<Float>
    let criticOpt: Adam<Float>

    // Workspaces (B = batch size, A = act dim, O = obs dim).
    let B: Int
    let fusedNext: Bool
    private let ws: Workspace<Float>
    private let sN, s2N, sStack, zStack, rStack, tStack: UnsafeMutablePointer<Float>
    private let epsFlow, v, tFlow, rFlow, ones, aNext, epsNext, sNextRep, zeros: UnsafeMutablePointer<Float>
    private let y, dQ, dU, aPi, aPiClipped: UnsafeMutablePointer<Float>
    /// Workers for ``update(_:)`` (and ``sampleActions(observations:count:into:rng:)`` from 64
    /// rows): 1, or 2 to use two cores by forking two workers with
    /// single-threaded BLAS (critic pairs Q_1 | Q_2 side by side; the policy's forward and
    /// backward split by rows / output units). On these small GEMMs that beats two-thread BLAS.
    /// Both workers call BLAS at once, so BLAS must run one thread: ``useCores(_:)`` sets both.
    /// `update` decides from `workers` alone, never from the process-wide BLAS setting, which
    /// another thread of the process (a test, an evaluation) may change while this learner
    /// trains; raising BLAS threads after `useCores(2)` nests two levels of parallelism.
    ///
    /// Results: reductions stay sequential in a fixed order and the split is fixed, so the
    /// two-worker update is deterministic (bitwise resume holds for a given setting); it can
    /// differ from the one-worker update in the last bits, because OpenBLAS may round a row or
    /// column block of a product differently from the whole product.
    public var workers = 1
    /// Tests: force the two-worker step on or off regardless of ``workers`` and the BLAS setting
    /// (safe for tiny networks, whose GEMMs OpenBLAS runs single-threaded anyway).
    var twoWorkers: Bool?

    /// Trains on `cores` CPU cores: ≥ 2 → two update workers over single-threaded BLAS;
    /// 1 → one worker, one BLAS thread. Sets the process-wide BLAS thread count to 1.
    public func useCores(_ cores: Int) {
        workers = cores >= 2 ? 2 : 1
        BLASRuntime.setThreads(1)
    }
    /// Inference networks and buffers for ``sampleActions(observations:count:into:rng:)``, grown on demand.
    private var sampler: PolicySampler?

    /// Builds the networks and initialises them from `seed` (PyTorch default init).
    public static func create(config: OFQLConfig, obsDim: Int, actDim: Int, seed: UInt64,
                              normalizer: ObservationNormalizer? = nil) throws -> OFQLAgent {
        try config.validate()
        guard config.algo == .ofql else {
            throw ConfigError.invalid(field: "algo", reason: "OFQLAgent trains ofql, not \(config.algo.rawValue) (use Learners.create)")
        }
        let norm = try Learners.checkShapes(obsDim: obsDim, actDim: actDim, normalizer: normalizer)
        return OFQLAgent(config: config, obsDim: obsDim, actDim: actDim, seed: seed, normalizer: norm)
    }

    init(config: OFQLConfig, obsDim: Int, actDim: Int, seed: UInt64, normalizer: ObservationNormalizer) {
        self.config = config; self.obsDim = obsDim; self.actDim = actDim; self.normalizer = normalizer
        let B = config.batchSize
        self.B = B
        var initRNG = Xoshiro(seed: seed)
        rng = initRNG.derived(1)
        let nQ = config.maxQBackup ? config.maxQSamples : 1
        fusedNext = !config.policyEMA && !config.maxQBackup
        let policyRows = fusedNext ? 4 * B : Swift.max(3 * B, nQ * B)

        var playout = ParameterLayout()
        let spec = PolicySpec(obsDim: obsDim, actDim: actDim, hidden: config.hidden, activation: config.activation,
                              layerNorm: config.policyLayerNorm, timeInput: config.timeInput,
                              timeEmbeddingDim: config.timeEmbeddingDim, timeScale: config.timeScale)
        policyNet = AverageVelocityNet(spec, prefix: "policy", layout: &playout, maxRows: policyRows)
        policy = ParameterBlock(layout: playout)
        policyNet.initialize(policy.values, rng: &initRNG)
        if config.policyEMA {
            let e = ParameterBlock<Float>(layout: playout)
            e.copyValues(from: policy)
            policyEMA = e
        } else {
            policyEMA = nil
        }
        actorOpt = Adam(count: policy.count, beta1: config.adamBeta1, beta2: config.adamBeta2, eps: config.adamEps,
                        weightDecay: config.weightDecay, clipNorm: config.actorGradClip)
        var clayout = ParameterLayout()
        critics = CriticEnsemble<Float>(count: 2, obsDim: obsDim, actDim: actDim, hidden: config.criticHidden,
                                        activation: config.criticActivation, layerNorm: config.criticLayerNorm,
                                        prefix: "critic", layout: &clayout, maxRows: nQ * B)
        critic = ParameterBlock<Float>(layout: clayout)
        critics.initialize(critic.values, rng: &initRNG)
        criticTarget = ParameterBlock<Float>(layout: clayout)
        criticTarget.copyValues(from: critic)
        criticOpt = Adam(count: critic.count, beta1: config.adamBeta1, beta2: config.adamBeta2, eps: config.adamEps,
                         weightDecay: config.weightDecay, clipNorm: config.criticGradClip)

        let A = actDim, O = obsDim
        let w = Workspace<Float>()
        ws = w
        sN = w.alloc(B * O); s2N = w.alloc(B * O)
        sStack = w.alloc(policyRows * O); zStack = w.alloc(policyRows * A)
        rStack = w.alloc(policyRows); tStack = w.alloc(policyRows)
        epsFlow = w.alloc(B * A); v = w.alloc(B * A); tFlow = w.alloc(B); rFlow = w.alloc(B)
        ones = w.alloc(policyRows, value: 1); zeros = w.alloc(policyRows)
        aNext = w.alloc(nQ * B * A); epsNext = w.alloc(nQ * B * A); sNextRep = w.alloc(nQ * B * O)
        y = w.alloc(B); dQ = w.alloc(Swift.max(2, nQ) * B); dU = w.alloc(2 * B * A); aPi = w.alloc(B * A); aPiClipped = w.alloc(B * A)
    }

    /// Parameters the critic target's next action and evaluation sample from: θ' if the EMA is
    /// on, else θ.
    public var targetPolicy: ParameterBlock<Float> { policyEMA ?? policy }

    public var parameterSets: [ParameterSet] {
        var sets = [ParameterSet(policy, optimizer: ("actor", actorOpt))]
        if let e = policyEMA { sets.append(ParameterSet(e, rename: ("policy.", "policy_ema."))) }
        sets.append(ParameterSet(critic, optimizer: ("critic", criticOpt)))
        sets.append(ParameterSet(criticTarget, rename: ("critic.", "critic_target.")))
        return sets
    }

    public func makeSampler(maxRows: Int) -> PolicySampler { makeSampler(maxRows: maxRows, steps: 1) }

    /// A sampler that integrates the average velocity in `steps` equal steps (1: the one-step
    /// policy; more: the `meanflow-K` evaluation mode).
    public func makeSampler(maxRows: Int, steps: Int) -> PolicySampler {
        PolicySampler(architecture: .meanFlow(policyNet.spec, steps: steps), source: targetPolicy,
                      normalizer: normalizer, obsDim: obsDim, actDim: actDim, maxRows: maxRows)
    }

    // MARK: - update

    /// One gradient step on `batch` (critic, then actor, then targets). Throws
    /// ``TrainingError/diverged(step:what:)`` before touching parameters if a loss or gradient
    /// is not finite.
    @discardableResult
    public func update(_ batch: TransitionBatch) throws -> UpdateMetrics {
        precondition(batch.count == B, "batch has \(batch.count) rows, the agent was built for \(B)")
        precondition(batch.obsDim == obsDim && batch.actDim == actDim, "batch dimensions differ from the agent's")
        normalizer.apply(batch.observations, into: sN, rows: B)
        normalizer.apply(batch.nextObservations, into: s2N, rows: B)
        return try updateOFQL(batch)
    }

    private func diverged(_ what: String) -> TrainingError { .diverged(step: step, what: what) }

    /// The rows of the stacked policy pass (one forward of u_θ per update): the flow rows
    /// (z_t, r, t) of the flow-BC loss, the one-step rows (ε, 0, 1) of the actor's Q term, the
    /// next-state rows (ε', 0, 1) of the critic target when they are fused into the same pass
    /// (no EMA, no max-Q), then one tangent row per flow row carrying the JVP along (v, 0, 1).
    struct PolicyStack {
        let batch: Int
        let fusedNext: Bool
        var flow: Range<Int> { 0..<batch }
        var oneStep: Range<Int> { batch..<(2 * batch) }
        /// The critic target's next-action rows (fused only).
        var next: Range<Int> { (2 * batch)..<(3 * batch) }
        var primalRows: Int { fusedNext ? 3 * batch : 2 * batch }
        /// First tangent row (the JVP of flow row i is row `tangent + i`).
        var tangent: Int { primalRows }
    }

    private var stack: PolicyStack { PolicyStack(batch: B, fusedNext: fusedNext) }

    /// The noise of one update, drawn in a fixed order: flow ε, (t, r), one-step ε, next-action
    /// ε, and the critic the DQL normaliser differentiates.
    private func drawNoise(nQ: Int) -> Int {
        rng.fillNormal(epsFlow, count: B * actDim)
        MeanFlow.sampleTimes(B, config: config, rng: &rng, t: tFlow, r: rFlow)
        rng.fillNormal(aPi, count: B * actDim)               // ε for a_θ(s, ε), kept in aPi for now
        rng.fillNormal(epsNext, count: nQ * B * actDim)
        return config.qNormalization == .dql ? rng.index(2) : 0
    }

    /// One OFQL update (arXiv 2508.13904 Algorithm 1): critic step (eq. 9–10), actor step
    /// (eq. 5–8, 11), targets (eq. 12). The policy runs once on the ``PolicyStack``.
    private func updateOFQL(_ batch: TransitionBatch) throws -> UpdateMetrics {
        let nQ = config.maxQBackup ? config.maxQSamples : 1
        // Two workers (see `workers`): fork–join at a coarse grain, Q_1 | Q_2 for critic work and
        // row halves of the policy's forward and backward (MLP.forward/backward(parallel:)).
        let parallel = twoWorkers ?? (workers >= 2)
        let chosen = drawNoise(nQ: nQ)
        // Flow inputs (eq. 1): z_t = (1 − t)a + tε, v = ε − a.
        MeanFlow.interpolate(rows: B, dim: actDim, a: batch.actions, eps: epsFlow, t: tFlow, z: zStack, v: v)
        if !fusedNext { targetPolicyNextActions(nQ: nQ, parallel: parallel) }
        policyForward(parallel: parallel)
        var m = UpdateMetrics()
        let datasetAbsQ = try criticStep(batch, nQ: nQ, metrics: &m, parallel: parallel)
        try actorStep(chosen: chosen, datasetAbsQ: datasetAbsQ, metrics: &m, parallel: parallel)
        updateTargets(parallel: parallel)
        return m
    }

    /// a' = clip(ε' − u_θ'(ε', 0, 1; s'), −1, 1) for the critic target (eq. 9), in its own pass
    /// (the EMA policy θ', or nQ samples per state for the max-Q backup).
    private func targetPolicyNextActions(nQ: Int, parallel: Bool) {
        let rows = nQ * B, O = obsDim
        for n in 0..<nQ { (sNextRep + n * B * O).update(from: s2N, count: B * O) }
        policyNet.forward(targetPolicy.values, rows: rows, s: sNextRep, z: epsNext, r: zeros, t: ones, derivatives: false,
                          parallel: parallel)
        oneStep(eps: epsNext, u: policyNet.output, count: rows * actDim, into: aNext)
    }

    /// The stacked pass of u_θ with the JVP rows of the flow rows (eq. 4); with the next rows
    /// fused, also the critic target's next actions.
    private func policyForward(parallel: Bool) {
        let st = stack, O = obsDim, A = actDim
        sStack.update(from: sN, count: B * O)
        (sStack + st.oneStep.lowerBound * O).update(from: sN, count: B * O)
        (zStack + st.oneStep.lowerBound * A).update(from: aPi, count: B * A)
        rStack.update(from: rFlow, count: B); (rStack + st.oneStep.lowerBound).update(repeating: 0, count: B)
        tStack.update(from: tFlow, count: B); (tStack + st.oneStep.lowerBound).update(repeating: 1, count: B)
        if st.fusedNext {
            let n0 = st.next.lowerBound
            (sStack + n0 * O).update(from: s2N, count: B * O)
            (zStack + n0 * A).update(from: epsNext, count: B * A)
            (rStack + n0).update(repeating: 0, count: B); (tStack + n0).update(repeating: 1, count: B)
        }
        policyNet.forward(policy.values, rows: st.primalRows, tangentRows: B, s: sStack, z: zStack, r: rStack, t: tStack,
                          zDot: v, rDot: nil, tDot: ones, parallel: parallel)
        if st.fusedNext { oneStep(eps: epsNext, u: policyNet.output + st.next.lowerBound * A, count: B * A, into: aNext) }
    }

    /// Critic step (eq. 9–10): y = r̃ + γ·mask·min_i max_n Q'_i(s', a'_n) with r̃ = rewardScale·r +
    /// rewardShift, loss Σ_i MSE(Q_i(s, a), y), one Adam step. Returns mean |Q| over the dataset
    /// pairs and both critics (the paper normaliser's sg(E|Q|)).
    private func criticStep(_ batch: TransitionBatch, nQ: Int, metrics m: inout UpdateMetrics, parallel: Bool) throws -> Double {
        let critics = critics, critic = critic, criticTarget = criticTarget
        let tRows = nQ * B
        critics.setInput(rows: tRows, s: fusedNext ? s2N : sNextRep, a: aNext)
        Workers.pair(parallel) { critics.forward(criticTarget.values, rows: tRows, only: $0, derivatives: false) }
        let q1t = critics.q(0), q2t = critics.q(1)
        let gamma = Float(config.gamma), rs = Float(config.rewardScale), rsh = Float(config.rewardShift)
        var ySum: Float = 0
        for b in 0..<B {
            var m1 = q1t[b], m2 = q2t[b]
            for n in 1..<Swift.max(1, nQ) { m1 = Swift.max(m1, q1t[n * B + b]); m2 = Swift.max(m2, q2t[n * B + b]) }
            let yb = rs * batch.rewards[b] + rsh + gamma * batch.masks[b] * Swift.min(m1, m2)
            y[b] = yb; ySum += yb
        }
        m.targetMean = Double(ySum) / Double(B)
        critics.setInput(rows: B, s: sN, a: batch.actions)
        let y = self.y, dQ = self.dQ, cvals = critic.values, cgrads = critic.grads, Bc = B
        Workers.pair(parallel) { i in
            let qnet = critics.nets[i], q = qnet.output, dq = dQ + i * Bc   // dQ holds ≥ 2B values
            qnet.forward(cvals, input: critics.input, rows: Bc, derivatives: true)
            for b in 0..<Bc { dq[b] = 2 * (q[b] - y[b]) / Float(Bc) }
            qnet.backward(cvals, grads: cgrads, rows: Bc, dOutput: dq, inputGrad: false)
        }
        var criticLoss: Float = 0, q1Sum: Float = 0, absSum: Float = 0
        for (i, qnet) in critics.nets.enumerated() {
            let q = qnet.output
            var l: Float = 0
            for b in 0..<B {
                let d = q[b] - y[b]
                l += d * d
                absSum += Swift.abs(q[b])
                if i == 0 { q1Sum += q[b] }
            }
            criticLoss += l / Float(B)
        }
        guard criticLoss.isFinite else { throw diverged("critic loss is \(criticLoss)") }
        m.criticLoss = Double(criticLoss)
        m.qMean = Double(q1Sum) / Double(B)
        do { m.criticGradNorm = try criticOpt.update(critic, lr: config.criticLR, parallel: parallel) } catch { throw diverged("critic \(error)") }
        return Double(absSum) / Double(2 * B)
    }

    /// Actor step: flow BC (eq. 5–6) on the flow rows plus the Q term −η·E[Q]/sg(E|Q|)
    /// (eq. 7, 11) on the one-step actions a = ε − u(ε, 0, 1; s) (eq. 8), one Adam step.
    private func actorStep(chosen: Int, datasetAbsQ: Double, metrics m: inout UpdateMetrics, parallel: Bool) throws {
        let critics = critics, critic = critic, st = stack, A = actDim
        let u = policyNet.output
        let flowLoss = MeanFlow.loss(rows: B, dim: A, u: u, dudt: u + st.tangent * A, v: v, r: rFlow, t: tFlow,
                                     reduction: config.flowLossReduction, dU: dU)
        // One-step action (eq. 8), clipped for the critic.
        var clipped = 0
        let uPi = u + st.oneStep.lowerBound * A
        for k in 0..<(B * A) {
            let a = aPi[k] - uPi[k]
            aPi[k] = a
            let c = a < -1 ? -1 : (a > 1 ? 1 : a)
            if c != a { clipped += 1 }
            aPiClipped[k] = config.clipActorActions ? c : a
        }
        m.clippedFraction = Double(clipped) / Double(B * A)
        critics.setInput(rows: B, s: sN, a: aPiClipped)
        let dUpi = dU + st.oneStep.lowerBound * A
        dUpi.update(repeating: 0, count: B * A)
        let eta = Float(config.eta), cvals = critic.values, dQ = self.dQ, Bc = B
        var qTerm: Float = 0
        switch config.qNormalization {
        case .dql:
            let i = chosen, j = 1 - chosen
            Workers.pair(parallel) { critics.forward(cvals, rows: Bc, only: $0, derivatives: $0 == i) }
            let qi = critics.q(i), qj = critics.q(j)
            var meanQ: Float = 0, meanAbs: Float = 0
            for b in 0..<B { meanQ += qi[b]; meanAbs += Swift.abs(qj[b]) }
            meanQ /= Float(B); meanAbs /= Float(B)
            let norm = Swift.max(meanAbs, 1e-8)
            m.qAbsMean = Double(meanAbs)
            qTerm = -eta * meanQ / norm
            let g = -eta / (Float(B) * norm)
            for b in 0..<B { dQ[b] = g }
            critics.nets[i].backward(cvals, grads: nil, rows: B, dOutput: dQ, inputGrad: true, parallel: parallel)
            accumulateActionGrad(critics.nets[i].dInput, into: dUpi)
        case .paper:
            Workers.pair(parallel) { critics.forward(cvals, rows: Bc, only: $0, derivatives: true) }
            let norm = Float(Swift.max(datasetAbsQ, 1e-8))
            m.qAbsMean = datasetAbsQ
            var meanQ: Float = 0
            for b in 0..<B { meanQ += 0.5 * (critics.q(0)[b] + critics.q(1)[b]) }
            meanQ /= Float(B)
            qTerm = -eta * meanQ / norm
            let g = -eta / (2 * Float(B) * norm)
            for b in 0..<B { dQ[b] = g }
            Workers.pair(parallel) { critics.nets[$0].backward(cvals, grads: nil, rows: Bc, dOutput: dQ, inputGrad: true) }
            for qnet in critics.nets { accumulateActionGrad(qnet.dInput, into: dUpi) }
        }
        // a = ε − u, so ∂L/∂u = −∂L/∂a; clipping passes the gradient only inside [−1, 1].
        for k in 0..<(B * A) {
            let inside = !config.clipActorActions || (aPi[k] >= -1 && aPi[k] <= 1)
            dUpi[k] = inside ? -dUpi[k] : 0
        }
        let actorLoss = flowLoss + qTerm
        guard actorLoss.isFinite else { throw diverged("actor loss is \(actorLoss) (flow \(flowLoss), Q term \(qTerm))") }
        policyNet.backward(policy.values, grads: policy.grads, rows: 2 * B, dOutput: dU, parallel: parallel)
        do { m.actorGradNorm = try actorOpt.update(policy, lr: config.actorLR, parallel: parallel) } catch { throw diverged("actor \(error)") }
        m.flowLoss = Double(flowLoss); m.qLoss = Double(qTerm); m.actorLoss = Double(actorLoss)
    }

    /// Targets (eq. 12): φ' ← τφ + (1 − τ)φ' every `targetUpdateEvery` steps; the policy EMA θ'
    /// every `emaEvery` steps from `emaStartStep` (before it: held, or copied).
    private func updateTargets(parallel: Bool) {
        let k = step
        step += 1
        if step % config.targetUpdateEvery == 0 {
            VectorMath.polyak(target: criticTarget.values, online: critic.values, critic.count, tau: Float(config.targetTau),
                              parallel: parallel)
        }
        if let ema = policyEMA { PolicyAverage.step(ema, online: policy, step: k, config: config, parallel: parallel) }
    }

    /// a = clip(ε − u, −1, 1).
    @inline(__always)
    private func oneStep(eps: UnsafePointer<Float>, u: UnsafePointer<Float>, count: Int, into a: UnsafeMutablePointer<Float>) {
        for k in 0..<count {
            let x = eps[k] - u[k]
            a[k] = x < -1 ? -1 : (x > 1 ? 1 : x)
        }
    }

    /// Adds the action columns of a critic input gradient (B × (O + A)) into `g` (B × A).
    private func accumulateActionGrad(_ dInput: UnsafePointer<Float>, into g: UnsafeMutablePointer<Float>) {
        let w = obsDim + actDim
        for b in 0..<B {
            for j in 0..<actDim { g[b * actDim + j] += dInput[b * w + obsDim + j] }
        }
    }

    /// Floating-point operations of the GEMMs in one ``update(_:)`` (2 per multiply–add),
    /// for GFLOP/s reporting; elementwise work is not counted.
    public var gemmFlopsPerUpdate: Double {
        let b = Double(B), net = policyNet
        var mp = Double(net.body.spec.macsPerRow)
        if let te = net.tEmbed { mp += 2 * Double(te.spec.macsPerRow) }
        let nQ = Double(config.maxQBackup ? config.maxQSamples : 1)
        let primal = fusedNext ? 3 * b : 2 * b
        var macs = (primal + b) * mp                       // stacked forward incl. JVP rows
        if !fusedNext { macs += nQ * b * mp }              // separate next-action forward
        macs += 2 * b * 2 * mp                             // policy backward (weight + input grads)
        let mc = Double(critics.nets[0].spec.macsPerRow)
        macs += 2 * nQ * b * mc                            // target critics
        macs += 2 * b * mc * 3                             // online critics forward + backward
        let actorCritics: Double = config.qNormalization == .dql ? 1 : 2
        macs += 2 * b * mc + actorCritics * b * mc         // actor: Q forward, input-gradient backward
        return 2 * macs
    }

    // MARK: - sampling

    /// One-step actions a = clip(ε − u_θ'(ε, 0, 1; s), −1, 1) for `count` raw observations
    /// (θ' = the EMA when enabled). Writes count × actDim values.
    /// Allocates only when `count` exceeds every earlier call's.
    public func sampleActions(observations: UnsafePointer<Float>, count: Int, into out: UnsafeMutablePointer<Float>,
                              rng: inout Xoshiro) {
        if sampler.map({ $0.maxRows < count }) ?? true {
            sampler = makeSampler(maxRows: Swift.max(count, (sampler?.maxRows ?? 0) * 2))
        }
        let smp = sampler!
        rng.fillNormal(smp.noiseScratch, count: count * actDim)
        // Large batches use both workers under the same rule as `update` (see `workers`).
        let parallel = workers >= 2 && count >= 64 && BLASRuntime.threads == 1
        smp.sample(params: targetPolicy.values, observations: observations, count: count, noise: smp.noiseScratch,
                   parallel: parallel, into: out)
    }

    /// Array convenience for ``sampleActions(observations:count:into:rng:)``.
    public func sampleActions(observations: [Float], rng: inout Xoshiro) -> [Float] {
        precondition(observations.count % obsDim == 0, "observations must be a multiple of obsDim = \(obsDim)")
        let n = observations.count / obsDim
        var out = [Float](repeating: 0, count: n * actDim)
        observations.withUnsafeBufferPointer { o in
            out.withUnsafeMutableBufferPointer { sampleActions(observations: o.baseAddress!, count: n, into: $0.baseAddress!, rng: &rng) }
        }
        return out
    }
}

/// Owns a list of buffers freed together.
final class Workspace<T: NetScalar> {
    private(set) var slots: [UnsafeMutablePointer<T>] = []
    init() {}
    func alloc(_ n: Int, value: T = 0) -> UnsafeMutablePointer<T> {
        let p = UnsafeMutablePointer<T>.allocate(capacity: Swift.max(1, n))
        p.initialize(repeating: value, count: Swift.max(1, n))
        slots.append(p)
        return p
    }
    deinit { for p in slots { p.deallocate() } }
}
