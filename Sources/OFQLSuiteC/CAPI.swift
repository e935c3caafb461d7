// The C ABI of libofqlsuite (see include/ofqlsuite.h): envs, a native vector env and dataset
// verification. Every entry point reports failures through its return value and `err`;
// nothing here may trap on bad input.
import Datasets
import Dispatch
import Envs
import Physics

/// Copies `message` into a caller buffer of `length` bytes, NUL-terminated, truncated when long.
func report(_ message: String, _ err: UnsafeMutablePointer<CChar>?, _ length: Int32) {
    guard let err, length > 0 else { return }
    var bytes = Array(message.utf8.prefix(Int(length) - 1)).map { CChar(bitPattern: $0) }
    bytes.append(0)
    bytes.withUnsafeBufferPointer { err.update(from: $0.baseAddress!, count: bytes.count) }
}

func spec(_ id: UnsafePointer<CChar>?, _ err: UnsafeMutablePointer<CChar>?, _ length: Int32) -> EnvSpec? {
    guard let id else { report("env id is NULL", err, length); return nil }
    do { return try EnvRegistry.spec(EnvID(rawValue: String(cString: id))) } catch {
        report("\(error)", err, length)
        return nil
    }
}

/// Static C strings for ids and the version (valid for the life of the process).
nonisolated(unsafe) let cStrings: [String: UnsafeMutablePointer<CChar>] = {
    var d: [String: UnsafeMutablePointer<CChar>] = [:]
    for s in EnvRegistry.all.map(\.id.rawValue) + [version] {
        let bytes = Array(s.utf8CString)
        let p = UnsafeMutablePointer<CChar>.allocate(capacity: bytes.count)
        p.initialize(from: bytes, count: bytes.count)
        d[s] = p
    }
    return d
}()
let version = "0.1.0"

@_cdecl("ofs_version")
public func ofs_version() -> UnsafePointer<CChar>? { UnsafePointer(cStrings[version]) }

@_cdecl("ofs_env_count")
public func ofs_env_count() -> Int32 { Int32(EnvRegistry.all.count) }

@_cdecl("ofs_env_id")
public func ofs_env_id(_ index: Int32) -> UnsafePointer<CChar>? {
    let all = EnvRegistry.all
    guard index >= 0, Int(index) < all.count else { return nil }
    return UnsafePointer(cStrings[all[Int(index)].id.rawValue])
}

@_cdecl("ofs_env_info")
public func ofs_env_info(_ id: UnsafePointer<CChar>?, _ obsDim: UnsafeMutablePointer<Int32>?, _ actDim: UnsafeMutablePointer<Int32>?,
                         _ maxSteps: UnsafeMutablePointer<Int32>?, _ versionOut: UnsafeMutablePointer<Int32>?,
                         _ low: UnsafeMutablePointer<Float>?, _ high: UnsafeMutablePointer<Float>?,
                         _ err: UnsafeMutablePointer<CChar>?, _ errlen: Int32) -> Int32 {
    guard let s = spec(id, err, errlen) else { return 1 }
    obsDim?.pointee = Int32(s.observationDimension)
    actDim?.pointee = Int32(s.actionDimension)
    maxSteps?.pointee = Int32(s.maxEpisodeSteps)
    versionOut?.pointee = Int32(s.version)
    if low != nil || high != nil {
        let box = s.makeBare().observationSpace
        for j in 0..<s.observationDimension { low?[j] = box.low[j]; high?[j] = box.high[j] }
    }
    return 0
}

/// One env behind a handle.
final class EnvHandle {
    let spec: EnvSpec
    let env: TimeLimit
    var done = true
    init(spec: EnvSpec) { self.spec = spec; env = spec.make() }
}

@_cdecl("ofs_env_create")
public func ofs_env_create(_ id: UnsafePointer<CChar>?, _ err: UnsafeMutablePointer<CChar>?, _ errlen: Int32) -> UnsafeMutableRawPointer? {
    guard let s = spec(id, err, errlen) else { return nil }
    World.warmUp()
    return Unmanaged.passRetained(EnvHandle(spec: s)).toOpaque()
}

@_cdecl("ofs_env_reset")
public func ofs_env_reset(_ handle: UnsafeMutableRawPointer?, _ seed: UInt64, _ obs: UnsafeMutablePointer<Float>?,
                          _ err: UnsafeMutablePointer<CChar>?, _ errlen: Int32) -> Int32 {
    guard let handle, let obs else { report("env handle or observation buffer is NULL", err, errlen); return 1 }
    let h = Unmanaged<EnvHandle>.fromOpaque(handle).takeUnretainedValue()
    h.env.reset(seed: seed, observation: obs)
    h.done = false
    return 0
}

