import Datasets
import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Testing
import TestSupport

/// Runs the built `ofql-eval` (next to the test bundle) and captures its output.
struct CLIResult { var status: Int32; var stdout: String; var stderr: String }

func ofqlEvalPath() -> String {
    let exe = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
    var dir = exe.deletingLastPathComponent()
    // The test runner may live inside the .xctest bundle folder.
    for _ in 0..<3 {
        let candidate = dir.appendingPathComponent("ofql-eval").path
        if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        dir = dir.deletingLastPathComponent()
    }
    return "ofql-eval"
}

func runCLI(_ args: [String], environment: [String: String?] = [:]) throws -> CLIResult {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: ofqlEvalPath())
    p.arguments = args
    var env = ProcessInfo.processInfo.environment
    for (k, v) in environment { env[k] = v }
    p.environment = env
    let out = Pipe(), err = Pipe()
    p.standardOutput = out
    p.standardError = err
    try p.run()
    let o = out.fileHandleForReading.readDataToEndOfFile()
    let e = err.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return CLIResult(status: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self), stderr: String(decoding: e, as: UTF8.self))
}

@Suite("ofql-eval command line")
struct CLITests {
    @Test("doctor passes here and names a non-generic OpenBLAS core")
    func doctor() throws {
        let r = try runCLI(["doctor"])
        #expect(r.status == 0, "doctor failed: \(r.stdout)\(r.stderr)")
        for check in ["box2d free fall", "blas sgemm vs naive", "blas core not generic", "hdf5 round trip"] {
            #expect(r.stdout.contains("PASS  \(check)"))
        }
        let coreLine = r.stdout.split(separator: "\n").first { $0.hasPrefix("openblas core") } ?? ""
        #expect(!coreLine.isEmpty)
        for generic in ["Prescott", "Core2", "Nehalem"] { #expect(!coreLine.contains(generic)) }
    }

    @Test("a generic core is replaced by re-executing once, and the choice is shown")
    func reexecution() throws {
        // Pretend OpenBLAS detected Prescott itself (not the user): the program must re-execute
        // with a better core when the CPU supports one.
        let r = try runCLI(["doctor"], environment: ["OPENBLAS_CORETYPE": "Prescott", "OFQL_BLAS_SIMULATE_DETECTION": "1"])
        let cpu = try String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)
        if cpu.contains(" avx2 ") || cpu.contains(" avx512f ") {
            #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
            #expect(r.stderr.contains("re-executing with OPENBLAS_CORETYPE="))
            #expect(r.stdout.contains("re-executed from generic Prescott"))
            #expect(!(r.stdout.split(separator: "\n").first { $0.hasPrefix("openblas core") } ?? "").contains("Prescott"))
        }
        // A core the user chose is respected, even a generic one; doctor then flags it.
        let kept = try runCLI(["doctor"], environment: ["OPENBLAS_CORETYPE": "Prescott", "OFQL_BLAS_SIMULATE_DETECTION": nil])
        #expect(kept.stdout.contains("set by the user"))
        #expect(!kept.stderr.contains("re-executing"))
        if cpu.contains(" avx2 ") {
            #expect(kept.status != 0)
            #expect(kept.stderr.contains("blas core not generic"))
        }
    }

    @Test("bad flags give a usage error and a non-zero exit")
    func badFlags() throws {
        let r = try runCLI(["bench", "gemm", "--no-such-flag"])
        #expect(r.status == 64)
        #expect(r.stderr.contains("Unknown option '--no-such-flag'"))
        let r2 = try runCLI(["bench", "gemm", "--reps", "0"])
        #expect(r2.status != 0)
        #expect(r2.stderr.contains("--reps must be at least 1"))
        let r3 = try runCLI(["no-such-command"])
        #expect(r3.status != 0)
    }

