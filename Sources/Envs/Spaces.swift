/// A box space: a float32 vector whose entry `i` lies in `[low[i], high[i]]`.
///
/// Bounds may be infinite (observation spaces of the locomotion envs, as in Gymnasium);
/// action spaces are always the finite cube `[-1, 1]^n`.
import Randomness
public struct Box: Sendable, Equatable, CustomStringConvertible {
    public let low: [Float]
    public let high: [Float]
    public var dimension: Int { low.count }

    /// A box with per-entry bounds; `low` and `high` must have the same count.
    public init(low: [Float], high: [Float]) {
        precondition(low.count == high.count, "Box bounds differ in length")
        self.low = low; self.high = high
    }

    /// A box of `dimension` entries sharing the bounds `low...high`.
    public init(dimension: Int, low: Float, high: Float) {
        self.init(low: .init(repeating: low, count: dimension), high: .init(repeating: high, count: dimension))
    }

    /// The action space of every env: `[-1, 1]^dimension`.
    public static func unitCube(_ dimension: Int) -> Box { Box(dimension: dimension, low: -1, high: 1) }

    /// Whether `x` has the right length and every entry is finite and inside its bounds.
    public func contains(_ x: UnsafeBufferPointer<Float>) -> Bool {
        guard x.count == dimension else { return false }
        for i in 0..<dimension where !(x[i].isFinite && x[i] >= low[i] && x[i] <= high[i]) { return false }
        return true
    }

    public func contains(_ x: [Float]) -> Bool { x.withUnsafeBufferPointer { contains($0) } }

    /// Whether every bound is finite.
    public var isBounded: Bool { low.allSatisfy(\.isFinite) && high.allSatisfy(\.isFinite) }

    /// A uniform sample (bounded boxes only; infinite bounds give a standard normal draw).
    public func sample<G: RandomNumberGenerator>(using rng: inout G) -> [Float] {
        (0..<dimension).map { i in
            if low[i].isFinite && high[i].isFinite { return Float.random(in: low[i]...high[i], using: &rng) }
            return Float(SeededRNG.gaussian(using: &rng))
        }
    }

    public var description: String {
        if Set(low).count == 1 && Set(high).count == 1 { return "Box(\(low.first ?? 0), \(high.first ?? 0), (\(dimension),))" }
        return "Box(low: \(low), high: \(high))"
    }
}
