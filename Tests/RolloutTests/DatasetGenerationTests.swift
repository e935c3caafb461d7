import Datasets
import Envs
import Foundation
import HDF5
import Testing
import TestSupport
@testable import Rollout

/// Values per maze observation row (position first).
private let w = MazeEnv.observationDimension

@Suite("Dataset generation")
struct DatasetGenerationTests {
    let provider = BundledBehaviors(datasets: datasetsFolder)

    @Test("the same id, size and seed give identical arrays with 1 and 4 workers")
    func workerInvariance() throws {
        for id in ["hopper-medium-replay-v1", "maze-medium-diverse-v3", "kitchen-partial-v2"] {
            let entry = try DatasetCatalog.entry(id)
            let a = try DatasetGenerator.generate(entry, size: 1500, seed: 5, workers: 1, provider: provider)
            let b = try DatasetGenerator.generate(entry, size: 1500, seed: 5, workers: 4, provider: provider)
            #expect(a.observations == b.observations && a.actions == b.actions && a.rewards == b.rewards, "\(id)")
            #expect(a.terminals == b.terminals && a.timeouts! == b.timeouts! && a.nextObservations! == b.nextObservations!)
            #expect(a.infos == b.infos)
            let c = try DatasetGenerator.generate(entry, size: 1500, seed: 6, workers: 1, provider: provider)
            #expect(c.observations != a.observations, "another seed gives other data")
        }
    }

