import Foundation
import HDF5

/// A problem with a dataset file: which file, which key, what was expected.
public struct DatasetFileError: Error, CustomStringConvertible, Sendable, Equatable {
    public var file: String
    public var key: String
    public var message: String
    public init(file: String, key: String = "", message: String) {
        self.file = file; self.key = key; self.message = message
    }
    public var description: String { key.isEmpty ? "\(file): \(message)" : "\(file): '\(key)': \(message)" }
}

/// A named extra array (`infos/*`), float32, first axis = transitions.
public struct InfoArray: Sendable, Equatable {
    public var values: [Float]
    public var shape: [Int]
    public init(values: [Float], shape: [Int]) { self.values = values; self.shape = shape }
}

/// An offline dataset in the D4RL HDF5 layout: one flat file, episodes concatenated.
///
/// | key | dtype | shape |
/// |---|---|---|
/// | `observations` | float32 | (N, obs_dim) |
/// | `actions` | float32 | (N, act_dim), in [-1, 1] |
/// | `rewards` | float32 | (N,) — (N, 1) is accepted and flattened |
/// | `terminals` | bool | (N,) — true only when the MDP ended (do not bootstrap) |
/// | `timeouts` | bool | (N,) — true on the last step of an episode cut by the time limit (optional) |
/// | `next_observations` | float32 | (N, obs_dim) — optional; when present it is the truth |
/// | `infos/*` | float32 | (N, …) |
/// | `metadata/*` | scalar strings and numbers | |
///
/// Files written here always store `timeouts` and `next_observations`, so no transition has
/// to be dropped or guessed when loading (see ``makeTransitions()``).
public struct D4RLDataset: Sendable {
    public var observationDimension: Int
    public var actionDimension: Int
    public var observations: [Float]
    public var actions: [Float]
    public var rewards: [Float]
    public var terminals: [Bool]
    public var timeouts: [Bool]?
    public var nextObservations: [Float]?
    public var infos: [String: InfoArray]
    /// Scalar metadata (`metadata/<key>`): strings, integers and doubles.
    public var metadata: [String: HDF5Attribute]

    /// Number of rows (transitions as stored).
    public var count: Int { rewards.count }

    public init(observationDimension: Int, actionDimension: Int, observations: [Float], actions: [Float],
                rewards: [Float], terminals: [Bool], timeouts: [Bool]?, nextObservations: [Float]?,
                infos: [String: InfoArray] = [:], metadata: [String: HDF5Attribute] = [:]) {
        self.observationDimension = observationDimension; self.actionDimension = actionDimension
        self.observations = observations; self.actions = actions; self.rewards = rewards
        self.terminals = terminals; self.timeouts = timeouts; self.nextObservations = nextObservations
        self.infos = infos; self.metadata = metadata
    }

    /// Checks that every array agrees with N and the dimensions; throws naming the key.
    public func validateShapes(file: String = "<memory>") throws {
        let n = count
        func check(_ key: String, _ have: Int, _ want: Int, _ shape: String) throws {
            guard have == want else {
                throw DatasetFileError(file: file, key: key, message: "has \(have) values, expected \(want) (shape \(shape))")
            }
        }
        guard observationDimension > 0 else { throw DatasetFileError(file: file, key: "observations", message: "observation dimension must be positive") }
        guard actionDimension > 0 else { throw DatasetFileError(file: file, key: "actions", message: "action dimension must be positive") }
        try check("observations", observations.count, n * observationDimension, "(\(n), \(observationDimension))")
        try check("actions", actions.count, n * actionDimension, "(\(n), \(actionDimension))")
        try check("terminals", terminals.count, n, "(\(n),)")
        if let t = timeouts { try check("timeouts", t.count, n, "(\(n),)") }
        if let no = nextObservations { try check("next_observations", no.count, n * observationDimension, "(\(n), \(observationDimension))") }
        for (k, v) in infos {
            guard v.shape.first == n, v.values.count == v.shape.reduce(1, *) else {
                throw DatasetFileError(file: file, key: "infos/\(k)", message: "shape \(v.shape) does not have \(n) rows")
            }
        }
    }

    // MARK: Reading

