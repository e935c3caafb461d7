import Testing
@testable import BLAS

/// Deterministic pseudo-random values in [-1, 1).
func values<T: BinaryFloatingPoint>(_ n: Int, seed: UInt64) -> [T] {
    var s = seed &* 0x9E37_79B9_7F4A_7C15 | 1
    return (0..<n).map { _ in
        s ^= s << 13; s ^= s >> 7; s ^= s << 17
        return T(Double(s >> 11) / Double(1 << 53)) * 2 - 1
    }
}

/// Naive row-major C = α·op(A)·op(B) + β·C with leading dimensions, in Double.
func naiveGemm<T: BinaryFloatingPoint>(_ ta: Transpose, _ tb: Transpose, m: Int, n: Int, k: Int, alpha: T,
                                       a: [T], lda: Int, b: [T], ldb: Int, beta: T, c: [T], ldc: Int) -> [T] {
    var out = c
    for i in 0..<m {
        for j in 0..<n {
            var acc = 0.0
            for p in 0..<k {
                let av = ta == .none ? a[i * lda + p] : a[p * lda + i]
                let bv = tb == .none ? b[p * ldb + j] : b[j * ldb + p]
                acc += Double(av) * Double(bv)
            }
            out[i * ldc + j] = T(Double(alpha) * acc + Double(beta) * Double(c[i * ldc + j]))
        }
    }
    return out
}

let shapes: [(Int, Int, Int)] = [(1, 1, 1), (1, 7, 3), (5, 1, 9), (3, 5, 7), (17, 33, 9), (64, 65, 66), (130, 3, 257)]
let transposes: [(Transpose, Transpose)] = [(.none, .none), (.none, .transposed), (.transposed, .none), (.transposed, .transposed)]

