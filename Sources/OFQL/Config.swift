import Foundation

/// Which learner to train.
public enum Algorithm: String, Codable, Sendable, CaseIterable {
    /// One-Step Flow Q-Learning (MeanFlow flow-BC + normalised Q term, twin critics).
    case ofql
    /// Behaviour cloning baseline: deterministic MLP s → a trained by MSE.
    case bc
    /// TD3+BC (Fujimoto & Gu 2021, arXiv 2106.06860): TD3 with the actor loss
    /// −λ·Q(s, π(s)) + (π(s) − a)², λ = α / mean|Q|.
    case td3bc
    /// IQL (Kostrikov, Nair & Levine 2022, arXiv 2110.06169): expectile value, critics on
    /// r + γV(s'), advantage-weighted Gaussian actor.
    case iql
    /// FQL (Park, Li & Levine 2025, arXiv 2502.02538): a BC flow, a one-step policy distilled
    /// from it and pushed up the critics.
    case fql
    /// Diffusion-QL (Wang, Hunt & Zhou 2022, arXiv 2208.06193): a K-step DDPM policy trained with
    /// its noise-prediction loss and η·normalised Q back-propagated through the chain.
    case dql
    /// FBRAC (arXiv 2502.02538 §5; arXiv 2508.13904 Table 2): a flow policy trained with the flow
    /// loss and −Q back-propagated through its Euler steps, evaluated in one step.
    case fbrac
}

/// Distribution of the flow times t and r.
public enum TimeSampler: String, Codable, Sendable {
    /// sigmoid(N(μ, σ)) (PAPER App. B: μ = −0.4, σ = 1).
    case logitNormal
    /// U(0, 1).
    case uniform
}

/// How the squared error of the flow loss is reduced over action dimensions.
public enum FlowLossReduction: String, Codable, Sendable {
    /// Σ over action dims, mean over the batch (MeanFlow; the JAX/PyTorch references).
    case sum
    /// Mean over action dims and batch (DQL's element-wise MSE).
    case mean
}

/// How the Q term of the actor loss is normalised (arXiv 2508.13904 eq. 11).
public enum QNormalization: String, Codable, Sendable {
    /// DQL code: Q from a critic i drawn at random (p = 0.5) on policy actions, divided by the
    /// detached mean |Q_j| of the other critic on the same actions.
    case dql
    /// Paper's form: mean of both critics on policy actions, divided by the detached mean |Q|
    /// over dataset pairs (s, a) (both critics, from the critic step's forward pass).
    case paper
}

/// What the policy EMA does before `emaStartStep`.
public enum EMAWarmup: String, Codable, Sendable {
    /// Keep the initial parameters (DQL's `step_ema` returns early).
    case hold
    /// Copy the online parameters on every scheduled update.
    case copy
}

/// Every knob of training, with OFQL's defaults (PAPER: arXiv 2508.13904 App. B; DQL-CODE: the Diffusion-QL code of arXiv 2208.06193).
///
/// Decoding accepts any subset of the keys (missing keys keep their defaults) and rejects
/// unknown keys by name, so a typo in a config file is an error, not a silent default.
public struct OFQLConfig: Codable, Sendable, Equatable {
    /// `ofql` or the `bc` baseline.
    public var algo: Algorithm = .ofql

    // MARK: networks
    /// Policy hidden widths (PAPER: 3 × 256).
    public var hidden: [Int] = [256, 256, 256]
    /// Critic hidden widths (PAPER: 3 × 256, "same as DQL").
    public var criticHidden: [Int] = [256, 256, 256]
    /// Policy activation (PAPER: Mish).
    public var activation: Activation = .mish
    /// Critic activation (DQL: Mish).
    public var criticActivation: Activation = .mish
    /// LayerNorm after each hidden Linear of the policy (off in DQL).
    public var policyLayerNorm: Bool = false
    /// LayerNorm after each hidden Linear of the critics (off in DQL, on in CleanDiffuser).
    public var criticLayerNorm: Bool = false
    /// Sinusoidal embeddings of t and r (PAPER) or the raw scalars (reference benchmarks).
    public var timeInput: TimeInput = .sinusoidal
    /// Sinusoidal embedding size (PAPER: 64).
    public var timeEmbeddingDim: Int = 64
    /// t and r are multiplied by this before the sinusoid (UNCERTAIN in the paper; 1 = raw t,
    /// as in MeanFlow's JAX code).
    public var timeScale: Double = 1

