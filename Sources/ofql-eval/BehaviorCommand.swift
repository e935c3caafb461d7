import ArgumentParser
import Experiments
import Envs

/// `ofql-eval behavior …`: tune the scripted behaviour policies (ARS V2-t on linear controllers).
struct BehaviorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "behavior", abstract: "Tune scripted behaviour policies.", subcommands: [BehaviorTune.self, BehaviorAddMedium.self])
}

struct BehaviorTune: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tune",
        abstract: "Search linear controller parameters with ARS V2-t; writes expert, medium and history as JSON.",
        discussion: "Deterministic for a seed: results do not depend on --workers.")
    @Option(help: "Env id.") var env: String
    @Option(help: "Search seed.") var seed: UInt64 = 0
    @Option(help: "Iterations (default: the env's committed setting).") var iterations: Int?
    @Option(help: "Directions per iteration (default: the env's committed setting).") var directions: Int?
    @Option(help: "Worker threads.") var workers = 2
    @Option(help: "Output JSON file.") var out: String

    func validate() throws {
        _ = try lookupSpec(env)
        if let iterations, iterations < 1 { throw ValidationError("--iterations must be at least 1, got \(iterations)") }
        if let directions, directions < 1 { throw ValidationError("--directions must be at least 1, got \(directions)") }
        guard workers >= 1 else { throw ValidationError("--workers must be at least 1, got \(workers)") }
        guard out.hasSuffix(".json") else { throw ValidationError("--out must name a .json file, got '\(out)'") }
    }

    func run() throws {
        let spec = try lookupSpec(env)
        var cfg = PolicySearchConfig.defaults(for: spec.id)
        if let iterations { cfg.iterations = iterations }
        if let directions { cfg.directions = directions; cfg.topDirections = min(cfg.topDirections, directions) }
        let search = PolicySearch(spec: spec, seed: seed, config: cfg, workers: workers)
        let t0 = monotonicSeconds()
        let tty = Log.stderrIsTerminal
        let file = search.run { p in
            guard tty || p.iteration % 50 == 0 else { return }
            let el = monotonicSeconds() - t0
            let eta = el / Double(p.iteration + 1) * Double(cfg.iterations - p.iteration - 1)
            Log.info("iter \(p.iteration)/\(cfg.iterations) return \(format3(p.evalReturn)) speed \(format3(p.evalSpeed)) m/s "
                     + "best \(format3(p.bestReturn)) | \(format3(Double(p.envSteps) / el)) steps/s, ETA \(Int(eta)) s")
        }
        do { try file.write(to: out) } catch { throw ValidationError("--out: \(error)") }
        Log.info("expert: iteration \(file.expert.iteration), return \(format3(file.expert.meanReturn)), "
                 + "speed \(format3(file.expert.meanSpeed)) m/s; medium: iteration \(file.medium.iteration), "
                 + "return \(format3(file.medium.meanReturn)); wrote \(out)")
    }
}

struct BehaviorAddMedium: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add-medium",
        abstract: "Store another search's medium iterate in an env's behaviour file as its independent medium.",
        discussion: """
            The medium-expert datasets (v3 on hopper) pair the expert with the medium controller of a \
            second, independent search, as D4RL pairs policies from separate training runs: \
            ofql-eval behavior tune --env hopper --seed 1 --out hopper-seed1.json && \
            ofql-eval behavior add-medium --env hopper --from hopper-seed1.json
            """)
    @Option(help: "Env id.") var env: String
    @Option(help: "Behaviour file of the independent search (from `behavior tune --seed N`).") var from: String
    @Option(help: "Folder holding behavior/<env>.json.") var datasets = "datasets"
    @Option(help: ArgumentHelp("Choose the other search's iterate by absolute return instead of taking its medium: of the iterates its file keeps from before its expert (every one up to its own medium, every history_every-th after), the one whose return, confirmed on fresh episodes, is closest to this value.", valueName: "return"))
    var targetReturn: Double?
    @Option(help: "Rollout workers for the confirming episodes (with --target-return).") var workers = 2

    func validate() throws {
        if let r = targetReturn, !r.isFinite { throw ValidationError("--target-return must be a finite return, got \(r)") }
        guard workers >= 1 else { throw ValidationError("--workers must be at least 1, got \(workers)") }
    }

    func run() throws {
        let spec = try lookupSpec(env)
        let path = BehaviorFile.path(datasets: datasets, env: spec.id)
        var file: BehaviorFile
        let other: BehaviorFile
        do { file = try BehaviorFile.load(datasets: datasets, env: spec.id) } catch { throw ValidationError("--datasets: \(error)") }
        do { other = try BehaviorFile.load(from) } catch { throw ValidationError("--from: \(error)") }
        guard other.env == spec.id, other.envVersion == file.envVersion else {
            throw ValidationError("--from \(from) was tuned on \(other.env) v\(other.envVersion), expected \(spec.id) v\(file.envVersion)")
        }
        guard other.seed != file.seed else {
            throw ValidationError("--from \(from) comes from search seed \(other.seed), the same search as \(path); use another --seed")
        }
        var medium = other.medium
        if let target = targetReturn {
            guard other.history.contains(where: { $0.iteration < other.expert.iteration }) else {
                throw ValidationError("--from \(from) keeps no iterate from before its expert (iteration \(other.expert.iteration)) to choose from")
            }
            // The other search's iterates with its own confirmation episodes, so the choice is
            // reproducible from that file alone.
            let search = PolicySearch(spec: spec, seed: other.seed, config: other.config, workers: workers)
            medium = search.confirmedMedium(other.history, target: target, before: other.expert.iteration)
        }
        file.independentMedium = medium
        file.independentMediumSeed = other.seed
        do { try file.write(to: path) } catch { throw ValidationError("\(path): \(error)") }
        Log.info("\(path): independent medium from search seed \(other.seed), iteration \(medium.iteration), "
                 + "return \(format3(medium.meanReturn))")
    }
}
