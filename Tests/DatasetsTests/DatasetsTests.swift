import Foundation
import Testing
@testable import Datasets
import HDF5
import TestSupport

func tempDir() -> String { makeTemporaryDirectory("ds") }

/// Files written by h5py alone (scripts/fixtures/make_d4rl_fixtures.py).
func fixture(_ name: String) -> String {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/\(name)").path
}

/// A tiny hand-made dataset: obs dim 2, act dim 1.
/// Episode A: rows 0-2, terminal at 2. Episode B: rows 3-4, timeout at 4. Episode C: rows 5-6, cut off.
func handMade(next: Bool = true, timeouts: Bool = true) -> D4RLDataset {
    var obs: [Float] = [], nxt: [Float] = []
    let episodes = [(0, 3), (10, 2), (20, 2)]
    for (base, len) in episodes {
        for t in 0..<len {
            obs += [Float(base + t), Float(base + t) / 2]
            nxt += [Float(base + t + 1), Float(base + t + 1) / 2]
        }
    }
    return D4RLDataset(observationDimension: 2, actionDimension: 1, observations: obs,
                       actions: [0.1, 0.2, 0.3, -0.4, -0.5, 0.6, 0.7],
                       rewards: [1, 2, 3, 4, 5, 6, 7],
                       terminals: [false, false, true, false, false, false, false],
                       timeouts: timeouts ? [false, false, false, false, true, false, false] : nil,
                       nextObservations: next ? nxt : nil)
}

@Suite("D4RL layout: episodes, masks, round trips, bad input")
struct DatasetsTests {
    @Test("episode boundaries and bootstrap masks with next_observations and timeouts")
    func boundariesFull() throws {
        let d = handMade()
        let eps = d.episodes()
        #expect(eps.map(\.start) == [0, 3, 5])
        #expect(eps.map(\.length) == [3, 2, 2])
        #expect(eps.map(\.terminated) == [true, false, false])
        #expect(eps.map(\.truncated) == [false, true, false])
        #expect(eps.map(\.totalReward) == [6, 9, 13])
        let q = try d.makeTransitions()
        #expect(q.count == 7 && q.droppedRows == 0, "the timeout step is kept: its next state is stored")
        #expect(q.terminals == [0, 0, 1, 0, 0, 0, 0], "only the terminal clears the bootstrap mask, not the timeout")
        #expect(q.episodeEnds == [false, false, true, false, true, false, true])
        #expect(Array(q.nextObservations[8..<10]) == [12, 6], "the timeout row keeps its true next state (12), not the next episode's first (20)")
    }

    @Test("without next_observations: no next state across an episode, the unknown ones are dropped")
    func boundariesNoNext() throws {
        let q = try handMade(next: false).makeTransitions()
        // Row 4 (timeout) and row 6 (cut off) have no known next state; the terminal row is kept.
        #expect(q.droppedRows == 2)
        #expect(q.rewards == [1, 2, 3, 4, 6])
        #expect(q.terminals == [0, 0, 1, 0, 0])
        #expect(q.episodeEnds == [false, false, true, true, true])
        // Row 3 → 4 stays inside episode B; nothing points from B into C.
        #expect(Array(q.nextObservations[6..<8]) == [11, 5.5])
        #expect(Array(q.nextObservations[0..<2]) == [1, 0.5])
    }

    @Test("without timeouts or next_observations the episode limit marks boundaries")
    func inferredLimit() throws {
        let d = D4RLDataset(observationDimension: 1, actionDimension: 1, observations: (0..<7).map(Float.init),
                            actions: [Float](repeating: 0, count: 7), rewards: [Float](repeating: 1, count: 7),
                            terminals: [Bool](repeating: false, count: 7), timeouts: nil, nextObservations: nil)
        #expect(d.episodes(maxEpisodeSteps: 3).map(\.length) == [3, 3, 1])
        #expect(d.episodes().map(\.length) == [7])
        let q = try d.makeTransitions(maxEpisodeSteps: 3)
        #expect(q.count == 4 && q.droppedRows == 3)
        #expect(q.nextObservations == [1, 2, 4, 5])
    }

