/// The names, shapes and offsets of a network's parameters inside one flat buffer.
///
/// Networks register their tensors here while being built (recording the offsets they will
/// read), then a ``ParameterBlock`` allocates one contiguous buffer for all of them, so Adam,
/// Polyak updates, gradient norms and checkpoints are single loops over one array.
import Randomness
public struct ParameterLayout: Sendable, Equatable {
    /// One named tensor: PyTorch-style name (`policy.body.layers.0.weight`), row-major shape.
    public struct Entry: Sendable, Equatable {
        public var name: String
        public var shape: [Int]
        public var offset: Int
        public var count: Int { shape.reduce(1, *) }
    }
    public private(set) var entries: [Entry] = []
    /// Total number of scalars.
    public private(set) var count = 0

    public init() {}

    /// Appends a tensor and returns its offset.
    public mutating func add(_ name: String, shape: [Int]) -> Int {
        precondition(!entries.contains { $0.name == name }, "duplicate parameter name \(name)")
        let off = count
        entries.append(Entry(name: name, shape: shape, offset: off))
        count += shape.reduce(1, *)
        return off
    }
}

/// One contiguous buffer of parameters and one of their gradients, laid out by a
/// ``ParameterLayout``. Owned memory, freed in `deinit`; never reallocated.
public final class ParameterBlock<T: NetScalar> {
    public let layout: ParameterLayout
    /// Parameter values.
    public let values: UnsafeMutablePointer<T>
    /// Gradients (same layout), written by the networks' backward passes.
    public let grads: UnsafeMutablePointer<T>
    public var count: Int { layout.count }

    public init(layout: ParameterLayout) {
        self.layout = layout
        let n = Swift.max(1, layout.count)
        values = .allocate(capacity: n); values.initialize(repeating: 0, count: n)
        grads = .allocate(capacity: n); grads.initialize(repeating: 0, count: n)
    }
    deinit { values.deallocate(); grads.deallocate() }

    /// Copies all values from `other` (same layout).
    public func copyValues(from other: ParameterBlock<T>) {
        precondition(other.layout == layout, "parameter layouts differ")
        values.update(from: other.values, count: count)
    }

    /// The values as an array (tests, checkpoints).
    public var valueArray: [T] { Array(UnsafeBufferPointer(start: values, count: count)) }
    /// The gradients as an array.
    public var gradArray: [T] { Array(UnsafeBufferPointer(start: grads, count: count)) }

    /// Overwrites the values from an array of the same length.
    public func setValues(_ a: [T]) {
        precondition(a.count == count, "expected \(count) values, got \(a.count)")
        a.withUnsafeBufferPointer { values.update(from: $0.baseAddress!, count: count) }
    }

    /// Whether every value is finite.
    public var allFinite: Bool { VectorMath.allFinite(values, count) }
}

/// Small vector kernels over raw buffers (reductions with several accumulators, so they
/// vectorise despite strict floating-point ordering; always the same order, so deterministic).
public enum VectorMath {
    /// Σ xᵢ² with 8 interleaved accumulators.
    public static func sumSquares<T: NetScalar>(_ x: UnsafePointer<T>, _ n: Int) -> T {
        if T.self == Float.self {
            let r = sumSquaresFloat(UnsafeRawPointer(x).assumingMemoryBound(to: Float.self), n)
            return unsafeBitCast(r, to: T.self)
        }
        var a0: T = 0, a1: T = 0, a2: T = 0, a3: T = 0, a4: T = 0, a5: T = 0, a6: T = 0, a7: T = 0
        var i = 0
        while i + 8 <= n {
            a0 += x[i] * x[i]; a1 += x[i + 1] * x[i + 1]; a2 += x[i + 2] * x[i + 2]; a3 += x[i + 3] * x[i + 3]
            a4 += x[i + 4] * x[i + 4]; a5 += x[i + 5] * x[i + 5]; a6 += x[i + 6] * x[i + 6]; a7 += x[i + 7] * x[i + 7]
            i += 8
        }
        while i < n { a0 += x[i] * x[i]; i += 1 }
        return ((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7))
    }

    static func sumSquaresFloat(_ x: UnsafePointer<Float>, _ n: Int) -> Float {
        var acc = SIMD8<Float>()
        var i = 0
        let raw = UnsafeRawPointer(x)
        while i + 8 <= n {
            let v = raw.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
            acc += v * v
            i += 8
        }
        var tail: Float = 0
        while i < n { tail += x[i] * x[i]; i += 1 }
        return acc.sum() + tail
    }

    /// Σ xᵢ with 8 interleaved accumulators.
    public static func sum<T: NetScalar>(_ x: UnsafePointer<T>, _ n: Int) -> T {
        var a0: T = 0, a1: T = 0, a2: T = 0, a3: T = 0, a4: T = 0, a5: T = 0, a6: T = 0, a7: T = 0
        var i = 0
        while i + 8 <= n {
            a0 += x[i]; a1 += x[i + 1]; a2 += x[i + 2]; a3 += x[i + 3]
            a4 += x[i + 4]; a5 += x[i + 5]; a6 += x[i + 6]; a7 += x[i + 7]
            i += 8
        }
        while i < n { a0 += x[i]; i += 1 }
        return ((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7))
    }

    /// Whether all n values are finite (x − x is 0 only for finite x).
    public static func allFinite<T: NetScalar>(_ x: UnsafePointer<T>, _ n: Int) -> Bool {
        var acc: T = 0
        for i in 0..<n { acc += x[i] - x[i] }
        return acc == 0
    }

    /// x ← α·x.
    public static func scale<T: NetScalar>(_ x: UnsafeMutablePointer<T>, _ n: Int, by a: T) {
        for i in 0..<n { x[i] *= a }
    }

    /// Polyak / EMA update target ← target + τ·(online − target), elementwise.
    /// `parallel`: two halves on the pair (``Workers/split(_:count:minimum:site:line:_:)``), same values.
    public static func polyak<T: NetScalar>(target: UnsafeMutablePointer<T>, online: UnsafePointer<T>, _ n: Int, tau: T,
                                            parallel: Bool = false) {
        if T.self == Float.self {
            let t = UnsafeMutableRawPointer(target).assumingMemoryBound(to: Float.self)
            let o = UnsafeRawPointer(online).assumingMemoryBound(to: Float.self)
            let tf = unsafeBitCast(tau, to: Float.self)
            Workers.split(parallel, count: n) { r in for i in r { t[i] += tf * (o[i] - t[i]) } }
            return
        }
        for i in 0..<n { target[i] += tau * (online[i] - target[i]) }
    }
}

/// PyTorch's default initialisation for a Linear layer: weight ~ kaiming_uniform(a = √5), i.e.
/// U(±1/√fan_in), and bias ~ U(±1/√fan_in).
public enum Initializers {
    public static func torchLinear<T: NetScalar>(weight: UnsafeMutablePointer<T>, bias: UnsafeMutablePointer<T>,
                                                 fanIn: Int, fanOut: Int, rng: inout Xoshiro) {
        let bound = 1.0 / Double(fanIn).squareRoot()
        rng.fillUniform(weight, count: fanIn * fanOut, -bound, bound)
        rng.fillUniform(bias, count: fanOut, -bound, bound)
    }
}