    // MARK: optimisation
    /// Actor Adam learning rate (PAPER: 3e-4).
    public var actorLR: Double = 3e-4
    /// Critic Adam learning rate (PAPER: 3e-4).
    public var criticLR: Double = 3e-4
    public var adamBeta1: Double = 0.9
    public var adamBeta2: Double = 0.999
    public var adamEps: Double = 1e-8
    /// L2 weight decay added to the gradients (0 = off).
    public var weightDecay: Double = 0
    /// Global-norm clip of the actor gradient (DQL clips per task, 1–10; nil = off).
    public var actorGradClip: Double? = nil
    /// Global-norm clip of the critic gradient (nil = off).
    public var criticGradClip: Double? = nil
    /// Minibatch size (PAPER: 256).
    public var batchSize: Int = 256

    // MARK: Q-learning
    /// Discount γ (DQL: 0.99).
    public var gamma: Double = 0.99
    /// Critic target Polyak rate per update (DQL: τ = 0.005 every step).
    public var targetTau: Double = 0.005
    /// Critic target update period in steps (DQL: 1; CleanDiffuser: 5 with τ = 0.005).
    public var targetUpdateEvery: Int = 1
    /// Use a policy EMA as target policy (DQL: on). Off: the critic target's next action comes
    /// from the current policy (the JAX/PyTorch references with ema 0).
    public var policyEMA: Bool = true
    /// EMA decay ρ: θ' ← ρθ' + (1 − ρ)θ (DQL: 0.995).
    public var emaDecay: Double = 0.995
    /// EMA update period (DQL: 5).
    public var emaEvery: Int = 5
    /// First step at which the EMA starts averaging (DQL: 1000).
    public var emaStartStep: Int = 1000
    /// EMA behaviour before `emaStartStep` (DQL: hold the initial parameters).
    public var emaWarmup: EMAWarmup = .hold
    /// Max-Q backup: max over `maxQSamples` next actions per critic, then min (AntMaze only).
    public var maxQBackup: Bool = false
    /// Next actions sampled per state for the max-Q backup (DQL: 10).
    public var maxQSamples: Int = 10
    /// Rewards enter the target as rewardScale·r + rewardShift (AntMaze: 4, −2, i.e. (r − 0.5)·4).
    public var rewardScale: Double = 1
    public var rewardShift: Double = 0

    // MARK: actor loss
    /// η, the weight of the normalised Q term (PAPER grid {0.001 … 0.5}; DQL MuJoCo: 1).
    public var eta: Double = 1
    /// Form of the Q normaliser α = η / sg(E|Q|).
    public var qNormalization: QNormalization = .dql
    /// Clip the one-step action to [−1, 1] before the critic in the actor's Q term (zero
    /// gradient outside), as the references do.
    public var clipActorActions: Bool = true

    // MARK: MeanFlow flow-BC
    /// P(r = t), applied after ordering r ≤ t (PAPER: 0.5).
    public var flowRatio: Double = 0.5
    /// Distribution of t and r (PAPER: logit-normal).
    public var timeSampler: TimeSampler = .logitNormal
    /// P((r, t) = (0, 1)): the fraction of flow rows that train the deployed one-step map
    /// u(ε, 0, 1) directly, drawn after `flowRatio` (PAPER: 0, i.e. not in the paper; a
    /// logit-normal(−0.4, 1) pair rarely comes near the endpoints, see `MeanFlow.sampleTimes`).
    public var endpointFraction: Double = 0
    /// Logit-normal location μ (PAPER: −0.4).
    public var logitNormalMean: Double = -0.4
    /// Logit-normal scale σ (PAPER: 1.0).
    public var logitNormalStd: Double = 1.0
    /// Reduction of ‖u − u_tgt‖² over action dims (UNCERTAIN in the paper).
    public var flowLossReduction: FlowLossReduction = .sum

