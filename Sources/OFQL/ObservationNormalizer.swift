import Datasets

extension Transitions {
    /// Per-dimension mean and standard deviation of the observations (std floored at 1e-3).
    public func observationStatistics() -> ObservationNormalizer {
        var mean = [Double](repeating: 0, count: obsDim), sq = [Double](repeating: 0, count: obsDim)
        for i in 0..<count {
            for j in 0..<obsDim { let v = Double(observations[i * obsDim + j]); mean[j] += v; sq[j] += v * v }
        }
        let n = Double(count)
        var std = [Float](repeating: 1, count: obsDim)
        for j in 0..<obsDim {
            mean[j] /= n
            std[j] = Float(max(1e-3, (max(0, sq[j] / n - mean[j] * mean[j])).squareRoot()))
        }
        return ObservationNormalizer(mean: mean.map(Float.init), std: std)
    }
}

/// Observation normalisation (s − mean)/std, stored with the model.
public struct ObservationNormalizer: Codable, Sendable, Equatable {
    public var mean: [Float]
    public var std: [Float]
    public init(mean: [Float], std: [Float]) { self.mean = mean; self.std = std }
    /// The identity for `dim` dimensions.
    public static func identity(_ dim: Int) -> ObservationNormalizer {
        ObservationNormalizer(mean: .init(repeating: 0, count: dim), std: .init(repeating: 1, count: dim))
    }
    public var isIdentity: Bool { mean.allSatisfy { $0 == 0 } && std.allSatisfy { $0 == 1 } }

    /// Normalises `rows` rows from `src` into `dst` (may alias).
    @inline(__always)
    public func apply(_ src: UnsafePointer<Float>, into dst: UnsafeMutablePointer<Float>, rows: Int) {
        let d = mean.count
        mean.withUnsafeBufferPointer { m in
            std.withUnsafeBufferPointer { s in
                for i in 0..<rows {
                    for j in 0..<d { dst[i * d + j] = (src[i * d + j] - m[j]) / s[j] }
                }
            }
        }
    }
}
