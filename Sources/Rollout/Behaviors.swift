import Envs
import Foundation
import OFQL
import Randomness

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
    /// Gaussian action noise used when collecting locomotion and kitchen datasets (the
    /// deterministic controllers would otherwise give near-identical episodes).
    public static let datasetNoise: Float = 0.1
    /// The maze planners' collection noise (maze datasets v3). With σ = 0.1 the rover kept to
    /// the corridors' centre lines, so learned policies that touched a wall met states the data
    /// never showed and stayed pinned there; at σ = 0.5 the planner still reaches every goal
    /// (planner on maze-medium: 100 % success, 170 steps against 134 at σ = 0.1).
    public static let mazeDatasetNoise: Float = 0.5
    /// The folder holding `behavior/<env>.json`, nil when none was found.
    public let datasets: String?
    /// The noise of every behaviour when set; else each domain's dataset noise.
    public let noiseOverride: Float?

    public init(datasets: String? = nil, noise: Float? = nil) {
        self.datasets = datasets ?? DataPaths.datasetsFolder()
        self.noiseOverride = noise
    }

    /// The action noise of `spec`'s behaviours.
    public func noise(for spec: EnvSpec) -> Float {
        noiseOverride ?? (spec.domain == .maze ? Self.mazeDatasetNoise : Self.datasetNoise)
    }

    func file(_ spec: EnvSpec) throws -> BehaviorFile {
        guard let datasets else {
            throw RolloutError.invalid("cannot find the datasets/ folder with behaviour policies; run from the repository or set OFQL_DATASETS")
        }
        do { return try BehaviorFile.load(datasets: datasets, env: spec.id) } catch {
            throw RolloutError.invalid("\(error)")
        }
    }

    public func policy(named name: String, spec: EnvSpec) throws -> BatchPolicy {
        let noise = noise(for: spec)
        switch (spec.domain, name) {
        case (_, "random"):
            return RandomPolicy(observationDimension: spec.observationDimension, actionDimension: spec.actionDimension)
        case (.locomotion, "expert"):
            return LinearBatchPolicy(name: "expert", policy: try file(spec).expert.policy, noiseStd: noise)
        case (.locomotion, "medium"):
            return LinearBatchPolicy(name: "medium", policy: try file(spec).medium.policy, noiseStd: noise)
        case (.locomotion, "independent-medium"):
            guard let m = try file(spec).independentMedium else {
                throw RolloutError.invalid("\(spec.id): the behaviour file has no independent medium; add one with `ofql-eval behavior add-medium`")
            }
            return LinearBatchPolicy(name: "independent-medium", policy: m.policy, noiseStd: noise)
        default:
            if let p = try ScriptedBehaviors.policy(named: name, spec: spec, noise: noise) { return p }
            throw RolloutError.invalid("no behaviour policy '\(name)' for \(spec.id); known: \(BundledBehaviors.names(for: spec).joined(separator: ", "))")
        }
    }

    public func replayPolicies(spec: EnvSpec) throws -> [BatchPolicy] {
        let f = try file(spec), noise = noise(for: spec)
        let upTo = f.history.filter { $0.iteration <= f.medium.iteration }
        return upTo.map { LinearBatchPolicy(name: "iterate-\($0.iteration)", policy: $0.policy, noiseStd: noise) }
    }

    /// Policy names `evaluate --policy` accepts for an env.
    public static func names(for spec: EnvSpec) -> [String] {
        switch spec.domain {
        case .locomotion: return ["random", "expert", "medium", "independent-medium"]
        default: return ["random"] + ScriptedBehaviors.names(for: spec)
        }
    }
}

/// Scripted planners of the maze and kitchen envs as batch policies, one controller per lane.
///
/// Behaviour names: `planner` (the evaluation task: maze goal G from S, kitchen targets in
/// D4RL's order), `maze-umaze` / `maze-play` / `maze-diverse` and `kitchen-complete` /
/// `kitchen-partial` / `kitchen-mixed` (dataset collection, see ``ScriptedBatchPolicy/Mode``).
enum ScriptedBehaviors {
    static func policy(named name: String, spec: EnvSpec, noise: Float) throws -> BatchPolicy? {
        guard let mode = ScriptedBatchPolicy.Mode(rawValue: name), mode.applies(to: spec) else { return nil }
        return ScriptedBatchPolicy(spec: spec, mode: mode, noise: noise)
    }
    static func names(for spec: EnvSpec) -> [String] {
        ScriptedBatchPolicy.Mode.allCases.filter { $0.applies(to: spec) }.map(\.rawValue)
    }
}

