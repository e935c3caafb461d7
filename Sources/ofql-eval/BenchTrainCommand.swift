import ArgumentParser
import Experiments
import BLAS
import Datasets
import OFQL
import Randomness

/// Parses "256x3" (width × depth) or "256/128/64" (explicit widths) into hidden widths.
func parseHidden(_ s: String) throws -> [Int] {
    let parts = s.split(separator: "x")
    if parts.count == 2, let w = Int(parts[0]), let d = Int(parts[1]), w > 0, d > 0 { return Array(repeating: w, count: d) }
    let widths = s.split(separator: "/").compactMap { Int($0) }
    guard !widths.isEmpty, widths.count == s.split(separator: "/").count, widths.allSatisfy({ $0 > 0 }) else {
        throw ValidationError("bad hidden spec \"\(s)\": use WIDTHxDEPTH (256x3) or WIDTHS (256/256/256)")
    }
    return widths
}

/// sgemm GFLOP/s at m×k×n in this process (the reference for "fraction of sgemm").
func measureSgemm(m: Int, n: Int, k: Int, reps: Int, seconds: Double) -> [Double] {
    let a = (0..<(m * k)).map { Float(($0 * 7) % 13) / 13 - 0.5 }
    let b = (0..<(k * n)).map { Float(($0 * 5) % 11) / 11 - 0.5 }
    var c = [Float](repeating: 0, count: m * n)
    return a.withUnsafeBufferPointer { pa in
        b.withUnsafeBufferPointer { pb in
            c.withUnsafeMutableBufferPointer { pc in
                measureRates(reps: reps, seconds: seconds, unitsPerCall: 2 * Double(m * n * k) / 1e9) {
                    Float.gemm(.none, .transposed, m: m, n: n, k: k, alpha: 1, a: pa.baseAddress!, lda: k,
                               b: pb.baseAddress!, ldb: k, beta: 0, c: pc.baseAddress!, ldc: n)
                }
            }
        }
    }
}

/// GFLOP/s of two single-threaded sgemm calls running at once on the training step's two
/// workers (each on its own operands): the two-core GEMM rate a training step can reach, which
/// is below twice the one-thread rate when the cores share caches or clocks.
func measureConcurrentSgemm(m: Int, n: Int, k: Int, reps: Int, seconds: Double) -> [Double] {
    let a = (0..<(2 * m * k)).map { Float(($0 * 7) % 13) / 13 - 0.5 }
    let b = (0..<(2 * k * n)).map { Float(($0 * 5) % 11) / 11 - 0.5 }
    var c = [Float](repeating: 0, count: 2 * m * n)
    return a.withUnsafeBufferPointer { pa in
        b.withUnsafeBufferPointer { pb in
            c.withUnsafeMutableBufferPointer { pc in
                let pa = pa.baseAddress!, pb = pb.baseAddress!, pc = pc.baseAddress!
                return measureRates(reps: reps, seconds: seconds, unitsPerCall: 4 * Double(m * n * k) / 1e9) {
                    Workers.pair(true) { w in
                        Float.gemm(.none, .transposed, m: m, n: n, k: k, alpha: 1, a: pa + w * m * k, lda: k,
                                   b: pb + w * k * n, ldb: k, beta: 0, c: pc + w * m * n, ldc: n)
                    }
                }
            }
        }
    }
}

func median(_ v: [Double]) -> Double {
    let s = v.sorted()
    return s.isEmpty ? .nan : (s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2)
}

