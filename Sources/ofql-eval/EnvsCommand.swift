import ArgumentParser
import Experiments
import Rollout
import Envs

/// `ofql-eval envs …`: list, check, evaluate and render the bundled environments.
struct EnvsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "envs", abstract: "List, check, evaluate and render environments.",
        subcommands: [EnvsList.self, EnvsCheck.self, EnvsEval.self, EnvsRender.self])
}

/// Options naming the package's `datasets` folder (behaviour policies live below it).
struct DatasetsOption: ParsableArguments {
    @Option(help: "The package's datasets folder (behaviour policies in <datasets>/behavior/); default: found above the working directory or the executable, or $OFQL_DATASETS.")
    var datasetsPath: String?
    /// The folder to use.
    var datasets: String { datasetsPath ?? DataPaths.datasetsFolder() ?? "datasets" }
}

/// A policy choice on the command line: random, expert or medium.
enum PolicyChoice: String, ExpressibleByArgument, CaseIterable {
    case random, expert, medium

    func actor(env: EnvID, datasets: String, noise: Float) throws -> ActorChoice {
        switch self {
        case .random: return .random
        case .expert, .medium:
            do {
                return .behavior(try BehaviorPolicy.load(datasets: datasets, env: env, level: self == .expert ? .expert : .medium,
                                                         noiseStd: noise))
            } catch { throw ValidationError("--policy \(rawValue): \(error)") }
        }
    }
}

func lookupSpec(_ id: String, flag: String = "--env") throws -> EnvSpec {
    do { return try EnvRegistry.spec(EnvID(rawValue: id)) } catch { throw ValidationError("\(flag): \(error)") }
}

struct EnvsList: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List registered environments.")
    func run() throws {
        print("id           version  obs  act  max-steps  dt      summary")
        for s in EnvRegistry.all {
            let ref = s.referenceScores.map { "  R_random \($0.random), R_expert \($0.expert)" } ?? ""
            print(s.id.rawValue.padding(13) + "v\(s.version)".padding(9) + "\(s.observationDimension)".padding(5)
                  + "\(s.actionDimension)".padding(5) + "\(s.maxEpisodeSteps)".padding(11) + "\(s.controlPeriod)".padding(8)
                  + s.summary + ref)
        }
    }
}

struct EnvsCheck: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check", abstract: "Run the env checker; exits non-zero naming each failed check.")
    @Option(help: "Env id to check.") var env: String?
    @Flag(help: "Check every registered env.") var all = false
    @Option(help: "Seed of the checker's draws.") var seed: UInt64 = 0

    func validate() throws {
        guard (env != nil) != all else { throw ValidationError("pass exactly one of --env ID or --all") }
        if let env { _ = try lookupSpec(env) }
    }

    func run() throws {
        let specs = all ? EnvRegistry.all : [try lookupSpec(env!)]
        var failures: [EnvCheckFailure] = []
        for s in specs {
            let f = EnvChecker(spec: s, seed: seed).run()
            print(f.isEmpty ? "ok    \(s.id)" : "FAIL  \(s.id): \(Set(f.map(\.check)).sorted().joined(separator: ", "))")
            for x in f { print("      \(x.check): \(x.message)") }
            failures += f
        }
        if !failures.isEmpty { throw ExitCode(1) }
    }
}

struct EnvsEval: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval", abstract: "Seeded episodes of a policy: mean return, survival, speed (JSON line).")
    @Option(help: "Env id.") var env: String
    @Option(help: "random, expert or medium.") var policy: PolicyChoice = .expert
    @Option(help: "Episodes (episode i uses the env seed seed + i, as evaluate does).") var episodes = 100
    @Option(help: "Base seed.") var seed: UInt64 = 0
    @Option(help: "Gaussian action-noise std for behaviour policies.") var noise: Float = 0
    @Option(help: "Worker threads.") var workers = 2
    @OptionGroup var data: DatasetsOption

    func validate() throws {
        _ = try lookupSpec(env)
        guard episodes > 0 else { throw ValidationError("--episodes must be positive, got \(episodes)") }
        guard workers > 0 else { throw ValidationError("--workers must be positive, got \(workers)") }
        guard noise >= 0, noise.isFinite else { throw ValidationError("--noise must be a non-negative number") }
    }

    func run() throws {
        let spec = try lookupSpec(env)
        let actor = try policy.actor(env: spec.id, datasets: data.datasets, noise: noise)
        let s = evaluate(spec: spec, actor: actor, episodes: episodes, seedBase: seed, workers: workers)
        print("{\"env\": \"\(spec.id)\", \"policy\": \"\(policy.rawValue)\", \"episodes\": \(episodes), \"seed\": \(seed), "
              + "\"mean_return\": \(format3(s.meanReturn)), \"survival\": \(format3(s.survivalRate)), "
              + "\"mean_speed_m_per_s\": \(format3(s.meanSpeed)), \"mean_length\": \(format3(s.meanLength))}")
    }
}

struct EnvsRender: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "render", abstract: "Write an SVG of one episode (filmstrip for locomotion; top-down path for mazes and the kitchen).")
    @Option(help: "Env id.") var env: String
    @Option(help: "random, expert or medium.") var policy: PolicyChoice = .expert
    @Option(help: "Episode seed.") var seed: UInt64 = 0
    @Option(help: "Output .svg file.") var out: String
    @Option(help: "Steps between frames.") var every = 0
    @Option(help: "Most frames drawn.") var frames = 12
    @OptionGroup var data: DatasetsOption

    func validate() throws {
        _ = try lookupSpec(env)
        guard out.hasSuffix(".svg") else { throw ValidationError("--out must name a .svg file, got '\(out)'") }
        guard every >= 0, frames >= 2 else { throw ValidationError("--every must be ≥ 0 and --frames ≥ 2") }
    }

    func run() throws {
        let spec = try lookupSpec(env)
        if TopDownRender.supports(spec.id) {
            // Mazes and the kitchen: a top-down picture with the rover's or fingertip's path;
            // expert/medium mean the scripted planner.
            let svg: String
            do {
                svg = try TopDownRender.episodeSVG(id: spec.id, seed: seed, policy: policy == .random ? .random : .scripted)
            } catch { throw ValidationError("--env: \(error)") }
            do { try writeTextFile(out, svg) } catch { throw ValidationError("--out: \(error)") }
            Log.info("wrote \(out)")
            return
        }
        let actor = try policy.actor(env: spec.id, datasets: data.datasets, noise: 0)
        let step = every > 0 ? every : max(1, spec.maxEpisodeSteps / (frames - 1))
        let (fr, sum) = filmstripFrames(spec: spec, actor: actor, seed: seed, every: step, maxFrames: frames)
        let title = "\(spec.id)-v\(spec.version), \(policy.rawValue) policy, seed \(seed): return \(format3(sum.totalReturn)), "
            + "\(sum.steps) steps\(sum.terminated ? " (terminated)" : ""), \(format3(sum.meanSpeed)) m/s"
        do { try writeTextFile(out, SVGFilmstrip(title: title, frames: fr).svg()) } catch { throw ValidationError("--out: \(error)") }
        Log.info("wrote \(out): \(title)")
    }
}

extension String {
    func padding(_ n: Int) -> String { count >= n ? self + " " : self + String(repeating: " ", count: n - count) }
}