/// Maze and kitchen controllers for every lane of a worker, configured per episode.
public final class ScriptedBatchPolicy: BatchPolicy {
    public enum Mode: String, CaseIterable, Sendable {
        /// The evaluation task, noise as given.
        case planner
        /// Dataset collection: S → G, episodes do not end at the goal (D4RL antmaze umaze).
        case mazeUmaze = "maze-umaze"
        /// One leg per episode, cut (truncated) on arrival: a hand-picked goal (the layout's play
        /// goals) from a hand-picked start (S or another play goal). No leg from S goes to or
        /// through the evaluation goal G, so reaching G from S takes stitching legs together, as
        /// on D4RL's antmazes, where no trajectory of the data goes from the start to the goal.
        case mazePlay = "maze-play"
        /// One leg per episode, cut on arrival: a random goal from a random start among all free cells.
        case mazeDiverse = "maze-diverse"
        /// One leg per episode, cut on arrival. With probability ``pocketGoalShare`` the goal is
        /// G from a random free cell outside the goal pocket (``MazeLayout/goalPocket``), never
        /// S; otherwise a random goal from a random start, both outside the pocket. Every flow
        /// into the pocket is then a minority at the junction before it, so a Markov imitator
        /// follows the majority past it, while the legs to G carry the reward that an
        /// offline-RL learner can select (results/mazes-v4.md).
        case mazeDiversePocket = "maze-diverse-pocket"
        /// One leg per episode, cut on arrival: with probability ``pocketGoalShare`` a leg to G
        /// from a pocket play goal, otherwise a leg between pocket play goals (or from S)
        /// (``MazeLayout/pocketPlayLegs``); the play counterpart of `maze-diverse-pocket`.
        case mazePlayPocket = "maze-play-pocket"
        /// The legs of `maze-diverse-pocket`, each started anywhere in its start cell (±1 m on
        /// each axis) at any heading, and driven through the goal without braking (the v5 maze
        /// data). The data then cover every position and heading in a cell, up to 0.5 m from its
        /// walls, and the speed near the goal does not fall to a crawl that a learned policy
        /// stalls in (results/mazes-v5.md).
        case mazeDiverseDrive = "maze-diverse-drive"
        /// The legs of `maze-play-pocket`, started and driven as `maze-diverse-drive`'s.
        case mazePlayDrive = "maze-play-drive"
        /// `maze-diverse-drive`, with half the legs to G started in a random cell of G's pocket
        /// other than G, and every start anywhere in its cell up to touching a wall
        /// (``wideStartNoise``): the v6 maze data. On v5 a learned policy that reached G's cell
        /// pinned itself in a corner or against a wall the data never held, since no leg started
        /// there or passed through the pocket from inside it (results/mazes-v6.md).
        case mazeDiverseWide = "maze-diverse-wide"
        /// The legs of `maze-play-pocket`, started and driven as `maze-diverse-wide`'s.
        case mazePlayWide = "maze-play-wide"
        /// `maze-diverse-wide`, with half of the legs to G that start inside the pocket started
        /// in G's own cell (a quarter of all legs to G), anywhere up to its walls: the v7 maze
        /// data. On v6 learned policies reached G's cell, missed the noised goal point, drove on
        /// into a wall of the cell and stayed there, a pose no v6 leg holds (legs end on arrival,
        /// and none started in G's cell) (results/mazes-v7.md).
        case mazeDiverseCover = "maze-diverse-cover"
        /// The legs of `maze-play-pocket`, started and driven as `maze-diverse-cover`'s.
        case mazePlayCover = "maze-play-cover"
        /// The four target subtasks in order.
        case kitchenComplete = "kitchen-complete"
        /// Random orders of random object subsets; about half contain every target.
        case kitchenPartial = "kitchen-partial"
        /// Random orders of object subsets that never contain all four mixed targets.
        case kitchenMixed = "kitchen-mixed"
        /// One of four fixed routines per episode (``Kitchen/partialRoutines``), one of them the
        /// four targets in D4RL's order: the kitchen-partial v2 data.
        case kitchenPartialRoutines = "kitchen-partial-routines"
        /// One of four fixed routines per episode (``Kitchen/mixedRoutines``), each with three
        /// of the four mixed targets: the kitchen-mixed v2 data.
        case kitchenMixedRoutines = "kitchen-mixed-routines"

        func applies(to spec: EnvSpec) -> Bool {
            switch self {
            case .planner: return spec.domain != .locomotion
            case .mazeUmaze, .mazePlay, .mazeDiverse: return spec.domain == .maze
            case .mazeDiversePocket, .mazeDiverseDrive, .mazeDiverseWide, .mazeDiverseCover:
                return !(Maze.layout(for: spec.id)?.goalPocket.isEmpty ?? true)
            case .mazePlayPocket, .mazePlayDrive, .mazePlayWide, .mazePlayCover:
                return !(Maze.layout(for: spec.id)?.pocketPlayGoals.isEmpty ?? true)
            case .kitchenComplete, .kitchenPartial, .kitchenMixed, .kitchenPartialRoutines, .kitchenMixedRoutines:
                return spec.domain == .manipulation
            }
        }