    @Test("a jump between next_observations and the following row starts a new episode")
    func discontinuity() {
        var d = handMade()
        d.timeouts = [Bool](repeating: false, count: 7)  // hide the timeout flag
        #expect(d.episodes().map(\.length) == [3, 2, 2])
        // verify still points at the unflagged boundary.
        #expect(d.verify(maxEpisodeSteps: 10) == [
            "next_observations: 1 rows inside an episode differ from the following observation, first at row 4 (an unflagged episode end?)"])
    }

    @Test("write and read back bit for bit, infos and metadata included; h5py-compatible types")
    func roundTrip() throws {
        let dir = tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var d = handMade()
        d.infos["goal"] = InfoArray(values: (0..<14).map(Float.init), shape: [7, 2])
        d.metadata = ["env_id": .string("hopper"), "seed": .int(7), "r_expert": .double(3.5)]
        let path = dir + "/tiny.hdf5"
        try d.write(to: path)
        let back = try D4RLDataset.load(path)
        #expect(back.observations == d.observations && back.actions == d.actions && back.rewards == d.rewards)
        #expect(back.terminals == d.terminals && back.timeouts! == d.timeouts! && back.nextObservations! == d.nextObservations!)
        #expect(back.infos == d.infos)
        #expect(back.metadata == d.metadata)
        let f = try HDF5File.open(path)
        #expect(try f.info("terminals").type == .bool)
        #expect(try f.info("observations").compressed)
        #expect(try f.info("metadata/seed").shape == [])
        // No temporary file is left behind.
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["tiny.hdf5"])
    }

    @Test("reads a hopper-medium-v2-style file written by h5py")
    func readsForeignV2() throws {
        let d = try D4RLDataset.load(fixture("hopper-medium-v2-style.hdf5"), expect: .init(observationDimension: 11, actionDimension: 3))
        #expect(d.count == 12 && d.observationDimension == 11 && d.actionDimension == 3)
        #expect(d.episodes().map(\.length) == [5, 4, 3])
        #expect(d.episodes().map(\.terminated) == [true, false, false])
        #expect(d.metadata["algorithm"] == .string("SAC"))
        #expect(d.metadata["iteration"] == .int(1000))
        #expect(d.infos["qpos"]?.shape == [12, 6])
        let q = try d.makeTransitions()
        #expect(q.count == 12 && q.terminals.reduce(0, +) == 1)
        #expect(d.verify(maxEpisodeSteps: 4).isEmpty == false, "the 5-step episode is over a 4-step limit")
        #expect(d.verify(maxEpisodeSteps: 5).isEmpty)
    }

    @Test("reads a v0-style file: no next_observations or timeouts, (N, 1) float64 rewards, uint8 terminals")
    func readsForeignV0() throws {
        let d = try D4RLDataset.load(fixture("hopper-v0-style.hdf5"))
        #expect(d.rewards == [0, 1, 2, 3, 4, 5, 6])
        #expect(d.terminals == [false, false, true, false, false, false, false])
        #expect(d.timeouts == nil && d.nextObservations == nil)
        let q = try d.makeTransitions()
        #expect(q.count == 6 && q.droppedRows == 1)
        let problems = d.verify()
        #expect(problems.contains { $0.hasPrefix("timeouts: missing") })
        #expect(problems.contains { $0.hasPrefix("next_observations: missing") })
    }

    @Test("bad input: missing keys, wrong shapes, NaN, env mismatch, truncated and non-HDF5 files")
    func badInput() throws {
        let dir = tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let good = dir + "/good.hdf5"
        try handMade().write(to: good)

        let e1 = #expect(throws: DatasetFileError.self) { try D4RLDataset.load(dir + "/missing.hdf5") }
        #expect(e1?.description.contains("missing.hdf5: no such file") == true)

        let e2 = #expect(throws: DatasetFileError.self) { try D4RLDataset.load(good, expect: .init(observationDimension: 11)) }
        #expect(e2?.description == "\(good): 'observations': observation dimension 2, the environment expects 11")

        let noActions = dir + "/no-actions.hdf5"
        do {
            let f = try HDF5File.create(noActions)
            try f.write("observations", [Float](repeating: 0, count: 4), shape: [2, 2])
            try f.write("rewards", [Float](repeating: 0, count: 2), shape: [2])
        }
        let e3 = #expect(throws: DatasetFileError.self) { try D4RLDataset.load(noActions) }
        #expect(e3?.key == "actions")
        #expect(e3?.message.contains("missing") == true)

        let badShape = dir + "/bad-shape.hdf5"
        do {
            let f = try HDF5File.create(badShape)
            try f.write("observations", [Float](repeating: 0, count: 4), shape: [2, 2])
            try f.write("actions", [Float](repeating: 0, count: 3), shape: [3, 1])
            try f.write("rewards", [Float](repeating: 0, count: 2), shape: [2])
            try f.writeBool("terminals", [false, false], shape: [2])
        }
        let e4 = #expect(throws: DatasetFileError.self) { try D4RLDataset.load(badShape) }
        #expect(e4?.key == "actions")
        #expect(e4?.message.contains("expected (2, act_dim)") == true)

        var nan = handMade()
        nan.rewards[3] = .nan
        let nanPath = dir + "/nan.hdf5"
        try nan.write(to: nanPath)
        let e5 = #expect(throws: DatasetFileError.self) { try D4RLDataset.load(nanPath) }
        #expect(e5?.description.contains("'rewards': non-finite value nan at row 3") == true)
        #expect(nan.verify().contains { $0.hasPrefix("rewards: 1 non-finite") })

        let truncated = dir + "/truncated.hdf5"
        try Data(try Data(contentsOf: URL(fileURLWithPath: good)).prefix(2000)).write(to: URL(fileURLWithPath: truncated))
        let e6 = #expect(throws: DatasetFileError.self) { try D4RLDataset.load(truncated) }
        #expect(e6?.file == truncated)

        let text = dir + "/text.hdf5"
        try "observations,actions\n".write(toFile: text, atomically: false, encoding: .utf8)
        let e7 = #expect(throws: DatasetFileError.self) { try D4RLDataset.load(text) }
        #expect(e7?.message.contains("not an HDF5 file") == true)
    }

    @Test("verify reports every violation")
    func verifyViolations() {
        var d = handMade()
        d.actions[1] = 1.5
        d.terminals[4] = true  // both flags on row 4
        d.nextObservations![10] = 99  // row 5, inside episode C: inconsistent with row 6
        let p = d.verify(maxEpisodeSteps: 2)
        #expect(p.contains { $0.hasPrefix("actions: 1 values outside [-1, 1]") })
        #expect(p.contains { $0.hasPrefix("terminals and timeouts both set on 1 rows") })
        #expect(p.contains { $0.contains("longer than the 2-step limit") })
        #expect(p.contains { $0.hasPrefix("next_observations: 1 rows inside an episode differ from the following observation, first at row 5") })
        #expect(handMade().verify(maxEpisodeSteps: 3).isEmpty)
    }

    @Test("a failed write leaves an existing file untouched")
    func atomicWrite() throws {
        let dir = tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/keep.hdf5"
        try handMade().write(to: path)
        let before = try Data(contentsOf: URL(fileURLWithPath: path))
        var broken = handMade()
        broken.actions.removeLast()
        #expect(throws: DatasetFileError.self) { try broken.write(to: path) }
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == before)
        #expect(throws: DatasetFileError.self) { try handMade().write(to: dir + "/no/such/folder/x.hdf5") }
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["keep.hdf5"])
    }

    @Test func aKilledWritersTemporaryIsRemovedByTheNextWrite() throws {
        let dir = tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // 4194303 is above Linux's default pid_max, so no process has it; pid 1 always exists.
        let dead = ".d.hdf5.4194303.17.tmp", deadCheckpoint = ".d.hdf5.tmp-4194303"
        let live = ".d.hdf5.1.17.tmp", own = ".d.hdf5.tmp-\(getpid())", other = ".e.hdf5.4194303.17.tmp"
        for f in [dead, deadCheckpoint, live, own, other] { FileManager.default.createFile(atPath: dir + "/" + f, contents: Data([1])) }
        let ds = D4RLDataset(observationDimension: 1, actionDimension: 1, observations: [0, 1], actions: [0, 0], rewards: [0, 0],
                             terminals: [false, true], timeouts: [false, false], nextObservations: [1, 2], infos: [:])
        try ds.write(to: dir + "/d.hdf5")
        let left = Set(try FileManager.default.contentsOfDirectory(atPath: dir))
        #expect(left == [live, own, other, "d.hdf5"], "\(left)")
    }

}

