import BLAS
import COFQLKernels
#if canImport(Glibc)
import Glibc
#endif

/// Adam (PyTorch semantics) over one ``ParameterBlock``, with optional global-norm gradient
/// clipping and L2 weight decay (added to the gradient, as `torch.optim.Adam(weight_decay:)`).
///
/// Step k (1-based): g ← clip(g) + wd·θ; m ← β₁m + (1−β₁)g; v ← β₂v + (1−β₂)g²;
/// θ ← θ − (lr/(1−β₁ᵏ))·m/(√v/√(1−β₂ᵏ) + ε).
public final class Adam<T: NetScalar> {
    public let count: Int
    /// First and second moments.
    public let m: UnsafeMutablePointer<T>, v: UnsafeMutablePointer<T>
    /// Steps taken so far.
    public var step = 0
    public var beta1: Double, beta2: Double, eps: Double, weightDecay: Double
    /// Clip the global gradient norm to this value (nil: no clipping).
    public var clipNorm: Double?

    public init(count: Int, beta1: Double = 0.9, beta2: Double = 0.999, eps: Double = 1e-8,
                weightDecay: Double = 0, clipNorm: Double? = nil) {
        self.count = count
        self.beta1 = beta1; self.beta2 = beta2; self.eps = eps; self.weightDecay = weightDecay; self.clipNorm = clipNorm
        m = .allocate(capacity: Swift.max(1, count)); m.initialize(repeating: 0, count: Swift.max(1, count))
        v = .allocate(capacity: Swift.max(1, count)); v.initialize(repeating: 0, count: Swift.max(1, count))
    }
    deinit { m.deallocate(); v.deallocate() }

    /// The global L2 norm of the gradients in `block`.
    public func gradientNorm(_ block: ParameterBlock<T>) -> Double {
        Double(VectorMath.sumSquares(block.grads, count)).squareRoot()
    }

    /// Clips and applies one step with learning rate `lr`; returns the gradient norm before
    /// clipping. Throws (leaving parameters and moments untouched) if the norm is not finite.
    /// `norm`: the gradient's norm when the caller has it already (``gradientNorm(_:)``).
    /// `parallel`: the Float step runs as two halves on the pair (``Workers/split(_:count:minimum:site:line:_:)``;
    /// the caller has BLAS on one thread), with the same values.
    @discardableResult
    public func update(_ block: ParameterBlock<T>, lr: Double, norm given: Double? = nil, parallel: Bool = false) throws -> Double {
        precondition(block.count == count)
        let norm = given ?? gradientNorm(block)
        guard norm.isFinite else { throw TrainingError.nonFinite("gradient norm is \(norm)") }
        let g = block.grads, p = block.values
        if let c = clipNorm, norm > c {
            VectorMath.scale(g, count, by: T(c / (norm + 1e-6)))
        }
        step += 1
        let bc1 = 1 - pow(beta1, Double(step)), bc2 = 1 - pow(beta2, Double(step))
        let stepSize = T(lr / bc1), invSqrtBc2 = T(1 / bc2.squareRoot())
        let b1 = T(beta1), b2 = T(beta2), ob1 = T(1 - beta1), ob2 = T(1 - beta2), e = T(eps), wd = T(weightDecay)
        let m = self.m, v = self.v
        if T.self == Float.self {
            let pf = p.floats, gf = g.floats, mf = m.floats, vf = v.floats
            let stepSize = Float(lr / bc1), invSqrtBc2 = Float(1 / bc2.squareRoot())
            Workers.split(parallel, count: count) { r in
                let o = r.lowerBound
                Adam<Float>.floatStep(p: pf + o, g: gf + o, m: mf + o, v: vf + o, count: r.count, stepSize: stepSize,
                                      invSqrtBc2: invSqrtBc2, b1: Float(beta1), b2: Float(beta2),
                                      eps: Float(eps), wd: Float(weightDecay))
            }
            return norm
        }
        if weightDecay != 0 {
            for i in 0..<count { g[i] += wd * p[i] }
        }
        for i in 0..<count {
            let gi = g[i]
            let mi = b1 * m[i] + ob1 * gi
            let vi = b2 * v[i] + ob2 * gi * gi
            m[i] = mi; v[i] = vi
            p[i] -= stepSize * mi / (vi.squareRoot() * invSqrtBc2 + e)
        }
        return norm
    }

    /// The Float loop (non-generic so unoptimised builds stay fast; same maths).
    static func floatStep(p: UnsafeMutablePointer<Float>, g: UnsafeMutablePointer<Float>, m: UnsafeMutablePointer<Float>,
                          v: UnsafeMutablePointer<Float>, count: Int, stepSize: Float, invSqrtBc2: Float, b1: Float, b2: Float,
                          eps: Float, wd: Float) {
        // One fused pass (AVX2+FMA when available), see COFQLKernels.
        ofk_adam(p, g, m, v, count, stepSize, invSqrtBc2, b1, b2, eps, wd)
    }

    /// Resets moments and step count.
    public func reset() {
        m.update(repeating: 0, count: count); v.update(repeating: 0, count: count); step = 0
    }
}