        /// Whether legs start anywhere in their cell at any heading and drive through the goal (v5 on).
        var drives: Bool { startsWide || self == .mazeDiverseDrive || self == .mazePlayDrive }
        /// Whether starts reach the walls and half the legs to G start inside the pocket (v6 on).
        var startsWide: Bool { coversGoalCell || self == .mazeDiverseWide || self == .mazePlayWide }
        /// Whether half of the pocket starts are in G's own cell (v7).
        var coversGoalCell: Bool { self == .mazeDiverseCover || self == .mazePlayCover }
    }

    public let spec: EnvSpec
    public let mode: Mode
    public let noise: Float
    var controllers: [Int: any ScriptedController] = [:]
    /// The maze's play legs (``MazeLayout/playLegs``), computed once rather than per episode.
    lazy var playLegs: [MazeLeg] = Maze.layout(for: spec.id)?.playLegs ?? []
    /// Free cells outside the goal pocket (``MazeLayout/goalPocket``), computed once.
    lazy var outsidePocket: [MazeCell] = {
        guard let layout = Maze.layout(for: spec.id) else { return [] }
        let pocket = layout.goalPocket
        return layout.freeCells.filter { !pocket.contains($0) }
    }()
    /// The cells of G's pocket other than G, in row-major order, computed once: where the wide
    /// and cover modes start some of their legs to G (``widened(_:toGoal:goal:_:)``).
    lazy var innerPocket: [MazeCell] = {
        guard let layout = Maze.layout(for: spec.id) else { return [] }
        return layout.goalPocket.filter { $0 != layout.goal }.sorted { ($0.row, $0.col) < ($1.row, $1.col) }
    }()
    /// The maze's v4 play legs (``MazeLayout/pocketPlayLegs``), computed once.
    lazy var pocketPlayLegs: (outside: [MazeLeg], toGoal: [MazeLeg]) = Maze.layout(for: spec.id)?.pocketPlayLegs ?? ([], [])
    /// Share of the pocket and drive modes' legs that go to G.
    public static let pocketGoalShare = 0.1
    /// Half-width (m) of the drive modes' uniform start noise on each axis: the rover (radius
    /// 0.5 m) starts anywhere in its 4 m cell short of touching a wall.
    public static let driveStartNoise: Float = 1.0
    /// Half-width (m) of the wide and cover modes' start noise: up to 0.01 m from touching a
    /// wall, so the data hold the wall and corner poses a learned policy drives into.
    public static let wideStartNoise: Float = 1.49
    public var name: String { mode.rawValue }
    public var observationDimension: Int { spec.observationDimension }
    public var actionDimension: Int { spec.actionDimension }

    public init(spec: EnvSpec, mode: Mode, noise: Float) {
        self.spec = spec; self.mode = mode; self.noise = noise
    }

    public func makeWorkerCopy() -> BatchPolicy { ScriptedBatchPolicy(spec: spec, mode: mode, noise: noise) }

    /// Info keys stored per step in datasets (`infos/goal` for mazes).
    public var infoKeys: [String] { spec.domain == .maze ? ["goal_x", "goal_y"] : [] }

