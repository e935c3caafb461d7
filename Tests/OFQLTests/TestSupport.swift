import Datasets
import Foundation
import Randomness
import Testing
import TestSupport
@testable import OFQL

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