    @Test("bench train --pair-profile: a pair_site line per fork–join site after its learner's line, the control among them; none without the flag")
    func benchTrainPairProfile() throws {
        let base = ["bench", "train", "--hidden", "16x2", "--batch", "32", "--reps", "1", "--seconds", "0.05", "--baselines", "",
                    "--no-default-config", "--threads", "2"]
        let r = try runCLI(base + ["--pair-profile"])
        #expect(r.status == 0, "\(r.stderr)")
        let lines = r.stdout.split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
        #expect(lines.first?["bench"] as? String == "ofql_train_steps")
        let sites = lines.dropFirst().filter { $0["bench"] as? String == "pair_site" }
        #expect(sites.count == lines.count - 1, "only pair_site lines follow: \(r.stdout)")
        let labels = sites.compactMap { $0["label"] as? String }
        #expect(labels.contains { $0.contains("OFQL/Agent.swift:") }, "the update's critic pairs are sites: \(labels)")
        #expect(labels.contains { $0.contains("ofql_eval/BenchTrainCommand.swift:") }, "the concurrent-sgemm control: \(labels)")
        #expect(sites.allSatisfy { ($0["calls"] as? Int ?? 0) > 0 })
        let plain = try runCLI(base)
        #expect(plain.status == 0 && !plain.stdout.contains("pair_site"))
    }

    @Test("compare refuses a --run without NAME=DIR, a folder without evaluations and a non-Markdown --out")
    func compareBadInput() throws {
        let r = try runCLI(["compare", "--run", "runs/a"])
        #expect(r.status != 0 && r.stderr.contains("--run expects NAME=DIR, got 'runs/a'"), "\(r.stderr)")
        let dir = makeTemporaryDirectory("compare")
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let r2 = try runCLI(["compare", "--run", "a=" + dir])
        #expect(r2.status != 0 && r2.stderr.contains("no evaluations in \(dir)/eval.jsonl"), "\(r2.stderr)")
        let r3 = try runCLI(["compare", "--run", "a=" + dir, "--out", dir + "/x.txt"])
        #expect(r3.status != 0 && r3.stderr.contains("--out must name a Markdown file"), "\(r3.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir + "/x.txt"))
    }

