/// The MeanFlow pieces of OFQL's flow behaviour-cloning loss, as free functions over buffers
/// so that tests can plug in closed-form velocity fields.
///
/// Conventions (MeanFlow, arXiv 2505.13447 §3, as OFQL, arXiv 2508.13904 §3): t = 0 is data, t = 1 is noise, r ≤ t.
import Randomness
public enum MeanFlow {
    /// Draws (t, r) for `n` rows (eq. 7): two independent draws from the time sampler,
    /// t = max, r = min; then with probability `flowRatio` (= P(r = t)) r ← t; then, when
    /// `endpointFraction` > 0, with that probability (r, t) ← (0, 1), the pair of the deployed
    /// one-step action a = ε − u(ε, 0, 1) (arXiv 2508.13904 §3). Under the paper's
    /// logit-normal(−0.4, 1) and flow ratio 0.5, t > 0.9 and r < 0.1 together in about 1 row in
    /// 6,000, so without this the map the policy uses is trained only through its neighbours.
    /// No extra random number is drawn when the fraction is 0, so runs without it keep their
    /// streams.
    public static func sampleTimes(_ n: Int, config: OFQLConfig, rng: inout Xoshiro,
                                   t: UnsafeMutablePointer<Float>, r: UnsafeMutablePointer<Float>) {
        for i in 0..<n {
            let a: Double, b: Double
            switch config.timeSampler {
            case .logitNormal:
                let (n1, n2) = rng.normalPair()
                a = sigmoid(config.logitNormalMean + config.logitNormalStd * n1)
                b = sigmoid(config.logitNormalMean + config.logitNormalStd * n2)
            case .uniform:
                a = rng.uniform(); b = rng.uniform()
            }
            let hi = Swift.max(a, b), lo = Swift.min(a, b)
            let same = rng.uniform() < config.flowRatio
            t[i] = Float(hi); r[i] = Float(same ? hi : lo)
            if config.endpointFraction > 0 && rng.uniform() < config.endpointFraction { t[i] = 1; r[i] = 0 }
        }
    }

    @inline(__always) static func sigmoid(_ x: Double) -> Double { 1 / (1 + Double.expm(-x)) }

    /// Linear path (eq. 1): z_t = (1 − t)·a + t·ε and conditional velocity v = ε − a.
    public static func interpolate<T: NetScalar>(rows: Int, dim: Int, a: UnsafePointer<T>, eps: UnsafePointer<T>,
                                                 t: UnsafePointer<T>, z: UnsafeMutablePointer<T>, v: UnsafeMutablePointer<T>) {
        for i in 0..<rows {
            let ti = t[i]
            for j in 0..<dim {
                let k = i * dim + j
                z[k] = (1 - ti) * a[k] + ti * eps[k]
                v[k] = eps[k] - a[k]
            }
        }
    }

    /// The flow-BC loss (eq. 5–6) given the network output u and its JVP du/dt along (v, 0, 1):
    /// u_tgt = sg(v − clip(t − r, 0, 1)·du/dt), L = mean_batch reduce_dims (u − u_tgt)².
    /// Writes ∂L/∂u into `dU` (the target is a constant) and returns L.
    public static func loss<T: NetScalar>(rows: Int, dim: Int, u: UnsafePointer<T>, dudt: UnsafePointer<T>,
                                          v: UnsafePointer<T>, r: UnsafePointer<T>, t: UnsafePointer<T>,
                                          reduction: FlowLossReduction, dU: UnsafeMutablePointer<T>?) -> T {
        let denom = T(rows) * (reduction == .mean ? T(dim) : 1)
        var total: T = 0
        for i in 0..<rows {
            var h = t[i] - r[i]
            h = h < 0 ? 0 : (h > 1 ? 1 : h)
            var rowSum: T = 0
            for j in 0..<dim {
                let k = i * dim + j
                let target = v[k] - h * dudt[k]          // eq. 5, stop-gradient
                let diff = u[k] - target
                rowSum += diff * diff
                dU?[k] = 2 * diff / denom
            }
            total += rowSum
        }
        return total / denom
    }
}