    // MARK: TD3+BC (arXiv 2106.06860, Algorithm 1 and §5)
    /// α in λ = α / mean|Q(s, π(s))| (published: 2.5).
    public var td3Alpha: Double = 2.5
    /// Std of the target policy smoothing noise (published: 0.2).
    public var targetPolicyNoise: Double = 0.2
    /// Clip of the target policy smoothing noise (published: 0.5).
    public var targetNoiseClip: Double = 0.5
    /// Critic updates per actor and target update (published: 2).
    public var policyDelay: Int = 2
    /// TD3+BC's BC term and Q normalisation; false gives plain TD3 (Fujimoto et al. 2018,
    /// arXiv 1802.09477), the online learner behind the medium-replay datasets.
    public var behaviorCloning: Bool = true

    // MARK: IQL (arXiv 2110.06169, §4 and App. B)
    /// Expectile τ of the value loss (published: 0.7 locomotion and kitchen, 0.9 AntMaze).
    public var expectile: Double = 0.7
    /// Inverse temperature β of the advantage weights (published: 3 locomotion, 10 AntMaze, 0.5 kitchen).
    public var iqlTemperature: Double = 3
    /// Upper clip of the advantage weights exp(β·A) (published: 100).
    public var advantageClip: Double = 100
    /// Steps of the actor's cosine learning-rate decay (published: the run's length; `train`
    /// sets it to --steps when unset; null: constant).
    public var actorCosineSteps: Int? = nil
    /// Scale rewards by 1000 / (max − min episode return of the dataset), as IQL does on
    /// locomotion; `train` resolves it into `rewardScale` before training.
    public var rewardScaleFromReturns: Bool = false
    /// Dropout rate on the IQL actor's hidden units during training (published: 0.1 on kitchen,
    /// 0 elsewhere). Written to JSON only when set, so configs without it keep their hash.
    public var actorDropout: Double = 0
    /// Train the IQL actor's mean by advantage-weighted squared error instead of the Gaussian
    /// log-likelihood (CORL's `iql_deterministic`, arXiv 2210.07105). Written to JSON only when set.
    public var iqlDeterministicActor: Bool = false

    // MARK: FQL and FBRAC (arXiv 2502.02538, §4–5 and App. D). Written to JSON for those algos or when set.
    /// α, the weight of the distillation loss (FQL: 10 by default, tuned per task).
    public var fqlAlpha: Double = 10
    /// Euler steps of the flow (FQL's BC flow: 10; FBRAC's training chain: 5).
    public var flowSteps: Int = 10
    /// Multiply the Q term by 1/sg(mean|Q|) (FQL's `normalize_q_loss`, which its README
    /// recommends for new environments).
    public var normalizeQLoss: Bool = true
    /// Next-state aggregation of the twin target critics (FQL: mean).
    public var qAggregation: QAggregation = .mean

    // MARK: Diffusion-QL (arXiv 2208.06193, §4 and App. C). Written to JSON for algo dql or when set.
    /// Denoising steps K (DQL: 5).
    public var diffusionSteps: Int = 5
    /// β_min and β_max of the variance-preserving schedule (DQL: 0.1, 10).
    public var diffusionBetaMin: Double = 0.1
    public var diffusionBetaMax: Double = 10

    // MARK: data
    /// Normalise observations with the dataset's mean and std (stored with the model).
    public var normalizeObservations: Bool = false

    public init() {}

    /// The published defaults of `algo`: OFQL and BC keep the paper's (3 × 256 Mish);
    /// TD3+BC takes its paper's: 2 × 256 ReLU actor (tanh output) and critics, learning rates
    /// 3e-4, batch 256, γ = 0.99, τ = 0.005, state normalisation. IQL takes its locomotion
    /// settings (2 × 256 ReLU, τ = 0.7, β = 3, rewards scaled by episode returns); mazes and
    /// kitchen override expectile, temperature and the reward transform (see the suite plans).
    public static func defaults(for algo: Algorithm) -> OFQLConfig {
        var c = OFQLConfig()
        c.algo = algo
        if algo == .td3bc || algo == .iql {
            c.hidden = [256, 256]; c.criticHidden = [256, 256]
            c.activation = .relu; c.criticActivation = .relu
            c.policyEMA = false
            c.normalizeObservations = true
        }
        if algo == .iql { c.rewardScaleFromReturns = true }
        if algo == .fql || algo == .fbrac { c.criticLayerNorm = true; c.policyEMA = false }
        if algo == .fbrac { c.flowSteps = 5 }   // trained with 5 Euler steps (arXiv 2508.13904 Table 2)
        if algo == .dql { c.timeEmbeddingDim = 16 }   // DQL's time MLP: 16 → 32 → Mish → 16
        return c
    }

