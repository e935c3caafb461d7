import Foundation

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
}

/// Saving and loading agents as a folder:
///
/// - `model.safetensors`: `policy.*` (θ), `policy_ema.*` (θ', when the EMA is on),
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

    /// Writes `agent` to the folder `dir` (replacing it if it exists).
    public static func save(_ agent: OFQLAgent, to dir: URL, datasetID: String, seed: UInt64,
                            trainerRNG: Xoshiro? = nil, blasThreads: Int = 1) throws {
        let fm = FileManager.default
        let tmp = dir.deletingLastPathComponent().appendingPathComponent(".\(dir.lastPathComponent).tmp-\(getpid())")
        try? fm.removeItem(at: tmp)
        try fm.createDirectory(at: tmp, withIntermediateDirectories: true)

        var model: [SafeTensors.Tensor] = []
        model += tensors(agent.policy, prefix: nil, values: true)
        if let e = agent.policyEMA { model += tensors(e, rename: ("policy.", "policy_ema."), values: true) }
        if let c = agent.critic, let ct = agent.criticTarget {
            model += tensors(c, prefix: nil, values: true)
            model += tensors(ct, rename: ("critic.", "critic_target."), values: true)
        }
        model.append(.init(name: "normalizer.obs_mean", shape: [agent.obsDim], values: agent.normalizer.mean))
        model.append(.init(name: "normalizer.obs_std", shape: [agent.obsDim], values: agent.normalizer.std))
        let meta = ["format": "ofql-checkpoint", "format_version": String(formatVersion), "step": String(agent.step),
                    "algo": agent.config.algo.rawValue]
        try writeAtomically(SafeTensors.encode(model, metadata: meta), to: tmp.appendingPathComponent("model.safetensors"))

        var opt: [SafeTensors.Tensor] = []
        opt += moments(agent.actorOpt, layout: agent.policy.layout, prefix: "actor")
        if let co = agent.criticOpt, let c = agent.critic { opt += moments(co, layout: c.layout, prefix: "critic") }
        try writeAtomically(SafeTensors.encode(opt, metadata: meta), to: tmp.appendingPathComponent("optimizer.safetensors"))

        let info = CheckpointInfo(formatVersion: formatVersion, step: agent.step, obsDim: agent.obsDim, actDim: agent.actDim,
                                  datasetID: datasetID, seed: seed, config: agent.config, agentRNG: agent.rng,
                                  trainerRNG: trainerRNG, blasThreads: blasThreads,
                                  actorAdamStep: agent.actorOpt.step, criticAdamStep: agent.criticOpt?.step ?? 0)
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys]
        try writeAtomically(enc.encode(info), to: tmp.appendingPathComponent("checkpoint.json"))

        if fm.fileExists(atPath: dir.path) { try fm.removeItem(at: dir) }
        try fm.moveItem(at: tmp, to: dir)
    }

    /// Reads a checkpoint folder, validating the version, every tensor's presence and shape.
    public static func load(from dir: URL) throws -> (agent: OFQLAgent, info: CheckpointInfo) {
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
            return x.values
        }
        let norm = ObservationNormalizer(mean: try tensor(model.tensors, modelPath, "normalizer.obs_mean", [info.obsDim]),
                                         std: try tensor(model.tensors, modelPath, "normalizer.obs_std", [info.obsDim]))
        let agent: OFQLAgent
        do {
            agent = try OFQLAgent.create(config: info.config, obsDim: info.obsDim, actDim: info.actDim, seed: 0, normalizer: norm)
        } catch { throw CheckpointError.mismatch("\(infoURL.path): \(error)") }
        func fill(_ block: ParameterBlock<Float>, rename: (String, String)?) throws {
            for e in block.layout.entries {
                let name = rename.map { e.name.replacingOccurrences(of: $0.0, with: $0.1, options: .anchored) } ?? e.name
                let vals = try tensor(model.tensors, modelPath, name, e.shape)
                vals.withUnsafeBufferPointer { (block.values + e.offset).update(from: $0.baseAddress!, count: e.count) }
            }
        }
        try fill(agent.policy, rename: nil)
        if let e = agent.policyEMA { try fill(e, rename: ("policy.", "policy_ema.")) }
        if let c = agent.critic, let ct = agent.criticTarget {
            try fill(c, rename: nil)
            try fill(ct, rename: ("critic.", "critic_target."))
        }
        let optPath = dir.appendingPathComponent("optimizer.safetensors").path
        guard let optData = FileManager.default.contents(atPath: optPath) else { throw CheckpointError.missingFile(optPath) }
        let opt = try SafeTensors.decode(optData, source: optPath)
        func fillMoments(_ adam: Adam<Float>, _ layout: ParameterLayout, _ prefix: String) throws {
            for e in layout.entries {
                let m = try tensor(opt.tensors, optPath, "\(prefix).m.\(e.name)", e.shape)
                let v = try tensor(opt.tensors, optPath, "\(prefix).v.\(e.name)", e.shape)
                m.withUnsafeBufferPointer { (adam.m + e.offset).update(from: $0.baseAddress!, count: e.count) }
                v.withUnsafeBufferPointer { (adam.v + e.offset).update(from: $0.baseAddress!, count: e.count) }
            }
        }
        try fillMoments(agent.actorOpt, agent.policy.layout, "actor")
        agent.actorOpt.step = info.actorAdamStep
        if let co = agent.criticOpt, let c = agent.critic {
            try fillMoments(co, c.layout, "critic")
            co.step = info.criticAdamStep
        }
        agent.step = info.step
        agent.rng = info.agentRNG
        return (agent, info)
    }

    static func tensors(_ block: ParameterBlock<Float>, prefix: String? = nil, rename: (String, String)? = nil,
                        values: Bool) -> [SafeTensors.Tensor] {
        block.layout.entries.map { e in
            var name = e.name
            if let (a, b) = rename { name = name.replacingOccurrences(of: a, with: b, options: .anchored) }
            if let prefix { name = prefix + name }
            let src = (values ? block.values : block.grads) + e.offset
            return SafeTensors.Tensor(name: name, shape: e.shape, values: Array(UnsafeBufferPointer(start: src, count: e.count)))
        }
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
        let tmp = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).tmp-\(getpid())")
        try data.write(to: tmp)
        guard rename(tmp.path, url.path) == 0 else {
            let e = errno
            try? FileManager.default.removeItem(at: tmp)
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: url.path,
                                                           NSLocalizedDescriptionKey: "rename failed (errno \(e))"])
        }
    }
}
