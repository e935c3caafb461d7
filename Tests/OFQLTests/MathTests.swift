import Foundation
import Randomness
import Testing
import TestSupport
@testable import OFQL

/// Fast Float kernels against libm, MeanFlow's analytic solution, Adam and Polyak.
struct MathTests {
    @Test func fastExpMatchesLibm() {
        var worst: Float = 0
        var x: Float = -87
        while x < 88 {
            let e = Float.expm(x), ref = Foundation.exp(Double(x))
            worst = max(worst, Float(abs(Double(e) - ref) / ref))
            x += 0.0137
        }
        #expect(worst < 3e-7, "max relative error of Float.expm: \(worst)")
    }

    @Test func floatActivationsMatchLibm() {
        var worstMish: Double = 0, worstMishD: Double = 0, worstTanh: Double = 0, worstGelu: Double = 0
        var x = -30.0
        while x < 30 {
            let xf = Float(x), xd = Double(xf)
            let sp = xd > 30 ? xd : Foundation.log1p(Foundation.exp(xd))
            let mish = xd * Foundation.tanh(sp)
            let sig = 1 / (1 + Foundation.exp(-xd))
            let th = Foundation.tanh(sp)
            let mishD = th + xd * (1 - th * th) * sig
            let (y, d) = ActivationMath.mish(xf)
            worstMish = max(worstMish, abs(Double(y) - mish) / max(1, abs(mish)))
            worstMishD = max(worstMishD, abs(Double(d) - mishD))
            worstTanh = max(worstTanh, abs(Double(ActivationMath.tanh(xf).y) - Foundation.tanh(xd)))
            let g = 0.5 * xd * (1 + Foundation.tanh(0.7978845608028654 * (xd + 0.044715 * xd * xd * xd)))
            worstGelu = max(worstGelu, abs(Double(ActivationMath.gelu(xf).y) - g) / max(1, abs(g)))
            x += 0.0071
        }
        #expect(worstMish < 1e-6, "Mish \(worstMish)")
        #expect(worstMishD < 1e-6, "Mish′ \(worstMishD)")
        #expect(worstTanh < 3e-7, "tanh \(worstTanh)")
        #expect(worstGelu < 1e-6, "GELU \(worstGelu)")
    }

    /// Data a = μ(s) deterministic per state: z_t = (1 − t)μ + tε and the exact average
    /// velocity is u(z, r, t) = (z − μ)/t for every r (the flow moves in a straight line at
    /// constant speed), so du/dt along (v, 0, 1) = v/t − (z − μ)/t² = 0 and u_tgt = v = u:
    /// the MeanFlow loss is exactly zero. A perturbed field is not.
    @Test func meanFlowLossVanishesAtTheExactAverageVelocity() {
        let rows = 64, dim = 3
        var cfg = OFQLConfig()
        cfg.flowRatio = 0.3
        var rng = Xoshiro(seed: 5)
        var tf = [Float](repeating: 0, count: rows), rf = tf
        MeanFlow.sampleTimes(rows, config: cfg, rng: &rng, t: &tf, r: &rf)
        #expect(zip(rf, tf).allSatisfy { $0 <= $1 && $1 > 0 && $1 < 1 })
        let t = tf.map(Double.init), r = rf.map(Double.init)
        let mu = randomArray(rows * dim, seed: 6), eps = randomArray(rows * dim, seed: 7)
        var z = [Double](repeating: 0, count: rows * dim), v = z
        mu.withPointer { m in eps.withPointer { e in t.withPointer { tp in
            MeanFlow.interpolate(rows: rows, dim: dim, a: m, eps: e, t: tp, z: &z, v: &v)
        } } }
        func field(_ c: Double) -> (u: [Double], dudt: [Double]) {
            // u = (z − μ)/t + c·(t − r)·z; d/dt along (v, 0, 1) computed by hand.
            var u = [Double](), d = [Double]()
            for i in 0..<rows { for j in 0..<dim {
                let k = i * dim + j
                u.append((z[k] - mu[k]) / t[i] + c * (t[i] - r[i]) * z[k])
                d.append(v[k] / t[i] - (z[k] - mu[k]) / (t[i] * t[i]) + c * (z[k] + (t[i] - r[i]) * v[k]))
            } }
            return (u, d)
        }
        func loss(_ c: Double) -> Double {
            let (u, d) = field(c)
            return u.withPointer { up in d.withPointer { dp in v.withPointer { vp in r.withPointer { rp in t.withPointer { tp in
                MeanFlow.loss(rows: rows, dim: dim, u: up, dudt: dp, v: vp, r: rp, t: tp, reduction: .sum, dU: nil)
            } } } } }
        }
        #expect(loss(0) < 1e-20, "exact field loss \(loss(0))")
        #expect(loss(0.1) > 1e-4, "perturbed field loss \(loss(0.1))")
    }