    @Test("every catalog entry generates at a reduced size, verifies and round-trips through HDF5")
    func everyEntry() throws {
        let dir = makeTemporaryDirectory("cat")
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for entry in DatasetCatalog.all {
            let spec = try EnvRegistry.spec(entry.env)
            let ds = try DatasetGenerator.generate(entry, size: 1200, seed: 0, workers: 2, provider: provider)
            #expect(ds.count == 1200, "\(entry.id)")
            let path = "\(dir)/\(entry.id).hdf5"
            try ds.write(to: path)
            let back = try D4RLDataset.load(path, expect: .init(observationDimension: spec.observationDimension,
                                                                actionDimension: spec.actionDimension))
            #expect(back.verify(maxEpisodeSteps: spec.maxEpisodeSteps).isEmpty, "\(entry.id): \(back.verify(maxEpisodeSteps: spec.maxEpisodeSteps))")
            #expect(back.metadata["dataset_id"] == .string(entry.id))
            #expect(back.observations == ds.observations)
            if spec.domain == .maze { #expect(back.infos["goal"]?.shape == [1200, 2], "\(entry.id) stores the commanded goal") }
            let f = try HDF5File.open(path)
            for key in ["observations", "actions", "rewards", "terminals", "timeouts", "next_observations"] {
                #expect(f.contains(key), "\(entry.id) lacks \(key)")
            }
            #expect(try f.info("terminals").type == .bool)
        }
    }

    @Test("medium-expert is half medium, half expert; medium-replay starts with the search's early iterates")
    func mixtures() throws {
        let spec = try EnvRegistry.spec(.hopper)
        let me = try DatasetGenerator.generate(try DatasetCatalog.entry("hopper-medium-expert-v1"), size: 4000, seed: 0, workers: 2, provider: provider)
        #expect(me.count == 4000)
        if case .string(let b)? = me.metadata["behavior_policy"] { #expect(b == "medium+expert") } else { Issue.record("no behaviour metadata") }
        let replay = try DatasetGenerator.generate(try DatasetCatalog.entry("hopper-medium-replay-v1"), size: 4000, seed: 0, workers: 2, provider: provider)
        let eps = replay.episodes(maxEpisodeSteps: spec.maxEpisodeSteps).filter { !$0.incomplete }
        #expect(eps.count > 5)
        #expect(eps.first!.totalReward < 1000, "early iterates are poor")
    }

    @Test("maze data reward the evaluation goal, not the commanded one; the behaviour is the unrelabelled recipe's")
    func mazeEvaluationGoalRewards() throws {
        let spec = try EnvRegistry.spec("maze-medium")
        let layout = try #require(Maze.layout(for: spec.id))
        let entry = try DatasetCatalog.entry("maze-medium-play-v3")
        guard case .evaluationGoalRewards(let inner) = entry.recipe else { Issue.record("\(entry.recipe)"); return }
        var commanded = entry
        commanded.recipe = inner
        let v1 = try DatasetGenerator.generate(commanded, size: 6000, seed: 2, workers: 2, provider: provider)
        let v2 = try DatasetGenerator.generate(entry, size: 6000, seed: 2, workers: 2, provider: provider)
        #expect(v1.observations == v2.observations && v1.actions == v2.actions && v1.infos == v2.infos)
        #expect(v1.rewards.contains(1), "the unrelabelled recipe pays at the commanded goals")
        let goal = layout.center(of: layout.goal)
        let next = try #require(v2.nextObservations)
        for i in 0..<v2.count {
            let dx = next[w * i] - goal.x, dy = next[w * i + 1] - goal.y
            let at = (dx * dx + dy * dy).squareRoot() <= 0.5
            #expect(v2.rewards[i] == (at ? 1 : 0) && v2.terminals[i] == at, "row \(i)")
            if !at && v1.rewards[i] == 1 { #expect(v2.rewards[i] == 0) }
        }
        // A v2 dataset can also be relabelled only from a maze.
        var hopper = try DatasetGenerator.generate(try DatasetCatalog.entry("hopper-random-v1"), size: 10, seed: 0, workers: 1, provider: provider)
        #expect(throws: RolloutError.self) { try DatasetGenerator.rewardEvaluationGoal(&hopper, spec: try EnvRegistry.spec(.hopper)) }
    }

    @Test("play and diverse maze legs end (truncated) on arrival at the commanded goal; no play leg from S goes to or through G")
    func mazeLegs() throws {
        for id in ["maze-medium-play-v3", "maze-large-diverse-v3", "maze-medium-diverse-v4", "maze-medium-play-v4", "maze-large-play-v5", "maze-medium-diverse-v6", "maze-large-play-v7", "maze-medium-diverse-v8"] {
            let spec = try EnvRegistry.spec(id.hasPrefix("maze-medium") ? "maze-medium" : "maze-large")
            let layout = try #require(Maze.layout(for: spec.id))
            let d = try DatasetGenerator.generate(try DatasetCatalog.entry(id), size: 4000, seed: 1, workers: 2, provider: provider)
            let goal = try #require(d.infos["goal"]?.values), episode = try #require(d.infos["episode"]?.values)
            let next = try #require(d.nextObservations), timeouts = try #require(d.timeouts)
            func atGoal(_ i: Int) -> Bool {
                let dx = next[w * i] - goal[2 * i], dy = next[w * i + 1] - goal[2 * i + 1]
                return (dx * dx + dy * dy).squareRoot() <= 0.5
            }
            var start = 0, arrivals = 0, legs = 0, legsToG = 0
            let pocket = layout.goalPocket
            for i in 0..<d.count where i == d.count - 1 || episode[i + 1] != episode[i] {
                let rows = start...i
                #expect(Set(rows.map { goal[2 * $0] }).count == 1, "\(id): one commanded goal per episode")
                let firstArrival = rows.first(where: atGoal)
                if let a = firstArrival { #expect(a == i && (timeouts[i] || d.terminals[i]), "\(id): the episode ends on arrival (row \(a), end \(i))"); arrivals += 1 }
                if id.contains("play") {
                    let s = layout.cell(containing: SIMD2(d.observations[w * start], d.observations[w * start + 1]))
                    let g = layout.cell(containing: SIMD2(goal[2 * start], goal[2 * start + 1]))
                    #expect(!(s == layout.start && layout.shortestPathPasses(from: s, to: g, via: layout.goal)), "\(id): no leg from S to or through G")
                }
                if !id.hasSuffix("v3") {
                    let s = layout.cell(containing: SIMD2(d.observations[w * start], d.observations[w * start + 1]))
                    let g = layout.cell(containing: SIMD2(goal[2 * start], goal[2 * start + 1]))
                    // v6 starts half its legs to G inside the pocket, v7 a quarter of them in G (``mazeWideLegs``).
                    let pocketStart = (id.hasSuffix("v6") && s != g || id.hasSuffix("v7") || id.hasSuffix("v8")) && g == layout.goal
                    #expect(!pocket.contains(s) || pocketStart, "\(id): legs start outside G's pocket")
                    #expect(g == layout.goal ? s != layout.start : !pocket.contains(g), "\(id): goals are G (never from S) or outside the pocket")
                    if g == layout.goal { legsToG += 1 }
                    legs += 1
                }
                start = i + 1
            }
            #expect(arrivals >= 10, "\(id): \(arrivals) legs arrived")
            if legs > 0 {
                // 10 % of legs go to G: about 5 of ~50 legs in 4,000 rows; 1 to 15 is a 99.9 % band.
                #expect((1...15).contains(legsToG), "\(id): \(legsToG) of \(legs) legs go to G")
            }
        }
    }

    @Test("v5 maze legs start anywhere in their cell at any heading and drive through the goal; v4's start centred and brake")
    func mazeDriveLegs() throws {
        let layout = try #require(Maze.layout(for: "maze-medium"))
        var arrivalSpeed: [String: Double] = [:]
        for id in ["maze-medium-diverse-v4", "maze-medium-diverse-v5"] {
            let d = try DatasetGenerator.generate(try DatasetCatalog.entry(id), size: 4000, seed: 1, workers: 2, provider: provider)
            let episode = try #require(d.infos["episode"]?.values), goal = try #require(d.infos["goal"]?.values)
            let next = try #require(d.nextObservations), o = d.observations
            var offsets: [Float] = [], quadrants = Set<Int>(), speeds: [Double] = []
            var start = 0
            for i in 0..<d.count where i == d.count - 1 || episode[i + 1] != episode[i] {
                let p = SIMD2(o[w * start], o[w * start + 1])
                let off = p - layout.center(of: layout.cell(containing: p))
                offsets += [abs(off.x), abs(off.y)]
                let heading = atan2f(o[w * start + 3], o[w * start + 2])
                quadrants.insert(Int(((heading + .pi) / (.pi / 2)).rounded(.down)) % 4)
                let dx = next[w * i] - goal[2 * i], dy = next[w * i + 1] - goal[2 * i + 1]
                if (dx * dx + dy * dy).squareRoot() <= 0.5 {
                    // Forward speed on arrival: velocity along the heading.
                    speeds.append(Double(next[w * i + 2] * next[w * i + 4] + next[w * i + 3] * next[w * i + 5]))
                }
                start = i + 1
            }
            #expect(speeds.count >= 10, "\(id): \(speeds.count) arrivals")
            arrivalSpeed[id] = speeds.reduce(0, +) / Double(max(speeds.count, 1))
            if id.hasSuffix("v5") {
                #expect(offsets.allSatisfy { $0 <= 1 } && offsets.max()! > 0.8, "\(id): starts spread ±1 m, largest \(offsets.max()!)")
                #expect(quadrants.count == 4, "\(id): start headings in \(quadrants.count) quadrants")
            } else {
                #expect(offsets.allSatisfy { $0 <= 0.1 } && quadrants.count <= 2, "\(id): starts at the centre facing +x")
            }
        }
        let braking = try #require(arrivalSpeed["maze-medium-diverse-v4"]), driving = try #require(arrivalSpeed["maze-medium-diverse-v5"])
        #expect(driving > 0.7 && braking < 0.65, "mean arrival speed: v5 \(driving) m/s, v4 \(braking) m/s")
    }

    @Test("v6 to v8 maze legs: half the legs to G start inside G's pocket (v7, v8: half of those in G's cell), and starts reach the walls")
    func mazeWideLegs() throws {
        for id in ["maze-medium-play-v6", "maze-large-diverse-v6", "maze-medium-play-v7", "maze-large-diverse-v7", "maze-large-play-v8"] {
            let layout = try #require(Maze.layout(for: id.hasPrefix("maze-medium") ? "maze-medium" : "maze-large"))
            let pocket = layout.goalPocket
            #expect(pocket.count >= 3, "\(id): the pocket has cells besides G")
            let d = try DatasetGenerator.generate(try DatasetCatalog.entry(id), size: 40_000, seed: 1, workers: 2, provider: provider)
            let episode = try #require(d.infos["episode"]?.values), goal = try #require(d.infos["goal"]?.values)
            let o = d.observations
            var toG = 0, toGFromPocket = 0, toGFromG = 0, largest: Float = 0, pocketStartCells = Set<MazeCell>()
            var start = 0
            for i in 0..<d.count where i == d.count - 1 || episode[i + 1] != episode[i] {
                let p = SIMD2(o[w * start], o[w * start + 1])
                let s = layout.cell(containing: p)
                let g = layout.cell(containing: SIMD2(goal[2 * start], goal[2 * start + 1]))
                let off = p - layout.center(of: s)
                largest = max(largest, abs(off.x), abs(off.y))
                if g == layout.goal {
                    toG += 1
                    if pocket.contains(s) { toGFromPocket += 1; pocketStartCells.insert(s) }
                    if s == layout.goal { toGFromG += 1 }
                }
                start = i + 1
            }
            // A rover of radius 0.5 m in a 4 m cell touches a wall at 1.5 m from the centre.
            #expect(largest <= 1.49 + 1e-4 && largest > 1.4, "\(id): starts reach \(largest) m from the cell centre")
            // About 50 legs go to G (54 and 45 with seed 1), half of them from the pocket (27, 22): a
            // share outside 0.25...0.75 of 45 legs has probability about 0.001 for a fair coin.
            #expect(toG >= 20 && Double(toGFromPocket) / Double(toG) > 0.25 && Double(toGFromPocket) / Double(toG) < 0.75,
                    "\(id): \(toGFromPocket) of \(toG) legs to G start inside the pocket")
            #expect(pocketStartCells.subtracting([layout.goal]).count >= 2, "\(id): pocket starts in \(pocketStartCells)")
            if !id.hasSuffix("v6") {
                // A quarter of the legs to G start in G's cell (13 of 54 and 11 of 45 with seed 1).
                #expect(Double(toGFromG) / Double(toG) > 0.1 && Double(toGFromG) / Double(toG) < 0.4,
                        "\(id): \(toGFromG) of \(toG) legs to G start in G's cell")
            } else {
                #expect(toGFromG == 0, "\(id): \(toGFromG) legs start in G's cell")
            }
        }
    }

    @Test("evaluate --start-cell: maze episodes start in the given cell; non-mazes and walls are refused")
    func mazeStartCell() throws {
        let spec = try EnvRegistry.spec("maze-medium")
        let planner = try provider.policy(named: "planner", spec: spec)
        let fromS = try RolloutEngine.run(spec: spec, policy: planner, options: RolloutOptions(episodes: 6, workers: 2, seed: 3, record: true))
        let near = try MazeStartPolicy(planner, cell: MazeCell(row: 4, col: 6), spec: spec)
        let fromNear = try RolloutEngine.run(spec: spec, policy: near, options: RolloutOptions(episodes: 6, workers: 2, seed: 3, record: true))
        let layout = try #require(Maze.layout(for: spec.id))
        for (run, cell) in [(fromS, layout.start), (fromNear, MazeCell(row: 4, col: 6))] {
            for rec in run.records {
                #expect(layout.cell(containing: SIMD2(rec.observations[0], rec.observations[1])) == cell)
            }
            #expect(run.episodes.allSatisfy { $0.terminated && $0.totalReward == 1 })
        }
        let meanS = Double(fromS.episodes.map(\.length).reduce(0, +)) / 6, meanNear = Double(fromNear.episodes.map(\.length).reduce(0, +)) / 6
        #expect(meanNear < meanS / 2, "\(meanNear) steps from (4, 6) against \(meanS) from S")
        #expect(throws: RolloutError.self) { try MazeStartPolicy(planner, cell: MazeCell(row: 0, col: 0), spec: spec) }
        #expect(throws: RolloutError.self) { try MazeStartPolicy(planner, cell: MazeCell(row: 1, col: 1), spec: try EnvRegistry.spec(.hopper)) }
    }

    @Test("maze data are scored per collection episode (infos/episode), not per terminal-split piece")
    func mazeDataScorePerCollectionEpisode() throws {
        let spec = try EnvRegistry.spec("maze-medium")
        // Collection episode 0 reaches the goal twice (two terminal pieces), 1 never does, 2 is
        // cut off by the end of the file (no flag on its last row) and does not count.
        let ids: [Float] = [0, 0, 0, 0, 1, 1, 1, 2, 2]
        let rewards: [Float] = [0, 1, 1, 0, 0, 0, 0, 0, 1]
        let terminals = rewards.map { $0 > 0 }
        var timeouts = [Bool](repeating: false, count: 9)
        timeouts[3] = true; timeouts[6] = true
        var terminalsCut = terminals
        terminalsCut[8] = false
        func dataset(_ t: [Bool], infos: Bool) -> D4RLDataset {
            D4RLDataset(observationDimension: 9, actionDimension: 2, observations: (0..<81).map(Float.init), actions: [Float](repeating: 0, count: 18),
                        rewards: rewards, terminals: t, timeouts: timeouts, nextObservations: nil,
                        infos: infos ? ["episode": InfoArray(values: ids, shape: [9])] : [:])
        }
        #expect(datasetEpisodeScores(dataset(terminalsCut, infos: true), spec: spec) == [100, 0])
        #expect(datasetEpisodeScores(dataset(terminals, infos: true), spec: spec) == [100, 0, 100], "a last episode ended by a terminal counts")
        // Without infos/episode: the terminal- and timeout-split pieces (4 pieces, 2 of them rewarded).
        #expect(datasetEpisodeScores(dataset(terminals, infos: false), spec: spec).sorted() == [0, 0, 100, 100, 100])
    }

    @Test("the online replay buffer is deterministic for a seed and holds the warm-up and the learner's episodes")
    func onlineReplay() throws {
        let spec = try EnvRegistry.spec(.hopper)
        var o = OnlineReplay.Options(targetReturn: .infinity, maxSteps: 700, seed: 4)
        o.startSteps = 300; o.evalEvery = 200; o.evalEpisodes = 2
        o.config.hidden = [32, 32]; o.config.criticHidden = [32, 32]; o.config.batchSize = 32
        let a = try OnlineReplay.collect(spec: spec, options: o)
        let b = try OnlineReplay.collect(spec: spec, options: o)
        #expect(a.records.reduce(0) { $0 + $1.rewards.count } == 700)
        #expect(a.reachedAt == nil && a.evaluations.map(\.step) == [400, 600])
        #expect(a.records.map(\.actions) == b.records.map(\.actions) && a.records.map(\.observations) == b.records.map(\.observations))
        // A reachable target stops the run at that evaluation.
        o.targetReturn = -1_000
        let c = try OnlineReplay.collect(spec: spec, options: o)
        #expect(c.reachedAt == 400 && c.records.reduce(0) { $0 + $1.rewards.count } == 400)
    }

    @Test("kitchen v2 episodes follow one of the fixed routines; mixed never completes all four targets",
          arguments: [("kitchen-partial-v2", Kitchen.partialRoutines, KitchenTargets.complete),
                      ("kitchen-mixed-v2", Kitchen.mixedRoutines, KitchenTargets.mixed)])
    func kitchenRoutines(id: String, routines: [[KitchenObject]], targets: [KitchenObject]) throws {
        let d = try DatasetGenerator.generate(try DatasetCatalog.entry(id), size: 12_000, seed: 0, workers: 2, provider: provider)
        let w = KitchenEnv.observationDimension
        var seen = Set<[KitchenObject]>()
        var start = 0, episodes = 0
        for i in 0..<d.count where d.terminals[i] || d.timeouts![i] {
            // The order in which objects first reach their goal over this episode's rows.
            var first: [(Int, KitchenObject)] = []
            for o in KitchenObject.allCases {
                let at = (start...i).first { r in
                    d.nextObservations!.withUnsafeBufferPointer {
                        KitchenModel.distanceToGoal(o, objectState: $0.baseAddress! + r * w + KitchenEnv.objectStateOffset) < KitchenModel.threshold(o)
                    }
                }
                if let at { first.append((at, o)) }
            }
            // In a routine's order; a knob pushed past its goal's threshold never counts as at
            // its goal, so an object may be missing.
            let done = first.sorted { $0.0 < $1.0 }.map(\.1)
            let matches = routines.filter { r in
                var k = 0
                for o in r where k < done.count && done[k] == o { k += 1 }
                return k == done.count
            }
            #expect(!matches.isEmpty, "\(id): episode at row \(start) completed \(done), in no routine's order")
            if matches.count == 1 && done.count >= 3 { seen.insert(matches[0]) }
            #expect(!Set(targets).isSubset(of: done) || matches == [KitchenTargets.complete],
                    "\(id): only the targets' own routine completes every target")
            start = i + 1; episodes += 1
        }
        #expect(episodes >= 40)
        #expect(seen == Set(routines), "\(id): every routine is performed (three or four of its objects) in some episode")
    }

    @Test("unknown ids and impossible sizes are refused with clear errors")
    func badRequests() throws {
        let e = #expect(throws: RolloutError.self) { try DatasetCatalog.entry("hopper-mediocre-v1") }
        #expect(e?.description.contains("unknown dataset id 'hopper-mediocre-v1'") == true)
        let entry = try DatasetCatalog.entry("hopper-random-v1")
        #expect(throws: RolloutError.self) { try DatasetGenerator.generate(entry, size: 0, seed: 0, workers: 1, provider: provider) }
        let noFiles = BundledBehaviors(datasets: "/nonexistent")
        let e2 = #expect(throws: RolloutError.self) {
            try DatasetGenerator.generate(try DatasetCatalog.entry("hopper-expert-v1"), size: 10, seed: 0, workers: 1, provider: noFiles)
        }
        #expect(e2?.description.contains("/nonexistent/behavior/hopper.json") == true)
        // Medium-expert v3 needs an independent medium; a behaviour file without one (the
        // committed walker2d file with its independent medium taken out) names the command that
        // adds one.
        try withTemporaryDirectory("no-medium") { dir in
            var file = try BehaviorFile.load(datasets: datasetsFolder, env: .walker2d)
            file.independentMedium = nil; file.independentMediumSeed = nil
            try FileManager.default.createDirectory(atPath: dir + "/behavior", withIntermediateDirectories: true)
            try file.write(to: BehaviorFile.path(datasets: dir, env: .walker2d))
            let noMedium = #expect(throws: RolloutError.self) {
                try BundledBehaviors(datasets: dir).policy(named: "independent-medium", spec: try EnvRegistry.spec(.walker2d))
            }
            #expect(noMedium?.description.contains("behavior add-medium") == true)
            _ = try BundledBehaviors(datasets: datasetsFolder).policy(named: "independent-medium", spec: try EnvRegistry.spec(.walker2d))
        }
    }
}