/// Checks an action for width-independent problems the env would trap or throw on.
func checkAction(_ a: UnsafePointer<Float>, count: Int) -> String? {
    for j in 0..<count where !a[j].isFinite { return "action[\(j)] is \(a[j]) (actions must be finite)" }
    return nil
}

@_cdecl("ofs_env_step")
public func ofs_env_step(_ handle: UnsafeMutableRawPointer?, _ action: UnsafePointer<Float>?, _ obs: UnsafeMutablePointer<Float>?,
                         _ reward: UnsafeMutablePointer<Float>?, _ terminated: UnsafeMutablePointer<UInt8>?,
                         _ truncated: UnsafeMutablePointer<UInt8>?, _ err: UnsafeMutablePointer<CChar>?, _ errlen: Int32) -> Int32 {
    guard let handle, let action, let obs else { report("env handle, action or observation buffer is NULL", err, errlen); return 1 }
    let h = Unmanaged<EnvHandle>.fromOpaque(handle).takeUnretainedValue()
    guard !h.done else { report("\(h.spec.id): step called before reset or after the episode ended; call reset", err, errlen); return 1 }
    if let m = checkAction(action, count: h.spec.actionDimension) { report("\(h.spec.id): \(m)", err, errlen); return 1 }
    do {
        let o = try h.env.step(action: action, observation: obs)
        reward?.pointee = o.reward
        terminated?.pointee = o.terminated ? 1 : 0
        truncated?.pointee = o.truncated ? 1 : 0
        h.done = o.terminated || o.truncated
        return 0
    } catch {
        report("\(h.spec.id): \(error)", err, errlen)
        return 1
    }
}

@_cdecl("ofs_env_close")
public func ofs_env_close(_ handle: UnsafeMutableRawPointer?) {
    guard let handle else { return }
    Unmanaged<EnvHandle>.fromOpaque(handle).release()
}

/// `count` envs stepped in lockstep by `threads` Dispatch workers, each owning a contiguous slice.
final class VecHandle {
    let spec: EnvSpec
    let envs: [TimeLimit]
    let threads: Int
    var base: UInt64 = 0
    /// Episodes begun per env (its next autoreset seed is base + i + episodes[i] · count).
    var episodes: [UInt64]
    var needsReset: [Bool]
    var errors: [String?]
    init(spec: EnvSpec, count: Int, threads: Int) {
        self.spec = spec
        envs = (0..<count).map { _ in spec.make() }
        self.threads = max(1, min(threads, count))
        episodes = .init(repeating: 0, count: count)
        needsReset = .init(repeating: true, count: count)
        errors = .init(repeating: nil, count: count)
    }
    /// Runs `body(i)` for every env on the workers.
    func forEachEnv(_ body: (Int) -> Void) {
        let n = envs.count, t = threads
        if t == 1 { for i in 0..<n { body(i) }; return }
        // Each worker touches only its own slice of envs and buffers.
        withoutActuallyEscaping(body) { body in
            nonisolated(unsafe) let body = body
            DispatchQueue.concurrentPerform(iterations: t) { w in
                for i in (w * n / t)..<((w + 1) * n / t) { body(i) }
            }
        }
    }
    func seed(_ i: Int) -> UInt64 { base &+ UInt64(i) &+ episodes[i] &* UInt64(envs.count) }
}

@_cdecl("ofs_vec_create")
public func ofs_vec_create(_ id: UnsafePointer<CChar>?, _ count: Int32, _ threads: Int32,
                           _ err: UnsafeMutablePointer<CChar>?, _ errlen: Int32) -> UnsafeMutableRawPointer? {
    guard let s = spec(id, err, errlen) else { return nil }
    guard count >= 1, count <= 65536 else { report("num_envs must be between 1 and 65536, got \(count)", err, errlen); return nil }
    guard threads >= 1, threads <= 1024 else { report("num_threads must be between 1 and 1024, got \(threads)", err, errlen); return nil }
    World.warmUp()
    return Unmanaged.passRetained(VecHandle(spec: s, count: Int(count), threads: Int(threads))).toOpaque()
}

@_cdecl("ofs_vec_reset")
public func ofs_vec_reset(_ handle: UnsafeMutableRawPointer?, _ seed: UInt64, _ obs: UnsafeMutablePointer<Float>?,
                          _ err: UnsafeMutablePointer<CChar>?, _ errlen: Int32) -> Int32 {
    guard let handle, let obs else { report("vector env handle or observation buffer is NULL", err, errlen); return 1 }
    let v = Unmanaged<VecHandle>.fromOpaque(handle).takeUnretainedValue()
    v.base = seed
    let od = v.spec.observationDimension
    nonisolated(unsafe) let o = obs
    v.forEachEnv { i in
        v.episodes[i] = 0
        v.envs[i].reset(seed: v.seed(i), observation: o + i * od)
        v.needsReset[i] = false
    }
    return 0
}

