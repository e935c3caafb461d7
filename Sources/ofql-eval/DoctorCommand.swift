import ArgumentParser
import BLAS
import Experiments
import Foundation
import HDF5
import Physics

/// `ofql-eval doctor`: versions, CPU and a self-test of each native library.
struct DoctorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "doctor",
        abstract: "Print versions and run a self-test of Box2D, OpenBLAS and HDF5.",
        discussion: "Exits non-zero naming every check that failed.")

    @Flag(help: "Only print failures.") var quiet = false

    func run() throws {
        let report = Doctor.run()
        if !quiet { print(report.text) }
        let failed = report.checks.filter { !$0.passed }
        if !failed.isEmpty {
            throw ValidationError("doctor: \(failed.count) check(s) failed: " + failed.map(\.name).joined(separator: ", "))
        }
    }
}

/// The checks behind `doctor`, usable from the demo too.
enum Doctor {
    struct Check { var name: String; var passed: Bool; var detail: String }
    struct Report { var text: String; var checks: [Check] }

    static var swiftVersion: String {
        #if compiler(>=6.4)
        return "6.4 or newer"
        #elseif compiler(>=6.3)
        return "6.3"
        #elseif compiler(>=6.2)
        return "6.2"
        #elseif compiler(>=6.1)
        return "6.1"
        #else
        return "6.0"
        #endif
    }

    static func run() -> Report {
        var lines: [String] = []
        func kv(_ k: String, _ v: String) { lines.append(k.padding(toLength: 22, withPad: " ", startingAt: 0) + v) }
        kv("ofql-eval", PackageInfo.version)
        kv("swift", "\(swiftVersion) (language mode 6)")
        kv("box2d", World.box2DVersion)
        kv("openblas config", BLASRuntime.config)
        kv("openblas core", BLASRuntime.coreName)
        kv("openblas selection", PackageInfo.blasCoreChoice.isEmpty ? "(not run)" : PackageInfo.blasCoreChoice)
        kv("openblas threads", "\(BLASRuntime.threads)")
        if let hint = BLASRuntime.slowerThanCPUHint { kv("openblas note", hint) }
        kv("hdf5", "\(HDF5Library.version), thread-safe: \(HDF5Library.isThreadSafe ? "yes" : "no")")
        kv("cpu features", BLASRuntime.cpuFeatures.joined(separator: " "))
        kv("cpu cores", "\(ProcessInfo.processInfo.activeProcessorCount)")

        var checks: [Check] = []
        checks.append(check("box2d free fall") { try freeFall() })
        checks.append(check("blas sgemm vs naive") { try gemmAgainstNaive() })
        checks.append(check("blas core not generic") {
            let core = BLASRuntime.coreName
            if BLASRuntime.genericCores.contains(core) && (BLASRuntime.hasAVX2FMA || BLASRuntime.hasAVX512) {
                throw DoctorFailure("OpenBLAS runs generic \(core) kernels on a CPU with \(BLASRuntime.hasAVX512 ? "AVX-512" : "AVX2")")
            }
            return "core \(core)"
        })
        checks.append(check("hdf5 round trip") { try hdf5RoundTrip() })
        lines.append("")
        for c in checks { lines.append("\(c.passed ? "PASS" : "FAIL")  \(c.name): \(c.detail)") }
        return Report(text: lines.joined(separator: "\n"), checks: checks)
    }

    struct DoctorFailure: Error, CustomStringConvertible {
        let description: String
        init(_ s: String) { description = s }
    }

    static func check(_ name: String, _ body: () throws -> String) -> Check {
        do { return Check(name: name, passed: true, detail: try body()) } catch {
            return Check(name: name, passed: false, detail: "\(error)")
        }
    }

    /// A ball dropped from 10 m for 1 s lands where semi-implicit Euler says it should.
    static func freeFall() throws -> String {
        let w = World(gravity: (0, -9.81))
        let b = try w.createBody(.dynamic, x: 0, y: 10)
        try w.addCircle(b, radius: 0.1)
        let dt: Float = 1.0 / 100
        for _ in 0..<100 { w.step(dt) }
        let y = w.state(b).y
        let expected = 10 - 9.81 * dt * dt * Float(100 * 101) / 2
        guard abs(y - expected) < 1e-3 else { throw DoctorFailure("y = \(y) after 1 s, expected \(expected)") }
        return "y(1 s) = \(y) m (expected \(expected))"
    }

    static func gemmAgainstNaive() throws -> String {
        let m = 67, n = 45, k = 129
        let a = (0..<(m * k)).map { Float(($0 * 7) % 11) - 5 }
        let b = (0..<(k * n)).map { Float(($0 * 3) % 7) - 3 }
        let c = [Float].matmul(a, .none, rowsA: m, colsA: k, b, .none, rowsB: k, colsB: n)
        for i in 0..<m {
            for j in 0..<n {
                var acc: Float = 0
                for p in 0..<k { acc += a[i * k + p] * b[p * n + j] }
                guard acc == c[i * n + j] else { throw DoctorFailure("C[\(i),\(j)] = \(c[i * n + j]), naive loop gives \(acc)") }
            }
        }
        return "\(m)x\(k) · \(k)x\(n) exact on integers (core \(BLASRuntime.coreName))"
    }

    static func hdf5RoundTrip() throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ofql-doctor-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("check.h5").path
        let obs = (0..<300).map { Float($0) / 7 }
        let flags = (0..<100).map { $0 % 9 == 0 }
        do {
            let f = try HDF5File.create(path)
            try f.write("observations", obs, shape: [100, 3])
            try f.writeBool("terminals", flags, shape: [100])
            try f.group("metadata").setAttribute("id", .string("doctor"))
        }
        let f = try HDF5File.open(path)
        guard try f.read("observations", as: Float.self).values == obs,
              try f.readBool("terminals").values == flags,
              try f.openGroup("metadata").attribute("id") == .string("doctor")
        else { throw DoctorFailure("values read back differ from those written") }
        return "float32, bool and string attribute read back equal"
    }
}