    /// What a loader insists on besides the layout.
    public struct Expectation: Sendable {
        public var observationDimension: Int?
        public var actionDimension: Int?
        public init(observationDimension: Int? = nil, actionDimension: Int? = nil) {
            self.observationDimension = observationDimension; self.actionDimension = actionDimension
        }
    }

    /// Loads a D4RL-layout file, ours or another tool's (with or without `timeouts` and
    /// `next_observations`; rewards (N,) or (N, 1); terminals as bool, integers or floats).
    ///
    /// Throws a ``DatasetFileError`` naming the file and key for missing keys, wrong shapes,
    /// dimensions that differ from `expect`, and NaN/inf values.
    public static func load(_ path: String, expect: Expectation = .init(), loadInfos: Bool = true) throws -> D4RLDataset {
        let file: HDF5File
        do { file = try HDF5File.open(path) } catch let e as HDF5Error {
            throw DatasetFileError(file: path, message: e.message)
        }
        func need(_ key: String) throws {
            guard file.contains(key), !file.isGroup(key) else {
                throw DatasetFileError(file: path, key: key, message: "missing (a D4RL dataset needs observations, actions, rewards and terminals)")
            }
        }
        for k in ["observations", "actions", "rewards", "terminals"] { try need(k) }
        func wrap<T>(_ key: String, _ body: () throws -> T) throws -> T {
            do { return try body() } catch let e as HDF5Error {
                throw DatasetFileError(file: path, key: key, message: e.message)
            }
        }
        let (obs, obsShape) = try wrap("observations") { try file.readConverting("observations", as: Float.self) }
        guard obsShape.count == 2 else {
            throw DatasetFileError(file: path, key: "observations", message: "shape \(obsShape), expected (N, obs_dim)")
        }
        let n = obsShape[0], od = obsShape[1]
        let (act, actShape) = try wrap("actions") { try file.readConverting("actions", as: Float.self) }
        guard actShape.count == 2, actShape[0] == n else {
            throw DatasetFileError(file: path, key: "actions", message: "shape \(actShape), expected (\(n), act_dim)")
        }
        let ad = actShape[1]
        if let e = expect.observationDimension, e != od {
            throw DatasetFileError(file: path, key: "observations", message: "observation dimension \(od), the environment expects \(e)")
        }
        if let e = expect.actionDimension, e != ad {
            throw DatasetFileError(file: path, key: "actions", message: "action dimension \(ad), the environment expects \(e)")
        }
        let (rew, rewShape) = try wrap("rewards") { try file.readConverting("rewards", as: Float.self) }
        guard rewShape == [n] || rewShape == [n, 1] else {
            throw DatasetFileError(file: path, key: "rewards", message: "shape \(rewShape), expected (\(n),) or (\(n), 1)")
        }
        func flags(_ key: String) throws -> [Bool] {
            let (v, shape): ([Bool], [Int])
            if (try? file.info(key).type) == .float32 || (try? file.info(key).type) == .float64 {
                // Kitchen files store terminals as float32.
                let f = try wrap(key) { try file.readConverting(key, as: Float.self) }
                (v, shape) = (f.values.map { $0 != 0 }, f.shape)
            } else {
                (v, shape) = try wrap(key) { try file.readBool(key) }
            }
            guard shape == [n] || shape == [n, 1] else {
                throw DatasetFileError(file: path, key: key, message: "shape \(shape), expected (\(n),)")
            }
            return v
        }
        let term = try flags("terminals")
        let tout: [Bool]? = file.contains("timeouts") ? try flags("timeouts") : nil
        var next: [Float]? = nil
        if file.contains("next_observations") {
            let (v, s) = try wrap("next_observations") { try file.readConverting("next_observations", as: Float.self) }
            guard s == obsShape else {
                throw DatasetFileError(file: path, key: "next_observations", message: "shape \(s), expected \(obsShape) like observations")
            }
            next = v
        }
        var infos: [String: InfoArray] = [:]
        if loadInfos, file.isGroup("infos") {
            let g = try wrap("infos") { try file.openGroup("infos") }
            let names = try wrap("infos") { try g.memberNames() }
            for name in names where !g.isGroup(name) {
                guard let inf = try? g.info(name), inf.shape.first == n,
                      [.float32, .float64, .int32, .int64, .int8, .uint8, .bool].contains(inf.type) else { continue }
                let (v, s) = try wrap("infos/\(name)") { try g.readConverting(name, as: Float.self) }
                infos[name] = InfoArray(values: v, shape: s)
            }
        }
        var metadata: [String: HDF5Attribute] = [:]
        if file.isGroup("metadata") {
            let g = try wrap("metadata") { try file.openGroup("metadata") }
            let names = try wrap("metadata") { try g.memberNames() }
            for name in names where !g.isGroup(name) {
                guard let inf = try? g.info(name), inf.count == 1 || inf.type == .string else { continue }
                switch inf.type {
                case .string: if let s = try? g.readString(name) { metadata[name] = .string(s) }
                case .float32, .float64:
                    if let v = try? g.readConverting(name, as: Double.self).values.first { metadata[name] = .double(v) }
                case .int8, .uint8, .int32, .int64, .bool:
                    if let v = try? g.readConverting(name, as: Int64.self).values.first { metadata[name] = .int(v) }
                case .other: break
                }
            }
        }
        let ds = D4RLDataset(observationDimension: od, actionDimension: ad, observations: obs, actions: act, rewards: rew,
                             terminals: term, timeouts: tout, nextObservations: next, infos: infos, metadata: metadata)
        try ds.checkFinite(file: path)
        return ds
    }

