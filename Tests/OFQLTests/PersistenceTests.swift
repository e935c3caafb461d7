import Datasets
import Foundation
import Randomness
import Testing
import TestSupport
@testable import OFQL

/// Checkpoints, resume, and clear errors for bad checkpoints, configs and datasets.
struct PersistenceTests {
    func tinyData(n: Int = 64, obsDim: Int = 3, actDim: Int = 2) throws -> Transitions {
        var rng = Xoshiro(seed: 51)
        func arr(_ k: Int) -> [Float] { (0..<k).map { _ in Float(rng.normal()) } }
        let act = (0..<(n * actDim)).map { _ in Float(rng.uniform() * 2 - 1) }
        let term: [Float] = (0..<n).map { $0 % 9 == 0 ? 1 : 0 }
        return try Transitions(observations: arr(n * obsDim), actions: act, rewards: arr(n), nextObservations: arr(n * obsDim),
                               terminals: term, obsDim: obsDim, actDim: actDim)
    }

    func tinyConfig() -> OFQLConfig {
        var c = OFQLConfig()
        c.hidden = [16, 16]; c.criticHidden = [16, 16]; c.timeEmbeddingDim = 8; c.batchSize = 8
        c.emaStartStep = 2; c.emaEvery = 2; c.normalizeObservations = true; c.actorGradClip = 5
        return c
    }

    func tinyConfig(_ algo: Algorithm) -> OFQLConfig {
        var c = tinyConfig()
        c.algo = algo
        if algo == .iql { c.actorDropout = 0.1 }   // its masks come from the checkpointed generator
        return c
    }

    /// Every parameter set and its Adam moments.
    func allState(_ a: any Learner) -> [[Float]] {
        a.parameterSets.flatMap { set -> [[Float]] in
            var s = [set.block.valueArray]
            if let (_, adam) = set.optimizer {
                s.append(Array(UnsafeBufferPointer(start: adam.m, count: adam.count)))
                s.append(Array(UnsafeBufferPointer(start: adam.v, count: adam.count)))
            }
            return s
        }
    }

