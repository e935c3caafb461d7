import Datasets
@testable import Experiments
import Foundation
import Testing
import TestSupport

@Suite("compare: curves and critic diagnostics against the data's discounted returns")
struct CurveReportTests {
    /// A run folder as `train` leaves it: eval.jsonl, metrics.jsonl and config.json.
    func writeRun(_ dir: String, scores: [(Int, Double)], q: [(Int, Double)], algo: String, scale: Double = 1, shift: Double = 0) throws {
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let evals = scores.map { "{\"step\":\($0.0),\"return_mean\":\($0.1 * 10),\"return_std\":1,\"normalized_score_mean\":\($0.1),\"normalized_score_std\":2}" }
        try (evals.joined(separator: "\n") + "\n").write(toFile: dir + "/eval.jsonl", atomically: true, encoding: .utf8)
        let metrics = q.map { "{\"step\":\($0.0),\"critic/q_mean\":\($0.1),\"critic/loss\":0.5,\"actor/clipped_fraction\":0.25,\"actor/flow_loss\":0.125}" }
        try (metrics.joined(separator: "\n") + "\n").write(toFile: dir + "/metrics.jsonl", atomically: true, encoding: .utf8)
        try "{\"algo\": \"\(algo)\", \"gamma\": 0.5, \"rewardScale\": \(scale), \"rewardShift\": \(shift)}"
            .write(toFile: dir + "/config.json", atomically: true, encoding: .utf8)
    }

    /// Two episodes: rewards [1, 1] (terminal) and [2] (terminal).
    func tinyData() -> D4RLDataset {
        D4RLDataset(observationDimension: 1, actionDimension: 1, observations: [0, 1, 5], actions: [0, 0, 0], rewards: [1, 1, 2],
                    terminals: [false, true, true], timeouts: [false, false, false], nextObservations: [1, 2, 6])
    }

    @Test("the table, the settled step, the Monte-Carlo reference and the SVG")
    func report() throws {
        let root = makeTemporaryDirectory("curves")
        defer { try? FileManager.default.removeItem(atPath: root) }
        try writeRun(root + "/q", scores: [(5, 10), (10, 30), (15, 41), (20, 40)], q: [(4, 1), (5, 2), (10, 3), (15, 4), (20, 5)],
                     algo: "ofql", scale: 2, shift: -1)
        // BC logs mean Q and critic loss as 0: no critic columns for it.
        try writeRun(root + "/b", scores: [(5, 20), (10, 21), (15, 35), (20, 22)], q: [(5, 0), (10, 0)], algo: "bc")
        try "{\"step\":5,\"critic/q_mean\":0,\"critic/loss\":0}\n".write(toFile: root + "/b/metrics.jsonl", atomically: true, encoding: .utf8)
        let r = try CurveReport(title: "tiny", runs: [.init(name: "ofql", dir: root + "/q"), .init(name: "bc", dir: root + "/b")],
                                dataset: tinyData(), datasetName: "tiny.hdf5", maxEpisodeSteps: nil)
        // r' = 2r − 1: [1, 1] and [3]; γ = 0.5: returns [1.5, 1] and [3]; mean 5.5 / 3.
        #expect(r.runs.map(\.hasCritic) == [true, false])
        let refs = r.references
        #expect(refs.count == 1)
        #expect(abs(refs[0].mean - 5.5 / 3) < 1e-12 && refs[0].p50 == 1.5 && abs(refs[0].p90 - 2.7) < 1e-12)
        // OFQL settles at 15k (41 and 40); BC's 35 at 15k is 13 points off its final 22.
        #expect(r.settledStep(r.runs[0]) == 15 && r.settledStep(r.runs[1]) == 20)
        let md = r.markdown(svgName: "tiny.svg", command: "ofql-eval compare …")
        #expect(md.contains("| 10 | 30.0 | 21.0 | 3.0 | 0.5 | 25 % | 0.125 |"), "\(md)")
        #expect(md.contains("| step | ofql | bc | ofql mean Q | critic loss | clipped | flow loss |"))
        #expect(md.contains("mean 1.8, p10 1.1, p50 1.5, p90 2.7"))
        #expect(md.contains("within 5 points of the final from 15 steps on"))
        #expect(md.contains("the evaluation before the last is more than 5 points away"))
        #expect(md.contains("![tiny](tiny.svg)"))
        let svg = r.svg()
        #expect(svg.hasPrefix("<svg xmlns=") && svg.contains("<svg x=\"0\" y=\"300\""))
        #expect(svg.contains("data MC mean") && svg.contains("ofql mean Q"))
    }

    @Test("a run that stopped early has no critic metrics at a longer run's later evaluations")
    func shorterRun() throws {
        let root = makeTemporaryDirectory("curves-short")
        defer { try? FileManager.default.removeItem(atPath: root) }
        try writeRun(root + "/long", scores: [(10, 1), (20, 2), (30, 3)], q: [(10, -1), (20, -2), (30, -3)], algo: "ofql")
        try writeRun(root + "/short", scores: [(10, 5)], q: [(10, -7), (15, -8)], algo: "ofql")
        let r = try CurveReport(title: "t", runs: [.init(name: "long", dir: root + "/long"), .init(name: "short", dir: root + "/short")],
                                dataset: nil, datasetName: "", maxEpisodeSteps: nil)
        #expect(r.runs[1].metrics(at: 15)?["critic/q_mean"] == -8 && r.runs[1].metrics(at: 20) == nil)
        let md = r.markdown(svgName: "t.svg", command: nil)
        #expect(md.contains("| 10 | 1.0 | 5.0 | -1.0 | 0.5 | 25 % | 0.125 | -7.0 | 0.5 | 25 % | 0.125 |"), "\(md)")
        #expect(md.contains("| 30 | 3.0 | – | -3.0 | 0.5 | 25 % | 0.125 | – | – | – | – |"), "\(md)")
    }

    @Test("a folder without evaluations and a missing folder are named in the error")
    func badRuns() throws {
        let root = makeTemporaryDirectory("curves-bad")
        defer { try? FileManager.default.removeItem(atPath: root) }
        try FileManager.default.createDirectory(atPath: root + "/empty", withIntermediateDirectories: true)
        #expect(throws: RunError.self) { try CurveReport(title: "t", runs: [.init(name: "x", dir: root + "/empty")], dataset: nil, datasetName: "-", maxEpisodeSteps: nil) }
        do {
            _ = try CurveReport(title: "t", runs: [.init(name: "x", dir: root + "/nope")], dataset: nil, datasetName: "-", maxEpisodeSteps: nil)
            Issue.record("a missing folder was accepted")
        } catch { #expect("\(error)".contains("--run x=\(root)/nope: no such run folder")) }
        do {
            _ = try CurveReport(title: "t", runs: [.init(name: "x", dir: root + "/empty")], dataset: nil, datasetName: "-", maxEpisodeSteps: nil)
        } catch { #expect("\(error)".contains("no evaluations in \(root)/empty/eval.jsonl")) }
    }
}