    /// Checks ranges; throws ``ConfigError`` naming the field.
    public func validate() throws {
        func fail(_ field: String, _ why: String) throws -> Never { throw ConfigError.invalid(field: field, reason: why) }
        if hidden.isEmpty || hidden.contains(where: { $0 < 1 }) { try fail("hidden", "needs at least one positive width, got \(hidden)") }
        if criticHidden.isEmpty || criticHidden.contains(where: { $0 < 1 }) { try fail("criticHidden", "needs at least one positive width, got \(criticHidden)") }
        if timeEmbeddingDim < 4 || timeEmbeddingDim % 2 != 0 { try fail("timeEmbeddingDim", "must be even and ≥ 4, got \(timeEmbeddingDim)") }
        if !(timeScale > 0 && timeScale.isFinite) { try fail("timeScale", "must be positive, got \(timeScale)") }
        for (n, v) in [("actorLR", actorLR), ("criticLR", criticLR)] where !(v > 0 && v.isFinite) { try fail(n, "must be positive, got \(v)") }
        if !(0..<1).contains(adamBeta1) { try fail("adamBeta1", "must be in [0, 1), got \(adamBeta1)") }
        if !(0..<1).contains(adamBeta2) { try fail("adamBeta2", "must be in [0, 1), got \(adamBeta2)") }
        if !(adamEps > 0) { try fail("adamEps", "must be positive, got \(adamEps)") }
        if !(weightDecay >= 0) { try fail("weightDecay", "must be ≥ 0, got \(weightDecay)") }
        if let c = actorGradClip, !(c > 0) { try fail("actorGradClip", "must be positive or null, got \(c)") }
        if let c = criticGradClip, !(c > 0) { try fail("criticGradClip", "must be positive or null, got \(c)") }
        if batchSize < 1 { try fail("batchSize", "must be ≥ 1, got \(batchSize)") }
        if !(0...1).contains(gamma) { try fail("gamma", "must be in [0, 1], got \(gamma)") }
        if !(0...1).contains(targetTau) { try fail("targetTau", "must be in [0, 1], got \(targetTau)") }
        if targetUpdateEvery < 1 { try fail("targetUpdateEvery", "must be ≥ 1, got \(targetUpdateEvery)") }
        if !(0...1).contains(emaDecay) { try fail("emaDecay", "must be in [0, 1], got \(emaDecay)") }
        if emaEvery < 1 { try fail("emaEvery", "must be ≥ 1, got \(emaEvery)") }
        if emaStartStep < 0 { try fail("emaStartStep", "must be ≥ 0, got \(emaStartStep)") }
        if maxQSamples < 1 { try fail("maxQSamples", "must be ≥ 1, got \(maxQSamples)") }
        if !rewardScale.isFinite || !rewardShift.isFinite { try fail("rewardScale", "reward transform must be finite") }
        if !(eta >= 0 && eta.isFinite) { try fail("eta", "must be ≥ 0, got \(eta)") }
        if !(0...1).contains(flowRatio) { try fail("flowRatio", "is P(r = t) and must be in [0, 1], got \(flowRatio)") }
        if !(0...1).contains(endpointFraction) { try fail("endpointFraction", "is P((r, t) = (0, 1)) and must be in [0, 1], got \(endpointFraction)") }
        if endpointFraction != 0 && algo != .ofql { try fail("endpointFraction", "applies to ofql only (algo is \(algo.rawValue))") }
        if !(logitNormalStd > 0) { try fail("logitNormalStd", "must be positive, got \(logitNormalStd)") }
        if !(td3Alpha >= 0 && td3Alpha.isFinite) { try fail("td3Alpha", "must be ≥ 0, got \(td3Alpha)") }
        if !(targetPolicyNoise >= 0) { try fail("targetPolicyNoise", "must be ≥ 0, got \(targetPolicyNoise)") }
        if !(targetNoiseClip >= 0) { try fail("targetNoiseClip", "must be ≥ 0, got \(targetNoiseClip)") }
        if policyDelay < 1 { try fail("policyDelay", "must be ≥ 1, got \(policyDelay)") }
        if !(expectile > 0 && expectile < 1) { try fail("expectile", "must be in (0, 1), got \(expectile)") }
        if !(iqlTemperature >= 0 && iqlTemperature.isFinite) { try fail("iqlTemperature", "must be ≥ 0, got \(iqlTemperature)") }
        if !(advantageClip > 0 && advantageClip.isFinite) { try fail("advantageClip", "must be positive, got \(advantageClip)") }
        if let n = actorCosineSteps, n < 1 { try fail("actorCosineSteps", "must be ≥ 1 or null, got \(n)") }
        if !(actorDropout >= 0 && actorDropout < 1) { try fail("actorDropout", "must be in [0, 1), got \(actorDropout)") }
        if actorDropout != 0 && algo != .iql { try fail("actorDropout", "applies to iql only (algo is \(algo.rawValue))") }
        if iqlDeterministicActor && algo != .iql { try fail("iqlDeterministicActor", "applies to iql only (algo is \(algo.rawValue))") }
        if !(fqlAlpha >= 0 && fqlAlpha.isFinite) { try fail("fqlAlpha", "must be ≥ 0, got \(fqlAlpha)") }
        if flowSteps < 1 { try fail("flowSteps", "must be ≥ 1, got \(flowSteps)") }
        if diffusionSteps < 1 { try fail("diffusionSteps", "must be ≥ 1, got \(diffusionSteps)") }
        if !(diffusionBetaMin > 0 && diffusionBetaMax > diffusionBetaMin && diffusionBetaMax.isFinite) {
            try fail("diffusionBetaMin", "and diffusionBetaMax need 0 < min < max, got \(diffusionBetaMin), \(diffusionBetaMax)")
        }
        if algo == .dql && maxQBackup { try fail("maxQBackup", "is not implemented for dql") }
    }

