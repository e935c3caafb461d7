import Foundation
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