@Test("summary statistics")
func summary() {
    let s = Summary([1, 2, 3, 4])
    #expect(s.mean == 2.5 && s.min == 1 && s.max == 4 && s.count == 4)
    #expect(abs(s.std - 1.118033988749895) < 1e-12)

}

@Suite("Monte-Carlo discounted returns and quantiles")
struct DiscountedReturnTests {
    @Test("each row's return to its episode's end, under the learner's reward transform")
    func discounted() {
        // handMade(): episodes [1, 2, 3] (terminal), [4, 5] (timeout), [6, 7] (cut off).
        // r' = 2r − 1 gives [1, 3, 5], [7, 9], [11, 13]; γ = 0.5 runs backwards inside each.
        let g = handMade().discountedReturns(gamma: 0.5, scale: 2, shift: -1)
        #expect(g == [3.75, 5.5, 5, 11.5, 9, 17.5, 13])
        // γ = 0 is the transformed reward itself; no transform and γ → 1 is the reward-to-go.
        #expect(handMade().discountedReturns(gamma: 0) == [1, 2, 3, 4, 5, 6, 7])
        #expect(handMade().discountedReturns(gamma: 1) == [6, 5, 3, 9, 5, 13, 7])
    }

    @Test("quantiles interpolate between order statistics as numpy's percentile does")
    func quantiles() {
        #expect(Summary.quantiles([4, 1, 3, 2], [0, 0.1, 0.5, 1]) == [1, 1.3, 2.5, 4])
        #expect(Summary.quantiles([7], [0.1, 0.9]) == [7, 7])
        #expect(Summary.quantiles([], [0.5])[0].isNaN)
    }
}
