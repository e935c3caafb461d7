#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Randomness

/// A linear feedback controller on normalised observations: `a = clip(W·[(o − μ)/σ; 1])`.
///
/// The parameter family that ``PolicySearch`` (ARS V2-t) tunes and the behaviour policies
/// of the locomotion datasets use. `weights` is row-major, `actionDimension` rows of
/// `observationDimension + 1` entries (the last column is a bias).
public struct LinearPolicy: Sendable, Equatable {
    public let observationDimension: Int
    public let actionDimension: Int
    public var weights: [Float]
    public var observationMean: [Float]
    public var observationStd: [Float]

    public init(observationDimension: Int, actionDimension: Int, weights: [Float]? = nil,
                observationMean: [Float]? = nil, observationStd: [Float]? = nil) {
        self.observationDimension = observationDimension; self.actionDimension = actionDimension
        self.weights = weights ?? .init(repeating: 0, count: actionDimension * (observationDimension + 1))
        self.observationMean = observationMean ?? .init(repeating: 0, count: observationDimension)
        self.observationStd = observationStd ?? .init(repeating: 1, count: observationDimension)
        precondition(self.weights.count == actionDimension * (observationDimension + 1), "weights have the wrong size")
    }

    /// Writes the clipped action for `observation` into `action`.
    @inlinable
    public func act(_ observation: UnsafePointer<Float>, into action: UnsafeMutablePointer<Float>) {
        let n = observationDimension
        weights.withUnsafeBufferPointer { w in
            observationMean.withUnsafeBufferPointer { mu in
                observationStd.withUnsafeBufferPointer { sd in
                    for i in 0..<actionDimension {
                        let row = w.baseAddress! + i * (n + 1)
                        var s = row[n]
                        for j in 0..<n { s += row[j] * ((observation[j] - mu[j]) / sd[j]) }
                        action[i] = min(max(s, -1), 1)
                    }
                }
            }
        }
    }
}

/// One iterate of a policy search: parameters, normaliser and its measured return.
public struct PolicyRecord: Sendable, Equatable {
    public var iteration: Int
    public var policy: LinearPolicy
    /// Mean return of the evaluation episodes of this iterate.
    public var meanReturn: Double
    /// Mean forward speed (m/s) over those episodes.
    public var meanSpeed: Double
    public init(iteration: Int, policy: LinearPolicy, meanReturn: Double, meanSpeed: Double) {
        self.iteration = iteration; self.policy = policy; self.meanReturn = meanReturn; self.meanSpeed = meanSpeed
    }

    func json() -> JSONValue {
        .object([("iteration", .num(iteration)), ("mean_return", .num(meanReturn)), ("mean_speed", .num(meanSpeed)),
                 ("params", .floats(policy.weights)), ("obs_mean", .floats(policy.observationMean)),
                 ("obs_std", .floats(policy.observationStd))])
    }

    static func from(_ v: JSONValue, obs: Int, act: Int, file: String) throws(BehaviorError) -> PolicyRecord {
        guard let it = v["iteration"]?.int, let w = v["params"]?.floats, let mu = v["obs_mean"]?.floats,
              let sd = v["obs_std"]?.floats else { throw .malformed(file, "a record lacks iteration/params/obs_mean/obs_std") }
        guard w.count == act * (obs + 1), mu.count == obs, sd.count == obs else {
            throw .malformed(file, "record \(it): params \(w.count) (expected \(act * (obs + 1))), obs_mean \(mu.count), obs_std \(sd.count) (expected \(obs))")
        }
        guard sd.allSatisfy({ $0 > 0 && $0.isFinite }), w.allSatisfy(\.isFinite), mu.allSatisfy(\.isFinite) else {
            throw .malformed(file, "record \(it) has non-finite values or non-positive obs_std")
        }
        return PolicyRecord(iteration: it, policy: LinearPolicy(observationDimension: obs, actionDimension: act, weights: w,
                                                                observationMean: mu, observationStd: sd),
                            meanReturn: v["mean_return"]?.double ?? .nan, meanSpeed: v["mean_speed"]?.double ?? .nan)
    }
}

