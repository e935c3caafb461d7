import COpenBLAS
#if canImport(Glibc)
import Glibc
#endif

/// What OpenBLAS is running with, and the start-up kernel selection.
///
/// Debian's OpenBLAS 0.3.21 does not know recent Intel CPUs and falls back to its generic
/// Prescott kernels (about 4.6x slower sgemm). The library reads `OPENBLAS_CORETYPE` in an
/// ELF constructor, before `main`, so the only fix from inside the program is to set the
/// variable and re-execute once: ``BLASRuntime/selectCoreAndReexecIfNeeded(log:)``.
public enum BLASRuntime {
    /// The kernel set OpenBLAS is using ("SkylakeX", "Haswell", "Prescott", …).
    public static var coreName: String { String(cString: openblas_get_corename()) }
    /// OpenBLAS's build configuration string.
    public static var config: String { String(cString: openblas_get_config()).trimmingCharacters() }
    /// Threads OpenBLAS uses for one call.
    public static var threads: Int { Int(openblas_get_num_threads()) }
    public static func setThreads(_ n: Int) { openblas_set_num_threads(Int32(max(1, n))) }

    /// Runs `body` with BLAS limited to one thread (inside rollout workers), then restores.
    public static func singleThreaded<T>(_ body: () throws -> T) rethrows -> T {
        let before = threads
        setThreads(1)
        defer { setThreads(before) }
        return try body()
    }

    /// Kernel sets that leave most of an AVX2/AVX-512 CPU unused.
    public static let genericCores: Set<String> = [
        "Prescott", "Core2", "Katmai", "Coppermine", "Northwood", "Penryn", "Dunnington", "Nehalem",
        "Atom", "Unknown", "unknown", "generic", "Generic",
    ]

    /// CPU features that matter for kernel choice.
    public static var cpuFeatures: [String] {
        ["sse4.2", "avx", "avx2", "fma", "avx512f", "avx512bw", "avx512dq", "avx512vl", "avx512vnni", "avx512bf16"]
            .filter { name in name.withCString { cob_cpu_supports($0) != 0 } }
    }
    public static var hasAVX512: Bool { cob_cpu_supports_avx512() != 0 }
    public static var hasAVX2FMA: Bool { cob_cpu_supports_avx2_fma() != 0 }

    /// The decision for a given situation (pure, for tests).
    public enum Decision: Equatable, Sendable {
        /// Keep the running kernels; the reason says why.
        case keep(String)
        /// Re-execute with `OPENBLAS_CORETYPE` set to this core.
        case reexec(String)
    }

    /// Decides whether to re-execute: only when the user set no core type, we have not already
    /// re-executed, the running core is generic and the CPU supports a better one.
    public static func decide(userCoreType: String?, alreadyReexecuted: Bool, running: String,
                              avx512: Bool, avx2fma: Bool) -> Decision {
        if let u = userCoreType, !u.isEmpty { return .keep("OPENBLAS_CORETYPE=\(u) set by the user; core \(running)") }
        if alreadyReexecuted { return .keep("core \(running) after re-execution") }
        guard genericCores.contains(running) else { return .keep("core \(running) detected by OpenBLAS") }
        if avx512 { return .reexec("SkylakeX") }
        if avx2fma { return .reexec("Haswell") }
        return .keep("core \(running); the CPU has neither AVX-512 nor AVX2, nothing better to pick")
    }

    /// A note when the running kernels (typically chosen by a user-set `OPENBLAS_CORETYPE`)
    /// use AVX2 on a CPU with AVX-512: respected, but worth knowing (about 1.9x on sgemm here).
    public static var slowerThanCPUHint: String? {
        let avx512Cores: Set<String> = ["SkylakeX", "Cooperlake", "SapphireRapids"]
        guard hasAVX512, !avx512Cores.contains(coreName), !genericCores.contains(coreName) else { return nil }
        return "core \(coreName) uses AVX2; this CPU has AVX-512 (OPENBLAS_CORETYPE=SkylakeX would use it)"
    }

    /// Test hook (see ``selectCoreAndReexecIfNeeded(log:)``).
    public static let simulateDetectionVariable = "OFQL_BLAS_SIMULATE_DETECTION"

    /// Environment variable set on re-execution so that it happens at most once.
    public static let reexecMarker = "OFQL_BLAS_REEXEC"

    /// Call first thing in `main`. Re-executes the process once with a better
    /// `OPENBLAS_CORETYPE` when OpenBLAS chose generic kernels on a capable CPU. Returns a
    /// one-line description of the choice (also shown by `doctor`).
    @discardableResult
    public static func selectCoreAndReexecIfNeeded(log: (String) -> Void = { _ in }) -> String {
        var user = getenv("OPENBLAS_CORETYPE").map { String(cString: $0) }
        // Test hook: treat a user-set core as if OpenBLAS had detected it, so the re-execution
        // path can be exercised on CPUs that OpenBLAS recognises.
        if getenv(simulateDetectionVariable) != nil { user = nil }
        let marker = getenv(reexecMarker).map { String(cString: $0) }
        let running = coreName
        switch decide(userCoreType: marker == nil ? user : nil, alreadyReexecuted: marker != nil, running: running,
                      avx512: hasAVX512, avx2fma: hasAVX2FMA) {
        case .keep(let why):
            if let m = marker { return "core \(running): re-executed from generic \(m) with OPENBLAS_CORETYPE=\(user ?? "?")" }
            return why
        case .reexec(let core):
            log("openblas: generic core \(running) on a CPU with \(core == "SkylakeX" ? "AVX-512" : "AVX2"); re-executing with OPENBLAS_CORETYPE=\(core)")
            setenv("OPENBLAS_CORETYPE", core, 1)
            setenv(reexecMarker, running, 1)
            unsetenv(simulateDetectionVariable)
            execv("/proc/self/exe", CommandLine.unsafeArgv)
            // execv only returns on failure: carry on with the generic kernels.
            unsetenv(reexecMarker)
            log("openblas: re-execution failed (errno \(errno)); continuing with core \(running)")
            return "core \(running) (re-execution to \(core) failed)"
        }
    }
}

extension String {
    func trimmingCharacters() -> String {
        var s = Substring(self)
        while let f = s.first, f.isWhitespace { s.removeFirst() }
        while let l = s.last, l.isWhitespace { s.removeLast() }
        return String(s)
    }
}
