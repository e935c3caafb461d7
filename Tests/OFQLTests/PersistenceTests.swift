import Foundation
import Testing
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

    func allState(_ a: OFQLAgent) -> [[Float]] {
        var s = [a.policy.valueArray, a.policyEMA?.valueArray ?? [], a.critic?.valueArray ?? [], a.criticTarget?.valueArray ?? []]
        s.append(Array(UnsafeBufferPointer(start: a.actorOpt.m, count: a.actorOpt.count)))
        s.append(Array(UnsafeBufferPointer(start: a.actorOpt.v, count: a.actorOpt.count)))
        if let c = a.criticOpt {
            s.append(Array(UnsafeBufferPointer(start: c.m, count: c.count)))
            s.append(Array(UnsafeBufferPointer(start: c.v, count: c.count)))
        }
        return s
    }

    @Test(arguments: [Algorithm.ofql, Algorithm.bc])
    func checkpointRoundTripIsBitwise(_ algo: Algorithm) throws {
        var cfg = tinyConfig()
        cfg.algo = algo
        let t = try Trainer(config: cfg, data: try tinyData(), seed: 7, datasetID: "tiny", outDir: nil)
        try t.run(until: 5, options: TrainerOptions(logEvery: 0, checkpointEvery: 0))
        try withTemporaryDirectory { dir in
            let url = URL(fileURLWithPath: dir + "/ckpt")
            try Checkpoint.save(t.agent, to: url, datasetID: "tiny", seed: 7)
            let (b, info) = try Checkpoint.load(from: url)
            #expect(info.step == 5 && info.config == cfg && info.datasetID == "tiny")
            let sa = allState(t.agent), sb = allState(b)
            for k in sa.indices { #expect(sa[k].map(\.bitPattern) == sb[k].map(\.bitPattern), "state block \(k)") }
            #expect(b.rng == t.agent.rng && b.step == t.agent.step && b.normalizer == t.agent.normalizer)
            // Loaded agents continue identically.
            let batch = TransitionBatch(capacity: 8, obsDim: 3, actDim: 2)
            batch.fill(from: try tinyData(), indices: Array(0..<8))
            let ma = try t.agent.update(batch), mb = try b.update(batch)
            #expect(ma == mb)
            #expect(t.agent.policy.valueArray.map(\.bitPattern) == b.policy.valueArray.map(\.bitPattern))
        }
    }

    @Test func resumeEqualsUninterruptedRun() throws {
        let data = try tinyData()
        try withTemporaryDirectory { dir in
            let straight = try Trainer(config: tinyConfig(), data: data, seed: 9, datasetID: "tiny", outDir: dir + "/a")
            try straight.run(until: 12, options: TrainerOptions(logEvery: 4, checkpointEvery: 0))

            let first = try Trainer(config: tinyConfig(), data: data, seed: 9, datasetID: "tiny", outDir: dir + "/b")
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

    @Test func divergenceIsReportedAndNothingIsApplied() throws {
        var cfg = tinyConfig()
        cfg.normalizeObservations = false
        let data = try tinyData()
        let t = try Trainer(config: cfg, data: data, seed: 1, datasetID: "tiny", outDir: nil)
        t.agent.critic!.values[0] = .nan
        let before = t.agent.policy.valueArray
        #expect(throws: TrainingError.self) { try t.trainStep() }
        #expect(t.agent.policy.valueArray.map(\.bitPattern) == before.map(\.bitPattern))
    }
}