    @Test("evaluate --trace writes one CSV row per step; episodes start in the --start-cell and end at the goal")
    func evaluateTrace() throws {
        let dir = makeTemporaryDirectory("trace")
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let r = try runCLI(["evaluate", "--env", "maze-medium", "--policy", "planner", "--start-cell", "4,6", "--episodes", "3",
                            "--workers", "2", "--json", dir + "/report.json", "--trace", dir + "/trace.csv"])
        #expect(r.status == 0, "\(r.stderr)")
        let lines = try String(contentsOfFile: dir + "/trace.csv", encoding: .utf8).split(separator: "\n").map { $0.split(separator: ",").map(String.init) }
        let observationColumns: [String] = (0..<17).map { "obs_\($0)" }, nextColumns: [String] = (0..<17).map { "next_obs_\($0)" }
        let header: [String] = ["episode", "step"] + observationColumns + ["action_0", "action_1", "reward"] + nextColumns
        #expect(lines.first == header)
        let rows = Array(lines.dropFirst())
        #expect(rows.allSatisfy { $0.count == 39 })
        // Each step's next observation is the following step's observation.
        for i in 0..<(rows.count - 1) where rows[i + 1][0] == rows[i][0] { #expect(Array(rows[i][22...38]) == Array(rows[i + 1][2...18])) }
        let report = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/report.json"))) as? [String: Any])
        let lengths = try #require(report["episodes"] as? [[String: Any]]).compactMap { $0["length"] as? Int }
        for e in 0..<3 {
            let steps = rows.filter { $0[0] == "\(e)" }
            #expect(steps.count == lengths[e] && steps.map { Int($0[1])! } == Array(0..<lengths[e]), "episode \(e): one row per step, in order")
            // Cell (4, 6) of the medium maze is centred at (20, 12) m from S; G (6, 6) at (20, 20).
            let x = Float(steps[0][2])!, y = Float(steps[0][3])!
            #expect(abs(x - 20) <= 2 && abs(y - 12) <= 2, "episode \(e) starts at (\(x), \(y))")
            #expect(steps.last?[21] == "1.0" && steps.dropLast().allSatisfy { $0[21] == "0.0" }, "the goal's reward on the last step only")
            let last = try #require(steps.last)
            let gx: Float = Float(last[22])! - 20, gy: Float = Float(last[23])! - 20
            let reach: Float = 0.5 + 0.25 * Float(2).squareRoot()
            #expect((gx * gx + gy * gy).squareRoot() <= reach, "the last next observation is at the (noised) goal point")
        }
    }

    @Test("help lists the subcommands")
    func help() throws {
        let r = try runCLI(["--help"])
        #expect(r.status == 0)
        for sub in ["doctor", "demo", "envs", "train", "bench"] { #expect(r.stdout.contains(sub)) }
    }
}

@Suite("The demo main job")
struct DemoTests {
    @Test("demo --tiny runs end to end and writes a well-formed report with curves and an episode")
    func tinyDemo() throws {
        let out = makeTemporaryDirectory("demo")
        defer { try? FileManager.default.removeItem(atPath: out) }
        let r = try runCLI(["demo", "--tiny", "--out", out])
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        #expect(r.stdout.contains("| hopper-medium-v1 |"))
        let md = try String(contentsOfFile: out + "/results.md", encoding: .utf8)
        #expect(md.contains("| Dataset | data | OFQL | BC |"))
        let html = try String(contentsOfFile: out + "/results.html", encoding: .utf8)
        let doc = try XMLDocument(xmlString: html.replacingOccurrences(of: "<!DOCTYPE html>\n", with: ""), options: [])
        let svgs = try doc.nodes(forXPath: "//*[local-name()='svg']")
        #expect(svgs.count >= 3, "learning curves and an episode")
        #expect(try doc.nodes(forXPath: "//*[local-name()='polyline']").count >= 2, "curves have lines")
        #expect(try doc.nodes(forXPath: "//*[local-name()='animate']").count > 2, "the episode is animated")
        for algo in ["ofql", "bc"] {
            let run = out + "/runs/hopper-medium-v1/\(algo)/seed-0"
            #expect(FileManager.default.fileExists(atPath: run + "/report.html"))
            #expect(FileManager.default.fileExists(atPath: run + "/checkpoints/latest"))
            #expect(!TrainRunEvals(run).isEmpty)
        }
        // The OFQL checkpoint also evaluates with candidate selection.
        let sel = try runCLI(["evaluate", "--checkpoint", out + "/runs/hopper-medium-v1/ofql/seed-0", "--episodes", "2",
                              "--select", "4", "--select-beta", "10", "--workers", "1"])
        #expect(sel.status == 0 && sel.stdout.contains("select-4"), "\(sel.stdout)\(sel.stderr)")
    }
}

/// Evaluation lines of a run folder.
func TrainRunEvals(_ dir: String) -> [String] {
    ((try? String(contentsOfFile: dir + "/eval.jsonl", encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
}

@Suite("Bad input on the command line")
struct BadInputCLITests {
    @Test("dataset, train and evaluate name the flag or file and exit non-zero")
    func badInput() throws {
        let dir = makeTemporaryDirectory("bad")
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try "x".write(toFile: dir + "/file.txt", atomically: false, encoding: .utf8)
        let cases: [([String], String)] = [
            (["dataset", "generate", "hopper-mediocre-v1", "--out", dir], "unknown dataset id 'hopper-mediocre-v1'"),
            (["dataset", "generate", "hopper-random-v1", "--size", "0", "--out", dir], "--size must be between 1 and 50000000"),
            (["dataset", "generate", "hopper-random-v1", "--noise", "3", "--out", dir], "--noise must be between 0 and 2"),
            (["dataset", "generate", "hopper-random-v1", "--noise", "nan", "--out", dir], "--noise must be between 0 and 2"),
            (["dataset", "generate", "hopper-random-v1", "--size", "10", "--out", dir + "/file.txt"], "--out: \(dir)/file.txt is a file, not a folder"),
            (["dataset", "verify", dir + "/missing.hdf5"], "\(dir)/missing.hdf5: no such file"),
            (["train", "--dataset", dir + "/missing.hdf5", "--out", dir + "/run"], "--dataset: \(dir)/missing.hdf5: no such file"),
            (["train", "--dataset", "x.hdf5", "--out", dir, "--algo", "ppo"], "--algo must be one of"),
            (["evaluate", "--env", "hoppr", "--policy", "random"], "unknown environment 'hoppr'"),
            (["evaluate", "--env", "hopper", "--policy", "random", "--episodes", "0"], "--episodes must be at least 1"),
            (["evaluate", "--env", "maze-medium", "--policy", "planner", "--start-cell", "2"], "--start-cell must be ROW,COL"),
            (["evaluate", "--env", "maze-medium", "--policy", "planner", "--start-cell", "0,0"], "--start-cell: cell (0, 0) is not a free cell of maze-medium"),
            (["evaluate", "--env", "hopper", "--policy", "random", "--start-cell", "1,1"], "--start-cell: hopper is not a maze"),
            (["evaluate", "--checkpoint", dir], "--checkpoint:"),
            (["behavior", "add-medium", "--env", "walker2d", "--from", "x.json", "--target-return", "nan"],
             "--target-return must be a finite return, got nan"),
        ]
        for (args, message) in cases {
            let r = try runCLI(args)
            #expect(r.status != 0, "\(args) succeeded")
            #expect(r.stderr.contains(message), "\(args): \(r.stderr)")
        }
        // A file that is not HDF5.
        try "not a dataset".write(toFile: dir + "/text.hdf5", atomically: false, encoding: .utf8)
        let r = try runCLI(["dataset", "info", dir + "/text.hdf5"])
        #expect(r.status != 0 && r.stderr.contains("not an HDF5 file"))
        // Generation leaves no partial file behind and the result verifies.
        let ok = try runCLI(["dataset", "generate", "hopper-random-v1", "--size", "500", "--out", dir])
        #expect(ok.status == 0, "\(ok.stderr)")
        let v = try runCLI(["dataset", "verify", dir + "/hopper-random-v1.hdf5"])
        #expect(v.status == 0 && v.stdout.hasPrefix("ok:"))
        // Output folders are created; a dataset whose widths differ from its env's is refused.
        let nested = try runCLI(["dataset", "generate", "hopper-random-v1", "--size", "50", "--out", dir + "/new/sub"])
        #expect(nested.status == 0 && FileManager.default.fileExists(atPath: dir + "/new/sub/hopper-random-v1.hdf5"), "\(nested.stderr)")
        // --noise replaces the behaviours' noise and is recorded; the catalog's noise is not.
        for (sub, noise) in [("n0", nil), ("n1", "0.4")] as [(String, String?)] {
            let r = try runCLI(["dataset", "generate", "maze-medium-diverse-v3", "--size", "300", "--out", dir + "/" + sub] + (noise.map { ["--noise", $0] } ?? []))
            #expect(r.status == 0, "\(r.stderr)")
        }
        let plain = try D4RLDataset.load(dir + "/n0/maze-medium-diverse-v3.hdf5"), noisy = try D4RLDataset.load(dir + "/n1/maze-medium-diverse-v3.hdf5")
        #expect(plain.metadata["behavior_noise"] == nil && noisy.metadata["behavior_noise"] == .double(Double(Float(0.4))))
        #expect(plain.actions != noisy.actions)
        func write(_ name: String, rows n: Int, obs: Int) throws -> String {
            var ds = D4RLDataset(observationDimension: obs, actionDimension: 3, observations: .init(repeating: 0.1, count: n * obs),
                                 actions: .init(repeating: 0, count: n * 3), rewards: .init(repeating: 1, count: n),
                                 terminals: .init(repeating: false, count: n), timeouts: .init(repeating: false, count: n),
                                 nextObservations: .init(repeating: 0.1, count: n * obs), infos: [:])
            ds.metadata = ["env_id": .string("hopper")]
            try ds.write(to: dir + "/" + name)
            return dir + "/" + name
        }
        let narrow = try write("narrow.hdf5", rows: 40, obs: 5)
        let mismatch = try runCLI(["train", "--dataset", narrow, "--algo", "bc", "--steps", "2", "--out", dir + "/r1"])
        #expect(mismatch.status != 0 && mismatch.stderr.contains("observations have 5 columns") && mismatch.stderr.contains("hopper"),
                "\(mismatch.stderr)")
        let empty = try write("empty.hdf5", rows: 0, obs: 11)
        let verifyEmpty = try runCLI(["dataset", "verify", empty])
        #expect(verifyEmpty.status != 0 && (verifyEmpty.stdout + verifyEmpty.stderr).contains("no transitions"), "\(verifyEmpty.stdout)\(verifyEmpty.stderr)")
        let trainEmpty = try runCLI(["train", "--dataset", empty, "--steps", "2", "--out", dir + "/r2"])
        #expect(trainEmpty.status != 0 && trainEmpty.stderr.contains("--dataset"), "\(trainEmpty.stderr)")
        #expect(!(try FileManager.default.contentsOfDirectory(atPath: dir)).contains { $0.hasSuffix(".tmp") })
    }
}

@Suite("Baselines through the same trainer and evaluator")
struct BaselineCLITests {
    /// Generates 2,000 hopper-medium transitions in `dir` and trains `algo` (32 × 32 networks,
    /// batch 32, one thread) for `steps` steps into `dir`/run; returns its config.json.
    func trainSmall(_ algo: String, steps: Int, in dir: String) throws -> String {
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let gen = try runCLI(["dataset", "generate", "hopper-medium-v1", "--size", "2000", "--out", dir])
        #expect(gen.status == 0, "\(gen.stderr)")
        try #"{"batchSize": 32, "hidden": [32, 32], "criticHidden": [32, 32]}"#.write(toFile: dir + "/c.json", atomically: true, encoding: .utf8)
        let train = try runCLI(["train", "--dataset", dir + "/hopper-medium-v1.hdf5", "--algo", algo, "--config", dir + "/c.json",
                                "--steps", "\(steps)", "--out", dir + "/run", "--threads", "1", "--log-every", "10"])
        #expect(train.status == 0, "\(train.stderr)")
        return try String(contentsOfFile: dir + "/run/config.json", encoding: .utf8)
    }

    @Test("train --algo td3bc trains, and evaluate rolls out its checkpoint, also without optimizer state")
    func td3bcTrainsAndEvaluates() throws {
        let dir = makeTemporaryDirectory("td3bc")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let config = try trainSmall("td3bc", steps: 30, in: dir)
        #expect(config.contains("\"algo\" : \"td3bc\"") && config.contains("\"td3Alpha\" : 2.5"), "\(config)")
        let ckpt = dir + "/run/checkpoints/step-000000030"
        try FileManager.default.removeItem(atPath: ckpt + "/optimizer.safetensors")
        let eval = try runCLI(["evaluate", "--checkpoint", dir + "/run", "--episodes", "3", "--workers", "1"])
        #expect(eval.status == 0, "\(eval.stderr)")
        #expect(eval.stdout.contains("td3bc@30"), "\(eval.stdout)")
        // Candidate selection needs OFQL's stochastic policy.
        let select = try runCLI(["evaluate", "--checkpoint", dir + "/run", "--episodes", "1", "--select", "10"])
        #expect(select.status != 0 && select.stderr.contains("candidate selection needs an OFQL checkpoint"), "\(select.stderr)")
        // Resuming needs the optimizer state, and says which file is missing.
        let resume = try runCLI(["train", "--dataset", dir + "/hopper-medium-v1.hdf5", "--steps", "40", "--out", dir + "/run", "--resume"])
        #expect(resume.status != 0 && resume.stderr.contains("optimizer.safetensors"), "\(resume.stderr)")
        // Sampling modes belong to other learners, and bad names are refused with the accepted forms.
        let ddim = try runCLI(["evaluate", "--checkpoint", dir + "/run", "--episodes", "1", "--sampling", "ddim1"])
        #expect(ddim.status != 0 && ddim.stderr.contains("ddim1 applies to dql, not td3bc"), "\(ddim.stderr)")
        let bad = try runCLI(["evaluate", "--checkpoint", dir + "/run", "--episodes", "1", "--sampling", "ddim"])
        #expect(bad.status != 0 && bad.stderr.contains("--sampling") && bad.stderr.contains("ddim1, flow-K or meanflow-K"), "\(bad.stderr)")
    }

    @Test("train --algo dql trains and evaluate rolls out its chain and its DDIM(1) sampling")
    func dqlTrainsAndEvaluatesWithDDIM1() throws {
        let dir = makeTemporaryDirectory("dql")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let config = try trainSmall("dql", steps: 20, in: dir)
        #expect(config.contains("\"algo\" : \"dql\"") && config.contains("\"diffusionSteps\" : 5"), "\(config)")
        for extra in [[], ["--sampling", "ddim1"]] {
            let eval = try runCLI(["evaluate", "--checkpoint", dir + "/run", "--episodes", "3", "--workers", "2"] + extra)
            #expect(eval.status == 0 && eval.stdout.contains("dql@20"), "\(eval.stderr)")
        }
        // The deterministic diagnostic: every noise draw scaled by 0, named in the report.
        let zero = try runCLI(["evaluate", "--checkpoint", dir + "/run", "--episodes", "2", "--workers", "1", "--noise-scale", "0"])
        #expect(zero.status == 0 && zero.stdout.contains("dql@20 noise×0.0"), "\(zero.stdout)\(zero.stderr)")
        for (args, message) in [(["--noise-scale=-0.5"], "--noise-scale must be finite and ≥ 0, got -0.5"),
                                (["--noise-scale", "nan"], "--noise-scale must be finite and ≥ 0, got nan"),
                                (["--noise-scale", "0", "--select", "4"], "--noise-scale and --select are separate evaluation modes")] {
            let bad = try runCLI(["evaluate", "--checkpoint", dir + "/run", "--episodes", "1"] + args)
            #expect(bad.status != 0 && bad.stderr.contains(message), "\(bad.stderr)")
        }
        let scripted = try runCLI(["evaluate", "--env", "hopper", "--policy", "medium", "--episodes", "1", "--noise-scale", "0"])
        #expect(scripted.status != 0 && scripted.stderr.contains("--noise-scale needs --checkpoint"), "\(scripted.stderr)")
    }
}

@Suite("Suite tables on the command line")
struct SuiteCLITests {
    @Test("suite --task runs one cell; suite collect --plan builds the table and lists the missing cells; --slurm --dry-run writes the array")
    func taskCollectAndSlurm() throws {
        let dir = makeTemporaryDirectory("suite-cli")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let plan = dir + "/plan.json"
        try #"{"name": "cli", "datasets": [{"id": "hopper-medium-v1", "size": 2000}], "algorithms": ["bc"], "seeds": [0, 1], "steps": 20, "eval_episodes": 1, "configs": {"bc": {"hidden": [16, 16], "batchSize": 16}}}"#
            .write(toFile: plan, atomically: true, encoding: .utf8)
        let one = try runCLI(["suite", "--plan", plan, "--out", dir + "/out", "--task", "1", "--threads", "1", "--workers", "1"])
        #expect(one.status == 0, "\(one.stderr)")
        #expect(FileManager.default.fileExists(atPath: dir + "/out/cells/hopper-medium-v1.bc.seed-1.json"))
        let table = try runCLI(["suite", "collect", dir + "/table", "--plan", plan, "--cells", dir + "/out/cells"])
        #expect(table.status == 0, "\(table.stderr)")
        #expect(table.stdout.contains("Missing cells (1 of 2)") && table.stdout.contains("bc on hopper-medium-v1, seed 0"), "\(table.stdout)")
        #expect(FileManager.default.fileExists(atPath: dir + "/table/results.json"))
        let noPlan = try runCLI(["suite", "collect", dir + "/nowhere"])
        #expect(noPlan.status != 0 && noPlan.stderr.contains("nowhere/plan.json"), "\(noPlan.stderr)")
        let badTask = try runCLI(["suite", "--plan", plan, "--out", dir + "/out", "--task", "7"])
        #expect(badTask.status != 0 && badTask.stderr.contains("the plan has 2 cells"), "\(badTask.stderr)")
        let slurm = try runCLI(["suite", "--plan", plan, "--out", dir + "/out", "--slurm", "--dry-run", "--throttle", "1"])
        #expect(slurm.status == 0 && slurm.stdout.contains("2 array tasks") && slurm.stdout.contains("dry run"), "\(slurm.stdout)\(slurm.stderr)")
        let script = try String(contentsOfFile: dir + "/out/slurm/array.sbatch", encoding: .utf8)
        #expect(script.contains("#SBATCH --array=0-1%1"))
        let flags = try runCLI(["suite", "--plan", plan, "--out", dir + "/out", "--dry-run"])
        #expect(flags.status != 0 && flags.stderr.contains("need --slurm"), "\(flags.stderr)")
    }
}
