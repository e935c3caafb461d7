import Envs
import Foundation
import OFQL

/// Finds the package's `datasets` folder (behaviour-policy files, catalog): `$OFQL_DATASETS`,
/// else the first `datasets/behavior` above the working directory or the executable.
public enum DataPaths {
    public static func datasetsFolder() -> String? {
        if let env = ProcessInfo.processInfo.environment["OFQL_DATASETS"], !env.isEmpty { return env }
        var starts = [URL(fileURLWithPath: FileManager.default.currentDirectoryPath)]
        starts.append(URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent())
        for start in starts {
            var dir = start
            for _ in 0..<6 {
                let candidate = dir.appendingPathComponent("datasets")
                if FileManager.default.fileExists(atPath: candidate.appendingPathComponent("behavior").path) { return candidate.path }
                dir = dir.deletingLastPathComponent()
            }
        }
        return nil
    }
}

/// A ``LinearPolicy`` acting on batches with per-episode Gaussian noise.
public final class LinearBatchPolicy: BatchPolicy {
    public let name: String
    public let policy: LinearPolicy
    public let noiseStd: Float
    public var observationDimension: Int { policy.observationDimension }
    public var actionDimension: Int { policy.actionDimension }

    public init(name: String, policy: LinearPolicy, noiseStd: Float) {
        self.name = name; self.policy = policy; self.noiseStd = noiseStd
    }
    public func makeWorkerCopy() -> BatchPolicy { LinearBatchPolicy(name: name, policy: policy, noiseStd: noiseStd) }
    public func act(observations: UnsafePointer<Float>, count: Int, lanes: UnsafePointer<Int>,
                    actions: UnsafeMutablePointer<Float>, rngs: UnsafeMutablePointer<Xoshiro>) {
        let od = observationDimension, ad = actionDimension
        for r in 0..<count {
            let a = actions + r * ad
            policy.act(observations + r * od, into: a)
            if noiseStd > 0 {
                for j in 0..<ad { a[j] = min(1, max(-1, a[j] + noiseStd * Float(rngs[r].normal()))) }
            }
        }
    }
}

/// The behaviour policies of the bundled envs, from the committed files under `datasets/`.
public struct BundledBehaviors: BehaviorProvider {
    /// Gaussian action noise used when collecting locomotion datasets (the deterministic
    /// controllers would otherwise give near-identical episodes).
    public static let datasetNoise: Float = 0.1
    /// The folder holding `behavior/<env>.json`, nil when none was found.
    public let datasets: String?
    public let noise: Float

    public init(datasets: String? = nil, noise: Float = BundledBehaviors.datasetNoise) {
        self.datasets = datasets ?? DataPaths.datasetsFolder()
        self.noise = noise
    }

    func file(_ spec: EnvSpec) throws -> BehaviorFile {
        guard let datasets else {
            throw RolloutError.invalid("cannot find the datasets/ folder with behaviour policies; run from the repository or set OFQL_DATASETS")
        }
        do { return try BehaviorFile.load(BehaviorFile.path(datasets: datasets, env: spec.id)) } catch {
            throw RolloutError.invalid("\(error)")
        }
    }

    public func policy(named name: String, spec: EnvSpec) throws -> BatchPolicy {
        switch (spec.domain, name) {
        case (_, "random"):
            return RandomPolicy(observationDimension: spec.observationDimension, actionDimension: spec.actionDimension)
        case (.locomotion, "expert"):
            return LinearBatchPolicy(name: "expert", policy: try file(spec).expert.policy, noiseStd: noise)
        case (.locomotion, "medium"):
            return LinearBatchPolicy(name: "medium", policy: try file(spec).medium.policy, noiseStd: noise)
        default:
            if let p = try ScriptedBehaviors.policy(named: name, spec: spec, noise: noise) { return p }
            throw RolloutError.invalid("no behaviour policy '\(name)' for \(spec.id); known: \(BundledBehaviors.names(for: spec).joined(separator: ", "))")
        }
    }

    public func replayPolicies(spec: EnvSpec) throws -> [BatchPolicy] {
        let f = try file(spec)
        let upTo = f.history.filter { $0.iteration <= f.medium.iteration }
        return upTo.map { LinearBatchPolicy(name: "iterate-\($0.iteration)", policy: $0.policy, noiseStd: noise) }
    }

    /// Policy names `evaluate --policy` accepts for an env.
    public static func names(for spec: EnvSpec) -> [String] {
        switch spec.domain {
        case .locomotion: return ["random", "expert", "medium"]
        default: return ["random"] + ScriptedBehaviors.names(for: spec)
        }
    }
}

/// Scripted planners for maze and kitchen envs (filled in when those envs land).
enum ScriptedBehaviors {
    static func policy(named name: String, spec: EnvSpec, noise: Float) throws -> BatchPolicy? { nil }
    static func names(for spec: EnvSpec) -> [String] { [] }
}
