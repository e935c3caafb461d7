import Randomness
import Testing
import TestSupport
@testable import OFQL

/// Backward and JVP of layers and whole networks against central finite differences (Double).
struct GradientTests {
    /// Checks parameter gradients, input gradients and the fused JVP of one MLP.
    func checkMLP(_ spec: MLPSpec, rows: Int = 4, seed: UInt64) {
        var layout = ParameterLayout()
        let net = MLP<Double>(spec, prefix: "net", layout: &layout, maxRows: 2 * rows)
        let block = ParameterBlock<Double>(layout: layout)
        var rng = Xoshiro(seed: seed)
        net.initialize(block.values, rng: &rng)
        // Move LayerNorm γ, β and every weight away from their special initial values.
        let noise = randomArray(block.count, seed: seed + 7, scale: 0.1)
        for i in 0..<block.count { block.values[i] += noise[i] }
        let nIn = spec.inputDim, nOut = spec.outputDim
        let input = UnsafeMutablePointer<Double>.allocate(capacity: 2 * rows * nIn)
        defer { input.deallocate() }
        let x = randomArray(rows * nIn, seed: seed + 1), xd = randomArray(rows * nIn, seed: seed + 2)
        for i in 0..<(rows * nIn) { input[i] = x[i]; input[rows * nIn + i] = xd[i] }
        let c = randomArray(rows * nOut, seed: seed + 3)
        func loss() -> Double {
            net.forward(block.values, input: input, rows: rows, derivatives: false)
            return (0..<(rows * nOut)).reduce(0) { $0 + c[$1] * net.output[$1] }
        }
        // Analytic gradients.
        net.forward(block.values, input: input, rows: rows, derivatives: true)
        c.withPointer { net.backward(block.values, grads: block.grads, rows: rows, dOutput: $0, inputGrad: true) }
        let gParams = block.gradArray
        let gInput = Array(UnsafeBufferPointer(start: net.dInput, count: rows * nIn))
        // Parameter gradients.
        var fdParams: [Double] = []
        for i in 0..<block.count {
            let saved = block.values[i]
            fdParams.append(centralDifference { h in block.values[i] = saved + h; return loss() })
            block.values[i] = saved
        }
        #expect(worstRatio(gParams, fdParams) < 1, "parameter gradients of \(spec)")
        // Input gradients.
        var fdInput: [Double] = []
        for i in 0..<(rows * nIn) {
            let saved = input[i]
            fdInput.append(centralDifference { h in input[i] = saved + h; return loss() })
            input[i] = saved
        }
        #expect(worstRatio(gInput, fdInput) < 1, "input gradients of \(spec)")
        // JVP: tangent rows vs FD of the output along xd.
        net.forward(block.values, input: input, rows: rows, tangentRows: rows, derivatives: true)
        let jvp = Array(UnsafeBufferPointer(start: net.output + rows * nOut, count: rows * nOut))
        var fdJVP = [Double](repeating: 0, count: rows * nOut)
        func outputs(at h: Double) -> [Double] {
            for i in 0..<(rows * nIn) { input[i] = x[i] + h * xd[i] }
            net.forward(block.values, input: input, rows: rows, derivatives: false)
            return Array(UnsafeBufferPointer(start: net.output, count: rows * nOut))
        }
        let hi = outputs(at: 1e-5), lo = outputs(at: -1e-5)
        for k in 0..<(rows * nOut) { fdJVP[k] = (hi[k] - lo[k]) / 2e-5 }
        #expect(worstRatio(jvp, fdJVP) < 1, "JVP of \(spec)")
    }

    @Test func linearLayer() {
        checkMLP(MLPSpec(inputDim: 5, hidden: [], outputDim: 3), seed: 1)
    }

    @Test(arguments: Activation.allCases)
    func activationLayers(_ act: Activation) {
        checkMLP(MLPSpec(inputDim: 5, hidden: [7], outputDim: 3, activation: act), seed: 2)
    }