    /// Throws at the first NaN or infinity, naming the key, row and column.
    public func checkFinite(file: String = "<memory>") throws {
        func scan(_ key: String, _ v: [Float], _ width: Int) throws {
            if let i = v.firstIndex(where: { !$0.isFinite }) {
                throw DatasetFileError(file: file, key: key,
                                   message: "non-finite value \(v[i]) at row \(i / max(width, 1)), column \(i % max(width, 1)); values must be finite")
            }
        }
        try scan("observations", observations, observationDimension)
        try scan("actions", actions, actionDimension)
        try scan("rewards", rewards, 1)
        if let n = nextObservations { try scan("next_observations", n, observationDimension) }
    }

    // MARK: Writing

    /// Writes the dataset in the D4RL layout (gzip-chunked, booleans as h5py bools) to a
    /// temporary file beside `path` and renames it into place, so an interrupted write never
    /// leaves a partial file under the final name.
    public func write(to path: String) throws {
        try validateShapes(file: path)
        let url = URL(fileURLWithPath: path)
        let dir = url.deletingLastPathComponent().path
        guard FileManager.default.fileExists(atPath: dir) else {
            throw DatasetFileError(file: path, message: "folder \(dir) does not exist")
        }
        AtomicFiles.removeStaleTemporaries(of: url.lastPathComponent, in: dir)
        let tmp = dir + "/.\(url.lastPathComponent).\(getpid()).\(UInt32.random(in: 0...UInt32.max)).tmp"
        do {
            do {
                let f = try HDF5File.create(tmp, overwrite: true)
                let n = count
                try f.write("observations", observations, shape: [n, observationDimension])
                try f.write("actions", actions, shape: [n, actionDimension])
                try f.write("rewards", rewards, shape: [n])
                try f.writeBool("terminals", terminals, shape: [n])
                if let t = timeouts { try f.writeBool("timeouts", t, shape: [n]) }
                if let no = nextObservations { try f.write("next_observations", no, shape: [n, observationDimension]) }
                for k in infos.keys.sorted() { try f.write("infos/\(k)", infos[k]!.values, shape: infos[k]!.shape) }
                for k in metadata.keys.sorted() {
                    switch metadata[k]! {
                    case .string(let s): try f.writeString("metadata/\(k)", s)
                    case .int(let v): try f.write("metadata/\(k)", [v], shape: [])
                    case .double(let v): try f.write("metadata/\(k)", [v], shape: [])
                    case .doubles(let v): try f.write("metadata/\(k)", v, shape: [v.count])
                    }
                }
                try f.flush()
            }
            guard rename(tmp, path) == 0 else {
                throw DatasetFileError(file: path, message: "cannot move the finished file into place (errno \(errno))")
            }
        } catch {
            unlink(tmp)
            if let e = error as? HDF5Error { throw DatasetFileError(file: path, key: e.object, message: e.message) }
            throw error
        }
    }
}
