import ArgumentParser
import Experiments
import BLAS
import Glibc

/// `ofql-eval bench …`: benchmarks that print JSON lines
/// `{"bench", "label", "min", "median", "max", "n", …}` (the shape of ../shared/anchors).
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Benchmarks printing min/median/max as JSON lines.",
        subcommands: [BenchGemmCommand.self, BenchEnvsCommand.self, BenchRolloutCommand.self, BenchTrainCommand.self,
                      BenchPolicyCommand.self, BenchLoadCommand.self, BenchDecideCommand.self]
    )
}

/// Shared repetition options for every benchmark.
struct BenchOptions: ParsableArguments {
    @Option(help: "Timed repetitions.") var reps = 5
    @Option(help: "Seconds per repetition (at least).") var seconds = 1.0
    func validate() throws {
        guard reps >= 1 else { throw ValidationError("--reps must be at least 1, got \(reps)") }
        guard seconds > 0, seconds.isFinite else { throw ValidationError("--seconds must be positive, got \(seconds)") }
    }
}

/// Repeats `body` (which does `unitsPerCall` units of work) for at least `seconds` per
/// repetition and returns the rate (units/s) of each repetition.
func measureRates(reps: Int, seconds: Double, unitsPerCall: Double, warmup: Int = 1, _ body: () -> Void) -> [Double] {
    for _ in 0..<warmup { body() }
    var rates: [Double] = []
    for _ in 0..<reps {
        var calls = 0
        let t0 = monotonicSeconds()
        var t1 = t0
        repeat {
            body(); calls += 1
            t1 = monotonicSeconds()
        } while t1 - t0 < seconds
        rates.append(Double(calls) * unitsPerCall / (t1 - t0))
    }
    return rates
}

/// One JSON line in the anchors' shape; `extra` adds fields (strings must be JSON-ready).
func benchLine(bench: String, label: String, values: [Double], unit: String, extra: [(String, String)] = []) -> String {
    let s = values.sorted()
    let median = s.isEmpty ? .nan : (s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2)
    func num(_ v: Double) -> String { v.isFinite ? String(format3(v)) : "null" }
    var parts = [
        "\"bench\": \"\(bench)\"", "\"label\": \"\(label)\"",
        "\"min\": \(num(s.first ?? .nan))", "\"median\": \(num(median))", "\"max\": \(num(s.last ?? .nan))",
        "\"n\": \(s.count)", "\"unit\": \"\(unit)\"",
    ]
    for (k, v) in extra { parts.append("\"\(k)\": \(v)") }
    return "{" + parts.joined(separator: ", ") + "}"
}

struct BenchGemmCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gemm", abstract: "sgemm GFLOP/s at 256³ and 1024³ with 1 and 2 BLAS threads.")
    @OptionGroup var options: BenchOptions
    @Option(help: "Cube sizes to measure.") var sizes: [Int] = [256, 1024]
    @Option(help: "BLAS thread counts to measure.") var threads: [Int] = [1, 2]

    func run() throws {
        StandardStream.error.write("# openblas core \(BLASRuntime.coreName); \(PackageInfo.blasCoreChoice)\n")
        for n in sizes {
            let a = (0..<(n * n)).map { Float(($0 * 7) % 13) / 13 - 0.5 }
            let b = (0..<(n * n)).map { Float(($0 * 5) % 11) / 11 - 0.5 }
            var c = [Float](repeating: 0, count: n * n)
            for t in threads {
                BLASRuntime.setThreads(t)
                let rates = a.withUnsafeBufferPointer { pa in
                    b.withUnsafeBufferPointer { pb in
                        c.withUnsafeMutableBufferPointer { pc in
                            measureRates(reps: options.reps, seconds: options.seconds, unitsPerCall: 2 * Double(n * n * n) / 1e9) {
                                Float.gemm(.none, .none, m: n, n: n, k: n, alpha: 1, a: pa.baseAddress!, lda: n,
                                           b: pb.baseAddress!, ldb: n, beta: 0, c: pc.baseAddress!, ldc: n)
                            }
                        }
                    }
                }
                print(benchLine(bench: "sgemm", label: "\(n)x\(n)x\(n) threads=\(t)", values: rates, unit: "GFLOP/s",
                                extra: [("core", "\"\(BLASRuntime.coreName)\"")]))
            }
        }
    }
}
