import ArgumentParser
import Envs
import Experiments
import Foundation
import Rollout

/// `ofql-eval reference`: measure R_random and R_expert for normalised scores.
struct ReferenceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reference",
        abstract: "Measure R_random and R_expert (100 seeded episodes each) for D4RL-style normalised scores.",
        discussion: "Prints one JSON object per env; --update writes them into the catalog file (datasets/catalog.json).")

    @Option(help: "Environment ids (default: every locomotion env).") var env: [String] = []
    @Option(help: "Episodes per policy.") var episodes = 100
    @Option(help: "Base seed.") var seed: UInt64 = 0
    @Option(help: "Dispatch workers.") var workers = ProcessInfo.processInfo.activeProcessorCount
    @Option(help: "Catalog JSON file to update.") var update: String?

    func run() throws {
        let ids = env.isEmpty ? EnvRegistry.all.filter { $0.domain == .locomotion }.map(\.id.rawValue) : env
        let provider = BundledBehaviors(noise: 0)
        var entries: [String: Any] = [:]
        if let update, let data = FileManager.default.contents(atPath: update),
           let obj = try? JSONSerialization.jsonObject(with: data) as? [String: Any] { entries = obj }
        var refs = entries["reference_scores"] as? [String: Any] ?? [:]
        for id in ids {
            let spec = try envSpec(id)
            let args = try RolloutArguments.parse(["--episodes", "\(episodes)", "--workers", "\(workers)", "--seed", "\(seed)"])
            let random = try Evaluator.evaluate(spec: spec, policy: try provider.policy(named: "random", spec: spec), name: "random", rollout: args).0
            let expert = try Evaluator.evaluate(spec: spec, policy: try provider.policy(named: "expert", spec: spec), name: "expert", rollout: args).0
            let entry: [String: Any] = ["random": random.return.mean, "expert": expert.return.mean, "episodes": episodes, "seed": seed,
                                        "random_std": random.return.std, "expert_std": expert.return.std,
                                        "env_version": spec.version, "generator": PackageInfo.version]
            refs[id] = entry
            let line = try JSONSerialization.data(withJSONObject: ["env": id] .merging(entry) { a, _ in a }, options: [.sortedKeys])
            print(String(decoding: line, as: UTF8.self))
        }
        if let update {
            entries["reference_scores"] = refs
            entries["generator"] = PackageInfo.version
            entries["datasets"] = DatasetCatalog.all.map { e -> [String: Any] in
                ["id": e.id, "env": e.env.rawValue, "variant": e.variant, "default_size": e.defaultSize, "summary": e.summary]
            }
            let data = try JSONSerialization.data(withJSONObject: entries, options: [.prettyPrinted, .sortedKeys])
            try writeAtomically(String(decoding: data, as: UTF8.self) + "\n", to: update, flag: "--update")
        }
    }
}
