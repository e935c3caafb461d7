import Randomness
import Testing
@testable import OFQL

/// The C kernels' AVX-512 paths against their AVX2 paths, and the two-worker elementwise
/// splits against one call: every value must be the same bit for bit, so training does not
/// depend on the CPU generation or on the number of workers.
@Suite(.serialized) struct KernelPathTests {
    func values(_ n: Int, seed: UInt64, scale: Float = 4) -> [Float] {
        var rng = Xoshiro(seed: seed)
        // Mostly N(0, scale²), with the clamps' regions (x > 20, x < −87) represented.
        return (0..<n).map { i in i % 37 == 5 ? 25 : (i % 41 == 3 ? -95 : Float(rng.normal()) * scale) }
    }

    func makeBlock(_ n: Int) -> ParameterBlock<Float> {
        var layout = ParameterLayout()
        _ = layout.add("w", shape: [n])
        return ParameterBlock<Float>(layout: layout)
    }

    /// How many of two equally long bit patterns differ (0 when both paths agree).
    func differing(_ a: [UInt32], _ b: [UInt32]) -> Int { a.count != b.count ? Swift.max(a.count, b.count) : zip(a, b).filter { $0 != $1 }.count }

    /// Runs `body` with the kernels capped at `level`, restoring the CPU's best afterwards.
    func at<R>(_ level: Int, _ body: () throws -> R) rethrows -> R {
        Kernels.limitInstructionSet(level)
        defer { Kernels.limitInstructionSet(2) }
        return try body()
    }

