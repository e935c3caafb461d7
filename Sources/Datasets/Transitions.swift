/// One episode of a D4RL-layout dataset (rows `start ..< start + length`).
public struct EpisodeSpan: Sendable, Equatable {
    public var start: Int
    public var length: Int
    /// Undiscounted sum of the stored rewards.
    public var totalReward: Double
    /// Ended by a true MDP termination.
    public var terminated: Bool
    /// Ended by the time limit (`timeouts`).
    public var truncated: Bool
    /// Neither flag: the file ends mid-episode (or a boundary was inferred).
    public var incomplete: Bool { !terminated && !truncated }
}

/// The one transitions type: N validated rows ready for Q-learning (row-major Float arrays).
///
/// Semantics: `terminals[i]` is 1 when the MDP ended at transition i (a true terminal state);
/// time-limit truncations are *not* terminals. The bootstrap mask is 1 − terminal
/// (``mask(_:)``, its only definition), so a timeout still bootstraps from `nextObservations`.
/// ``D4RLDataset/makeTransitions(maxEpisodeSteps:)`` builds it from a file's rows.
public struct Transitions: Sendable {
    public let count: Int
    public let obsDim: Int
    public let actDim: Int
    /// [N × obsDim]
    public let observations: [Float]
    /// [N × actDim]
    public let actions: [Float]
    /// [N]
    public let rewards: [Float]
    /// [N × obsDim]
    public let nextObservations: [Float]
    /// [N], 0 or 1.
    public let terminals: [Float]
    /// True on the last kept transition of each episode (for sequence consumers); empty
    /// when the rows were not built from episodes.
    public var episodeEnds: [Bool] = []
    /// Rows of the source file dropped because their next state is unknown.
    public var droppedRows = 0

    /// Validates shapes, finiteness and terminal values; throws ``DatasetError`` naming the
    /// array and the first bad index.
    public init(observations: [Float], actions: [Float], rewards: [Float], nextObservations: [Float],
                terminals: [Float], obsDim: Int, actDim: Int) throws {
        guard obsDim > 0 else { throw DatasetError.shape(array: "observations", expected: "obsDim > 0", got: "\(obsDim)") }
        guard actDim > 0 else { throw DatasetError.shape(array: "actions", expected: "actDim > 0", got: "\(actDim)") }
        let n = rewards.count
        guard n > 0 else { throw DatasetError.empty }
        func check(_ name: String, _ a: [Float], _ cols: Int) throws {
            guard a.count == n * cols else {
                throw DatasetError.shape(array: name, expected: "\(n) × \(cols) = \(n * cols) values (N from rewards)",
                                         got: "\(a.count) values")
            }
            if let i = a.firstIndex(where: { !$0.isFinite }) {
                throw DatasetError.nonFinite(array: name, row: i / cols, value: a[i])
            }
        }
        try check("observations", observations, obsDim)
        try check("actions", actions, actDim)
        try check("rewards", rewards, 1)
        try check("next_observations", nextObservations, obsDim)
        try check("terminals", terminals, 1)
        if let i = terminals.firstIndex(where: { $0 != 0 && $0 != 1 }) {
            throw DatasetError.badTerminal(row: i, value: terminals[i])
        }
        self.count = n; self.obsDim = obsDim; self.actDim = actDim
        self.observations = observations; self.actions = actions; self.rewards = rewards
        self.nextObservations = nextObservations; self.terminals = terminals
    }

    /// Convenience: terminals as Bool.
    public init(observations: [Float], actions: [Float], rewards: [Float], nextObservations: [Float],
                terminals: [Bool], obsDim: Int, actDim: Int) throws {
        try self.init(observations: observations, actions: actions, rewards: rewards, nextObservations: nextObservations,
                      terminals: terminals.map { $0 ? 1 : 0 }, obsDim: obsDim, actDim: actDim)
    }

    /// Bootstrap mask 1 − terminal of transition i.
    @inline(__always) public func mask(_ i: Int) -> Float { 1 - terminals[i] }
}

/// A bad dataset.
public enum DatasetError: Error, CustomStringConvertible, Equatable {
    case empty
    case shape(array: String, expected: String, got: String)
    case nonFinite(array: String, row: Int, value: Float)
    case badTerminal(row: Int, value: Float)
    case notImplemented(String)
    public var description: String {
        switch self {
        case .empty: return "dataset: no transitions"
        case .shape(let a, let e, let g): return "dataset: \(a) has the wrong shape: expected \(e), got \(g)"
        case .nonFinite(let a, let r, let v): return "dataset: \(a) has a non-finite value \(v) at row \(r)"
        case .badTerminal(let r, let v): return "dataset: terminals must be 0 or 1, got \(v) at row \(r)"
        case .notImplemented(let s): return s
        }
    }
}

