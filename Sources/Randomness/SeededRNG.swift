/// A small, fast, seeded generator (SplitMix64) used for every random draw of the environments
/// and the behaviour policies (dataset bytes depend on its stream).
///
/// Library code never reaches for a global generator; seeds are explicit and derived by
/// index (``SeededRNG/derive(_:_:)``) so results do not depend on scheduling.
public struct SeededRNG: RandomNumberGenerator, Sendable, Equatable {
    public var state: UInt64
    public init(seed: UInt64) { state = seed }

    @inlinable
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A uniform double in [0, 1).
    @inlinable
    public mutating func unit() -> Double { Double(next() >> 11) * 0x1.0p-53 }

    /// A uniform double in [lo, hi).
    @inlinable
    public mutating func uniform(_ lo: Double, _ hi: Double) -> Double { lo + (hi - lo) * unit() }

    /// A standard normal draw (Box–Muller, one value per call: the pair's first value).
    public static func gaussian<G: RandomNumberGenerator>(using g: inout G) -> Double {
        var u1 = Double(g.next() >> 11) * 0x1.0p-53
        if u1 < 1e-300 { u1 = 1e-300 }
        let u2 = Double(g.next() >> 11) * 0x1.0p-53
        return boxMuller(u1, u2).0
    }

    public mutating func gaussian() -> Double { SeededRNG.gaussian(using: &self) }

    /// A well-mixed seed for stream `index` of `base` (episode i of a run, worker j, …).
    public static func derive(_ base: UInt64, _ index: UInt64) -> UInt64 {
        var g = SeededRNG(seed: base ^ (index &* 0xD1B5_4A32_D192_ED03))
        _ = g.next()
        return g.next()
    }
}

/// Adds N(0, std²) noise to each of `count` action entries and clips them back to [-1, 1]
/// (the behaviour policies' exploration noise); one draw per entry from `rng`.
@inlinable
public func addActionNoise<G: RandomNumberGenerator>(_ action: UnsafeMutablePointer<Float>, count: Int, std: Float, rng: inout G) {
    guard std > 0 else { return }
    for i in 0..<count { action[i] = min(max(action[i] + std * Float(SeededRNG.gaussian(using: &rng)), -1), 1) }
}

/// The one normal sampler of the package: Box–Muller's pair of independent standard normals
/// from u1 ∈ (0, 1] and u2 ∈ [0, 1) (Box & Muller, Ann. Math. Statist. 29(2), 1958).
@inlinable
public func boxMuller(_ u1: Double, _ u2: Double) -> (Double, Double) {
    let rad = (-2 * _log(u1)).squareRoot()
    let th = 2 * Double.pi * u2
    return (rad * _cos(th), rad * _sin(th))
}

#if canImport(Glibc)
import Glibc
@usableFromInline func _log(_ x: Double) -> Double { Glibc.log(x) }
@usableFromInline func _cos(_ x: Double) -> Double { Glibc.cos(x) }
@usableFromInline func _sin(_ x: Double) -> Double { Glibc.sin(x) }
#elseif canImport(Darwin)
import Darwin
@usableFromInline func _log(_ x: Double) -> Double { Darwin.log(x) }
@usableFromInline func _cos(_ x: Double) -> Double { Darwin.cos(x) }
@usableFromInline func _sin(_ x: Double) -> Double { Darwin.sin(x) }
#endif