/// Errors when reading or writing behaviour-policy files.
public enum BehaviorError: Error, CustomStringConvertible, Equatable {
    case io(String, String)
    case malformed(String, String)
    case missingLevel(String, String)
    public var description: String {
        switch self {
        case .io(let f, let why): return "\(f): \(why)"
        case .malformed(let f, let why): return "\(f): malformed behaviour-policy file: \(why)"
        case .missingLevel(let f, let level): return "\(f): no '\(level)' policy in this file"
        }
    }
}

/// The result of a policy search as committed under `datasets/behavior/<env>.json`:
/// the expert, the medium iterate and the search history.
///
/// History holds every iterate up to the medium one (enough to regenerate every episode
/// the search ran until it reached medium, since perturbations and episode seeds are
/// derived from `seed` and the iteration index) and every `historyEvery`-th after it.
public struct BehaviorFile: Sendable, Equatable {
    public var env: EnvID
    public var envVersion: Int
    public var seed: UInt64
    public var config: PolicySearchConfig
    public var expert: PolicyRecord
    public var medium: PolicyRecord
    public var history: [PolicyRecord]
    /// The medium iterate of a second, independent search (`independentMediumSeed`): a
    /// controller of medium level that is not an ancestor of the expert, as D4RL's medium and
    /// expert policies come from separate training runs. Medium-expert data built from it make
    /// behaviour cloning average two different gaits instead of cloning the expert.
    public var independentMedium: PolicyRecord?
    public var independentMediumSeed: UInt64?

    public init(env: EnvID, envVersion: Int, seed: UInt64, config: PolicySearchConfig, expert: PolicyRecord,
                medium: PolicyRecord, history: [PolicyRecord]) {
        self.env = env; self.envVersion = envVersion; self.seed = seed; self.config = config
        self.expert = expert; self.medium = medium; self.history = history
    }

    /// The conventional path of an env's file below a package's `datasets` folder.
    public static func path(datasets: String, env: EnvID) -> String { "\(datasets)/behavior/\(env.rawValue).json" }

    public func json() -> JSONValue {
        var fields: [(String, JSONValue)] = [
            ("format", .string("ofql-behavior-v1")), ("env", .string(env.rawValue)), ("env_version", .num(envVersion)),
            ("seed", .num(seed)), ("policy", .string("linear: a = clip(W [(o - obs_mean) / obs_std; 1]), W row-major act x (obs+1)")),
            ("config", config.json()), ("expert", expert.json()), ("medium", medium.json())]
        if let m = independentMedium, let s = independentMediumSeed {
            fields.append(("independent_medium", .object([("search_seed", .num(s)), ("record", m.json())])))
        }
        fields.append(("history", .array(history.map { $0.json() })))
        return .object(fields)
    }

    /// Parses a file's text (`name` is used in error messages).
    public static func parse(_ text: String, name: String) throws(BehaviorError) -> BehaviorFile {
        let v: JSONValue
        do { v = try JSONValue.parse(text) } catch { throw .malformed(name, error.description) }
        guard let envName = v["env"]?.string else { throw .malformed(name, "missing 'env'") }
        let spec: EnvSpec
        do { spec = try EnvRegistry.spec(EnvID(rawValue: envName)) } catch { throw .malformed(name, error.description) }
        let o = spec.observationDimension, a = spec.actionDimension
        guard let e = v["expert"], let m = v["medium"] else { throw .malformed(name, "missing 'expert' or 'medium'") }
        let history = try (v["history"]?.array ?? []).map { (r: JSONValue) throws(BehaviorError) in
            try PolicyRecord.from(r, obs: o, act: a, file: name)
        }
        var f = BehaviorFile(env: spec.id, envVersion: v["env_version"]?.int ?? spec.version,
                             seed: UInt64(v["seed"]?.double ?? 0),
                             config: PolicySearchConfig.from(v["config"]) ?? .defaults(for: spec.id),
                             expert: try PolicyRecord.from(e, obs: o, act: a, file: name),
                             medium: try PolicyRecord.from(m, obs: o, act: a, file: name), history: history)
        if let im = v["independent_medium"] {
            guard let s = im["search_seed"]?.double, let r = im["record"] else {
                throw .malformed(name, "'independent_medium' needs 'search_seed' and 'record'")
            }
            f.independentMedium = try PolicyRecord.from(r, obs: o, act: a, file: name)
            f.independentMediumSeed = UInt64(s)
        }
        return f
    }