@Suite("BLAS wrappers against naive loops, under whichever core OpenBLAS selected")
struct BLASTests {
    func check<T: BLASScalar>(_: T.Type, tolerance: Double) {
        for (m, n, k) in shapes {
            for (ta, tb) in transposes {
                // Padded leading dimensions catch stride mistakes.
                let aRows = ta == .none ? m : k, aCols = ta == .none ? k : m
                let bRows = tb == .none ? k : n, bCols = tb == .none ? n : k
                let lda = aCols + 2, ldb = bCols + 1, ldc = n + 3
                let a: [T] = values(aRows * lda, seed: UInt64(m * 31 + k))
                let b: [T] = values(bRows * ldb, seed: UInt64(n * 17 + k))
                var c: [T] = values(m * ldc, seed: UInt64(m * n + 5))
                let expected = naiveGemm(ta, tb, m: m, n: n, k: k, alpha: T(0.75), a: a, lda: lda, b: b, ldb: ldb,
                                         beta: T(-0.5), c: c, ldc: ldc)
                a.withUnsafeBufferPointer { pa in
                    b.withUnsafeBufferPointer { pb in
                        c.withUnsafeMutableBufferPointer { pc in
                            T.gemm(ta, tb, m: m, n: n, k: k, alpha: 0.75, a: pa.baseAddress!, lda: lda,
                                   b: pb.baseAddress!, ldb: ldb, beta: -0.5, c: pc.baseAddress!, ldc: ldc)
                        }
                    }
                }
                var worst = 0.0
                for i in 0..<m { for j in 0..<n { worst = max(worst, abs(Double(c[i * ldc + j] - expected[i * ldc + j]))) } }
                #expect(worst <= tolerance * Double(k), "\(T.self) gemm \(ta)/\(tb) \(m)×\(n)×\(k): max error \(worst)")
                // Padding columns of C are untouched.
                for i in 0..<m { for j in n..<ldc { #expect(c[i * ldc + j] == expected[i * ldc + j]) } }
            }
        }
    }

    @Test("sgemm, every transpose, odd and tiny sizes") func sgemm() { check(Float.self, tolerance: 2e-6) }
    @Test("dgemm, every transpose, odd and tiny sizes") func dgemm() { check(Double.self, tolerance: 1e-14) }

    @Test("integer-valued products are exact")
    func exactIntegers() {
        let a: [Float] = (0..<(37 * 41)).map { Float($0 % 7) - 3 }
        let b: [Float] = (0..<(41 * 29)).map { Float($0 % 5) - 2 }
        let c = [Float].matmul(a, .none, rowsA: 37, colsA: 41, b, .none, rowsB: 41, colsB: 29)
        let e = naiveGemm(.none, .none, m: 37, n: 29, k: 41, alpha: Float(1), a: a, lda: 41, b: b, ldb: 29,
                          beta: 0, c: [Float](repeating: 0, count: 37 * 29), ldc: 29)
        #expect(c == e)
    }

    @Test("sgemv both ways, axpy, scal and dot")
    func level1and2() {
        let m = 13, n = 7
        let a: [Float] = values(m * n, seed: 3)
        let x: [Float] = values(max(m, n), seed: 4)
        for t in [Transpose.none, .transposed] {
            let outLen = t == .none ? m : n, inLen = t == .none ? n : m
            var y: [Float] = values(outLen, seed: 5)
            var expected = y
            for i in 0..<outLen {
                var acc = 0.0
                for p in 0..<inLen { acc += Double(t == .none ? a[i * n + p] : a[p * n + i]) * Double(x[p]) }
                expected[i] = Float(2 * acc + 0.5 * Double(y[i]))
            }
            a.withUnsafeBufferPointer { pa in x.withUnsafeBufferPointer { px in y.withUnsafeMutableBufferPointer { py in
                Float.gemv(t, m: m, n: n, alpha: 2, a: pa.baseAddress!, lda: n, x: px.baseAddress!, incx: 1,
                           beta: 0.5, y: py.baseAddress!, incy: 1)
            } } }
            for i in 0..<outLen { #expect(abs(y[i] - expected[i]) < 1e-5) }
        }
        var y: [Double] = [1, 2, 3, 4]
        let xs: [Double] = [1, 1, 1, 1]
        xs.withUnsafeBufferPointer { px in y.withUnsafeMutableBufferPointer { py in
            Double.axpy(n: 4, alpha: 2, x: px.baseAddress!, incx: 1, y: py.baseAddress!, incy: 1)
            Double.scal(n: 2, alpha: -1, x: py.baseAddress!, incx: 2)
        } }
        #expect(y == [-3, 4, -5, 6])
        let d = y.withUnsafeBufferPointer { py in xs.withUnsafeBufferPointer { Double.dot(n: 4, x: py.baseAddress!, incx: 1, y: $0.baseAddress!, incy: 1) } }
        #expect(d == 2)
    }

    @Test("thread count can be set and restored")
    func threads() {
        let before = BLASRuntime.threads
        let inside = BLASRuntime.singleThreaded { BLASRuntime.threads }
        #expect(inside == 1)
        #expect(BLASRuntime.threads == before)
    }

    @Test("kernel selection: re-execute only for a generic core on a capable CPU, never over the user")
    func decision() {
        typealias D = BLASRuntime.Decision
        #expect(BLASRuntime.decide(userCoreType: nil, alreadyReexecuted: false, running: "Prescott", avx512: true, avx2fma: true) == D.reexec("SkylakeX"))
        #expect(BLASRuntime.decide(userCoreType: nil, alreadyReexecuted: false, running: "Prescott", avx512: false, avx2fma: true) == D.reexec("Haswell"))
        if case .keep = BLASRuntime.decide(userCoreType: nil, alreadyReexecuted: false, running: "Prescott", avx512: false, avx2fma: false) {} else { Issue.record("no better core exists") }
        if case .keep = BLASRuntime.decide(userCoreType: "Haswell", alreadyReexecuted: false, running: "Haswell", avx512: true, avx2fma: true) {} else { Issue.record("the user's choice wins") }
        if case .keep = BLASRuntime.decide(userCoreType: nil, alreadyReexecuted: true, running: "Prescott", avx512: true, avx2fma: true) {} else { Issue.record("re-execute at most once") }
        if case .keep = BLASRuntime.decide(userCoreType: nil, alreadyReexecuted: false, running: "SkylakeX", avx512: true, avx2fma: true) {} else { Issue.record("a good core is kept") }
        #expect(!BLASRuntime.coreName.isEmpty)
    }
}
