import Datasets
import Foundation
import Randomness

/// Everything in a checkpoint besides tensors (`checkpoint.json`).
public struct CheckpointInfo: Codable, Sendable, Equatable {
    /// Checkpoint layout version; ``Checkpoint/formatVersion`` is the one this build writes and reads.
    public var formatVersion: Int
    /// Completed gradient steps.
    public var step: Int
    public var obsDim: Int
    public var actDim: Int
    /// Free-form dataset identity (file name, env id, ...).
    public var datasetID: String
    /// The environment the dataset was collected in (its `metadata/env_id`), for evaluation;
    /// nil when unknown or in older checkpoints.
    public var envID: String? = nil
    /// The seed the run started from.
    public var seed: UInt64
    public var config: OFQLConfig
    /// The agent's noise stream.
    public var agentRNG: Xoshiro
    /// The trainer's minibatch stream (nil when saved outside a trainer).
    public var trainerRNG: Xoshiro?
    /// Learner threads of the run: BLAS threads, or the agent's update workers (each over
    /// single-threaded BLAS) when that is more (resume is bit-identical only with the same count).
    public var blasThreads: Int
    /// Adam step counts (actor, critic).
    public var actorAdamStep: Int
    public var criticAdamStep: Int
    /// Every optimiser's step count by its moments' prefix (learners with more than an actor
    /// and a critic optimiser, e.g. IQL's value network; nil in older checkpoints).
    public var adamSteps: [String: Int]? = nil
}

/// Saving and loading agents as a folder:
///
/// - `model.safetensors`: `policy.*` (θ), `policy_ema.*` (θ', when the EMA is on),
///   `policy_target.*` (TD3+BC's θ'),
///   `critic.q1.*`, `critic.q2.*` (φ), `critic_target.q{1,2}.*` (φ'), `normalizer.obs_mean`,
///   `normalizer.obs_std`. MLP tensors are `<net>.layers.{i}.weight` [out × in] and
///   `<net>.layers.{i}.bias`, LayerNorm `<net>.norms.{i}.weight|bias`; OFQL policies have
///   `policy.body.*` and, with sinusoidal time input, `policy.t_embed.*`, `policy.r_embed.*`.
/// - `optimizer.safetensors`: `actor.m.<name>`, `actor.v.<name>`, `critic.m.<name>`, `critic.v.<name>`.
/// - `checkpoint.json`: ``CheckpointInfo`` (config, step, RNG states, dataset id, version).
///
/// Every file is written to a temporary name and renamed; the folder itself is assembled under
/// a temporary name and renamed into place, so a crash never leaves a half-written checkpoint.
public enum Checkpoint {
    public static let formatVersion = 1

    /// Writes `learner` to the folder `dir` (replacing it if it exists).
    public static func save(_ learner: any Learner, to dir: URL, datasetID: String, envID: String? = nil, seed: UInt64,
                            trainerRNG: Xoshiro? = nil, blasThreads: Int = 1) throws {
        let fm = FileManager.default
        AtomicFiles.removeStaleTemporaries(of: dir.lastPathComponent, in: dir.deletingLastPathComponent().path)
        let tmp = dir.deletingLastPathComponent().appendingPathComponent(AtomicFiles.temporaryName(for: dir.lastPathComponent))
        try? fm.removeItem(at: tmp)
        try fm.createDirectory(at: tmp, withIntermediateDirectories: true)

        let sets = learner.parameterSets
        var model = sets.flatMap { set in
            set.block.layout.entries.map { e in
                SafeTensors.Tensor(name: set.storedName(e.name), shape: e.shape,
                                   values: Array(UnsafeBufferPointer(start: set.block.values + e.offset, count: e.count)))
            }
        }
        model.append(.init(name: "normalizer.obs_mean", shape: [learner.obsDim], values: learner.normalizer.mean))
        model.append(.init(name: "normalizer.obs_std", shape: [learner.obsDim], values: learner.normalizer.std))
        let meta = ["format": "ofql-checkpoint", "format_version": String(formatVersion), "step": String(learner.step),
                    "algo": learner.config.algo.rawValue]
        try writeAtomically(SafeTensors.encode(model, metadata: meta), to: tmp.appendingPathComponent("model.safetensors"))

        let opt = sets.flatMap { set in set.optimizer.map { moments($0.adam, layout: set.block.layout, prefix: $0.prefix) } ?? [] }
        try writeAtomically(SafeTensors.encode(opt, metadata: meta), to: tmp.appendingPathComponent("optimizer.safetensors"))

        func adamStep(_ prefix: String) -> Int { sets.compactMap { $0.optimizer }.first { $0.prefix == prefix }?.adam.step ?? 0 }
        let info = CheckpointInfo(formatVersion: formatVersion, step: learner.step, obsDim: learner.obsDim, actDim: learner.actDim,
                                  datasetID: datasetID, envID: envID, seed: seed, config: learner.config, agentRNG: learner.rng,
                                  trainerRNG: trainerRNG, blasThreads: blasThreads,
                                  actorAdamStep: adamStep("actor"), criticAdamStep: adamStep("critic"),
                                  adamSteps: Dictionary(uniqueKeysWithValues: sets.compactMap { $0.optimizer.map { ($0.prefix, $0.adam.step) } }))
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys]
        try writeAtomically(enc.encode(info), to: tmp.appendingPathComponent("checkpoint.json"))