extension D4RLDataset {
    /// Splits the rows into episodes. A row ends an episode when `terminals` or `timeouts`
    /// is set, when the stored `next_observations[i]` differs from `observations[i + 1]`,
    /// at the last row, or — for files without `timeouts` and `next_observations` — when
    /// the episode reaches `maxEpisodeSteps`.
    public func episodes(maxEpisodeSteps: Int? = nil) -> [EpisodeSpan] {
        let n = count, d = observationDimension
        var spans: [EpisodeSpan] = []
        var start = 0
        var total = 0.0
        let inferLimit = timeouts == nil && nextObservations == nil ? maxEpisodeSteps : nil
        for i in 0..<n {
            total += Double(rewards[i])
            let term = terminals[i]
            let tout = timeouts?[i] ?? false
            var end = term || tout || i == n - 1
            var limitHit = false
            if !end, let limit = inferLimit, i - start + 1 >= limit { end = true; limitHit = true }
            if !end, let next = nextObservations {
                // A jump between the stored next state and the following row starts a new episode.
                let a = i * d, b = (i + 1) * d
                var jump = false
                for k in 0..<d where abs(next[a + k] - observations[b + k]) > 1e-6 * max(1, abs(next[a + k])) { jump = true; break }
                end = jump
            }
            if end {
                spans.append(EpisodeSpan(start: start, length: i - start + 1, totalReward: total,
                                         terminated: term, truncated: (tout || limitHit) && !term))
                start = i + 1
                total = 0
            }
        }
        return spans
    }

    /// The Monte-Carlo discounted return of every row: Σₖ γᵏ (scale · r₍ᵢ₊ₖ₎ + shift) to the
    /// end of the row's episode (``episodes(maxEpisodeSteps:)``), the quantity a critic's
    /// Q(sᵢ, aᵢ) estimates for the behaviour policy. Rows of truncated or incomplete episodes
    /// stop at the last stored row, so they under-count what a bootstrapping critic sees there.
    /// `scale` and `shift` are the learner's reward transform (`rewardScale`, `rewardShift`).
    public func discountedReturns(gamma: Double, scale: Double = 1, shift: Double = 0,
                                  maxEpisodeSteps: Int? = nil) -> [Double] {
        var out = [Double](repeating: 0, count: count)
        for e in episodes(maxEpisodeSteps: maxEpisodeSteps) {
            var g = 0.0
            for i in stride(from: e.start + e.length - 1, through: e.start, by: -1) {
                g = scale * Double(rewards[i]) + shift + gamma * g
                out[i] = g
            }
        }
        return out
    }

    /// Q-learning transitions with correct next states and bootstrap masks, avoiding the usual
    /// pitfalls of D4RL's `qlearning_dataset` (Fu et al. 2020, arXiv 2004.07219):
    /// 1. Next observations come from `next_observations` when the file has them; otherwise from
    ///    `observations[i + 1]` only inside an episode, never across an episode boundary.
    /// 2. Time-limit steps are kept when their next observation is stored (their reward is not
    ///    lost); they are dropped only when the next state is unknown.
    /// 3. `terminals` set the mask to 0 (no bootstrap); `timeouts` never do.
    /// 4. Episode ends are rebuilt from the flags and, when both arrays exist, from the
    ///    discontinuity between `next_observations[i]` and `observations[i + 1]`.
    /// Throws ``DatasetError`` (naming the array and row) for empty, mis-shaped or non-finite rows.
    public func makeTransitions(maxEpisodeSteps: Int? = nil) throws -> Transitions {
        let d = observationDimension, ad = actionDimension
        if let next = nextObservations {
            // Every row has its true next state: keep them all, share the arrays.
            var ends = [Bool](repeating: false, count: count)
            for e in episodes(maxEpisodeSteps: maxEpisodeSteps) { ends[e.start + e.length - 1] = true }
            var t = try Transitions(observations: observations, actions: actions, rewards: rewards, nextObservations: next,
                                    terminals: terminals.map { $0 ? 1 : 0 }, obsDim: d, actDim: ad)
            t.episodeEnds = ends
            return t
        }
        var obs: [Float] = [], act: [Float] = [], rew: [Float] = [], nxt: [Float] = [], term: [Float] = [], ends: [Bool] = []
        obs.reserveCapacity(observations.count); nxt.reserveCapacity(observations.count)
        act.reserveCapacity(actions.count); rew.reserveCapacity(count); term.reserveCapacity(count); ends.reserveCapacity(count)
        var dropped = 0
        for e in episodes(maxEpisodeSteps: maxEpisodeSteps) {
            for i in e.start..<(e.start + e.length) {
                let last = i == e.start + e.length - 1
                if last && !e.terminated { dropped += 1; if !ends.isEmpty { ends[ends.count - 1] = true }; continue }
                obs.append(contentsOf: observations[(i * d)..<((i + 1) * d)])
                act.append(contentsOf: actions[(i * ad)..<((i + 1) * ad)])
                rew.append(rewards[i])
                // A terminal's next state is never bootstrapped from; its own state stands in.
                let src = last ? i : i + 1
                nxt.append(contentsOf: observations[(src * d)..<((src + 1) * d)])
                term.append(last ? 1 : 0)
                ends.append(last)
            }
        }
        var t = try Transitions(observations: obs, actions: act, rewards: rew, nextObservations: nxt, terminals: term,
                                obsDim: d, actDim: ad)
        t.episodeEnds = ends
        t.droppedRows = dropped
        return t
    }

