import BLAS
import Dispatch
import Envs
import OFQL
import Physics
import Randomness
import Synchronization

/// What one episode did.
public struct EpisodeResult: Sendable, Equatable {
    /// Position in the run (episode i uses seed base + i).
    public var index: Int
    public var seed: UInt64
    /// Undiscounted sum of rewards.
    public var totalReward: Double
    public var length: Int
    public var terminated: Bool
    public var truncated: Bool
    /// Goal reached (mazes); nil where the env has no such notion.
    public var success: Bool?
    /// Target subtasks completed (kitchen); nil elsewhere.
    public var subtasks: Int?

    public init(index: Int, seed: UInt64, totalReward: Double, length: Int, terminated: Bool, truncated: Bool,
                success: Bool? = nil, subtasks: Int? = nil) {
        self.index = index; self.seed = seed; self.totalReward = totalReward; self.length = length
        self.terminated = terminated; self.truncated = truncated; self.success = success; self.subtasks = subtasks
    }
}

/// The transitions of one episode, when recording (dataset generation).
public struct EpisodeRecord: Sendable {
    public var observations: [Float] = []
    public var actions: [Float] = []
    public var rewards: [Float] = []
    public var nextObservations: [Float] = []
    public var terminals: [Bool] = []
    public var timeouts: [Bool] = []
    /// `infoKeys.count` values per step, read from the env's info after the step.
    public var infos: [Float] = []
}

/// How to run a batch of episodes.
public struct RolloutOptions: Sendable {
    /// Episodes to run; episode i resets with seed `seed + i`.
    public var episodes: Int
    /// Dispatch workers (each owns `lanes` envs and a policy copy).
    public var workers: Int
    public var seed: UInt64
    /// Episodes stepped in lock-step per chunk, so that policy inference is batched. The
    /// chunking (not the worker count) fixes which episodes share a batch, which is what
    /// makes results independent of workers and scheduling.
    public var lanes: Int
    /// Keep every transition (for datasets).
    public var record: Bool
    /// Stream mixed into each episode's policy-noise generator.
    public var noiseStream: UInt64
    /// Env info entries recorded per step when recording (e.g. a maze's commanded goal).
    public var infoKeys: [String]
    public init(episodes: Int, workers: Int = 1, seed: UInt64 = 0, lanes: Int = 8, record: Bool = false, noiseStream: UInt64 = 0x51,
                infoKeys: [String] = []) {
        self.episodes = episodes; self.workers = workers; self.seed = seed; self.lanes = lanes
        self.record = record; self.noiseStream = noiseStream; self.infoKeys = infoKeys
    }
}

/// Errors of a rollout run.
public enum RolloutError: Error, CustomStringConvertible {
    case shapeMismatch(String)
    case env(EnvError)
    case invalid(String)
    public var description: String {
        switch self {
        case .shapeMismatch(let s): return s
        case .env(let e): return "\(e)"
        case .invalid(let s): return s
        }
    }
}

/// The parallel rollout engine: a pool of Dispatch workers, each owning its environments and
/// a private policy copy, stepping several episodes in lock-step so inference is batched.
///
/// Episodes are cut into chunks of `lanes`; workers take chunks from a shared counter. A chunk's
/// result depends only on its episodes' seeds, and results land in per-episode slots, so every
/// number is bit-identical whatever the worker count or scheduling. BLAS runs single-threaded
/// inside the workers (one layer of parallelism at a time).
public enum RolloutEngine {
    public struct Output: Sendable {
        public var episodes: [EpisodeResult]
        /// Per-episode transitions when `record` was set (else empty).
        public var records: [EpisodeRecord]
        /// Environment steps taken in all.
        public var steps: Int
    }

