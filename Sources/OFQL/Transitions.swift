/// An in-memory offline dataset of N transitions (row-major Float arrays).
///
/// Semantics: `terminals[i]` is 1 when the MDP ended at transition i (a true terminal state);
/// time-limit truncations are *not* terminals. The bootstrap mask is 1 − terminal
/// (``mask(_:)``), so a timeout still bootstraps from `nextObservations`.
public struct Transitions: Sendable {
    public let count: Int
    public let obsDim: Int
    public let actDim: Int
    /// [N × obsDim]
    public let observations: [Float]
    /// [N × actDim]
    public let actions: [Float]
    /// [N]
    public let rewards: [Float]
    /// [N × obsDim]
    public let nextObservations: [Float]
    /// [N], 0 or 1.
    public let terminals: [Float]

    /// Validates shapes, finiteness and terminal values; throws ``DatasetError`` naming the
    /// array and the first bad index.
    public init(observations: [Float], actions: [Float], rewards: [Float], nextObservations: [Float],
                terminals: [Float], obsDim: Int, actDim: Int) throws {
        guard obsDim > 0 else { throw DatasetError.shape(array: "observations", expected: "obsDim > 0", got: "\(obsDim)") }
        guard actDim > 0 else { throw DatasetError.shape(array: "actions", expected: "actDim > 0", got: "\(actDim)") }
        let n = rewards.count
        guard n > 0 else { throw DatasetError.empty }
        func check(_ name: String, _ a: [Float], _ cols: Int) throws {
            guard a.count == n * cols else {
                throw DatasetError.shape(array: name, expected: "\(n) × \(cols) = \(n * cols) values (N from rewards)",
                                         got: "\(a.count) values")
            }
            if let i = a.firstIndex(where: { !$0.isFinite }) {
                throw DatasetError.nonFinite(array: name, row: i / cols, value: a[i])
            }
        }
        try check("observations", observations, obsDim)
        try check("actions", actions, actDim)
        try check("rewards", rewards, 1)
        try check("next_observations", nextObservations, obsDim)
        try check("terminals", terminals, 1)
        if let i = terminals.firstIndex(where: { $0 != 0 && $0 != 1 }) {
            throw DatasetError.badTerminal(row: i, value: terminals[i])
        }
        self.count = n; self.obsDim = obsDim; self.actDim = actDim
        self.observations = observations; self.actions = actions; self.rewards = rewards
        self.nextObservations = nextObservations; self.terminals = terminals
    }

    /// Convenience: terminals as Bool.
    public init(observations: [Float], actions: [Float], rewards: [Float], nextObservations: [Float],
                terminals: [Bool], obsDim: Int, actDim: Int) throws {
        try self.init(observations: observations, actions: actions, rewards: rewards, nextObservations: nextObservations,
                      terminals: terminals.map { $0 ? 1 : 0 }, obsDim: obsDim, actDim: actDim)
    }

    /// Bootstrap mask 1 − terminal of transition i.
    @inline(__always) public func mask(_ i: Int) -> Float { 1 - terminals[i] }

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

/// A bad dataset.
public enum DatasetError: Error, CustomStringConvertible, Equatable {
    case empty
    case shape(array: String, expected: String, got: String)
    case nonFinite(array: String, row: Int, value: Float)
    case badTerminal(row: Int, value: Float)
    case notImplemented(String)
    public var description: String {
        switch self {
        case .empty: return "dataset: no transitions"
        case .shape(let a, let e, let g): return "dataset: \(a) has the wrong shape: expected \(e), got \(g)"
        case .nonFinite(let a, let r, let v): return "dataset: \(a) has a non-finite value \(v) at row \(r)"
        case .badTerminal(let r, let v): return "dataset: terminals must be 0 or 1, got \(v) at row \(r)"
        case .notImplemented(let s): return s
        }
    }
}