    /// `n` (t, r) pairs from the OFQL time sampler under `cfg`.
    func drawTimes(_ cfg: OFQLConfig, seed: UInt64, n: Int = 4000) -> (t: [Float], r: [Float]) {
        var rng = Xoshiro(seed: seed)
        var t = [Float](repeating: 0, count: n), r = t
        MeanFlow.sampleTimes(n, config: cfg, rng: &rng, t: &t, r: &r)
        return (t, r)
    }

    @Test func timeSamplerHonoursTheFlowRatio() {
        for ratio in [0.0, 0.5, 1.0] {
            var cfg = OFQLConfig()
            cfg.flowRatio = ratio
            let n = 4000
            let (t, r) = drawTimes(cfg, seed: 8, n: n)
            let same = Double(zip(r, t).filter { $0 == $1 }.count) / Double(n)
            #expect(abs(same - ratio) < 0.03, "P(r = t) = \(same), expected \(ratio)")
            #expect(zip(r, t).allSatisfy { $0 <= $1 })
        }
    }

    /// `endpointFraction` sends that share of rows to (r, t) = (0, 1), the deployed one-step
    /// pair; the other rows keep r ≤ t inside (0, 1) and the flow ratio's share of r = t.
    @Test func timeSamplerHonoursTheEndpointFraction() throws {
        for fraction in [0.0, 0.25, 1.0] {
            var cfg = OFQLConfig()
            cfg.endpointFraction = fraction
            let n = 4000
            let (t, r) = drawTimes(cfg, seed: 9, n: n)
            let ends = zip(r, t).filter { $0 == 0 && $1 == 1 }.count
            #expect(abs(Double(ends) / Double(n) - fraction) < 0.03, "P((r, t) = (0, 1)) = \(Double(ends) / Double(n)), expected \(fraction)")
            let inner = zip(r, t).filter { !($0 == 0 && $1 == 1) }
            #expect(inner.allSatisfy { $0 <= $1 && $0 > 0 && $1 < 1 })
            if !inner.isEmpty {
                let same = Double(inner.filter { $0 == $1 }.count) / Double(inner.count)
                #expect(abs(same - cfg.flowRatio) < 0.04, "P(r = t) among the other rows = \(same)")
            }
        }
        // Unset, the key is not written (configs and cell hashes from before it stay the same);
        // set, it round-trips; out of range or on another algorithm, it is refused by name.
        let json = String(decoding: try OFQLConfig().jsonData(), as: UTF8.self)
        #expect(!json.contains("endpointFraction"))
        var c = OFQLConfig()
        c.endpointFraction = 0.25
        #expect(try OFQLConfig.fromJSON(c.jsonData()).endpointFraction == 0.25)
        c.endpointFraction = 1.5
        #expect(throws: ConfigError.self) { try c.validate() }
        var b = OFQLConfig.defaults(for: .bc)
        b.endpointFraction = 0.25
        do { try b.validate(); Issue.record("endpointFraction on bc was accepted") } catch {
            #expect("\(error)".contains("endpointFraction"), "\(error)")
        }
    }

