// The one test-support target: helpers every test target shares (paths into the checkout,
// temporary folders, seeded random arrays and finite-difference comparisons).
import Foundation
import Randomness

/// The package root, found from this file's path (Tests/TestSupport/TestSupport.swift).
public func packageRoot(_ file: String = #filePath) -> String {
    var parts = file.split(separator: "/", omittingEmptySubsequences: false)
    parts.removeLast(3)
    return parts.joined(separator: "/")
}

/// The committed datasets folder (behaviour policies, catalog).
public var datasetsPath: String { packageRoot() + "/datasets" }

/// A fresh temporary folder named `ofql-<prefix>-<uuid>`; the caller removes it (``removeTree(_:)``).
public func makeTemporaryDirectory(_ prefix: String = "tests") -> String {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("ofql-\(prefix)-\(UUID().uuidString)").path
    try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

/// Removes a folder and everything in it (ignoring a missing one).
public func removeTree(_ path: String) { try? FileManager.default.removeItem(atPath: path) }

/// Runs `body` with a temporary folder removed afterwards.
public func withTemporaryDirectory<R>(_ prefix: String = "tests", _ body: (String) throws -> R) throws -> R {
    let dir = makeTemporaryDirectory(prefix)
    defer { removeTree(dir) }
    return try body(dir)
}

/// Deterministic standard-normal Doubles for tests.
public func randomArray(_ n: Int, seed: UInt64, scale: Double = 1) -> [Double] {
    var r = Xoshiro(seed: seed)
    return (0..<n).map { _ in scale * r.normal() }
}

/// max_i |a_i − b_i| / (atol + rtol·|b_i|) ≤ 1 means "close".
public func worstRatio(_ a: [Double], _ b: [Double], atol: Double = 1e-7, rtol: Double = 1e-5) -> Double {
    precondition(a.count == b.count)
    var worst = 0.0
    for i in a.indices { worst = max(worst, abs(a[i] - b[i]) / (atol + rtol * abs(b[i]))) }
    return worst
}

/// Central finite difference of a scalar function of a perturbation size h.
public func centralDifference(h: Double = 1e-5, _ f: (Double) -> Double) -> Double {
    (f(h) - f(-h)) / (2 * h)
}
