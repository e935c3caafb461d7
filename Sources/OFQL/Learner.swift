/// One parameter set of a learner as it is stored in a checkpoint.
///
/// `block`'s layout names tensors as the learner's networks do (`policy.*`, `critic.q1.*`);
/// `rename` maps that prefix to the stored one for copies of the same layout (EMA and target
/// networks: `policy.` → `policy_ema.`, `critic.` → `critic_target.`). `optimizer` is the Adam
/// state trained with the set and the prefix of its moments in `optimizer.safetensors`
/// (`actor` or `critic`).
import Randomness
public struct ParameterSet {
    public let block: ParameterBlock<Float>
    public let rename: (from: String, to: String)?
    public let optimizer: (prefix: String, adam: Adam<Float>)?

    public init(_ block: ParameterBlock<Float>, rename: (from: String, to: String)? = nil,
                optimizer: (prefix: String, adam: Adam<Float>)? = nil) {
        self.block = block; self.rename = rename; self.optimizer = optimizer
    }

    /// The stored name of a layout entry.
    public func storedName(_ name: String) -> String {
        guard let (a, b) = rename else { return name }
        return name.replacingOccurrences(of: a, with: b, options: .anchored)
    }
}

/// What the trainer, checkpoints, evaluation and benchmarks need of an offline-RL learner.
///
/// A learner owns its networks, optimisers, target copies and workspaces for one batch size;
/// ``update(_:)`` is one gradient step on a minibatch of raw transitions (the learner applies
/// its own ``normalizer``). Every learner is deterministic given its seed: its noise comes from
/// ``rng``, which checkpoints store, so a resumed run is bit-identical to an uninterrupted one.
public protocol Learner: AnyObject {
    var config: OFQLConfig { get }
    var obsDim: Int { get }
    var actDim: Int { get }
    var normalizer: ObservationNormalizer { get }
    /// Completed updates.
    var step: Int { get set }
    /// The learner's own noise stream.
    var rng: Xoshiro { get set }
    /// Update workers (1 or 2; see ``useCores(_:)``).
    var workers: Int { get }
    /// Trains on `cores` CPU cores (sets the process-wide BLAS thread count to 1 when the
    /// learner forks its own workers).
    func useCores(_ cores: Int)
    /// One gradient step; throws ``TrainingError/diverged(step:what:)`` before touching the
    /// parameters when a loss or gradient is not finite.
    @discardableResult
    func update(_ batch: TransitionBatch) throws -> UpdateMetrics
    /// Everything a checkpoint stores, in a fixed order; the first set is the policy.
    var parameterSets: [ParameterSet] { get }
    /// An inference copy of the policy used for evaluation (its target/EMA copy where the
    /// algorithm evaluates that).
    func makeSampler(maxRows: Int) -> PolicySampler
    /// Floating-point operations of the GEMMs in one update (2 per multiply–add).
    var gemmFlopsPerUpdate: Double { get }
}

extension Learner {
    /// Actions for raw observations (row-major, a multiple of ``obsDim``) through a fresh sampler.
    public func sampleActions(observations: [Float], rng: inout Xoshiro) -> [Float] {
        precondition(observations.count % obsDim == 0, "observations must be a multiple of obsDim = \(obsDim)")
        let n = observations.count / obsDim
        let sampler = makeSampler(maxRows: Swift.max(1, n))
        var noise = [Float](repeating: 0, count: n * sampler.noiseDim)
        if sampler.needsNoise { noise.withUnsafeMutableBufferPointer { rng.fillNormal($0.baseAddress!, count: n * sampler.noiseDim) } }
        var out = [Float](repeating: 0, count: n * actDim)
        observations.withUnsafeBufferPointer { o in
            noise.withUnsafeBufferPointer { z in
                out.withUnsafeMutableBufferPointer {
                    sampler.sample(observations: o.baseAddress!, count: n, noise: z.baseAddress!, into: $0.baseAddress!)
                }
            }
        }
        return out
    }
}

/// A learner built from a config, its dimensions, a seed and a normaliser; ``create`` checks
/// the config and the shapes first.
public protocol ConfigurableLearner: Learner {
    init(config: OFQLConfig, obsDim: Int, actDim: Int, seed: UInt64, normalizer: ObservationNormalizer)
}

extension ConfigurableLearner {
    public static func create(config: OFQLConfig, obsDim: Int, actDim: Int, seed: UInt64,
                              normalizer: ObservationNormalizer? = nil) throws -> Self {
        try config.validate()
        let norm = try Learners.checkShapes(obsDim: obsDim, actDim: actDim, normalizer: normalizer)
        return Self(config: config, obsDim: obsDim, actDim: actDim, seed: seed, normalizer: norm)
    }
}