/// `ofql-eval bench train`: full update steps/s of OFQL in the JAX reference's shape, of the
/// shipping default on hopper's shapes, and of the baselines in their published shapes.
struct BenchTrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Gradient steps/s of OFQL (obs 8, act 2, raw r/t inputs, Mish, twin critics, EMA off), of the default config on hopper's shapes and of the baselines, with GFLOP/s against sgemm and the 2-core GEMM ceiling.")
    @OptionGroup var options: BenchOptions
    @Option(help: "Hidden sizes, comma-separated WIDTHxDEPTH.") var hidden = "256x3,512x4"
    @Option(help: "Batch size.") var batch = 256
    @Option(help: "Cores: ≥ 2 runs two update workers over single-threaded BLAS (as `train`).") var threads = 2
    @Flag(help: "With --threads ≥ 2, use one update worker and multi-threaded BLAS instead (the old scheme).")
    var blasThreads = false
    @Option(help: "Observation dimension.") var obsDim = 8
    @Option(help: "Action dimension.") var actDim = 2
    @Flag(inversion: .prefixedNo, help: "Also measure the shipping default config on hopper's shapes.") var defaultConfig = true
    @Option(help: "Other learners measured after OFQL, comma-separated (bc, td3bc, iql, fql, fbrac, dql; empty: none).") var baselines = "bc,td3bc,iql,fql,fbrac,dql"
    @Flag(help: "After each line, a pair_site line per fork–join call site of the timed steps: the caller's and the helper's halves and the caller's wait (with --threads ≥ 2). The concurrent-sgemm reference's site is the control: its halves are equal work.")
    var pairProfile = false

    /// Peer figures (steps/s, 2-core CPU, quiet machine) from shared/anchors/RESULTS.md §4.
    static let peers: [String: (jax: Double, torch: Double)] = ["256x3": (97, 49), "512x4": (23, 15)]

    func validate() throws {
        guard batch >= 1, threads >= 1, obsDim >= 1, actDim >= 1 else { throw ValidationError("--batch, --threads, --obs-dim, --act-dim must be positive") }
        for h in hidden.split(separator: ",") { _ = try parseHidden(String(h)) }
        for b in baselines.split(separator: ",") where Algorithm(rawValue: String(b)).map({ $0 == .ofql }) ?? true {
            throw ValidationError("--baselines takes \(Algorithm.allCases.filter { $0 != .ofql }.map(\.rawValue).joined(separator: ", ")), got \(b)")
        }
    }

    func run() throws {
        BLASRuntime.setThreads(threads)
        StandardStream.error.write("# openblas core \(BLASRuntime.coreName), \(threads) thread(s); \(PackageInfo.blasCoreChoice)\n")
        let data = try Self.synthetic(obsDim: obsDim, actDim: actDim)
        for spec in hidden.split(separator: ",").map(String.init) {
            let widths = try parseHidden(spec)
            let (rates, extra) = try measure(OFQLConfig.referenceBenchmark(hidden: widths, batchSize: batch), data: data)
            var more = extra
            if let p = Self.peers[spec] {
                more += [("peer_jax_steps_per_s", format3(p.jax)), ("peer_torch_steps_per_s", format3(p.torch)),
                         ("peer_source", "\"shared/anchors/RESULTS.md §4 quiet rerun (JAX scan 50, PyTorch 2 threads)\"")]
            }
            print(benchLine(bench: "ofql_train_steps", label: "hidden=\(spec) batch=\(batch) obs=\(obsDim) act=\(actDim) mish raw-rt ema=off",
                            values: rates, unit: "steps/s", extra: more))
            printPairSites("hidden=\(spec)")
        }
        // The shipping default (sinusoidal times, EMA on, observation normalisation off) on
        // hopper's shapes: what `train` runs on hopper-medium-v1.
        if defaultConfig {
            var cfg = OFQLConfig()
            cfg.batchSize = batch
            let (rates, extra) = try measure(cfg, data: try Self.synthetic(obsDim: 11, actDim: 3))
            print(benchLine(bench: "ofql_train_steps", label: "default config hidden=256x3 batch=\(batch) obs=11 act=3 (hopper)",
                            values: rates, unit: "steps/s", extra: extra))
            printPairSites("default config")
        }
        // The other learners in their default shapes (BC and FQL: the suite’s 3 × 256 Mish; TD3+BC and IQL: 2 × 256 ReLU).
        for name in baselines.split(separator: ",").map(String.init) where !name.isEmpty {
            var cfg = OFQLConfig.defaults(for: Algorithm(rawValue: name)!)
            cfg.batchSize = batch
            let (rates, extra) = try measure(cfg, data: data)
            let shape = cfg.hidden.map(String.init).joined(separator: "/")
            print(benchLine(bench: "\(name)_train_steps", label: "\(name) hidden=\(shape) \(cfg.activation.rawValue) batch=\(batch) obs=\(obsDim) act=\(actDim)",
                            values: rates, unit: "steps/s", extra: extra))
            printPairSites(name)
        }
    }

    /// With `--pair-profile`: one line per fork–join site timed since ``measure(_:data:)``
    /// switched timing on (per call, in µs), then timing off.
    func printPairSites(_ line: String) {
        guard pairProfile else { return }
        let sites = Workers.siteTimings()
        Workers.profile(false)
        let total = sites.reduce(0) { $0 + $1.wall }
        for t in sites.sorted(by: { $0.wall > $1.wall }) {
            let perCall = { (seconds: Double) in seconds / Double(max(t.calls, 1)) * 1e6 }
            let per = { format3(perCall($0)) }
            print(benchLine(bench: "pair_site", label: "\(line): \(t.site)", values: [perCall(t.wall)],
                            unit: "us/call fork to join", extra: [
                ("calls", "\(t.calls)"), ("caller_us", per(t.caller)), ("helper_us", per(t.helper)),
                ("caller_wait_us", per(t.wait)), ("helper_woken", "\(t.woken)"), ("share_of_pair_wall", format3(total > 0 ? t.wall / total : 0)),
            ]))
        }
    }

    /// 100,000 seeded random transitions of the given widths.
    static func synthetic(obsDim: Int, actDim: Int) throws -> Transitions {
        let n = 100_000
        var rng = Xoshiro(seed: 0)
        let obs = (0..<(n * obsDim)).map { _ in Float(rng.normal()) }
        let nobs = (0..<(n * obsDim)).map { _ in Float(rng.normal()) }
        let act = (0..<(n * actDim)).map { _ in Float(rng.uniform() * 2 - 1) }
        let rew = (0..<n).map { _ in Float(rng.normal()) }
        let term: [Float] = (0..<n).map { _ in rng.uniform() < 0.01 ? 1 : 0 }
        return try Transitions(observations: obs, actions: act, rewards: rew, nextObservations: nobs, terminals: term,
                               obsDim: obsDim, actDim: actDim)
    }

    /// Steps/s of one learner and its GEMM figures: GFLOP per step, the achieved rate against
    /// sgemm at the first layer's width, and the 2-core GEMM ceiling in steps/s.
    func measure(_ cfg: OFQLConfig, data: Transitions) throws -> ([Double], [(String, String)]) {
        BLASRuntime.setThreads(threads)
        let trainer = try Trainer(config: cfg, data: data, seed: 0, datasetID: "synthetic", outDir: nil)
        if !blasThreads { trainer.agent.useCores(threads) }
        for _ in 0..<5 { try trainer.trainStep() }
        let gflop = trainer.agent.gemmFlopsPerUpdate / 1e9
        let w = cfg.hidden[0]
        // Each repetition times the update, then the one-thread sgemm right after it: the
        // GEMM-bound ceiling is every core running sgemm at that rate all step long, and the
        // fraction is taken per repetition (a shared VM's clock drifts between repetitions;
        // pairing cancels the drift) and reported as the median of the pairs.
        var failure: Error?
        var rates: [Double] = [], sg1s: [Double] = [], fractions: [Double] = []
        if pairProfile { Workers.profile(true) }
        for _ in 0..<options.reps {
            if !blasThreads { trainer.agent.useCores(threads) } else { BLASRuntime.setThreads(threads) }
            let r = measureRates(reps: 1, seconds: options.seconds, unitsPerCall: 1, warmup: 1) {
                do { try trainer.trainStep() } catch { failure = error }
            }[0]
            if let failure { throw failure }
            BLASRuntime.setThreads(1)
            let g = measureSgemm(m: batch, n: w, k: w, reps: 1, seconds: min(options.seconds, 0.25))[0]
            rates.append(r); sg1s.append(g); fractions.append(r * gflop / (Double(threads) * g))
        }
        if !blasThreads { trainer.agent.useCores(threads) }
        BLASRuntime.setThreads(threads)   // the sgemm reference uses `threads` BLAS threads
        let sg = median(measureSgemm(m: batch, n: w, k: w, reps: options.reps, seconds: min(options.seconds, 0.5)))
        let sg1 = median(sg1s)
        // What two cores reach running sgemm side by side (one BLAS thread each, as the workers;
        // left at `threads` BLAS threads, the two calls fight over OpenBLAS's thread pool and
        // measured 41 GFLOP/s against 140 for one call on an idle 16-core Xeon).
        BLASRuntime.setThreads(1)
        let sgPair = threads >= 2 ? median(measureConcurrentSgemm(m: batch, n: w, k: w, reps: options.reps,
                                                                  seconds: min(options.seconds, 0.5))) : sg1
        BLASRuntime.setThreads(threads)
        let achieved = median(rates) * gflop
        let ceiling = Double(threads) * sg1 / gflop
        return (rates, [
            ("gflop_per_step", format3(gflop)), ("gflops_median", format3(achieved)),
            ("sgemm_gflops_\(batch)x\(w)x\(w)", format3(sg)), ("fraction_of_sgemm", format3(achieved / sg)),
            ("sgemm_1thread_gflops", format3(sg1)),
            ("ceiling_steps_per_s", format3(ceiling)), ("fraction_of_ceiling", format3(median(fractions))),
            ("fraction_of_ceiling_min", format3(fractions.min() ?? .nan)),
            ("fraction_of_ceiling_max", format3(fractions.max() ?? .nan)),
            ("sgemm_concurrent_gflops", format3(sgPair)),
            ("fraction_of_concurrent_ceiling", format3(achieved / (threads >= 2 ? sgPair : sg1))),
            ("threads", "\(threads)"), ("workers", "\(trainer.agent.workers)"), ("core", "\"\(BLASRuntime.coreName)\""),
        ])
    }
}