    /// Runs `options.episodes` episodes of `spec`'s env under `policy`.
    /// `progress` is called from worker threads (serialised) with episodes finished so far.
    public static func run(spec: EnvSpec, policy: BatchPolicy, options: RolloutOptions,
                           progress: (@Sendable (Int) -> Void)? = nil) throws -> Output {
        guard policy.observationDimension == spec.observationDimension, policy.actionDimension == spec.actionDimension else {
            throw RolloutError.shapeMismatch("policy '\(policy.name)' takes \(policy.observationDimension) observations and gives \(policy.actionDimension) actions; \(spec.id) has \(spec.observationDimension) and \(spec.actionDimension)")
        }
        guard options.episodes >= 0, options.workers >= 1, options.lanes >= 1 else {
            throw RolloutError.invalid("episodes must be ≥ 0, workers and lanes ≥ 1")
        }
        let n = options.episodes
        if n == 0 { return Output(episodes: [], records: [], steps: 0) }
        let chunks = (n + options.lanes - 1) / options.lanes
        let workers = min(options.workers, chunks)
        // Per-episode slots; each is written by exactly one worker.
        let results = UnsafeMutableBufferPointer<EpisodeResult>.allocate(capacity: n)
        let records = UnsafeMutableBufferPointer<EpisodeRecord>.allocate(capacity: options.record ? n : 0)
        if options.record { _ = records.initialize(from: repeatElement(EpisodeRecord(), count: n)) }
        defer {
            results.deallocate()
            if options.record { records.deinitialize(); records.deallocate() }
        }
        let next = Atomic<Int>(0)
        let done = Mutex<Int>(0)
        let failure = Mutex<RolloutError?>(nil)
        let totalSteps = Atomic<Int>(0)
        // Copies are made here, on one thread, and handed one to each worker.
        let copies = (0..<workers).map { _ in policy.makeWorkerCopy() }
        nonisolated(unsafe) let slots = results
        nonisolated(unsafe) let recordSlots = records
        nonisolated(unsafe) let workerPolicies = copies
        World.warmUp()
        BLASRuntime.singleThreaded {
            DispatchQueue.concurrentPerform(iterations: workers) { w in
                let worker = Worker(spec: spec, policy: workerPolicies[w], lanes: options.lanes, record: options.record)
                while true {
                    let c = next.add(1, ordering: .relaxed).oldValue
                    if c >= chunks || failure.withLock({ $0 != nil }) { break }
                    let lo = c * options.lanes, hi = min(n, lo + options.lanes)
                    do throws(RolloutError) {
                        let steps = try worker.runChunk(lo..<hi, options: options, results: slots, records: recordSlots)
                        totalSteps.add(steps, ordering: .relaxed)
                    } catch {
                        failure.withLock { if $0 == nil { $0 = error } }
                        break
                    }
                    let finished = done.withLock { d -> Int in d += hi - lo; return d }
                    progress?(finished)
                }
            }
        }
        if let e = failure.withLock({ $0 }) { throw e }
        return Output(episodes: Array(results), records: options.record ? Array(records) : [],
                      steps: totalSteps.load(ordering: .relaxed))
    }
}

/// One worker: its envs (lanes), its policy copy and scratch buffers, reused for every chunk.
final class Worker {
    let spec: EnvSpec
    let policy: BatchPolicy
    let envs: [TimeLimit]
    let od: Int, ad: Int
    let obs: UnsafeMutablePointer<Float>       // lanes × od, each lane's current observation
    let batchObs: UnsafeMutablePointer<Float>  // active rows, compacted
    let batchAct: UnsafeMutablePointer<Float>
    let rngs: UnsafeMutablePointer<Xoshiro>    // per lane
    let batchRngs: UnsafeMutablePointer<Xoshiro>
    let batchLanes: UnsafeMutablePointer<Int>
    let nextObs: UnsafeMutablePointer<Float>
    let record: Bool

    init(spec: EnvSpec, policy: BatchPolicy, lanes: Int, record: Bool) {
        self.spec = spec; self.policy = policy; self.record = record
        envs = (0..<lanes).map { _ in spec.make() }
        od = spec.observationDimension; ad = spec.actionDimension
        obs = .allocate(capacity: lanes * od)
        batchObs = .allocate(capacity: lanes * od)
        batchAct = .allocate(capacity: lanes * ad)
        nextObs = .allocate(capacity: od)
        rngs = .allocate(capacity: lanes)
        rngs.initialize(repeating: Xoshiro(seed: 0), count: lanes)
        batchRngs = .allocate(capacity: lanes)
        batchRngs.initialize(repeating: Xoshiro(seed: 0), count: lanes)
        batchLanes = .allocate(capacity: lanes)
        batchLanes.initialize(repeating: 0, count: lanes)
    }

