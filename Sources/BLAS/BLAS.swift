import COpenBLAS

/// Whether an operand enters a product as stored or transposed.
public enum Transpose: Sendable {
    case none, transposed
    @usableFromInline var cblas: CBLAS_TRANSPOSE { self == .none ? CblasNoTrans : CblasTrans }
}

/// A floating-point type with BLAS kernels (Float → s*, Double → d*). All matrices are
/// row-major with an explicit leading dimension (the stride between rows).
public protocol BLASScalar: BinaryFloatingPoint, Sendable {
    /// C ← α·op(A)·op(B) + β·C, with op(A) m×k, op(B) k×n and C m×n.
    static func gemm(_ ta: Transpose, _ tb: Transpose, m: Int, n: Int, k: Int, alpha: Self,
                     a: UnsafePointer<Self>, lda: Int, b: UnsafePointer<Self>, ldb: Int,
                     beta: Self, c: UnsafeMutablePointer<Self>, ldc: Int)
    /// y ← α·op(A)·x + β·y, with A m×n (row-major).
    static func gemv(_ ta: Transpose, m: Int, n: Int, alpha: Self, a: UnsafePointer<Self>, lda: Int,
                     x: UnsafePointer<Self>, incx: Int, beta: Self, y: UnsafeMutablePointer<Self>, incy: Int)
    /// y ← α·x + y.
    static func axpy(n: Int, alpha: Self, x: UnsafePointer<Self>, incx: Int, y: UnsafeMutablePointer<Self>, incy: Int)
    /// x ← α·x.
    static func scal(n: Int, alpha: Self, x: UnsafeMutablePointer<Self>, incx: Int)
    /// Σ xᵢ·yᵢ.
    static func dot(n: Int, x: UnsafePointer<Self>, incx: Int, y: UnsafePointer<Self>, incy: Int) -> Self
}

@inline(__always) private func i32(_ v: Int) -> Int32 {
    precondition(v >= 0 && v <= Int(Int32.max), "BLAS dimension \(v) out of range")
    return Int32(v)
}

extension Float: BLASScalar {
    @inlinable
    public static func gemm(_ ta: Transpose, _ tb: Transpose, m: Int, n: Int, k: Int, alpha: Float,
                            a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                            beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
        if m == 0 || n == 0 { return }
        cblas_sgemm(CblasRowMajor, ta.cblas, tb.cblas, Int32(m), Int32(n), Int32(k), alpha,
                    a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }
    public static func gemv(_ ta: Transpose, m: Int, n: Int, alpha: Float, a: UnsafePointer<Float>, lda: Int,
                            x: UnsafePointer<Float>, incx: Int, beta: Float, y: UnsafeMutablePointer<Float>, incy: Int) {
        if m == 0 || n == 0 { return }
        cblas_sgemv(CblasRowMajor, ta.cblas, i32(m), i32(n), alpha, a, i32(lda), x, Int32(incx), beta, y, Int32(incy))
    }
    public static func axpy(n: Int, alpha: Float, x: UnsafePointer<Float>, incx: Int, y: UnsafeMutablePointer<Float>, incy: Int) {
        cblas_saxpy(i32(n), alpha, x, Int32(incx), y, Int32(incy))
    }
    public static func scal(n: Int, alpha: Float, x: UnsafeMutablePointer<Float>, incx: Int) {
        cblas_sscal(i32(n), alpha, x, Int32(incx))
    }
    public static func dot(n: Int, x: UnsafePointer<Float>, incx: Int, y: UnsafePointer<Float>, incy: Int) -> Float {
        cblas_sdot(i32(n), x, Int32(incx), y, Int32(incy))
    }
}

extension Double: BLASScalar {
    @inlinable
    public static func gemm(_ ta: Transpose, _ tb: Transpose, m: Int, n: Int, k: Int, alpha: Double,
                            a: UnsafePointer<Double>, lda: Int, b: UnsafePointer<Double>, ldb: Int,
                            beta: Double, c: UnsafeMutablePointer<Double>, ldc: Int) {
        if m == 0 || n == 0 { return }
        cblas_dgemm(CblasRowMajor, ta.cblas, tb.cblas, Int32(m), Int32(n), Int32(k), alpha,
                    a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }
    public static func gemv(_ ta: Transpose, m: Int, n: Int, alpha: Double, a: UnsafePointer<Double>, lda: Int,
                            x: UnsafePointer<Double>, incx: Int, beta: Double, y: UnsafeMutablePointer<Double>, incy: Int) {
        if m == 0 || n == 0 { return }
        cblas_dgemv(CblasRowMajor, ta.cblas, i32(m), i32(n), alpha, a, i32(lda), x, Int32(incx), beta, y, Int32(incy))
    }
    public static func axpy(n: Int, alpha: Double, x: UnsafePointer<Double>, incx: Int, y: UnsafeMutablePointer<Double>, incy: Int) {
        cblas_daxpy(i32(n), alpha, x, Int32(incx), y, Int32(incy))
    }
    public static func scal(n: Int, alpha: Double, x: UnsafeMutablePointer<Double>, incx: Int) {
        cblas_dscal(i32(n), alpha, x, Int32(incx))
    }
    public static func dot(n: Int, x: UnsafePointer<Double>, incx: Int, y: UnsafePointer<Double>, incy: Int) -> Double {
        cblas_ddot(i32(n), x, Int32(incx), y, Int32(incy))
    }
}

extension Array where Element: BLASScalar {
    /// Row-major product of this m×k matrix (or its transpose) with a k×n matrix, as a new m×n array.
    public static func matmul(_ a: [Element], _ ta: Transpose, rowsA: Int, colsA: Int,
                              _ b: [Element], _ tb: Transpose, rowsB: Int, colsB: Int) -> [Element] {
        let m = ta == .none ? rowsA : colsA, k = ta == .none ? colsA : rowsA
        let kb = tb == .none ? rowsB : colsB, n = tb == .none ? colsB : rowsB
        precondition(k == kb, "inner dimensions differ: \(k) vs \(kb)")
        precondition(a.count == rowsA * colsA && b.count == rowsB * colsB, "matrix sizes do not match their shapes")
        var c = [Element](repeating: 0, count: m * n)
        a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in
                c.withUnsafeMutableBufferPointer { pc in
                    Element.gemm(ta, tb, m: m, n: n, k: k, alpha: 1, a: pa.baseAddress!, lda: Swift.max(1, colsA),
                                 b: pb.baseAddress!, ldb: Swift.max(1, colsB), beta: 0, c: pc.baseAddress!, ldc: Swift.max(1, n))
                }
            }
        }
        return c
    }
}
