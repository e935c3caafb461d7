@testable import Experiments
import Datasets
import Foundation
import OFQL
import Randomness
import Testing
import TestSupport

@Suite("SHA-256")
struct SHA256Tests {
    @Test("known answers (FIPS 180-4 examples)")
    func vectors() {
        #expect(sha256Hex(Array("".utf8)) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(sha256Hex(Array("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(sha256Hex(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8))
                == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        #expect(sha256Hex([UInt8](repeating: 0x61, count: 1000)).hasPrefix("41edece42d63e8d9bf515a9ba6932e1c"))
    }
}

@Suite("Suite: a table that accumulates cell by cell", .serialized)
struct SuiteTests {
    func tinyPlan(seeds: [UInt64] = [0, 1], bcConfig: [String: JSONNumberOrString]? = nil) -> SuitePlan {
        SuitePlan(name: "tiny", datasets: [.init(id: "hopper-medium-v1", size: 3000)], algorithms: ["bc"], seeds: seeds,
                  steps: 20, eval_episodes: 1, configs: bcConfig.map { ["bc": $0] })
    }

    func suite(_ plan: SuitePlan, _ dir: String) -> Suite {
        var s = Suite(plan: plan, out: dir, workers: 1, threads: 1, command: "test")
        s.quiet = true
        return s
    }

    func modified(_ path: String) throws -> Date {
        try FileManager.default.attributesOfItem(atPath: path)[.modificationDate] as! Date
    }

    @Test("cells are written, skipped when they match, rerun when the config changes; the JSON twin has the schema")
    func skipAndRerun() throws {
        try withTemporaryDirectory("suite") { dir in
            let plan = tinyPlan()
            try suite(plan, dir).run()
            let cell0 = dir + "/cells/hopper-medium-v1.bc.seed-0.json", cell1 = dir + "/cells/hopper-medium-v1.bc.seed-1.json"
            let r0 = try Suite.readCell(cell0)
            #expect(r0.dataset == "hopper-medium-v1" && r0.dataset_version == 1 && r0.dataset_size == 3000)
            #expect(r0.eval == "one-step" && r0.episodes == 1 && r0.eval_seed == 1_000_000 && r0.steps == 20)
            let hash = try configHash(r0.config)
            #expect(r0.config.algo == .bc && r0.config_sha256 == hash && r0.score.isFinite)
            #expect(r0.curve.last?.step == 20 && r0.data_score != nil)
            let t0 = try modified(cell0), t1 = try modified(cell1)
            // Unchanged plan: nothing retrains.
            try suite(plan, dir).run()
            let (u0, u1) = (try modified(cell0), try modified(cell1))
            #expect(u0 == t0 && u1 == t1)
            // Another batch size for BC: the cells are stale until rerun; --task reruns one.
            let changed = tinyPlan(bcConfig: ["batchSize": .number(32)])
            let stale = try suite(changed, dir).gather()
            #expect(stale.records.isEmpty && stale.missing.count == 2 && stale.missing.allSatisfy { $0.reason.hasPrefix("stale") })
            try suite(changed, dir).run(task: 1)
            #expect(try modified(cell0) == t0)
            #expect(try Suite.readCell(cell1).config.batchSize == 32)
            let partial = try suite(changed, dir).gather()
            #expect(partial.records.count == 1 && partial.missing.map(\.cell.seed) == [0])
            // The tables list the missing cell; results.json follows the stand-in table schema.
            let md = try suite(changed, dir).collect()
            #expect(md.contains("Missing cells (1 of 2)") && md.contains("bc on hopper-medium-v1, seed 0"))
            let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/results.json"))) as! [String: Any]
            let rows = json["rows"] as! [[String: Any]]
            #expect(rows.count == 2, "the data row and the one finished cell")
            for r in rows {
                #expect(Set(r.keys) == ["dataset", "domain", "algo", "seed", "steps", "score", "eval", "variant"])
                #expect(r["domain"] as? String == "locomotion")
            }
            #expect(rows.contains { $0["algo"] as? String == "data" })
            #expect((json["protocol"] as! [String: Any])["eval_seed"] as? Int == 1_000_000)
        }
    }