extension Adam where T == Float {
    /// Adam with the config's β₁, β₂, ε and weight decay.
    convenience init(_ config: OFQLConfig, count: Int, clipNorm: Double?) {
        self.init(count: count, beta1: config.adamBeta1, beta2: config.adamBeta2, eps: config.adamEps,
                  weightDecay: config.weightDecay, clipNorm: clipNorm)
    }
}

/// Builds the learner a config names.
public enum Learners {
    public static func create(config: OFQLConfig, obsDim: Int, actDim: Int, seed: UInt64,
                              normalizer: ObservationNormalizer? = nil) throws -> any Learner {
        switch config.algo {
        case .bc:
            return try BCAgent.create(config: config, obsDim: obsDim, actDim: actDim, seed: seed, normalizer: normalizer)
        case .ofql:
            return try OFQLAgent.create(config: config, obsDim: obsDim, actDim: actDim, seed: seed, normalizer: normalizer)
        case .td3bc:
            return try TD3BCAgent.create(config: config, obsDim: obsDim, actDim: actDim, seed: seed, normalizer: normalizer)
        case .iql:
            return try IQLAgent.create(config: config, obsDim: obsDim, actDim: actDim, seed: seed, normalizer: normalizer)
        case .fql, .fbrac:
            return try FQLAgent.create(config: config, obsDim: obsDim, actDim: actDim, seed: seed, normalizer: normalizer)
        case .dql:
            return try DQLAgent.create(config: config, obsDim: obsDim, actDim: actDim, seed: seed, normalizer: normalizer)
        }
    }

    /// Checks the dimensions and the normaliser shared by every learner's `create`.
    static func checkShapes(obsDim: Int, actDim: Int, normalizer: ObservationNormalizer?) throws -> ObservationNormalizer {
        guard obsDim > 0, actDim > 0 else { throw ConfigError.invalid(field: "obsDim/actDim", reason: "must be positive, got \(obsDim), \(actDim)") }
        let norm = normalizer ?? .identity(obsDim)
        guard norm.mean.count == obsDim, norm.std.count == obsDim else {
            throw ConfigError.invalid(field: "normalizer", reason: "has \(norm.mean.count) dims, observations have \(obsDim)")
        }
        return norm
    }
}

/// Evaluation-time sampling modes besides a learner's own (arXiv 2508.13904 Table 2):
/// `ddim1` samples a DQL checkpoint with one DDIM step from x_K (DQL + DDIM(1)); `flow-K`
/// integrates FQL's BC flow or FBRAC's flow policy in K Euler steps; `meanflow-K` integrates
/// OFQL's average velocity in K equal steps (MeanFlow's few-step sampling, arXiv 2505.13447
/// Eq. 12), which shows how much one-step sampling costs a trained OFQL policy.
public enum SamplingMode {
    /// Parses a mode name; the error names the accepted forms.
    public static func validate(_ name: String) throws {
        guard name == "ddim1" || flowSteps(name) != nil || meanFlowSteps(name) != nil else {
            throw ConfigError.invalid(field: "sampling", reason: "must be ddim1, flow-K or meanflow-K with K ≥ 1, got '\(name)'")
        }
    }

    /// The algorithms a mode applies to.
    public static func algorithms(_ name: String) -> [Algorithm] {
        if name == "ddim1" { return [.dql] }
        return meanFlowSteps(name) != nil ? [.ofql] : [.fql, .fbrac]
    }

    /// K of `flow-K`.
    public static func flowSteps(_ name: String) -> Int? { steps(name, prefix: "flow-") }

    /// K of `meanflow-K`: OFQL's average velocity integrated in K equal steps.
    public static func meanFlowSteps(_ name: String) -> Int? { steps(name, prefix: "meanflow-") }

    private static func steps(_ name: String, prefix: String) -> Int? {
        guard name.hasPrefix(prefix), let k = Int(name.dropFirst(prefix.count)), k >= 1 else { return nil }
        return k
    }

    /// A sampler of `learner` in mode `name`; throws naming the mode and the learner when they do not fit.
    public static func sampler(_ learner: any Learner, mode name: String, maxRows: Int) throws -> PolicySampler {
        try validate(name)
        if name == "ddim1", let dql = learner as? DQLAgent { return dql.makeSampler(maxRows: maxRows, ddim1: true) }
        if let k = flowSteps(name), let flow = learner as? FQLAgent { return flow.makeSampler(maxRows: maxRows, flowSteps: k) }
        if let k = meanFlowSteps(name), let ofql = learner as? OFQLAgent { return ofql.makeSampler(maxRows: maxRows, steps: k) }
        throw ConfigError.invalid(field: "sampling", reason: "\(name) applies to \(algorithms(name).map(\.rawValue).joined(separator: " and ")), not \(learner.config.algo.rawValue)")
    }
}