    @Test func adamMatchesHandComputedSteps() throws {
        var layout = ParameterLayout()
        _ = layout.add("w", shape: [2])
        let block = ParameterBlock<Double>(layout: layout)
        block.setValues([1.0, -2.0])
        let adam = Adam<Double>(count: 2, beta1: 0.9, beta2: 0.999, eps: 1e-8)
        let lr = 0.1
        var p = [1.0, -2.0], m = [0.0, 0.0], v = [0.0, 0.0]
        let grads: [[Double]] = [[0.5, -1.0], [0.2, 0.3], [-0.4, 0.0]]
        for (k, g) in grads.enumerated() {
            for i in 0..<2 { block.grads[i] = g[i] }
            try adam.update(block, lr: lr)
            let step = Double(k + 1)
            for i in 0..<2 {
                m[i] = 0.9 * m[i] + 0.1 * g[i]
                v[i] = 0.999 * v[i] + 0.001 * g[i] * g[i]
                let mh = m[i] / (1 - Foundation.pow(0.9, step)), vh = v[i] / (1 - Foundation.pow(0.999, step))
                p[i] -= lr * mh / (vh.squareRoot() + 1e-8)
            }
            #expect(worstRatio(block.valueArray, p, atol: 1e-12, rtol: 1e-12) < 1, "step \(k + 1)")
        }
    }

    @Test func adamClipsTheGlobalNormAndRejectsNaN() throws {
        var layout = ParameterLayout()
        _ = layout.add("w", shape: [2])
        let block = ParameterBlock<Double>(layout: layout)
        let adam = Adam<Double>(count: 2, clipNorm: 1)
        block.grads[0] = 3; block.grads[1] = 4
        let norm = try adam.update(block, lr: 0.1)
        #expect(norm == 5)
        #expect(abs(block.grads[0] - 0.6) < 1e-6 && abs(block.grads[1] - 0.8) < 1e-6)
        block.grads[0] = .nan
        let before = block.valueArray
        #expect(throws: TrainingError.self) { try adam.update(block, lr: 0.1) }
        #expect(block.valueArray == before)
    }

    @Test func polyakUpdateIsExact() {
        let online: [Float] = [1, 2, 3, -4]
        var target: [Float] = [0, 1, 5, 4]
        let expected = zip(target, online).map { $0 + Float(0.005) * ($1 - $0) }
        online.withUnsafeBufferPointer { o in
            target.withUnsafeMutableBufferPointer { VectorMath.polyak(target: $0.baseAddress!, online: o.baseAddress!, 4, tau: 0.005) }
        }
        #expect(target == expected)
        var t2: [Float] = [3, 3, 3, 3]
        online.withUnsafeBufferPointer { o in
            t2.withUnsafeMutableBufferPointer { VectorMath.polyak(target: $0.baseAddress!, online: o.baseAddress!, 4, tau: 1) }
        }
        #expect(t2 == online)
    }
}

/// The Float LayerNorm kernels (vectorised reductions in C) against the generic Double path.
struct LayerNormKernelTests {
    @Test(arguments: [8, 37, 256])
    func floatKernelsMatchDouble(_ cols: Int) {
        let rows = 5, tangent = 3
        var g = Xoshiro(seed: UInt64(cols))
        let h = (0..<((rows + tangent) * cols)).map { _ in 2 * g.normal() + 0.5 }
        let gamma = (0..<cols).map { _ in 1 + 0.3 * g.normal() }, beta = (0..<cols).map { _ in 0.2 * g.normal() }
        let dy = (0..<(rows * cols)).map { _ in g.normal() }
        func run<T: NetScalar>(_ type: T.Type) -> (y: [Double], dx: [Double], dg: [Double], db: [Double]) {
            var hT = h.map { T($0) }, xhat = [T](repeating: 0, count: (rows + tangent) * cols), rstd = [T](repeating: 0, count: rows)
            let gT = gamma.map { T($0) }, bT = beta.map { T($0) }
            Kernels.layerNormForward(&hT, rows: rows, tangentRows: tangent, cols: cols, gamma: gT, beta: bT, xhat: &xhat, rstd: &rstd)
            var d = dy.map { T($0) }, dg = [T](repeating: 0, count: cols), db = [T](repeating: 0, count: cols)
            Kernels.layerNormBackward(&d, rows: rows, cols: cols, gamma: gT, xhat: xhat, rstd: rstd, dGamma: &dg, dBeta: &db)
            func dbl(_ a: [T]) -> [Double] { a.map { Double("\($0)")! } }
            return (dbl(hT), dbl(d), dbl(dg), dbl(db))
        }
        let f = run(Float.self), d = run(Double.self)
        for (a, b) in [(f.y, d.y), (f.dx, d.dx), (f.dg, d.dg), (f.db, d.db)] {
            #expect(worstRatio(a, b, atol: 1e-5, rtol: 1e-4) <= 1, "cols \(cols)")
        }
    }
}