@_cdecl("ofs_vec_step")
public func ofs_vec_step(_ handle: UnsafeMutableRawPointer?, _ actions: UnsafePointer<Float>?, _ obs: UnsafeMutablePointer<Float>?,
                         _ rewards: UnsafeMutablePointer<Float>?, _ terminated: UnsafeMutablePointer<UInt8>?,
                         _ truncated: UnsafeMutablePointer<UInt8>?, _ err: UnsafeMutablePointer<CChar>?, _ errlen: Int32) -> Int32 {
    guard let handle, let actions, let obs, let rewards, let terminated, let truncated else {
        report("vector env handle or a buffer is NULL", err, errlen); return 1
    }
    let v = Unmanaged<VecHandle>.fromOpaque(handle).takeUnretainedValue()
    let od = v.spec.observationDimension, ad = v.spec.actionDimension, n = v.envs.count
    for i in 0..<n {
        if !v.needsReset[i], let m = checkAction(actions + i * ad, count: ad) {
            report("\(v.spec.id) env \(i): \(m)", err, errlen); return 1
        }
    }
    nonisolated(unsafe) let (a, o, r, te, tr) = (actions, obs, rewards, terminated, truncated)
    v.forEachEnv { i in
        if v.needsReset[i] {
            // Next-step autoreset: this call starts env i's next episode.
            v.episodes[i] += 1
            v.envs[i].reset(seed: v.seed(i), observation: o + i * od)
            v.needsReset[i] = false
            r[i] = 0; te[i] = 0; tr[i] = 0
            return
        }
        do {
            let out = try v.envs[i].step(action: a + i * ad, observation: o + i * od)
            r[i] = out.reward; te[i] = out.terminated ? 1 : 0; tr[i] = out.truncated ? 1 : 0
            v.needsReset[i] = out.terminated || out.truncated
        } catch {
            v.errors[i] = "\(error)"
        }
    }
    if let i = v.errors.firstIndex(where: { $0 != nil }) {
        report("\(v.spec.id) env \(i): \(v.errors[i]!)", err, errlen)
        for k in 0..<n { v.errors[k] = nil }
        return 1
    }
    return 0
}

@_cdecl("ofs_vec_close")
public func ofs_vec_close(_ handle: UnsafeMutableRawPointer?) {
    guard let handle else { return }
    Unmanaged<VecHandle>.fromOpaque(handle).release()
}

@_cdecl("ofs_dataset_verify")
public func ofs_dataset_verify(_ path: UnsafePointer<CChar>?, _ envID: UnsafePointer<CChar>?,
                               _ err: UnsafeMutablePointer<CChar>?, _ errlen: Int32) -> Int32 {
    guard let path else { report("path is NULL", err, errlen); return -1 }
    let file = String(cString: path)
    let ds: D4RLDataset
    do { ds = try D4RLDataset.load(file) } catch { report("\(error)", err, errlen); return -1 }
    var s: EnvSpec? = nil
    let name = envID.map { String(cString: $0) } ?? { if case .string(let e)? = ds.metadata["env_id"] { return e }; return nil }()
    if let name {
        do { s = try EnvRegistry.spec(EnvID(rawValue: name)) } catch { report("\(file): \(error)", err, errlen); return -1 }
    }
    let problems = ds.verify(maxEpisodeSteps: s?.maxEpisodeSteps, observationDimension: s?.observationDimension,
                             actionDimension: s?.actionDimension)
    report(problems.joined(separator: "\n"), err, errlen)
    return Int32(problems.count)
}

/// 1 when libbox2d calls the library's no-op profiler timers (as in the ofql-eval executable),
/// 0 when its own wall-clock timers run (then every step reads the clock about ten times).
@_cdecl("ofs_box2d_profiler_disabled")
public func ofs_box2d_profiler_disabled() -> Int32 { World.profilerTimersDisabled() ? 1 : 0 }

/// R_random and R_expert of env `id` (D4RL-style normalisation 100 (R − random) / (expert − random));
/// returns 1 with a message when the env has none (mazes score success, kitchen subtasks).
@_cdecl("ofs_env_reference")
public func ofs_env_reference(_ id: UnsafePointer<CChar>?, _ random: UnsafeMutablePointer<Double>?,
                              _ expert: UnsafeMutablePointer<Double>?, _ err: UnsafeMutablePointer<CChar>?,
                              _ errlen: Int32) -> Int32 {
    guard let s = spec(id, err, errlen) else { return 1 }
    guard let r = s.referenceScores else {
        report("\(s.id) has no reference returns (\(s.domain == .maze ? "mazes score the success rate" : "kitchen scores completed subtasks"))", err, errlen)
        return 1
    }
    random?.pointee = r.random
    expert?.pointee = r.expert
    return 0
}
