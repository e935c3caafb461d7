/// A seeded xoshiro256** generator: the learners' only source of randomness (initialisation,
/// minibatches, flow noise).
///
/// Seeded through SplitMix64 (so nearby seeds give unrelated streams); the whole state is four
/// words, saved in checkpoints so that a resumed run continues the same stream. Normals use
/// Box–Muller (both values of each pair are used by the fill functions).
public struct Xoshiro: RandomNumberGenerator, Codable, Equatable, Sendable {
    /// The 256-bit state.
    public var s0: UInt64, s1: UInt64, s2: UInt64, s3: UInt64

    /// A generator whose state is expanded from `seed` with SplitMix64.
    public init(seed: UInt64) {
        var sm = seed
        func splitmix() -> UInt64 {
            sm &+= 0x9E37_79B9_7F4A_7C15
            var z = sm
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        s0 = splitmix(); s1 = splitmix(); s2 = splitmix(); s3 = splitmix()
    }

    /// An independent stream derived from this generator's seed material and `index`
    /// (e.g. one per worker or per purpose), without advancing `self`.
    public func derived(_ index: UInt64) -> Xoshiro {
        Xoshiro(seed: s0 ^ (s1 &* 0x2545_F491_4F6C_DD1D) ^ (index &* 0x9E37_79B9_7F4A_7C15) ^ s3)
    }

    @inline(__always)
    public mutating func next() -> UInt64 {
        let result = ((s1 &* 5) << 7 | (s1 &* 5) >> 57) &* 9
        let t = s1 << 17
        s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3
        s2 ^= t
        s3 = (s3 << 45) | (s3 >> 19)
        return result
    }

    /// Uniform in [0, 1) with 53 random bits.
    @inline(__always)
    public mutating func uniform() -> Double {
        Double(next() >> 11) * 0x1.0p-53
    }

    /// Uniform in (0, 1]: safe for log.
    @inline(__always)
    public mutating func uniformOpenZero() -> Double {
        Double((next() >> 11) + 1) * 0x1.0p-53
    }

    /// Uniform integer in [0, n) (Lemire's unbiased multiply-shift).
    @inline(__always)
    public mutating func index(_ n: Int) -> Int {
        precondition(n > 0)
        let bound = UInt64(n)
        var m = next().multipliedFullWidth(by: bound)
        if m.low < bound {
            let threshold = (0 &- bound) % bound
            while m.low < threshold { m = next().multipliedFullWidth(by: bound) }
        }
        return Int(m.high)
    }

    /// A pair of independent standard normals (Box–Muller).
    @inline(__always)
    public mutating func normalPair() -> (Double, Double) {
        let u1 = uniformOpenZero(), u2 = uniform()
        return boxMuller(u1, u2)
    }

    /// One standard normal (the pair's second value is discarded).
    public mutating func normal() -> Double { normalPair().0 }

    /// Fills `n` values at `p` with standard normals.
    public mutating func fillNormal<T: BinaryFloatingPoint>(_ p: UnsafeMutablePointer<T>, count n: Int) {
        var i = 0
        while i + 1 < n {
            let (a, b) = normalPair()
            p[i] = T(a); p[i + 1] = T(b)
            i += 2
        }
        if i < n { p[i] = T(normal()) }
    }

    /// Fills `n` values with uniforms in [lo, hi).
    public mutating func fillUniform<T: BinaryFloatingPoint>(_ p: UnsafeMutablePointer<T>, count n: Int, _ lo: Double, _ hi: Double) {
        for i in 0..<n { p[i] = T(lo + (hi - lo) * uniform()) }
    }

    // Hex strings in JSON: UInt64 does not survive every JSON reader exactly.
    private enum CodingKeys: String, CodingKey { case state }
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let words = try c.decode([String].self, forKey: .state)
        let vals = words.compactMap { UInt64($0, radix: 16) }
        guard vals.count == 4, words.count == 4 else {
            throw DecodingError.dataCorruptedError(forKey: .state, in: c,
                debugDescription: "RNG state must be 4 hexadecimal 64-bit words, got \(words)")
        }
        s0 = vals[0]; s1 = vals[1]; s2 = vals[2]; s3 = vals[3]
    }
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode([s0, s1, s2, s3].map { String($0, radix: 16) }, forKey: .state)
    }
}
