import Foundation
import Randomness
import Testing
@testable import OFQL

/// Packed small-batch inference (`ofk_gemm_packed`) against the BLAS forward and a Double loop.
struct PackedInferenceTests {
    /// An MLP with odd widths (panel tails) and random parameters and inputs.
    func makeNet(hidden: [Int], input: Int, output: Int, rows: Int) -> (MLP<Float>, ParameterBlock<Float>, [Float]) {
        var layout = ParameterLayout()
        let net = MLP<Float>(MLPSpec(inputDim: input, hidden: hidden, outputDim: output, activation: .mish), prefix: "p",
                             layout: &layout, maxRows: rows)
        let block = ParameterBlock<Float>(layout: layout)
        var rng = Xoshiro(seed: 3)
        net.initialize(block.values, rng: &rng)
        let x = (0..<(rows * input)).map { _ in Float(rng.normal()) }
        return (net, block, x)
    }

    @Test func packedForwardMatchesBLASAndAnExactLoop() {
        let rows = 7, input = 13, hidden = [37, 20], output = 3
        let (net, block, x) = makeNet(hidden: hidden, input: input, output: output, rows: rows)
        let packed = net.packWeights(block.values)
        x.withUnsafeBufferPointer { xp in
            net.forward(block.values, input: xp.baseAddress!, rows: rows, derivatives: false)
            let viaBLAS = Array(UnsafeBufferPointer(start: net.output, count: rows * output))
            net.forwardPacked(packed, input: xp.baseAddress!, rows: rows)
            let viaPacked = Array(UnsafeBufferPointer(start: net.output, count: rows * output))
            // Double reference: Linear + Mish layer by layer.
            let dims = [input] + hidden + [output]
            var h = x.map(Double.init)
            for l in 0..<(dims.count - 1) {
                let din = dims[l], dout = dims[l + 1]
                let w = (0..<(din * dout)).map { Double(block.values[net.wOff[l] + $0]) }
                let b = (0..<dout).map { Double(block.values[net.bOff[l] + $0]) }
                var next = [Double](repeating: 0, count: rows * dout)
                for r in 0..<rows {
                    for o in 0..<dout {
                        var s = b[o]
                        for i in 0..<din { s += w[o * din + i] * h[r * din + i] }
                        next[r * dout + o] = l == dims.count - 2 ? s : s * Foundation.tanh(Foundation.log1p(Foundation.exp(s)))
                    }
                }
                h = next
            }
            for k in 0..<(rows * output) {
                #expect(abs(Double(viaPacked[k]) - h[k]) < 1e-4, "packed \(viaPacked[k]) vs exact \(h[k])")
                #expect(abs(viaPacked[k] - viaBLAS[k]) < 1e-4, "packed \(viaPacked[k]) vs BLAS \(viaBLAS[k])")
            }
        }
    }

    @Test func packedRowsDoNotDependOnTheirBatch() {
        let rows = 9
        let (net, block, x) = makeNet(hidden: [64, 48], input: 30, output: 4, rows: rows)
        let packed = net.packWeights(block.values)
        x.withUnsafeBufferPointer { xp in
            net.forwardPacked(packed, input: xp.baseAddress!, rows: rows)
            let all = Array(UnsafeBufferPointer(start: net.output, count: rows * 4))
            // Every row alone, and rows 5…8 as their own batch, give the same bits.
            for r in 0..<rows {
                net.forwardPacked(packed, input: xp.baseAddress! + r * 30, rows: 1)
                #expect(Array(UnsafeBufferPointer(start: net.output, count: 4)) == Array(all[(r * 4)..<(r * 4 + 4)]))
            }
            net.forwardPacked(packed, input: xp.baseAddress! + 5 * 30, rows: 4)
            #expect(Array(UnsafeBufferPointer(start: net.output, count: 16)) == Array(all[20..<36]))
        }
        // The pack is a copy: changing the parameters afterwards does not reach it.
        let before = packed.panels[0][0]
        block.values[0] += 1
        #expect(packed.panels[0][0] == before)
    }

