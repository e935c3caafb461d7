import BLAS
import Randomness

/// The behaviour-cloning baseline as a ``Learner``: a deterministic MLP s → a trained by the
/// squared error to the dataset's actions (mean over the batch; over action dimensions too
/// when `flowLossReduction` is `mean`), evaluated as clip(π(s), −1, 1).
public final class BCAgent: ConfigurableLearner {
    public let config: OFQLConfig
    public let obsDim: Int, actDim: Int
    public let normalizer: ObservationNormalizer
    public var step = 0
    /// Unused by BC's update (kept so every learner's checkpoint has the same fields).
    public var rng: Xoshiro
    public private(set) var workers = 1
    let net: MLP<Float>
    /// θ (layout `policy.body.*`).
    public let policy: ParameterBlock<Float>
    let actorOpt: Adam<Float>
    private let B: Int
    private let sN, dOut: UnsafeMutablePointer<Float>

    public init(config: OFQLConfig, obsDim: Int, actDim: Int, seed: UInt64, normalizer: ObservationNormalizer) {
        self.config = config; self.obsDim = obsDim; self.actDim = actDim; self.normalizer = normalizer
        B = config.batchSize
        var initRNG = Xoshiro(seed: seed)
        rng = initRNG.derived(1)
        var layout = ParameterLayout()
        net = MLP(MLPSpec(inputDim: obsDim, hidden: config.hidden, outputDim: actDim, activation: config.activation,
                          layerNorm: config.policyLayerNorm), prefix: "policy.body", layout: &layout, maxRows: B)
        policy = ParameterBlock(layout: layout)
        net.initialize(policy.values, rng: &initRNG)
        actorOpt = Adam(config, count: policy.count, clipNorm: config.actorGradClip)
        sN = .allocate(capacity: B * obsDim); dOut = .allocate(capacity: B * actDim)
    }
    deinit { sN.deallocate(); dOut.deallocate() }

    public func useCores(_ cores: Int) {
        workers = cores >= 2 ? 2 : 1
        BLASRuntime.setThreads(1)
    }

    public var parameterSets: [ParameterSet] { [ParameterSet(policy, optimizer: ("actor", actorOpt))] }

    public func makeSampler(maxRows: Int) -> PolicySampler {
        PolicySampler(policySpec: nil, mlpSpec: net.spec, squash: .clip, source: policy, normalizer: normalizer,
                      obsDim: obsDim, actDim: actDim, maxRows: maxRows)
    }

    public var gemmFlopsPerUpdate: Double { 2 * Double(B) * Double(net.spec.macsPerRow) * 3 }

    public func update(_ batch: TransitionBatch) throws -> UpdateMetrics {
        precondition(batch.count == B, "batch has \(batch.count) rows, the learner was built for \(B)")
        precondition(batch.obsDim == obsDim && batch.actDim == actDim, "batch dimensions differ from the learner's")
        normalizer.apply(batch.observations, into: sN, rows: B)
        let A = actDim
        net.forward(policy.values, input: sN, rows: B)
        var loss: Float = 0
        let denom = Float(B) * (config.flowLossReduction == .mean ? Float(A) : 1)
        for k in 0..<(B * A) {
            let d = net.output[k] - batch.actions[k]
            loss += d * d
            dOut[k] = 2 * d / denom
        }
        loss /= denom
        guard loss.isFinite else { throw TrainingError.diverged(step: step, what: "BC loss is \(loss)") }
        net.backward(policy.values, grads: policy.grads, rows: B, dOutput: dOut, inputGrad: false)
        var m = UpdateMetrics()
        do { m.actorGradNorm = try actorOpt.update(policy, lr: config.actorLR) } catch {
            throw TrainingError.diverged(step: step, what: "actor \(error)")
        }
        m.actorLoss = Double(loss); m.flowLoss = Double(loss)
        step += 1
        return m
    }
}
