import Foundation
import Testing
@testable import OFQL

/// Deterministic random Doubles for tests.
func randomArray(_ n: Int, seed: UInt64, scale: Double = 1) -> [Double] {
    var r = Xoshiro(seed: seed)
    return (0..<n).map { _ in scale * r.normal() }
}

/// max_i |a_i − b_i| / (atol + rtol·|b_i|) ≤ 1 means "close".
func worstRatio(_ a: [Double], _ b: [Double], atol: Double = 1e-7, rtol: Double = 1e-5) -> Double {
    precondition(a.count == b.count)
    var worst = 0.0
    for i in a.indices { worst = max(worst, abs(a[i] - b[i]) / (atol + rtol * abs(b[i]))) }
    return worst
}

/// Central finite difference of a scalar function of a perturbation size h.
func centralDifference(h: Double = 1e-5, _ f: (Double) -> Double) -> Double {
    (f(h) - f(-h)) / (2 * h)
}

/// Runs `body` with a temporary folder removed afterwards.
func withTemporaryDirectory<R>(_ body: (String) throws -> R) throws -> R {
    let dir = NSTemporaryDirectory() + "ofql-tests-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    return try body(dir)
}

extension Array where Element == Double {
    func withPointer<R>(_ body: (UnsafeMutablePointer<Double>) throws -> R) rethrows -> R {
        var copy = self
        return try copy.withUnsafeMutableBufferPointer { try body($0.baseAddress!) }
    }
}

/// Central differences (h = 1e-6) of `loss` in every parameter of `block`, against `analytic`;
/// expects the worst relative error below 1e-5.
func checkParameterGradient(_ block: ParameterBlock<Double>, analytic: [Double], loss: () -> Double,
                            sourceLocation: SourceLocation = #_sourceLocation) {
    let h = 1e-6
    var worst = 0.0
    for i in 0..<block.count {
        let x = block.values[i]
        block.values[i] = x + h; let up = loss()
        block.values[i] = x - h; let down = loss()
        block.values[i] = x
        let fd = (up - down) / (2 * h)
        worst = max(worst, abs(fd - analytic[i]) / max(1e-4, abs(fd) + abs(analytic[i])))
    }
    #expect(worst < 1e-5, "worst relative error \(worst) over \(block.count) parameters", sourceLocation: sourceLocation)
}

/// One-step bandit: 1-D states, actions −0.5 (reward 0) and +0.5 (reward 1) in equal numbers,
/// every transition terminal.
func banditTransitions() throws -> Transitions {
    var rng = Xoshiro(seed: 41)
    let n = 1024
    var obs: [Float] = [], act: [Float] = [], rew: [Float] = []
    for i in 0..<n {
        obs.append(Float(rng.uniform() * 2 - 1))
        let good = i % 2 == 0
        act.append((good ? 0.5 : -0.5) + Float(0.04 * rng.normal()))
        rew.append(good ? 1 : 0)
    }
    return try Transitions(observations: obs, actions: act, rewards: rew, nextObservations: obs,
                           terminals: [Float](repeating: 1, count: n), obsDim: 1, actDim: 1)
}