    @Test(arguments: Algorithm.allCases)
    func checkpointRoundTripIsBitwise(_ algo: Algorithm) throws {
        let cfg = tinyConfig(algo)
        let t = try Trainer(config: cfg, data: try tinyData(), seed: 7, datasetID: "tiny", outDir: nil)
        try t.run(until: 5, options: TrainerOptions(logEvery: 0, checkpointEvery: 0))
        try withTemporaryDirectory { dir in
            let url = URL(fileURLWithPath: dir + "/ckpt")
            try Checkpoint.save(t.agent, to: url, datasetID: "tiny", envID: "hopper", seed: 7)
            let (b, info) = try Checkpoint.load(from: url)
            #expect(info.step == 5 && info.config == cfg && info.datasetID == "tiny" && info.envID == "hopper")
            let sa = allState(t.agent), sb = allState(b)
            for k in sa.indices { #expect(sa[k].map(\.bitPattern) == sb[k].map(\.bitPattern), "state block \(k)") }
            #expect(b.rng == t.agent.rng && b.step == t.agent.step && b.normalizer == t.agent.normalizer)
            // Loaded agents continue identically.
            let batch = TransitionBatch(capacity: 8, obsDim: 3, actDim: 2)
            batch.fill(from: try tinyData(), indices: Array(0..<8))
            let ma = try t.agent.update(batch), mb = try b.update(batch)
            #expect(ma == mb)
            let sa2 = allState(t.agent), sb2 = allState(b)
            for k in sa2.indices { #expect(sa2[k].map(\.bitPattern) == sb2[k].map(\.bitPattern), "state block \(k) after one more update") }
        }
    }

    @Test(arguments: Algorithm.allCases)
    func resumeEqualsUninterruptedRun(_ algo: Algorithm) throws {
        let data = try tinyData()
        try withTemporaryDirectory { dir in
            let straight = try Trainer(config: tinyConfig(algo), data: data, seed: 9, datasetID: "tiny", outDir: dir + "/a")
            try straight.run(until: 12, options: TrainerOptions(logEvery: 4, checkpointEvery: 0))

            // Stopped at an odd step: TD3+BC's next update is an actor step.
            let first = try Trainer(config: tinyConfig(algo), data: data, seed: 9, datasetID: "tiny", outDir: dir + "/b")
            try first.run(until: 7, options: TrainerOptions(logEvery: 4, checkpointEvery: 0))
            let resumed = try Trainer.resume(outDir: dir + "/b", data: data, datasetID: "tiny")
            #expect(resumed.step == 7)
            try resumed.run(until: 12, options: TrainerOptions(logEvery: 4, checkpointEvery: 0))
            let a = allState(straight.agent), b = allState(resumed.agent)
            for k in a.indices { #expect(a[k].map(\.bitPattern) == b[k].map(\.bitPattern), "state block \(k)") }
            #expect(straight.rng == resumed.rng)
            let lines = try String(contentsOfFile: dir + "/a/metrics.jsonl", encoding: .utf8).split(separator: "\n")
            #expect(lines.count == 3 && lines[0].contains("\"actor/flow_loss\""))
            #expect(throws: CheckpointError.self) { try Trainer.resume(outDir: dir + "/b", data: data, datasetID: "other") }
        }
    }

    @Test func badCheckpointsGiveClearErrors() throws {
        let t = try Trainer(config: tinyConfig(), data: try tinyData(), seed: 7, datasetID: "tiny", outDir: nil)
        try withTemporaryDirectory { dir in
            let url = URL(fileURLWithPath: dir + "/ckpt")
            try Checkpoint.save(t.agent, to: url, datasetID: "tiny", seed: 7)
            let modelURL = url.appendingPathComponent("model.safetensors")
            let good = try Data(contentsOf: modelURL)

            func expectError(_ contains: String, _ match: (CheckpointError) -> Bool) {
                do {
                    _ = try Checkpoint.load(from: url)
                    Issue.record("loading should fail with \(contains)")
                } catch let e as CheckpointError {
                    #expect(match(e), "unexpected error \(e)")
                    #expect(e.description.contains(contains), "\(e.description) should mention \(contains)")
                } catch { Issue.record("unexpected error type \(error)") }
            }
            // Truncated data.
            try good.prefix(good.count - 100).write(to: modelURL)
            expectError("truncated") { if case .truncated = $0 { return true }; return false }
            // Bad header length and bad JSON.
            try Data([1, 2, 3]).write(to: modelURL)
            expectError("truncated") { if case .truncated = $0 { return true }; return false }
            var garbage = Data(good)
            for i in 8..<16 { garbage[i] = 0x7B }   // "{{{{…": not JSON
            try garbage.write(to: modelURL)
            expectError("bad header") { if case .badHeader = $0 { return true }; return false }
            // Wrong shape for one tensor.
            var (tensors, meta) = try SafeTensors.decode(good, source: "x")
            let w = tensors["policy.body.layers.0.weight"]!
            tensors["policy.body.layers.0.weight"] = .init(name: w.name, shape: [w.shape[1], w.shape[0]], values: w.values)
            try SafeTensors.encode(Array(tensors.values), metadata: meta).write(to: modelURL)
            expectError("policy.body.layers.0.weight") { if case .wrongShape = $0 { return true }; return false }
            // Missing tensor.
            tensors["policy.body.layers.0.weight"] = nil
            try SafeTensors.encode(Array(tensors.values), metadata: meta).write(to: modelURL)
            expectError("policy.body.layers.0.weight") { if case .missingTensor = $0 { return true }; return false }
            // Version.
            meta["format_version"] = "99"
            try good.write(to: modelURL)
            let infoURL = url.appendingPathComponent("checkpoint.json")
            let info = try String(contentsOf: infoURL, encoding: .utf8)
            try info.replacingOccurrences(of: "\"formatVersion\" : 1", with: "\"formatVersion\" : 99").write(to: infoURL, atomically: true, encoding: .utf8)
            expectError("version 99") { if case .version = $0 { return true }; return false }
        }
    }

    @Test func modelOnlyCheckpointsEvaluateAndNonFiniteTensorsAreRefused() throws {
        let t = try Trainer(config: tinyConfig(.td3bc), data: try tinyData(), seed: 7, datasetID: "tiny", outDir: nil)
        try t.run(until: 4, options: TrainerOptions(logEvery: 0, checkpointEvery: 0))
        try withTemporaryDirectory { dir in
            let url = URL(fileURLWithPath: dir + "/ckpt")
            try Checkpoint.save(t.agent, to: url, datasetID: "tiny", seed: 7)
            try FileManager.default.removeItem(at: url.appendingPathComponent("optimizer.safetensors"))
            // Evaluation needs only the model; resuming needs the optimizer state too.
            let (b, _) = try Checkpoint.load(from: url, optimizer: false)
            #expect(b.parameterSets[0].block.valueArray == t.agent.parameterSets[0].block.valueArray)
            #expect(throws: CheckpointError.missingFile(url.appendingPathComponent("optimizer.safetensors").path)) {
                try Checkpoint.load(from: url)
            }
            // A NaN in a policy weight is refused by name, not found later as a NaN action.
            t.agent.parameterSets[0].block.values[3] = .nan
            try Checkpoint.save(t.agent, to: url, datasetID: "tiny", seed: 7)
            do {
                _ = try Checkpoint.load(from: url, optimizer: false)
                Issue.record("a NaN weight should be refused")
            } catch let e as CheckpointError {
                guard case .nonFinite(let file, let name, let index, _) = e else { Issue.record("unexpected \(e)"); return }
                #expect(file.hasSuffix("model.safetensors") && name == "policy.body.layers.0.weight" && index == 3)
                #expect(e.description.contains("must be finite"))
            }
        }
    }

    @Test func safetensorsLayoutIsStandard() throws {
        let data = try SafeTensors.encode([.init(name: "a", shape: [2, 1], values: [1.5, -2])], metadata: ["k": "v"])
        let n = data.prefix(8).enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
        #expect(n % 8 == 0 && Int(n) + 8 + 8 == data.count)
        let header = String(decoding: data[8..<(8 + Int(n))], as: UTF8.self)
        #expect(header.contains("\"dtype\":\"F32\"") && header.contains("\"data_offsets\":[0,8]") && header.contains("__metadata__"))
        let back = try SafeTensors.decode(data, source: "mem")
        #expect(back.tensors["a"]?.values == [1.5, -2] && back.metadata == ["k": "v"])
    }

    @Test func badConfigsNameTheProblem() throws {
        func err(_ json: String) -> String {
            do { _ = try OFQLConfig.fromJSON(Data(json.utf8)); return "no error" } catch { return "\(error)" }
        }
        #expect(err(#"{"hiden": [64]}"#).contains("unknown key \"hiden\""))
        #expect(err(#"{"flowRatio": 2}"#).contains("flowRatio"))
        #expect(err(#"{"batchSize": "big"}"#).contains("batchSize"))
        #expect(err(#"{"activation": "swish"}"#).contains("activation"))
        #expect(err("{not json").contains("config"))
        let partial = try OFQLConfig.fromJSON(Data(#"{"eta": 0.1, "algo": "bc"}"#.utf8))
        #expect(partial.eta == 0.1 && partial.algo == .bc && partial.hidden == [256, 256, 256])
        let roundTrip = try OFQLConfig.fromJSON(try partial.jsonData())
        #expect(roundTrip == partial)
    }

    @Test func badDatasetArraysNameTheProblem() {
        func err(_ body: () throws -> Transitions) -> String {
            do { _ = try body(); return "no error" } catch { return "\(error)" }
        }
        let ok2: [Float] = [0, 0, 0, 0]
        let nanMsg = err { try Transitions(observations: ok2, actions: [0, 0], rewards: [0, .nan], nextObservations: ok2,
                                           terminals: [Float]([0, 0]), obsDim: 2, actDim: 1) }
        #expect(nanMsg.contains("rewards") && nanMsg.contains("row 1"))
        let shapeMsg = err { try Transitions(observations: [0, 0, 0], actions: [0, 0], rewards: [0, 0], nextObservations: ok2,
                                             terminals: [Float]([0, 0]), obsDim: 2, actDim: 1) }
        #expect(shapeMsg.contains("observations") && shapeMsg.contains("3 values"))
        let termMsg = err { try Transitions(observations: ok2, actions: [0, 0], rewards: [0, 0], nextObservations: ok2,
                                            terminals: [Float]([0, 0.5]), obsDim: 2, actDim: 1) }
        #expect(termMsg.contains("terminals"))
        let infMsg = err { try Transitions(observations: ok2, actions: [0, .infinity], rewards: [0, 0], nextObservations: ok2,
                                           terminals: [Float]([0, 0]), obsDim: 2, actDim: 1) }
        #expect(infMsg.contains("actions"))
    }

    @Test(arguments: [Algorithm.ofql, Algorithm.td3bc, Algorithm.fql, Algorithm.fbrac, Algorithm.dql])
    func divergenceIsReportedAndNothingIsApplied(_ algo: Algorithm) throws {
        var cfg = tinyConfig(algo)
        cfg.normalizeObservations = false
        let data = try tinyData()
        let t = try Trainer(config: cfg, data: data, seed: 1, datasetID: "tiny", outDir: nil)
        t.agent.parameterSets.first { $0.optimizer?.prefix == "critic" }!.block.values[0] = .nan
        let before = t.agent.parameterSets[0].block.valueArray
        #expect(throws: TrainingError.self) { try t.trainStep() }
        #expect(t.agent.parameterSets[0].block.valueArray.map(\.bitPattern) == before.map(\.bitPattern))
    }
}