    /// Every way the file departs from a well-formed D4RL dataset, one line each (empty = valid).
    ///
    /// Checks shapes, finiteness, action bounds, flags (terminal and timeout on one row),
    /// episode lengths against `maxEpisodeSteps`, and that each
    /// stored next observation equals the following row's observation inside an episode.
    public func verify(maxEpisodeSteps: Int? = nil, observationDimension od: Int? = nil, actionDimension adim: Int? = nil,
                       limit: Int = 20) -> [String] {
        var problems: [String] = []
        func add(_ s: String) { if problems.count < limit { problems.append(s) } else if problems.count == limit { problems.append("… more problems not listed") } }
        do { try validateShapes() } catch { add("\(error)"); return problems }
        if count == 0 { add("the dataset holds no transitions (rewards has 0 rows)"); return problems }
        if let od, od != observationDimension { add("observations: dimension \(observationDimension), the environment has \(od)") }
        if let adim, adim != actionDimension { add("actions: dimension \(actionDimension), the environment has \(adim)") }
        func finite(_ key: String, _ v: [Float], _ w: Int) {
            var bad = 0, first = -1
            for (i, x) in v.enumerated() where !x.isFinite { bad += 1; if first < 0 { first = i } }
            if bad > 0 { add("\(key): \(bad) non-finite values, first at row \(first / w), column \(first % w)") }
        }
        finite("observations", observations, observationDimension)
        finite("actions", actions, actionDimension)
        finite("rewards", rewards, 1)
        if let n = nextObservations { finite("next_observations", n, observationDimension) }
        var outOfBounds = 0, firstOOB = -1
        for (i, a) in actions.enumerated() where a.isFinite && abs(a) > 1 { outOfBounds += 1; if firstOOB < 0 { firstOOB = i } }
        if outOfBounds > 0 { add("actions: \(outOfBounds) values outside [-1, 1], first at row \(firstOOB / actionDimension)") }
        if let t = timeouts {
            let both = zip(terminals, t).filter { $0 && $1 }.count
            if both > 0 { add("terminals and timeouts both set on \(both) rows") }
        } else {
            add("timeouts: missing (episode ends cut by the time limit cannot be told apart)")
        }
        if nextObservations == nil { add("next_observations: missing (last steps of truncated episodes cannot be used)") }
        let eps = episodes(maxEpisodeSteps: maxEpisodeSteps)
        if let limit = maxEpisodeSteps {
            let long = eps.filter { $0.length > limit }
            if !long.isEmpty { add("\(long.count) episodes longer than the \(limit)-step limit, first at row \(long[0].start)") }
        }
        if let next = nextObservations, let t = timeouts {
            // Inside an episode the next observation must be the following row.
            let d = observationDimension
            var mismatches = 0, first = -1
            for i in 0..<(max(count, 1) - 1) where !terminals[i] && !t[i] {
                let a = i * d, b = (i + 1) * d
                for k in 0..<d where next[a + k] != observations[b + k] {
                    mismatches += 1; if first < 0 { first = i }; break
                }
            }
            if mismatches > 0 {
                add("next_observations: \(mismatches) rows inside an episode differ from the following observation, first at row \(first) (an unflagged episode end?)")
            }
        }
        return problems
    }
}

/// Mean, standard deviation, min and max of a list (population std, as numpy's default).
public struct Summary: Sendable, Equatable {
    public var mean: Double, std: Double, min: Double, max: Double, count: Int
    public init(_ v: [Double]) {
        count = v.count
        guard !v.isEmpty else { mean = .nan; std = .nan; min = .nan; max = .nan; return }
        mean = v.reduce(0, +) / Double(v.count)
        let m = mean
        std = (v.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(v.count)).squareRoot()
        min = v.min()!; max = v.max()!
    }

    /// The `q`-quantiles of `v` (0 ≤ q ≤ 1) with linear interpolation between order statistics,
    /// as numpy's default `percentile`; NaN for an empty list.
    public static func quantiles(_ v: [Double], _ qs: [Double]) -> [Double] {
        guard !v.isEmpty else { return qs.map { _ in .nan } }
        let s = v.sorted()
        return qs.map { q in
            let pos = Swift.min(Swift.max(q, 0), 1) * Double(s.count - 1)
            let lo = Int(pos.rounded(.down)), hi = Swift.min(lo + 1, s.count - 1)
            return s[lo] + (s[hi] - s[lo]) * (pos - Double(lo))
        }
    }
}