    @Test("a dataset's own steps replace the plan's for its cells: run, record, curve, protocol; zero is refused")
    func perDatasetSteps() throws {
        try withTemporaryDirectory("suite-steps") { dir in
            var plan = tinyPlan(seeds: [0])
            plan.datasets[0].steps = 30
            try suite(plan, dir).run()
            let r = try Suite.readCell(dir + "/cells/hopper-medium-v1.bc.seed-0.json")
            #expect(r.steps == 30 && r.curve.last?.step == 30)
            // The plan's own 20 steps would not match this cell.
            #expect(try suite(tinyPlan(seeds: [0]), dir).gather().records.isEmpty)
            let md = try suite(plan, dir).collect()
            #expect(md.contains("20 gradient steps (hopper-medium-v1: 30)"))
            let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/results.json"))) as! [String: Any]
            let datasets = (json["protocol"] as! [String: Any])["datasets"] as! [[String: Any]]
            #expect(datasets.first?["steps"] as? Int == 30)
            plan.datasets[0].steps = 0
            let e = #expect(throws: RunError.self) { try plan.validate() }
            #expect(e?.description.contains("hopper-medium-v1 has steps 0") == true)
        }
    }

    @Test("a cell whose run folder holds the final checkpoint is recorded without training again")
    func finishedRunIsReused() throws {
        try withTemporaryDirectory("suite-reuse") { dir in
            let plan = tinyPlan(seeds: [3])
            try suite(plan, dir).run()
            let cell = dir + "/cells/hopper-medium-v1.bc.seed-3.json"
            let before = try Suite.readCell(cell)
            try FileManager.default.removeItem(atPath: cell)
            try suite(plan, dir).run()
            let after = try Suite.readCell(cell)
            #expect(after.score == before.score && after.curve == before.curve, "same run, same evaluations")
        }
    }

    @Test("an evaluation mode gives its own cell from the final checkpoint; a new beta re-evaluates without retraining")
    func evaluationModes() throws {
        try withTemporaryDirectory("suite-modes") { dir in
            var plan = SuitePlan(name: "modes", datasets: [.init(id: "hopper-medium-v1", size: 3000)], algorithms: ["ofql", "bc"],
                                 seeds: [0], steps: 20, eval_episodes: 2,
                                 configs: ["ofql": ["hidden": .array([32, 32]), "batchSize": .number(32)]])
            plan.eval_modes = [.init(candidates: 4, beta: 10)]
            try suite(plan, dir).run()
            let oneStep = dir + "/cells/hopper-medium-v1.ofql.seed-0.json"
            let selected = dir + "/cells/hopper-medium-v1.ofql.seed-0.select-4.json"
            let r = try Suite.readCell(selected)
            #expect(r.eval == "select-4" && r.selection == CandidateSelection(candidates: 4, noiseTemperature: 0.5, beta: 10))
            #expect(r.config_sha256 == (try Suite.readCell(oneStep)).config_sha256 && r.score.isFinite)
            #expect(!FileManager.default.fileExists(atPath: dir + "/cells/hopper-medium-v1.bc.seed-0.select-4.json"), "BC has no selection")
            let md = try String(contentsOfFile: dir + "/results.md", encoding: .utf8)
            #expect(md.contains("| Dataset | data | OFQL | BC | OFQL select-4 |"))
            let t0 = try modified(oneStep)
            plan.eval_modes = [.init(candidates: 4, beta: 3)]
            #expect(try suite(plan, dir).gather().missing.map(\.cell.eval) == ["select-4"], "the old beta's cell is stale")
            try suite(plan, dir).run()
            let t1 = try modified(oneStep)
            #expect(t1 == t0, "one-step cell untouched")
            #expect(try Suite.readCell(selected).selection?.beta == 3)
            let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/results.json"))) as! [String: Any]
            #expect((json["rows"] as! [[String: Any]]).contains { $0["eval"] as? String == "select-4" && $0["algo"] as? String == "ofql" })
            var bad = plan
            bad.eval_modes = [.init(candidates: 4, beta: 3, algos: ["bc"])]
            #expect(throws: RunError.self) { try bad.validate() }
        }
    }

