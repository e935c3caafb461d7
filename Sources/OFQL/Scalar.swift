import BLAS
#if canImport(Glibc)
import Glibc
#endif

/// A floating-point type the networks run in: Float trains (fast approximations), Double
/// checks the maths (libm, for finite-difference tests).
///
/// Every elementwise kernel in this module goes through `expm`/`sinm`/`cosm`/`sqrtm`, so the
/// approximation lives in one place. Float's ``Float/expm(_:)`` is a vectorisable polynomial
/// (measured max relative error 2.4e-7 against libm `expf` on [−87, 88], see `ScalarTests`);
/// everything built on it (Mish, tanh, GELU and their derivatives) inherits that accuracy:
/// Mish and its derivative are within 1e-6 absolute (≤ 1e-6 relative for |x| > 1) of libm,
/// tanh within 2e-7 absolute.
public protocol NetScalar: BLASScalar, Codable {
    /// e^x (Float: polynomial approximation; Double: libm).
    static func expm(_ x: Self) -> Self
    /// sin(x) (libm; only used for time embeddings).
    static func sinm(_ x: Self) -> Self
    /// cos(x) (libm; only used for time embeddings).
    static func cosm(_ x: Self) -> Self
    /// log(x) (libm; cold paths only).
    static func logm(_ x: Self) -> Self
    /// Largest x for which `expm` is evaluated; above it the activation kernels switch to
    /// their asymptotic form.
    static var expClamp: Self { get }
}

extension Float: NetScalar {
    /// Fast e^x: range reduction x = n·ln2 + r with |r| ≤ ln2/2, degree-6 Taylor polynomial for
    /// e^r, 2^n from the exponent bits. Branch-free so loops over it vectorise. Inputs are
    /// clamped to [−87, 88] (results ≥ 1.6e-38, ≤ 1.65e38); max relative error 2.4e-7.
    @inlinable @inline(__always)
    public static func expm(_ x: Float) -> Float {
        var x = x
        x = x < -87 ? -87 : x
        x = x > 88 ? 88 : x
        // n = round(x / ln2) via the 1.5·2^23 magic number (round to nearest even).
        let magic: Float = 12582912.0
        let shifted = x * 1.44269504088896341 + magic   // bits: 0x4B40_0000 + n
        let n = shifted - magic
        // Cody–Waite split of ln2 keeps r exact to a few ulp.
        let r = (x - n * 0.693145751953125) - n * 1.428606765330187045e-06
        var p: Float = 1.0 / 720.0
        p = p * r + 1.0 / 120.0
        p = p * r + 1.0 / 24.0
        p = p * r + 1.0 / 6.0
        p = p * r + 0.5
        p = p * r + 1.0
        p = p * r + 1.0
        // 2^n from the bits of `shifted` (integer ops only: no trap on NaN input).
        let bits = (shifted.bitPattern &- 0x4B40_0000 &+ 127) << 23
        return p * Float(bitPattern: bits)
    }
    public static func sinm(_ x: Float) -> Float { sinf(x) }
    public static func cosm(_ x: Float) -> Float { cosf(x) }
    public static func logm(_ x: Float) -> Float { logf(x) }
    public static var expClamp: Float { 20 }
}

extension Double: NetScalar {
    public static func expm(_ x: Double) -> Double { exp(x) }
    public static func sinm(_ x: Double) -> Double { sin(x) }
    public static func cosm(_ x: Double) -> Double { cos(x) }
    public static func logm(_ x: Double) -> Double { log(x) }
    public static var expClamp: Double { 40 }
}

/// The elementwise nonlinearity after each hidden Linear.
public enum Activation: String, Codable, Sendable, CaseIterable {
    /// Mish: x·tanh(softplus(x)) (DQL's and OFQL's choice).
    case mish
    /// max(0, x).
    case relu
    /// GELU, tanh form: 0.5·x·(1 + tanh(√(2/π)(x + 0.044715x³))) (JAX's default).
    case gelu
    /// tanh(x).
    case tanh
}

/// Scalar activation maths (value and derivative), shared by the vector kernels and tests.
public enum ActivationMath {
    /// Mish and its derivative from a single exponential.
    ///
    /// With w = eˣ and n = w² + 2w: tanh(softplus x) = n/(n + 2), so mish = x·n/(n + 2) and
    /// mish′ = w·(4(x + 1) + 4w² + w³ + w(4x + 6))/(n + 2)². Above `expClamp` mish = x, mish′ = 1.
    @inlinable @inline(__always)
    public static func mish<T: NetScalar>(_ x: T) -> (y: T, d: T) {
        let xc = x > T.expClamp ? T.expClamp : x
        let w = T.expm(xc)
        let n = w * (w + 2)
        let inv = 1 / (n + 2)
        var y = x * n * inv
        let omega = 4 * (xc + 1) + w * (4 * w + w * w + 4 * xc + 6)
        var d = w * omega * inv * inv
        if x > T.expClamp { y = x; d = 1 }
        return (y, d)
    }

    /// Mish value only (inference path).
    @inlinable @inline(__always)
    public static func mishValue<T: NetScalar>(_ x: T) -> T {
        let xc = x > T.expClamp ? T.expClamp : x
        let w = T.expm(xc)
        let n = w * (w + 2)
        let y = x * n / (n + 2)
        return x > T.expClamp ? x : y
    }

    /// tanh(x) = 1 − 2/(e^{2x} + 1) and its derivative 1 − tanh².
    @inlinable @inline(__always)
    public static func tanh<T: NetScalar>(_ x: T) -> (y: T, d: T) {
        var x2 = 2 * x
        x2 = x2 > T.expClamp ? T.expClamp : x2
        let y = 1 - 2 / (T.expm(x2) + 1)
        return (y, 1 - y * y)
    }

    /// GELU (tanh form) and its derivative.
    @inlinable @inline(__always)
    public static func gelu<T: NetScalar>(_ x: T) -> (y: T, d: T) {
        let k: T = 0.7978845608028654
        let c: T = 0.044715
        let inner = k * (x + c * x * x * x)
        let (th, dth) = tanh(inner)
        let y = 0.5 * x * (1 + th)
        let d = 0.5 * (1 + th) + 0.5 * x * dth * k * (1 + 3 * c * x * x)
        return (y, d)
    }

    /// ReLU and its derivative (0 at x = 0).
    @inlinable @inline(__always)
    public static func relu<T: NetScalar>(_ x: T) -> (y: T, d: T) {
        x > 0 ? (x, 1) : (0, 0)
    }

    /// Value and derivative of `act` at x.
    @inlinable
    public static func apply<T: NetScalar>(_ act: Activation, _ x: T) -> (y: T, d: T) {
        switch act {
        case .mish: return mish(x)
        case .relu: return relu(x)
        case .gelu: return gelu(x)
        case .tanh: return tanh(x)
        }
    }
}