    @Test(arguments: Activation.allCases)
    func layerNormLayers(_ act: Activation) {
        checkMLP(MLPSpec(inputDim: 4, hidden: [6, 5], outputDim: 2, activation: act, layerNorm: true), seed: 3)
    }

    @Test func deepMishMLP() {
        checkMLP(MLPSpec(inputDim: 6, hidden: [9, 8, 7], outputDim: 3, activation: .mish), rows: 5, seed: 4)
    }

    @Test func activationDerivatives() {
        for act in Activation.allCases {
            for x in stride(from: -6.0, through: 6.0, by: 0.37) where act != .relu || abs(x) > 1e-3 {
                let d = ActivationMath.apply(act, x).d
                let fd = centralDifference(h: 1e-6) { h in ActivationMath.apply(act, x + h).y }
                #expect(abs(d - fd) < 1e-7, "\(act)′(\(x)) = \(d), finite difference \(fd)")
            }
        }
    }

    @Test func sinusoidalEmbedding() {
        for scale in [1.0, 25.0] {
            let e = SinusoidalEmbedding<Double>(dim: 12, scale: scale)
            let t = 0.37, tDot = 0.8
            var tan = [Double](repeating: 0, count: 12)
            tan.withUnsafeMutableBufferPointer { e.tangent(t, tDot, into: $0.baseAddress!) }
            var hi = [Double](repeating: 0, count: 12), lo = hi
            hi.withUnsafeMutableBufferPointer { e.features(t + 1e-6 * tDot, into: $0.baseAddress!) }
            lo.withUnsafeMutableBufferPointer { e.features(t - 1e-6 * tDot, into: $0.baseAddress!) }
            let fd = (0..<12).map { (hi[$0] - lo[$0]) / 2e-6 }
            #expect(worstRatio(tan, fd) < 1)
            let dF = randomArray(12, seed: 9)
            let g = dF.withPointer { e.backward(t, dFeatures: $0) }
            let fdg = centralDifference(h: 1e-6) { h in
                var f = [Double](repeating: 0, count: 12)
                f.withUnsafeMutableBufferPointer { e.features(t + h, into: $0.baseAddress!) }
                return (0..<12).reduce(0) { $0 + dF[$1] * f[$1] }
            }
            #expect(abs(g - fdg) < 1e-7 * (1 + abs(fdg)))
        }
    }