        if fm.fileExists(atPath: dir.path) { try fm.removeItem(at: dir) }
        try fm.moveItem(at: tmp, to: dir)
    }

    /// Reads a checkpoint folder, validating the version and every tensor's presence, shape and
    /// finiteness. With `optimizer` false the folder needs only `checkpoint.json` and
    /// `model.safetensors` (a policy shipped for evaluation); resuming needs the optimizer state.
    public static func load(from dir: URL, optimizer: Bool = true) throws -> (agent: any Learner, info: CheckpointInfo) {
        let infoURL = dir.appendingPathComponent("checkpoint.json")
        guard let infoData = FileManager.default.contents(atPath: infoURL.path) else { throw CheckpointError.missingFile(infoURL.path) }
        // Version first, so a future layout gets a version error rather than a decoding error.
        if let obj = try? JSONSerialization.jsonObject(with: infoData) as? [String: Any],
           let v = (obj["formatVersion"] as? NSNumber)?.intValue, v != formatVersion {
            throw CheckpointError.version(file: infoURL.path, found: v, supported: formatVersion)
        }
        let info: CheckpointInfo
        do { info = try JSONDecoder().decode(CheckpointInfo.self, from: infoData) } catch {
            throw CheckpointError.badHeader(file: infoURL.path, detail: "\(error)")
        }
        let modelPath = dir.appendingPathComponent("model.safetensors").path
        guard let modelData = FileManager.default.contents(atPath: modelPath) else { throw CheckpointError.missingFile(modelPath) }
        let model = try SafeTensors.decode(modelData, source: modelPath)
        if let v = model.metadata["format_version"], Int(v) != formatVersion {
            throw CheckpointError.version(file: modelPath, found: Int(v) ?? -1, supported: formatVersion)
        }
        func tensor(_ t: [String: SafeTensors.Tensor], _ file: String, _ name: String, _ shape: [Int]) throws -> [Float] {
            guard let x = t[name] else { throw CheckpointError.missingTensor(file: file, name: name) }
            guard x.shape == shape else { throw CheckpointError.wrongShape(file: file, name: name, expected: shape, got: x.shape) }
            if let i = x.values.firstIndex(where: { !$0.isFinite }) {
                throw CheckpointError.nonFinite(file: file, name: name, index: i, value: x.values[i])
            }
            return x.values
        }
        let norm = ObservationNormalizer(mean: try tensor(model.tensors, modelPath, "normalizer.obs_mean", [info.obsDim]),
                                         std: try tensor(model.tensors, modelPath, "normalizer.obs_std", [info.obsDim]))
        let agent: any Learner
        do {
            agent = try Learners.create(config: info.config, obsDim: info.obsDim, actDim: info.actDim, seed: 0, normalizer: norm)
        } catch { throw CheckpointError.mismatch("\(infoURL.path): \(error)") }
        let sets = agent.parameterSets
        for set in sets {
            for e in set.block.layout.entries {
                let vals = try tensor(model.tensors, modelPath, set.storedName(e.name), e.shape)
                vals.withUnsafeBufferPointer { (set.block.values + e.offset).update(from: $0.baseAddress!, count: e.count) }
            }
        }
        agent.step = info.step
        agent.rng = info.agentRNG
        guard optimizer else { return (agent, info) }
        let optPath = dir.appendingPathComponent("optimizer.safetensors").path
        guard let optData = FileManager.default.contents(atPath: optPath) else { throw CheckpointError.missingFile(optPath) }
        let opt = try SafeTensors.decode(optData, source: optPath)
        for set in sets {
            guard let (prefix, adam) = set.optimizer else { continue }
            for e in set.block.layout.entries {
                let m = try tensor(opt.tensors, optPath, "\(prefix).m.\(e.name)", e.shape)
                let v = try tensor(opt.tensors, optPath, "\(prefix).v.\(e.name)", e.shape)
                m.withUnsafeBufferPointer { (adam.m + e.offset).update(from: $0.baseAddress!, count: e.count) }
                v.withUnsafeBufferPointer { (adam.v + e.offset).update(from: $0.baseAddress!, count: e.count) }
            }
            adam.step = info.adamSteps?[prefix] ?? (prefix == "actor" ? info.actorAdamStep : info.criticAdamStep)
        }
        return (agent, info)
    }

    static func moments(_ adam: Adam<Float>, layout: ParameterLayout, prefix: String) -> [SafeTensors.Tensor] {
        layout.entries.flatMap { e in
            [SafeTensors.Tensor(name: "\(prefix).m.\(e.name)", shape: e.shape,
                                values: Array(UnsafeBufferPointer(start: adam.m + e.offset, count: e.count))),
             SafeTensors.Tensor(name: "\(prefix).v.\(e.name)", shape: e.shape,
                                values: Array(UnsafeBufferPointer(start: adam.v + e.offset, count: e.count)))]
        }
    }

    /// Writes `data` to a temporary sibling and renames it over `url`.
    public static func writeAtomically(_ data: Data, to url: URL) throws {
        AtomicFiles.removeStaleTemporaries(of: url.lastPathComponent, in: url.deletingLastPathComponent().path)
        let tmp = url.deletingLastPathComponent().appendingPathComponent(AtomicFiles.temporaryName(for: url.lastPathComponent))
        try data.write(to: tmp)
        guard rename(tmp.path, url.path) == 0 else {
            let e = errno
            try? FileManager.default.removeItem(at: tmp)
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: url.path,
                                                           NSLocalizedDescriptionKey: "rename failed (errno \(e))"])
        }
    }
}