    public func beginEpisode(lane: Int, episode: Int, seed: UInt64, env: any Environment) {
        var g = SeededRNG(seed: SeededRNG.derive(seed, 0xC0FFEE))
        let bare = env.unwrapped
        if let maze = bare as? MazeEnv, let layout = Maze.layout(for: spec.id) {
            var options = MazeOptions.evaluation
            let free = layout.freeCells
            switch mode {
            case .planner: break
            case .mazeUmaze: options.terminateOnSuccess = false
            case .mazePlay:
                let leg = playLegs[Int(g.next() % UInt64(playLegs.count))]
                options = Self.leg(from: leg.start, to: leg.goal)
            case .mazeDiverse:
                let goal = free[Int(g.next() % UInt64(free.count))]
                let starts = free.filter { $0 != goal }
                options = Self.leg(from: starts[Int(g.next() % UInt64(starts.count))], to: goal)
            case .mazePlayPocket, .mazePlayDrive, .mazePlayWide, .mazePlayCover:
                let toGoal = Self.drawsGoalLeg(&g)
                let legs = toGoal ? pocketPlayLegs.toGoal : pocketPlayLegs.outside
                let leg = legs[Int(g.next() % UInt64(legs.count))]
                options = Self.leg(from: widened(leg.start, toGoal: toGoal, goal: layout.goal, &g), to: leg.goal)
            case .mazeDiversePocket, .mazeDiverseDrive, .mazeDiverseWide, .mazeDiverseCover:
                let cells = outsidePocket
                let toGoal = Self.drawsGoalLeg(&g)
                let goal = toGoal ? layout.goal : cells[Int(g.next() % UInt64(cells.count))]
                let starts = cells.filter { $0 != goal && !(toGoal && $0 == layout.start) }
                options = Self.leg(from: widened(starts[Int(g.next() % UInt64(starts.count))], toGoal: toGoal, goal: layout.goal, &g), to: goal)
            default: break
            }
            if mode.drives {
                options.startNoise = mode.startsWide ? Self.wideStartNoise : Self.driveStartNoise
                options.startHeadingNoise = .pi
            }
            maze.options = options
            let planner = MazePlanner(layout: layout, goalCell: options.goalCell ?? layout.goal, noise: noise)
            planner.brakesAtGoal = !mode.drives
            controllers[lane] = planner
        } else if bare is KitchenEnv {
            let all = KitchenObject.allCases
            var order: [KitchenObject]
            switch mode {
            case .kitchenPartial:
                if g.next() % 2 == 0 {
                    // Every target plus maybe one distractor, in a random order.
                    order = KitchenTargets.complete
                    if g.next() % 2 == 0 { order.append(all.filter { !order.contains($0) }[Int(g.next() % 3)]) }
                } else {
                    order = all.filter { _ in g.next() % 2 == 0 }
                    if order.isEmpty { order = [all[Int(g.next() % UInt64(all.count))]] }
                }
                shuffle(&order, &g)
            case .kitchenMixed:
                // Never all four mixed targets: drop one of them, keep a random subset of the rest.
                let dropped = KitchenTargets.mixed[Int(g.next() % 4)]
                order = all.filter { $0 != dropped && (KitchenTargets.mixed.contains($0) || g.next() % 2 == 0) }
                shuffle(&order, &g)
            case .kitchenPartialRoutines:
                order = Kitchen.partialRoutines[Int(g.next() % UInt64(Kitchen.partialRoutines.count))]
            case .kitchenMixedRoutines:
                order = Kitchen.mixedRoutines[Int(g.next() % UInt64(Kitchen.mixedRoutines.count))]
            case .planner where spec.id == Kitchen.mixedSpec.id:
                order = KitchenTargets.mixed
            default:
                order = KitchenTargets.complete
            }
            controllers[lane] = KitchenPlanner(order: order, noise: noise)
        }
        controllers[lane]?.reset()
    }

    /// One collection leg: from `start` to `goal`, cut (truncated) on arrival.
    static func leg(from start: MazeCell, to goal: MazeCell) -> MazeOptions {
        var o = MazeOptions(goalCell: goal, startCell: start, terminateOnSuccess: false)
        o.truncateOnSuccess = true
        return o
    }

    /// A leg's start cell, moved for half the wide and cover modes' legs to G into G's pocket:
    /// a random cell of it other than G (``innerPocket``), or in the cover modes, for half of
    /// those legs, G's own cell; unchanged in every other mode and leg.
    func widened(_ start: MazeCell, toGoal: Bool, goal: MazeCell, _ g: inout SeededRNG) -> MazeCell {
        guard toGoal, mode.startsWide, !innerPocket.isEmpty, g.next() % 2 == 0 else { return start }
        if mode.coversGoalCell, g.next() % 2 == 0 { return goal }
        return innerPocket[Int(g.next() % UInt64(innerPocket.count))]
    }

    /// Whether a pocket mode's next leg goes to G (probability ``pocketGoalShare``).
    static func drawsGoalLeg(_ g: inout SeededRNG) -> Bool { Double(g.next() >> 11) * 0x1p-53 < pocketGoalShare }

    func shuffle(_ a: inout [KitchenObject], _ g: inout SeededRNG) {
        guard a.count > 1 else { return }
        for i in stride(from: a.count - 1, to: 0, by: -1) { a.swapAt(i, Int(g.next() % UInt64(i + 1))) }
    }

    public func act(observations: UnsafePointer<Float>, count: Int, lanes: UnsafePointer<Int>,
                    actions: UnsafeMutablePointer<Float>, rngs: UnsafeMutablePointer<Xoshiro>) {
        let od = observationDimension, ad = actionDimension
        for r in 0..<count {
            guard let c = controllers[lanes[r]] else {
                for j in 0..<ad { actions[r * ad + j] = 0 }
                continue
            }
            c.act(observation: observations + r * od, action: actions + r * ad, rng: &rngs[r])
        }
    }
}