    @Test("an evaluation mode limited to some datasets evaluates only their cells; unknown or empty dataset lists are refused")
    func evaluationModeDatasets() throws {
        try withTemporaryDirectory("suite-mode-datasets") { dir in
            let small: [String: JSONNumberOrString] = ["hidden": .array([16, 16]), "criticHidden": .array([16, 16]), "batchSize": .number(16)]
            var plan = SuitePlan(name: "modes", datasets: [.init(id: "hopper-medium-v1", size: 2000), .init(id: "walker2d-medium-v1", size: 2000)],
                                 algorithms: ["ofql"], seeds: [0], steps: 10, eval_episodes: 1, configs: ["ofql": small])
            plan.eval_modes = [.init(candidates: 3, beta: 5, datasets: ["walker2d-medium-v1"])]
            try plan.validate()
            #expect(plan.evalModes(for: "ofql", dataset: "hopper-medium-v1").isEmpty)
            #expect(plan.evalModes(for: "ofql", dataset: "walker2d-medium-v1").map(\.name) == ["select-3"])
            try suite(plan, dir).run()
            #expect(FileManager.default.fileExists(atPath: dir + "/cells/walker2d-medium-v1.ofql.seed-0.select-3.json"))
            #expect(!FileManager.default.fileExists(atPath: dir + "/cells/hopper-medium-v1.ofql.seed-0.select-3.json"))
            #expect(try suite(plan, dir).gather().missing.isEmpty, "hopper's cell has no select-3 twin to miss")
            let md = try String(contentsOfFile: dir + "/results.md", encoding: .utf8)
            #expect(md.contains("Evaluated on walker2d-medium-v1 only."), "\(md)")
            #expect(SuitePlan.EvalMode(sampling: "meanflow-4", datasets: ["a", "b"]).explanation.hasSuffix(" Evaluated on a, b only."))
            #expect(!SuitePlan.EvalMode(sampling: "meanflow-4").explanation.contains("only."))
            #expect(md.split(separator: "\n").contains { $0.hasPrefix("| hopper-medium-v1 |") && $0.hasSuffix("| – |") },
                    "hopper's select-3 column is empty: \(md)")
            for (bad, why) in [(["halfcheetah-medium-v2"], "names dataset 'halfcheetah-medium-v2'"), ([], "empty datasets list")] {
                var p = plan
                p.eval_modes = [.init(candidates: 3, beta: 5, datasets: bad)]
                #expect { try p.validate() } throws: { "\($0)".contains(why) }
            }
        }
    }

    @Test("a dataset's per-algorithm keys go over its keys for every algorithm, for that algorithm only; unknown algorithms are refused")
    func perDatasetAlgorithmConfigs() throws {
        let maze = SuitePlan.DatasetItem(id: "maze-medium-play-v3", config: ["rewardScale": .number(4), "rewardShift": .number(-2)],
                                         configs: ["iql": ["rewardShift": .number(-1), "expectile": .number(0.9),
                                                           "rewardScaleFromReturns": .bool(false)]])
        let plan = SuitePlan(name: "c", datasets: [maze], algorithms: ["ofql", "iql"], seeds: [0], steps: 10, eval_episodes: 2,
                             configs: ["iql": ["expectile": .number(0.8)]])
        try plan.validate()
        let ofql = try plan.requestedConfig(algo: "ofql", dataset: maze), iql = try plan.requestedConfig(algo: "iql", dataset: maze)
        #expect(ofql.rewardShift == -2 && ofql.rewardScale == 4 && ofql.expectile == OFQLConfig().expectile)
        #expect(iql.rewardShift == -1 && iql.rewardScale == 4 && iql.expectile == 0.9 && !iql.rewardScaleFromReturns)
        var bad = plan
        bad.datasets[0].configs = ["td3bc": ["td3Alpha": .number(1)]]
        #expect { try bad.validate() } throws: { "\($0)".contains("configs for 'td3bc'") }
    }

    @Test("sampling modes: DQL + DDIM(1) rows carry the algo dql-ddim1, FBRAC's flow-5 its own; bad modes are refused")
    func samplingModes() throws {
        try withTemporaryDirectory("suite-sampling") { dir in
            let small: [String: JSONNumberOrString] = ["hidden": .array([16, 16]), "criticHidden": .array([16, 16]), "batchSize": .number(16)]
            var plan = SuitePlan(name: "sampling", datasets: [.init(id: "hopper-medium-v1", size: 3000)], algorithms: ["dql", "fbrac"],
                                 seeds: [0], steps: 10, eval_episodes: 2, configs: ["dql": small, "fbrac": small])
            plan.eval_modes = [.init(sampling: "ddim1"), .init(sampling: "flow-5")]
            try plan.validate()
            try suite(plan, dir).run()
            let ddim = try Suite.readCell(dir + "/cells/hopper-medium-v1.dql.seed-0.ddim1.json")
            #expect(ddim.eval == "ddim1" && ddim.sampling == "ddim1" && ddim.selection == nil && ddim.score.isFinite)
            #expect(FileManager.default.fileExists(atPath: dir + "/cells/hopper-medium-v1.fbrac.seed-0.flow-5.json"))
            #expect(!FileManager.default.fileExists(atPath: dir + "/cells/hopper-medium-v1.dql.seed-0.flow-5.json"), "flow-K is not DQL's")
            #expect(try suite(plan, dir).gather().missing.isEmpty)
            let md = try String(contentsOfFile: dir + "/results.md", encoding: .utf8)
            #expect(md.contains("| Dataset | data | DQL | FBRAC | DQL-DDIM1 | FBRAC flow-5 |"), "\(md)")
            let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/results.json"))) as! [String: Any]
            let rows = json["rows"] as! [[String: Any]]
            #expect(rows.contains { $0["eval"] as? String == "ddim1" && $0["algo"] as? String == "dql-ddim1" })
            #expect(rows.contains { $0["eval"] as? String == "flow-5" && $0["algo"] as? String == "fbrac" })
            for bad in [SuitePlan.EvalMode(sampling: "ddim2"), .init(sampling: "ddim1", algos: ["fql"]), .init(sampling: "flow-0")] {
                var p = plan
                p.eval_modes = [bad]
                #expect(throws: RunError.self) { try p.validate() }
            }
        }
    }

    @Test("variants: one cell per (dataset, algorithm, variant, seed), rows carry the variant, bad variants are refused")
    func variants() throws {
        try withTemporaryDirectory("suite-variants") { dir in
            var plan = tinyPlan(seeds: [0])
            plan.algorithms = ["bc", "td3bc"]
            plan.configs = ["td3bc": ["hidden": .array([16]), "criticHidden": .array([16]), "batchSize": .number(16)]]
            plan.variants = [.init(name: "lr=1e-3", algos: ["bc"], config: ["actorLR": .number(1e-3)]),
                             .init(name: "lr=1e-4", algos: ["bc"], config: ["actorLR": .number(1e-4)])]
            try plan.validate()
            #expect(plan.cells.map(\.fileName) == ["hopper-medium-v1.bc.lr=1e-3.seed-0.json", "hopper-medium-v1.bc.lr=1e-4.seed-0.json",
                                                   "hopper-medium-v1.td3bc.seed-0.json"])
            try suite(plan, dir).run()
            let fast = try Suite.readCell(dir + "/cells/hopper-medium-v1.bc.lr=1e-3.seed-0.json")
            let slow = try Suite.readCell(dir + "/cells/hopper-medium-v1.bc.lr=1e-4.seed-0.json")
            #expect(fast.variant == "lr=1e-3" && fast.config.actorLR == 1e-3 && slow.config.actorLR == 1e-4)
            #expect(fast.config_sha256 != slow.config_sha256)
            #expect(try suite(plan, dir).gather().missing.isEmpty)
            let md = try String(contentsOfFile: dir + "/results.md", encoding: .utf8)
            #expect(md.contains("| Dataset | data | BC lr=1e-3 | BC lr=1e-4 | TD3BC |"), "\(md)")
            let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/results.json"))) as! [String: Any]
            let rows = json["rows"] as! [[String: Any]]
            #expect(Set(rows.compactMap { $0["variant"] as? String }) == ["lr=1e-3", "lr=1e-4", ""])
            var bad = plan
            bad.variants = [.init(name: "a/b", config: [:])]
            #expect(throws: RunError.self) { try bad.validate() }
            bad.variants = [.init(name: "x", config: ["actorLr": .number(1)])]
            #expect { try bad.validate() } throws: { "\($0)".contains("(x)") && "\($0)".contains("actorLr") }
            bad.variants = [.init(name: "x", algos: ["ofql"], config: [:])]
            #expect(throws: RunError.self) { try bad.validate() }
        }
    }

    @Test("a failed cell is listed by collect with its error and its Slurm log")
    func failedCellListed() throws {
        try withTemporaryDirectory("suite-failed") { dir in
            let plan = tinyPlan(seeds: [0, 1])
            let s = suite(plan, dir)
            // Cell 1's run folder cannot be created: a plain file sits at its path.
            try FileManager.default.createDirectory(atPath: dir + "/runs/hopper-medium-v1/bc", withIntermediateDirectories: true)
            try Data("x".utf8).write(to: URL(fileURLWithPath: dir + "/runs/hopper-medium-v1/bc/seed-1"))
            try FileManager.default.createDirectory(atPath: dir + "/slurm/logs", withIntermediateDirectories: true)
            try Data("log".utf8).write(to: URL(fileURLWithPath: s.slurmLog(task: 1)))
            try s.run(task: 0)
            #expect(throws: (any Error).self) { try s.run(task: 1) }
            let c = try s.gather()
            #expect(c.records.count == 1 && c.missing.count == 1)
            let why = c.missing.first?.reason ?? ""
            #expect(why.hasPrefix("failed:") && why.contains(s.slurmLog(task: 1)), "\(why)")
            #expect(try s.collect().contains("failed:"))
        }
    }

    @Test("curve_mean_from adds each trained column's mean over its later evaluations to the table and its JSON")
    func curveMean() throws {
        try withTemporaryDirectory("suite-curve-mean") { dir in
            var plan = tinyPlan(seeds: [0, 1])
            plan.eval_every = 4
            plan.curve_mean_from = 12
            try suite(plan, dir).run()
            let records = try [0, 1].map { try Suite.readCell(dir + "/cells/hopper-medium-v1.bc.seed-\($0).json") }
            #expect(records.allSatisfy { $0.curve.map(\.step) == [4, 8, 12, 16, 20] })
            let late = records.map { r in r.curve.filter { $0.step >= 12 }.map(\.score).reduce(0, +) / 3 }
            #expect(records.map { Suite.curveMean($0, from: 12) } == late)
            let md = try String(contentsOfFile: dir + "/results.md", encoding: .utf8)
            let s = Summary(late)
            #expect(md.contains("## Mean of the evaluations from step 12 on"), "\(md)")
            #expect(md.contains("| hopper-medium-v1 | " + String(format: "%.1f ± %.1f", s.mean, s.std) + " |"), "\(md)")
            let html = try String(contentsOfFile: dir + "/results.html", encoding: .utf8)
            #expect(html.contains("at steps ≥ 12") && html.contains(String(format: "%.1f ± %.1f", s.mean, s.std)))
            let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/results.json"))) as! [String: Any]
            let rows = (json["rows"] as! [[String: Any]]).filter { $0["algo"] as? String == "bc" }
            #expect(rows.compactMap { $0["curve_mean"] as? Double } == late)
            #expect((json["protocol"] as! [String: Any])["curve_mean_from"] as? Int == 12)
            // Without the key, neither the second table nor the field appears.
            plan.curve_mean_from = nil
            let plain = try suite(plan, dir).collect()
            #expect(!plain.contains("Mean of the evaluations"))
            plan.curve_mean_from = 21
            #expect { try plan.validate() } throws: { "\($0)".contains("curve_mean_from") && "\($0)".contains("20") }
        }
    }

    @Test("a plan file's misspelt keys are refused by path; the committed plans load")
    func unknownPlanKeys() throws {
        try withTemporaryDirectory("suite-keys") { dir in
            let path = dir + "/plan.json"
            var plan = tinyPlan()
            plan.eval_modes = [.init(sampling: "ddim1", algos: nil)]
            plan.algorithms = ["dql"]
            var top = try JSONSerialization.jsonObject(with: JSONEncoder().encode(plan)) as! [String: Any]
            try JSONSerialization.data(withJSONObject: top).write(to: URL(fileURLWithPath: path))
            #expect(try SuitePlan.load(path: path) == plan)
            top["eval_evry"] = 5
            var ds = top["datasets"] as! [[String: Any]]
            ds[0]["stpes"] = 10
            top["datasets"] = ds
            var modes = top["eval_modes"] as! [[String: Any]]
            modes[0]["algo"] = ["dql"]
            top["eval_modes"] = modes
            try JSONSerialization.data(withJSONObject: top).write(to: URL(fileURLWithPath: path))
            let e = #expect(throws: RunError.self) { try SuitePlan.load(path: path) }
            let text = e?.description ?? ""
            #expect(text.contains(path) && text.contains("datasets[0].stpes") && text.contains("eval_evry")
                    && text.contains("eval_modes[0].algo") && text.contains("eval_every"), "\(text)")
        }
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
        let plans = try FileManager.default.contentsOfDirectory(atPath: root + "/results").filter { $0.hasPrefix("plan-") && $0.hasSuffix(".json") }
        #expect(plans.count >= 5)
        for p in plans { #expect(throws: Never.self) { try SuitePlan.load(path: root + "/results/" + p) } }
    }

    @Test("bad plans and task ids are refused, naming what was expected")
    func badInput() throws {
        try withTemporaryDirectory("suite-bad") { dir in
            let path = dir + "/plan.json"
            try Data("{\"name\": 1}".utf8).write(to: URL(fileURLWithPath: path))
            #expect(throws: RunError.self) { try SuitePlan.load(path: path) }
            var p = tinyPlan()
            p.algorithms = ["nope"]
            #expect((try? p.validate()) == nil)
            let e = #expect(throws: RunError.self) { try suite(tinyPlan(), dir + "/out").run(task: 5) }
            #expect(e?.description.contains("the plan has 2 cells") == true)
        }
    }

    @Test("--slurm writes one array task per cell, requeue-safe, and a dependent collection")
    func slurmScripts() throws {
        try withTemporaryDirectory("suite-slurm") { dir in
            var plan = tinyPlan(seeds: [0, 1, 2])
            plan.slurm = SlurmSettings(cpus_per_task: 2, time: "00:30:00", throttle: 2)
            let sub = try suite(plan, dir).submitSlurm(settings: plan.slurm!, binary: "/opt/ofql-eval", dryRun: true)
            #expect(sub.tasks == 3 && sub.arrayJob == nil)
            let a = try String(contentsOfFile: sub.arrayScript, encoding: .utf8)
            #expect(a.contains("#SBATCH --array=0-2%2") && a.contains("#SBATCH --cpus-per-task=2") && a.contains("#SBATCH --time=00:30:00"))
            #expect(a.contains("#SBATCH --requeue") && a.contains("--task \"$SLURM_ARRAY_TASK_ID\"") && a.contains("'/opt/ofql-eval' suite"))
            #expect(a.contains("/slurm/logs/task-%a.out"))
            let c = try String(contentsOfFile: sub.collectScript, encoding: .utf8)
            #expect(c.contains("suite collect"))
            #expect(FileManager.default.fileExists(atPath: dir + "/datasets/hopper-medium-v1-3000.hdf5"), "datasets exist before the array starts")
            #expect(try SuitePlan.load(path: dir + "/plan.json") == plan)
        }
    }
}

@Suite("Expressiveness toy")
struct ExpressivenessTests {
    @Test("MMD² is 0 for identical samples, grows with a shift, and mode coverage counts the ring's modes")
    func mmdAndCoverage() {
        let study = ExpressivenessStudy()
        var rng = Xoshiro(seed: 3)
        let a = study.data(400, rng: &rng), b = study.data(400, rng: &rng)
        #expect(abs(ExpressivenessStudy.mmd2(a, a)) < 1e-12)
        let same = ExpressivenessStudy.mmd2(a, b)
        let shifted = ExpressivenessStudy.mmd2(a, b.map { $0 + 0.2 })
        #expect(same < 0.01 && shifted > 10 * same, "same \(same), shifted \(shifted)")
        #expect(study.coverage(a).0 == study.modes && study.coverage(a).1 > 0.95)
        // Everything at the centre (a collapsed one-step flow) covers no mode.
        #expect(study.coverage([Float](repeating: 0, count: 200)).0 == 0)
    }
}