    @Test("mish, its derivative, the tangent product and Adam: AVX-512 equals AVX2 bit for bit, tails included")
    func avx512MatchesAVX2() throws {
        // Without AVX-512F there is only one vector path: nothing to compare on this CPU.
        guard Kernels.limitInstructionSet(2) == 2 else { return }
        for cols in [3, 8, 13, 16, 24, 29, 64, 256] {
            let rows = 7
            let h0 = values(rows * cols, seed: UInt64(cols)), bias = values(cols, seed: 99, scale: 1)
            func mish() -> [[UInt32]] {
                var h = h0, y = [Float](repeating: 0, count: h0.count), d = y, t = y
                h.withUnsafeMutableBufferPointer { hp in
                    y.withUnsafeMutableBufferPointer { yp in
                        d.withUnsafeMutableBufferPointer { dp in
                            Kernels.activation(.mish, hp.baseAddress!, rows: rows, cols: cols, bias: bias, y: yp.baseAddress!,
                                               d: dp.baseAddress!)
                            t.withUnsafeMutableBufferPointer { tp in
                                Kernels.multiply(UnsafePointer(dp.baseAddress!), UnsafePointer(hp.baseAddress!),
                                                 into: tp.baseAddress!, count: h0.count)
                            }
                        }
                    }
                }
                // In place, as the backward pass uses it: the same products.
                var inPlace = d
                inPlace.withUnsafeMutableBufferPointer { Kernels.multiplyInPlace($0.baseAddress!, h, count: h0.count) }
                return [h, y, d, t, inPlace].map { $0.map(\.bitPattern) }
            }
            let wide = at(2) { mish() }, narrow = at(1) { mish() }
            #expect(differing(wide[3], wide[4]) == 0 && differing(narrow[3], narrow[4]) == 0,
                    "in-place and out-of-place products differ at \(cols) columns")
            for (k, name) in ["h + bias", "mish", "mish′", "tangent product", "in-place product"].enumerated() {
                let n = differing(wide[k], narrow[k])
                #expect(n == 0, "\(name): \(n) values differ between AVX-512 and AVX2 at \(cols) columns")
            }
            // The identity region and the clamp really were exercised.
            #expect(h0.contains { $0 > 20 } && h0.contains { $0 < -87 })
        }
        for n in [5, 16, 40, 1_000, 16_411] {
            func adam() throws -> [[UInt32]] {
                let block = makeBlock(n)
                let p = values(n, seed: 1, scale: 0.1), g = values(n, seed: 2, scale: 0.01)
                for i in 0..<n { block.values[i] = p[i]; block.grads[i] = g[i] }
                let opt = Adam<Float>(count: n, weightDecay: 1e-4)
                for _ in 0..<3 { try opt.update(block, lr: 3e-4) }
                #expect(block.valueArray != p, "Adam did not move the parameters")
                return [block.valueArray, Array(UnsafeBufferPointer(start: opt.m, count: n)),
                        Array(UnsafeBufferPointer(start: opt.v, count: n))].map { $0.map(\.bitPattern) }
            }
            let wide = try at(2) { try adam() }, narrow = try at(1) { try adam() }
            let d = zip(wide, narrow).map { differing($0, $1) }.reduce(0, +)
            #expect(d == 0, "Adam: \(d) values differ between AVX-512 and AVX2 at n = \(n)")
        }
    }

    @Test("LayerNorm forward (with tangent rows) and backward: the AVX-512 build equals the baseline build bit for bit",
          arguments: [7, 64, 256])
    func layerNormPaths(_ cols: Int) {
        // Without AVX-512F both calls would take the baseline build: nothing to compare.
        guard Kernels.limitInstructionSet(2) == 2 else { return }
        let rows = 9, tangentRows = 4
        let h0 = values((rows + tangentRows) * cols, seed: UInt64(cols) + 40, scale: 2)
        let gamma = values(cols, seed: 41, scale: 1), beta = values(cols, seed: 42, scale: 1)
        let dOut = values(rows * cols, seed: 43, scale: 1)
        func run() -> [[UInt32]] {
            var h = h0, xhat = [Float](repeating: 0, count: rows * cols), rstd = [Float](repeating: 0, count: rows)
            var dh = dOut, dg = [Float](repeating: .nan, count: cols), db = dg
            Kernels.layerNormForward(&h, rows: rows, tangentRows: tangentRows, cols: cols, gamma: gamma, beta: beta,
                                     xhat: &xhat, rstd: &rstd)
            Kernels.layerNormBackward(&dh, rows: rows, cols: cols, gamma: gamma, xhat: xhat, rstd: rstd, dGamma: &dg, dBeta: &db)
            return [h, xhat, rstd, dh, dg, db].map { $0.map(\.bitPattern) }
        }
        let wide = at(2) { run() }, base = at(0) { run() }
        for (k, name) in ["output and tangent", "x̂", "1/σ", "input gradient", "dγ", "dβ"].enumerated() {
            let n = differing(wide[k], base[k])
            #expect(n == 0, "LayerNorm \(name): \(n) values differ between paths at \(cols) columns")
        }
    }

    @Test("column sums (bias gradients) equal a row-ordered sum bit for bit on every path", arguments: [1, 3, 16, 70, 256])
    func columnSumsAreRowOrdered(_ cols: Int) {
        let rows = 33, ld = cols + 5
        let x = values(rows * ld, seed: UInt64(cols), scale: 3)
        var expected = [Float](repeating: 0, count: cols)
        for r in 0..<rows { for j in 0..<cols { expected[j] += x[r * ld + j] } }
        for level in [0, 1, 2] {
            let sums = at(level) { () -> [Float] in
                var out = [Float](repeating: .nan, count: cols)
                x.withUnsafeBufferPointer { xp in
                    out.withUnsafeMutableBufferPointer { Kernels.columnSums(xp.baseAddress!, rows: rows, cols: cols, ld: ld, into: $0.baseAddress!) }
                }
                return out
            }
            let n = differing(sums.map(\.bitPattern), expected.map(\.bitPattern))
            #expect(n == 0, "column sums at ISA level \(level), \(cols) columns: \(n) differ")
        }
    }

    @Test("Adam and the Polyak average split over two workers equal one call bit for bit", arguments: [16_384, 50_001, 200_003])
    func twoWorkerSplitsMatchOneCall(_ n: Int) throws {
        func run(_ parallel: Bool) throws -> [[UInt32]] {
            let block = makeBlock(n), target = makeBlock(n)
            let p = values(n, seed: 5, scale: 0.1), g = values(n, seed: 6, scale: 0.01), q = values(n, seed: 7, scale: 0.1)
            for i in 0..<n { block.values[i] = p[i]; block.grads[i] = g[i]; target.values[i] = q[i] }
            let opt = Adam<Float>(count: n)
            for _ in 0..<2 {
                try opt.update(block, lr: 1e-3, parallel: parallel)
                VectorMath.polyak(target: target.values, online: block.values, n, tau: 0.005, parallel: parallel)
            }
            return [block.valueArray, target.valueArray].map { $0.map(\.bitPattern) }
        }
        let one = try run(false), two = try run(true)
        #expect(differing(one[0], two[0]) == 0, "Adam: two workers differ from one")
        #expect(differing(one[1], two[1]) == 0, "Polyak average: two workers differ from one")
        #expect(one[0] != values(n, seed: 5, scale: 0.1).map(\.bitPattern), "Adam did not move the parameters")
    }
}