    /// The packed copy folds the constant time columns (r = 0, t = 1: raw scalars or the
    /// embedding MLPs' outputs) into the first bias; the BLAS path computes them per row.
    @Test(arguments: [TimeInput.raw, .sinusoidal])
    func samplerUsesItsOwnPackedCopyAndAgreesWithTheAgent(_ timeInput: TimeInput) throws {
        var cfg = OFQLConfig()
        cfg.timeInput = timeInput; cfg.batchSize = 4; cfg.policyEMA = false; cfg.timeEmbeddingDim = 8
        if timeInput == .sinusoidal { cfg.hidden = [32, 32] }
        let agent = try OFQLAgent.create(config: cfg, obsDim: 5, actDim: 2, seed: 1)
        let sampler = agent.makeSampler(maxRows: 8)
        #expect(sampler.packed?.inputWidth == 7)
        var rng = Xoshiro(seed: 2)
        let obs = (0..<(8 * 5)).map { _ in Float(rng.normal()) }
        let noise = (0..<(8 * 2)).map { _ in Float(rng.normal()) }
        var packedOut = [Float](repeating: 0, count: 16), blasOut = [Float](repeating: 0, count: 16)
        obs.withUnsafeBufferPointer { o in
            noise.withUnsafeBufferPointer { n in
                packedOut.withUnsafeMutableBufferPointer { sampler.sample(observations: o.baseAddress!, count: 8, noise: n.baseAddress!, into: $0.baseAddress!) }
                // The agent's live parameters take the BLAS path.
                blasOut.withUnsafeMutableBufferPointer {
                    sampler.sample(params: agent.targetPolicy.values, observations: o.baseAddress!, count: 8, noise: n.baseAddress!,
                                   parallel: false, into: $0.baseAddress!)
                }
            }
        }
        for k in 0..<16 { #expect(abs(packedOut[k] - blasOut[k]) < 1e-5) }
    }

    /// `meanflow-K` (an evaluation mode) integrates u in K equal steps,
    /// z_r = z_t − (t − r)·u(z_t, r, t; s); its K = 1 is the one-step policy. Checked against the
    /// row-wise forward, another code path, with random weights so that u is far from 0.
    @Test(arguments: [TimeInput.raw, .sinusoidal])
    func meanFlowStepsIntegrateTheAverageVelocity(_ timeInput: TimeInput) throws {
        var cfg = OFQLConfig()
        cfg.timeInput = timeInput; cfg.batchSize = 4; cfg.timeEmbeddingDim = 8; cfg.hidden = [32, 32]
        let agent = try OFQLAgent.create(config: cfg, obsDim: 5, actDim: 2, seed: 1)
        var rng = Xoshiro(seed: 2)
        let theta = agent.targetPolicy
        for k in 0..<theta.layout.count { theta.values[k] += Float(0.3 * rng.normal()) }
        let n = 6
        let obs = (0..<(n * 5)).map { _ in Float(rng.normal()) }
        let noise = (0..<(n * 2)).map { _ in Float(rng.normal()) }
        func sample(_ mode: String?) throws -> [Float] {
            let smp = try mode.map { try SamplingMode.sampler(agent, mode: $0, maxRows: n) } ?? agent.makeSampler(maxRows: n)
            var out = [Float](repeating: 0, count: n * 2)
            smp.sample(observations: obs, count: n, noise: noise, into: &out)
            return out
        }
        var layout = ParameterLayout()
        let net = AverageVelocityNet<Float>(agent.policyNet.spec, prefix: "policy", layout: &layout, maxRows: 1)
        for k in [1, 2, 3] {
            let got = try sample("meanflow-\(k)")
            for row in 0..<n {
                var z = Array(noise[(row * 2)..<(row * 2 + 2)])
                for i in stride(from: k, to: 0, by: -1) {
                    let t = Float(i) / Float(k), r = Float(i - 1) / Float(k)
                    obs.withUnsafeBufferPointer { o in
                        z.withUnsafeBufferPointer { net.forwardRow(theta.values, s: o.baseAddress! + row * 5, z: $0.baseAddress!, r: r, t: t) }
                    }
                    for j in 0..<2 { z[j] -= (t - r) * net.output[j] }
                }
                for j in 0..<2 {
                    #expect(abs(got[row * 2 + j] - max(-1, min(1, z[j]))) < 1e-5, "meanflow-\(k) row \(row)")
                }
            }
        }
        let one = try sample(nil), two = try sample("meanflow-2")
        #expect(zip(try sample("meanflow-1"), one).allSatisfy { abs($0 - $1) < 1e-5 }, "meanflow-1 is the one-step policy")
        #expect(zip(one, two).contains { abs($0 - $1) > 1e-3 }, "two steps differ from one when u varies")
        #expect(throws: ConfigError.self) { try SamplingMode.sampler(agent, mode: "meanflow-0", maxRows: n) }
        let bc = try BCAgent.create(config: OFQLConfig.defaults(for: .bc), obsDim: 5, actDim: 2, seed: 1)
        do {
            _ = try SamplingMode.sampler(bc, mode: "meanflow-2", maxRows: n)
            Issue.record("meanflow-2 must refuse a BC checkpoint")
        } catch {
            #expect("\(error)".contains("meanflow-2 applies to ofql, not bc"), "\(error)")
        }
    }
}
