import ArgumentParser
import Experiments
import Envs
import Randomness

/// `ofql-eval bench envs`: single-thread env steps/s with uniform random actions.
///
/// Episodes auto-reset when they end (terminated or truncated by the spec's time limit), so
/// reset cost is included, as in Gymnasium's `benchmark_step`.
struct BenchEnvsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "envs", abstract: "Single-thread env steps/s with random actions (auto-reset on done).")
    @OptionGroup var options: BenchOptions
    @Option(help: "Env ids to measure (default: all registered).") var env: [String] = []

    /// Gymnasium peers measured on a single core (steps/s), for reference.
    static let peers: [String: (name: String, rate: Double)] = [
        "hopper": ("Gymnasium MuJoCo Hopper-v5", 8_900),
        "walker2d": ("Gymnasium MuJoCo Walker2d-v5", 8_000),
        "halfcheetah": ("Gymnasium MuJoCo HalfCheetah-v5", 23_000),
    ]

    func run() throws {
        let specs = try env.isEmpty ? EnvRegistry.all : env.map { try EnvRegistry.spec(EnvID(rawValue: $0)) }
        StandardStream.error.write("# peer (Box2D, Python): Gymnasium BipedalWalker-v3 ≈ 6400 steps/s\n")
        for spec in specs {
            let e = spec.make()
            let na = spec.actionDimension, no = spec.observationDimension
            let obs = UnsafeMutablePointer<Float>.allocate(capacity: no); defer { obs.deallocate() }
            let act = UnsafeMutablePointer<Float>.allocate(capacity: na); defer { act.deallocate() }
            var rng = SeededRNG(seed: 0)
            e.reset(seed: 0, observation: obs)
            var episodes = 0
            let chunk = 2_000
            let rates = measureRates(reps: options.reps, seconds: options.seconds, unitsPerCall: Double(chunk)) {
                for _ in 0..<chunk {
                    for i in 0..<na { act[i] = Float(rng.uniform(-1, 1)) }
                    let out = try! e.step(action: act, observation: obs)
                    if out.done { e.reset(seed: nil, observation: obs); episodes += 1 }
                }
            }
            var extra: [(String, String)] = [("env", "\"\(spec.id)\""), ("episodes", "\(episodes)")]
            if let p = Self.peers[spec.id.rawValue] {
                let s = rates.sorted()
                extra += [("peer", "\"\(p.name)\""), ("peer_steps_per_s", "\(Int(p.rate))"),
                          ("speedup_vs_peer", format3(s[s.count / 2] / p.rate))]
            }
            print(benchLine(bench: "env_step", label: "\(spec.id) random actions, 1 thread", values: rates,
                            unit: "steps/s", extra: extra))
        }
    }
}