    /// Decodes a config from JSON text, naming unknown keys and bad values.
    public static func fromJSON(_ data: Data, source: String = "config") throws -> OFQLConfig {
        let c: OFQLConfig
        do {
            c = try JSONDecoder().decode(OFQLConfig.self, from: data)
        } catch let e as ConfigError {
            throw e
        } catch let DecodingError.typeMismatch(type, ctx) {
            throw ConfigError.invalid(field: ctx.codingPath.map(\.stringValue).joined(separator: "."),
                                      reason: "\(source): expected \(type)")
        } catch let DecodingError.dataCorrupted(ctx) {
            let field = ctx.codingPath.map(\.stringValue).joined(separator: ".")
            throw ConfigError.invalid(field: field.isEmpty ? "(file)" : field, reason: "\(source): \(ctx.debugDescription)")
        } catch {
            throw ConfigError.invalid(field: "(file)", reason: "\(source): \(error)")
        }
        try c.validate()
        return c
    }

    /// Reads and validates a config file; `algo`, when given, replaces the file's algorithm
    /// (keys the file leaves out take that algorithm's defaults).
    public static func load(path: String, algo: Algorithm? = nil) throws -> OFQLConfig {
        guard var data = FileManager.default.contents(atPath: path) else {
            throw ConfigError.invalid(field: "(file)", reason: "cannot read \(path)")
        }
        if let algo, var obj = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] {
            obj["algo"] = algo.rawValue
            data = try JSONSerialization.data(withJSONObject: obj)
        }
        return try fromJSON(data, source: path)
    }

    /// Pretty, key-sorted JSON.
    public func jsonData() throws -> Data {
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try e.encode(self)
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case algo, hidden, criticHidden, activation, criticActivation, policyLayerNorm, criticLayerNorm, timeInput,
             timeEmbeddingDim, timeScale, actorLR, criticLR, adamBeta1, adamBeta2, adamEps, weightDecay, actorGradClip,
             criticGradClip, batchSize, gamma, targetTau, targetUpdateEvery, policyEMA, emaDecay, emaEvery, emaStartStep,
             emaWarmup, maxQBackup, maxQSamples, rewardScale, rewardShift, eta, qNormalization, clipActorActions,
             flowRatio, timeSampler, logitNormalMean, logitNormalStd, flowLossReduction, normalizeObservations,
             td3Alpha, targetPolicyNoise, targetNoiseClip, policyDelay, expectile, iqlTemperature, advantageClip,
             actorCosineSteps, rewardScaleFromReturns, behaviorCloning, actorDropout, iqlDeterministicActor, fqlAlpha, flowSteps, normalizeQLoss,
             qAggregation, diffusionSteps, diffusionBetaMin, diffusionBetaMax, endpointFraction
    }

    private struct AnyKey: CodingKey {
        var stringValue: String; var intValue: Int? { nil }
        init?(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    public init(from decoder: Decoder) throws {
        let all = try decoder.container(keyedBy: AnyKey.self)
        let known = Set(CodingKeys.allCases.map(\.rawValue))
        if let bad = all.allKeys.map(\.stringValue).first(where: { !known.contains($0) }) {
            throw ConfigError.unknownKey(bad)
        }
        let c = try decoder.container(keyedBy: CodingKeys.self)
        // Missing keys take the defaults of the algorithm the file names.
        var s = OFQLConfig.defaults(for: try c.decodeIfPresent(Algorithm.self, forKey: .algo) ?? .ofql)
        func get<V: Decodable>(_ k: CodingKeys, _ cur: V) throws -> V { try c.decodeIfPresent(V.self, forKey: k) ?? cur }
        s.hidden = try get(.hidden, s.hidden)
        s.criticHidden = try get(.criticHidden, s.criticHidden)
        s.activation = try get(.activation, s.activation)
        s.criticActivation = try get(.criticActivation, s.criticActivation)
        s.policyLayerNorm = try get(.policyLayerNorm, s.policyLayerNorm)
        s.criticLayerNorm = try get(.criticLayerNorm, s.criticLayerNorm)
        s.timeInput = try get(.timeInput, s.timeInput)
        s.timeEmbeddingDim = try get(.timeEmbeddingDim, s.timeEmbeddingDim)
        s.timeScale = try get(.timeScale, s.timeScale)
        s.actorLR = try get(.actorLR, s.actorLR)
        s.criticLR = try get(.criticLR, s.criticLR)
        s.adamBeta1 = try get(.adamBeta1, s.adamBeta1)
        s.adamBeta2 = try get(.adamBeta2, s.adamBeta2)
        s.adamEps = try get(.adamEps, s.adamEps)
        s.weightDecay = try get(.weightDecay, s.weightDecay)
        s.actorGradClip = try c.decodeIfPresent(Double.self, forKey: .actorGradClip)
        s.criticGradClip = try c.decodeIfPresent(Double.self, forKey: .criticGradClip)
        s.batchSize = try get(.batchSize, s.batchSize)
        s.gamma = try get(.gamma, s.gamma)
        s.targetTau = try get(.targetTau, s.targetTau)
        s.targetUpdateEvery = try get(.targetUpdateEvery, s.targetUpdateEvery)
        s.policyEMA = try get(.policyEMA, s.policyEMA)
        s.emaDecay = try get(.emaDecay, s.emaDecay)
        s.emaEvery = try get(.emaEvery, s.emaEvery)
        s.emaStartStep = try get(.emaStartStep, s.emaStartStep)
        s.emaWarmup = try get(.emaWarmup, s.emaWarmup)
        s.maxQBackup = try get(.maxQBackup, s.maxQBackup)
        s.maxQSamples = try get(.maxQSamples, s.maxQSamples)
        s.rewardScale = try get(.rewardScale, s.rewardScale)
        s.rewardShift = try get(.rewardShift, s.rewardShift)
        s.eta = try get(.eta, s.eta)
        s.qNormalization = try get(.qNormalization, s.qNormalization)
        s.clipActorActions = try get(.clipActorActions, s.clipActorActions)
        s.flowRatio = try get(.flowRatio, s.flowRatio)
        s.timeSampler = try get(.timeSampler, s.timeSampler)
        s.endpointFraction = try get(.endpointFraction, s.endpointFraction)
        s.logitNormalMean = try get(.logitNormalMean, s.logitNormalMean)
        s.logitNormalStd = try get(.logitNormalStd, s.logitNormalStd)
        s.flowLossReduction = try get(.flowLossReduction, s.flowLossReduction)
        s.normalizeObservations = try get(.normalizeObservations, s.normalizeObservations)
        s.td3Alpha = try get(.td3Alpha, s.td3Alpha)
        s.targetPolicyNoise = try get(.targetPolicyNoise, s.targetPolicyNoise)
        s.targetNoiseClip = try get(.targetNoiseClip, s.targetNoiseClip)
        s.policyDelay = try get(.policyDelay, s.policyDelay)
        s.expectile = try get(.expectile, s.expectile)
        s.iqlTemperature = try get(.iqlTemperature, s.iqlTemperature)
        s.advantageClip = try get(.advantageClip, s.advantageClip)
        if c.contains(.actorCosineSteps) { s.actorCosineSteps = try c.decodeIfPresent(Int.self, forKey: .actorCosineSteps) }
        s.rewardScaleFromReturns = try get(.rewardScaleFromReturns, s.rewardScaleFromReturns)
        s.behaviorCloning = try get(.behaviorCloning, s.behaviorCloning)
        s.actorDropout = try get(.actorDropout, s.actorDropout)
        s.iqlDeterministicActor = try get(.iqlDeterministicActor, s.iqlDeterministicActor)
        s.fqlAlpha = try get(.fqlAlpha, s.fqlAlpha)
        s.flowSteps = try get(.flowSteps, s.flowSteps)
        s.normalizeQLoss = try get(.normalizeQLoss, s.normalizeQLoss)
        s.qAggregation = try get(.qAggregation, s.qAggregation)
        s.diffusionSteps = try get(.diffusionSteps, s.diffusionSteps)
        s.diffusionBetaMin = try get(.diffusionBetaMin, s.diffusionBetaMin)
        s.diffusionBetaMax = try get(.diffusionBetaMax, s.diffusionBetaMax)
        self = s
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(algo, forKey: .algo); try c.encode(hidden, forKey: .hidden); try c.encode(criticHidden, forKey: .criticHidden)
        try c.encode(activation, forKey: .activation); try c.encode(criticActivation, forKey: .criticActivation)
        try c.encode(policyLayerNorm, forKey: .policyLayerNorm); try c.encode(criticLayerNorm, forKey: .criticLayerNorm)
        try c.encode(timeInput, forKey: .timeInput); try c.encode(timeEmbeddingDim, forKey: .timeEmbeddingDim)
        try c.encode(timeScale, forKey: .timeScale); try c.encode(actorLR, forKey: .actorLR); try c.encode(criticLR, forKey: .criticLR)
        try c.encode(adamBeta1, forKey: .adamBeta1); try c.encode(adamBeta2, forKey: .adamBeta2); try c.encode(adamEps, forKey: .adamEps)
        try c.encode(weightDecay, forKey: .weightDecay)
        try c.encode(actorGradClip, forKey: .actorGradClip); try c.encode(criticGradClip, forKey: .criticGradClip)
        try c.encode(batchSize, forKey: .batchSize); try c.encode(gamma, forKey: .gamma); try c.encode(targetTau, forKey: .targetTau)
        try c.encode(targetUpdateEvery, forKey: .targetUpdateEvery); try c.encode(policyEMA, forKey: .policyEMA)
        try c.encode(emaDecay, forKey: .emaDecay); try c.encode(emaEvery, forKey: .emaEvery); try c.encode(emaStartStep, forKey: .emaStartStep)
        try c.encode(emaWarmup, forKey: .emaWarmup); try c.encode(maxQBackup, forKey: .maxQBackup); try c.encode(maxQSamples, forKey: .maxQSamples)
        try c.encode(rewardScale, forKey: .rewardScale); try c.encode(rewardShift, forKey: .rewardShift); try c.encode(eta, forKey: .eta)
        try c.encode(qNormalization, forKey: .qNormalization); try c.encode(clipActorActions, forKey: .clipActorActions)
        try c.encode(flowRatio, forKey: .flowRatio); try c.encode(timeSampler, forKey: .timeSampler)
        try c.encode(logitNormalMean, forKey: .logitNormalMean); try c.encode(logitNormalStd, forKey: .logitNormalStd)
        try c.encode(flowLossReduction, forKey: .flowLossReduction); try c.encode(normalizeObservations, forKey: .normalizeObservations)
        try c.encode(td3Alpha, forKey: .td3Alpha); try c.encode(targetPolicyNoise, forKey: .targetPolicyNoise)
        try c.encode(targetNoiseClip, forKey: .targetNoiseClip); try c.encode(policyDelay, forKey: .policyDelay)
        try c.encode(expectile, forKey: .expectile); try c.encode(iqlTemperature, forKey: .iqlTemperature)
        try c.encode(advantageClip, forKey: .advantageClip); try c.encode(actorCosineSteps, forKey: .actorCosineSteps)
        try c.encode(rewardScaleFromReturns, forKey: .rewardScaleFromReturns); try c.encode(behaviorCloning, forKey: .behaviorCloning)
        // Keys added after the first result tables are written only when set (same hash otherwise).
        if actorDropout != 0 { try c.encode(actorDropout, forKey: .actorDropout) }
        if iqlDeterministicActor { try c.encode(iqlDeterministicActor, forKey: .iqlDeterministicActor) }
        if endpointFraction != 0 { try c.encode(endpointFraction, forKey: .endpointFraction) }
        let base = OFQLConfig(), fql = algo == .fql || algo == .fbrac
        if algo == .fql || fqlAlpha != base.fqlAlpha { try c.encode(fqlAlpha, forKey: .fqlAlpha) }
        if fql || flowSteps != base.flowSteps { try c.encode(flowSteps, forKey: .flowSteps) }
        if fql || normalizeQLoss != base.normalizeQLoss { try c.encode(normalizeQLoss, forKey: .normalizeQLoss) }
        if fql || qAggregation != base.qAggregation { try c.encode(qAggregation, forKey: .qAggregation) }
        let dql = algo == .dql
        if dql || diffusionSteps != base.diffusionSteps { try c.encode(diffusionSteps, forKey: .diffusionSteps) }
        if dql || diffusionBetaMin != base.diffusionBetaMin { try c.encode(diffusionBetaMin, forKey: .diffusionBetaMin) }
        if dql || diffusionBetaMax != base.diffusionBetaMax { try c.encode(diffusionBetaMax, forKey: .diffusionBetaMax) }
    }

    /// The JAX/PyTorch reference benchmark's shape: raw r and t scalars, Mish, EMA off,
    /// critic target next action from the current policy.
    public static func referenceBenchmark(hidden: [Int], batchSize: Int = 256) -> OFQLConfig {
        var c = OFQLConfig()
        c.hidden = hidden; c.criticHidden = hidden; c.batchSize = batchSize
        c.timeInput = .raw; c.policyEMA = false
        return c
    }
}

extension OFQLConfig {
    /// The settings that depend on the data and the budget, made explicit before training:
    /// `rewardScaleFromReturns` becomes `rewardScale` = 1000 / (max − min episode return)
    /// (IQL on locomotion), and IQL's cosine schedule spans `steps` unless set. The result is
    /// what `config.json` and checkpoints record, so a resumed run needs neither input again.
    public func resolved(episodeReturnRange: ClosedRange<Double>?, steps: Int) throws -> OFQLConfig {
        var c = self
        if c.rewardScaleFromReturns {
            guard let r = episodeReturnRange, r.upperBound - r.lowerBound > 1e-6 else {
                throw ConfigError.invalid(field: "rewardScaleFromReturns",
                                          reason: "needs episodes with different returns, got return range \(episodeReturnRange.map { "\($0)" } ?? "none")")
            }
            c.rewardScale *= 1000 / (r.upperBound - r.lowerBound)
            c.rewardScaleFromReturns = false
        }
        if c.algo == .iql && c.actorCosineSteps == nil { c.actorCosineSteps = steps }
        return c
    }
}

/// A bad configuration.
public enum ConfigError: Error, CustomStringConvertible, Equatable {
    case unknownKey(String)
    case invalid(field: String, reason: String)
    public var description: String {
        switch self {
        case .unknownKey(let k): return "config: unknown key \"\(k)\" (see OFQLConfig for the accepted keys)"
        case .invalid(let f, let r): return "config: \(f) \(r)"
        }
    }
}

/// Training went wrong (non-finite loss, gradient or parameters).
public enum TrainingError: Error, CustomStringConvertible, Equatable {
    case nonFinite(String)
    case diverged(step: Int, what: String)
    public var description: String {
        switch self {
        case .nonFinite(let s): return "non-finite value: \(s)"
        case .diverged(let step, let what): return "training diverged at step \(step): \(what)"
        }
    }
}