/// `ofql-eval bench policy`: one-step sampling actions/s (bench_policy.py's shape).
struct BenchPolicyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "policy", abstract: "One-step action sampling throughput (3×256 Mish, obs 24, act 4, raw r/t inputs).")
    @OptionGroup var options: BenchOptions
    @Option(help: "Batch sizes.") var batches: [Int] = [1, 256]
    @Option(help: "Cores (default: 1 below batch 32, as inside rollout workers; else 2). With 2: up to batch 32 each layer's output units are split over two workers (one episode's decisions on both cores' caches); from batch 64, two workers over single-threaded BLAS.") var threads: Int?
    @Flag(help: "With --threads ≥ 2, use one worker and multi-threaded BLAS instead (the old scheme).")
    var blasThreads = false

    /// Peer flow-1 figures (actions/s) from shared/anchors/RESULTS.md §2: best of JAX / PyTorch.
    static let peers: [Int: (Double, String)] = [1: (39_004, "JAX default flags"), 16: (148_491, "JAX"), 256: (300_603, "PyTorch 2 threads")]

    func run() throws {
        var cfg = OFQLConfig()
        cfg.timeInput = .raw; cfg.batchSize = 1; cfg.policyEMA = false
        let agent = try OFQLAgent.create(config: cfg, obsDim: 24, actDim: 4, seed: 0)
        for b in batches {
            let threads = self.threads ?? (b < 32 ? 1 : 2)
            if blasThreads { agent.workers = 1; BLASRuntime.setThreads(threads) } else { agent.useCores(threads) }
            var rng = Xoshiro(seed: 1)
            let obs = (0..<(b * 24)).map { _ in Float(rng.normal()) }
            var out = [Float](repeating: 0, count: b * 4)
            // Small batches: the rollout workers' path (a PolicySampler's packed weights, noise
            // drawn per call as `sampleActions` does); large ones: the agent's two-worker path.
            let sampler = b <= PolicySampler.packedRowLimit ? agent.makeSampler(maxRows: b) : nil
            sampler?.splitColumns = threads >= 2 && !blasThreads
            var noise = [Float](repeating: 0, count: b * 4)
            let rates = obs.withUnsafeBufferPointer { o in
                out.withUnsafeMutableBufferPointer { op in
                    noise.withUnsafeMutableBufferPointer { np in
                        measureRates(reps: options.reps, seconds: options.seconds, unitsPerCall: Double(b)) {
                            if let sampler {
                                rng.fillNormal(np.baseAddress!, count: b * 4)
                                sampler.sample(observations: o.baseAddress!, count: b, noise: np.baseAddress!, into: op.baseAddress!)
                            } else {
                                agent.sampleActions(observations: o.baseAddress!, count: b, into: op.baseAddress!, rng: &rng)
                            }
                        }
                    }
                }
            }
            let path = sampler == nil ? "agent blas" : sampler!.splitColumns ? "sampler packed, units split over 2 workers" : "sampler packed"
            var extra: [(String, String)] = [("threads", "\(threads)"), ("workers", "\(sampler.map { $0.splitColumns ? 2 : 1 } ?? agent.workers)"),
                                             ("path", "\"\(path)\"")]
            if let p = Self.peers[b] {
                extra += [("peer_actions_per_s", format3(p.0)), ("peer", "\"\(p.1) flow-1, shared/anchors/RESULTS.md §2\"")]
            }
            print(benchLine(bench: "ofql_policy_sample", label: "flow-1 mish 24-256x3-4 batch=\(b)", values: rates,
                            unit: "actions/s", extra: extra))
        }
    }
}