    @Test(arguments: [TimeInput.sinusoidal, TimeInput.raw])
    func policyNetwork(_ mode: TimeInput) {
        let rows = 3, obs = 3, act = 2
        let spec = PolicySpec(obsDim: obs, actDim: act, hidden: [8, 8], activation: .mish, timeInput: mode,
                              timeEmbeddingDim: 8, timeScale: 4)
        var layout = ParameterLayout()
        let net = AverageVelocityNet<Double>(spec, prefix: "policy", layout: &layout, maxRows: 2 * rows)
        let block = ParameterBlock<Double>(layout: layout)
        var rng = Xoshiro(seed: 11)
        net.initialize(block.values, rng: &rng)
        let s = randomArray(rows * obs, seed: 12), z0 = randomArray(rows * act, seed: 13)
        let t0 = [0.9, 0.55, 0.3], r0 = [0.2, 0.55, 0.1]
        let zd = randomArray(rows * act, seed: 14), rd = [0.3, -0.2, 0.5], td = [1.0, 0.7, -0.4]
        let c = randomArray(rows * act, seed: 15)
        var z = z0, r = r0, t = t0
        func u(_ tangentRows: Int = 0) -> UnsafeMutablePointer<Double> {
            s.withPointer { sp in z.withPointer { zp in r.withPointer { rp in t.withPointer { tp in
                zd.withPointer { zdp in rd.withPointer { rdp in td.withPointer { tdp in
                    net.forward(block.values, rows: rows, tangentRows: tangentRows, s: sp, z: zp, r: rp, t: tp,
                                zDot: zdp, rDot: rdp, tDot: tdp, derivatives: true)
                } } }
            } } } }
            return net.output
        }
        func loss() -> Double { let o = u(); return (0..<(rows * act)).reduce(0) { $0 + c[$1] * o[$1] } }
        // Parameter gradients through body and embeddings.
        _ = u()
        c.withPointer { net.backward(block.values, grads: block.grads, rows: rows, dOutput: $0) }
        let g = block.gradArray
        var fd: [Double] = []
        for i in 0..<block.count {
            let saved = block.values[i]
            fd.append(centralDifference { h in block.values[i] = saved + h; return loss() })
            block.values[i] = saved
        }
        #expect(worstRatio(g, fd) < 1, "policy parameter gradients (\(mode))")
        // JVP along (ż, ṙ, ṫ).
        let out = u(rows)
        let jvp = Array(UnsafeBufferPointer(start: out + rows * act, count: rows * act))
        func at(_ h: Double) -> [Double] {
            z = (0..<(rows * act)).map { z0[$0] + h * zd[$0] }
            r = (0..<rows).map { r0[$0] + h * rd[$0] }
            t = (0..<rows).map { t0[$0] + h * td[$0] }
            return Array(UnsafeBufferPointer(start: u(), count: rows * act))
        }
        let hi = at(1e-5), lo = at(-1e-5)
        let fdJ = (0..<(rows * act)).map { (hi[$0] - lo[$0]) / 2e-5 }
        #expect(worstRatio(jvp, fdJ) < 1, "policy JVP (\(mode))")
        // Single-row inference path agrees with the batched one.
        z = z0; r = r0; t = t0
        let batched = Array(UnsafeBufferPointer(start: u(), count: act))
        s.withPointer { sp in z.withPointer { zp in net.forwardRow(block.values, s: sp, z: zp, r: r0[0], t: t0[0]) } }
        let single = Array(UnsafeBufferPointer(start: net.output, count: act))
        #expect(worstRatio(single, batched, atol: 1e-12, rtol: 1e-12) < 1)
    }

    @Test(arguments: [false, true])
    func criticEnsemble(_ layerNorm: Bool) {
        let rows = 4, obs = 3, act = 2
        var layout = ParameterLayout()
        let critics = CriticEnsemble<Double>(count: 2, obsDim: obs, actDim: act, hidden: [7, 6], activation: .mish,
                                             layerNorm: layerNorm, prefix: "critic", layout: &layout, maxRows: rows)
        let block = ParameterBlock<Double>(layout: layout)
        var rng = Xoshiro(seed: 21)
        critics.initialize(block.values, rng: &rng)
        let s = randomArray(rows * obs, seed: 22), c = randomArray(2 * rows, seed: 23)
        var a = randomArray(rows * act, seed: 24)
        func loss() -> Double {
            s.withPointer { sp in a.withPointer { ap in critics.setInput(rows: rows, s: sp, a: ap) } }
            critics.forward(block.values, rows: rows, derivatives: true)
            return (0..<rows).reduce(0) { $0 + c[$1] * critics.q(0)[$1] + c[rows + $1] * critics.q(1)[$1] }
        }
        _ = loss()
        var dA = [Double](repeating: 0, count: rows * act)
        for i in 0..<2 {
            Array(c[(i * rows)..<((i + 1) * rows)]).withPointer {
                critics.nets[i].backward(block.values, grads: block.grads, rows: rows, dOutput: $0, inputGrad: true)
            }
            for b in 0..<rows { for j in 0..<act { dA[b * act + j] += critics.nets[i].dInput[b * (obs + act) + obs + j] } }
        }
        let g = block.gradArray
        var fd: [Double] = []
        for i in 0..<block.count {
            let saved = block.values[i]
            fd.append(centralDifference { h in block.values[i] = saved + h; return loss() })
            block.values[i] = saved
        }
        #expect(worstRatio(g, fd) < 1, "critic parameter gradients")
        let a0 = a
        var fdA: [Double] = []
        for k in 0..<(rows * act) {
            fdA.append(centralDifference { h in a = a0; a[k] += h; return loss() })
        }
        #expect(worstRatio(dA, fdA) < 1, "critic action gradients")
    }
}