    deinit {
        obs.deallocate(); batchObs.deallocate(); batchAct.deallocate(); nextObs.deallocate()
        rngs.deallocate(); batchRngs.deallocate(); batchLanes.deallocate()
    }

    /// Runs episodes `range` in lock-step; returns the env steps taken.
    func runChunk(_ range: Range<Int>, options: RolloutOptions, results: UnsafeMutableBufferPointer<EpisodeResult>,
                  records: UnsafeMutableBufferPointer<EpisodeRecord>) throws(RolloutError) -> Int {
        let k = range.count
        var active = [Int](0..<k)
        var totals = [Double](repeating: 0, count: k)
        var lengths = [Int](repeating: 0, count: k)
        var recs = [EpisodeRecord](repeating: EpisodeRecord(), count: record ? k : 0)
        for l in 0..<k {
            let episode = range.lowerBound + l
            let seed = EpisodeSeeding.episodeSeed(base: options.seed, index: episode)
            policy.beginEpisode(lane: l, episode: episode, seed: seed, env: envs[l])
            envs[l].reset(seed: seed, observation: obs + l * od)
            rngs[l] = Xoshiro(seed: seed).derived(options.noiseStream)
        }
        var steps = 0
        while !active.isEmpty {
            // Gather the active lanes into one contiguous batch.
            for (row, l) in active.enumerated() {
                (batchObs + row * od).update(from: obs + l * od, count: od)
                batchRngs[row] = rngs[l]
                batchLanes[row] = l
            }
            policy.act(observations: batchObs, count: active.count, lanes: batchLanes, actions: batchAct, rngs: batchRngs)
            var kept = 0  // active lanes are compacted in place, in order (kept ≤ row)
            for row in 0..<active.count {
                let l = active[row]
                rngs[l] = batchRngs[row]
                let a = batchAct + row * ad
                let outcome: StepOutcome
                do throws(EnvError) { outcome = try envs[l].step(action: a, observation: nextObs) } catch {
                    throw .env(error)
                }
                steps += 1
                totals[l] += Double(outcome.reward)
                lengths[l] += 1
                if record {
                    recs[l].observations.append(contentsOf: UnsafeBufferPointer(start: obs + l * od, count: od))
                    // The env clipped the action; store what it executed.
                    for j in 0..<ad { recs[l].actions.append(min(1, max(-1, a[j]))) }
                    recs[l].rewards.append(outcome.reward)
                    recs[l].nextObservations.append(contentsOf: UnsafeBufferPointer(start: nextObs, count: od))
                    recs[l].terminals.append(outcome.terminated)
                    recs[l].timeouts.append(outcome.truncated && !outcome.terminated)
                    if !options.infoKeys.isEmpty {
                        let info = envs[l].info()
                        for k in options.infoKeys { recs[l].infos.append(Float(info[k] ?? .nan)) }
                    }
                }
                (obs + l * od).update(from: nextObs, count: od)
                if outcome.done {
                    let info = envs[l].info()
                    let episode = range.lowerBound + l
                    results[episode] = EpisodeResult(
                        index: episode, seed: EpisodeSeeding.episodeSeed(base: options.seed, index: episode), totalReward: totals[l], length: lengths[l],
                        terminated: outcome.terminated, truncated: outcome.truncated && !outcome.terminated,
                        success: info["success"].map { $0 != 0 }, subtasks: info["subtasks_completed"].map { Int($0) })
                    if record { records[episode] = recs[l]; recs[l] = EpisodeRecord() }
                } else {
                    active[kept] = l
                    kept += 1
                }
            }
            active.removeLast(active.count - kept)
        }
        return steps
    }
}