    /// Loads `env`'s committed file under `datasets` and checks it was tuned on the env's
    /// current version (a controller tuned on other dynamics is not this env's expert).
    public static func load(datasets: String, env: EnvID) throws(BehaviorError) -> BehaviorFile {
        let path = path(datasets: datasets, env: env)
        let f = try load(path)
        if let spec = try? EnvRegistry.spec(env), f.envVersion != spec.version {
            throw .malformed(path, "was tuned on \(env.rawValue) v\(f.envVersion), the env is v\(spec.version); "
                             + "re-run `ofql-eval behavior tune --env \(env.rawValue)`")
        }
        return f
    }

    /// Loads `path` (for example ``path(datasets:env:)``).
    public static func load(_ path: String) throws(BehaviorError) -> BehaviorFile {
        try parse(try readTextFile(path), name: path)
    }

    public func write(to path: String) throws(BehaviorError) { try writeTextFile(path, json().serialized() + "\n") }
}

/// A behaviour policy acting on observations: a ``LinearPolicy`` plus optional seeded
/// Gaussian action noise (clipped back to [-1, 1]).
public struct BehaviorPolicy: Sendable {
    /// Which committed policy of an env's behaviour file.
    public enum Level: String, Sendable, CaseIterable { case expert, medium }
    public let env: EnvID
    public let policy: LinearPolicy
    /// Standard deviation of the Gaussian noise added to each action entry.
    public var noiseStd: Float

    public init(env: EnvID, policy: LinearPolicy, noiseStd: Float = 0) {
        self.env = env; self.policy = policy; self.noiseStd = noiseStd
    }

    /// Loads the `level` policy of `env` from `<datasets>/behavior/<env>.json`.
    public static func load(datasets: String, env: EnvID, level: Level, noiseStd: Float = 0) throws(BehaviorError) -> BehaviorPolicy {
        let f = try BehaviorFile.load(datasets: datasets, env: env)
        return BehaviorPolicy(env: env, policy: level == .expert ? f.expert.policy : f.medium.policy, noiseStd: noiseStd)
    }

    /// Writes the action for `observation` into `action`; noise draws come from `rng`.
    @inlinable
    public func act(_ observation: UnsafePointer<Float>, into action: UnsafeMutablePointer<Float>, rng: inout SeededRNG) {
        policy.act(observation, into: action)
        addActionNoise(action, count: policy.actionDimension, std: noiseStd, rng: &rng)
    }

    /// Array convenience for ``act(_:into:rng:)``.
    public func act(_ observation: [Float], rng: inout SeededRNG) -> [Float] {
        precondition(observation.count == policy.observationDimension, "observation has the wrong size")
        var a = [Float](repeating: 0, count: policy.actionDimension)
        observation.withUnsafeBufferPointer { o in a.withUnsafeMutableBufferPointer { act(o.baseAddress!, into: $0.baseAddress!, rng: &rng) } }
        return a
    }
}

/// Reads a whole text file.
public func readTextFile(_ path: String) throws(BehaviorError) -> String {
    guard let f = fopen(path, "rb") else { throw .io(path, "cannot open for reading (\(String(cString: strerror(errno))))") }
    defer { fclose(f) }
    var bytes: [UInt8] = []
    var buf = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = fread(&buf, 1, buf.count, f)
        if n > 0 { bytes += buf[0..<n] }
        if n < buf.count { break }
    }
    return String(decoding: bytes, as: UTF8.self)
}

/// Writes a text file atomically (temporary file, then rename), so a failed write never
/// destroys an existing file.
public func writeTextFile(_ path: String, _ text: String) throws(BehaviorError) {
    let tmp = path + ".tmp"
    guard let f = fopen(tmp, "wb") else { throw .io(path, "cannot open for writing (\(String(cString: strerror(errno))))") }
    let bytes = Array(text.utf8)
    let n = fwrite(bytes, 1, bytes.count, f)
    let closed = fclose(f)
    guard n == bytes.count, closed == 0 else { remove(tmp); throw .io(path, "short write") }
    guard rename(tmp, path) == 0 else { remove(tmp); throw .io(path, "cannot rename temporary file") }
}
