import Datasets
import Envs
import Foundation
import HDF5
import Testing
@testable import Rollout

@Suite("Dataset generation")
struct DatasetGenerationTests {
    let provider = BundledBehaviors(datasets: datasetsFolder)

    @Test("the same id, size and seed give identical arrays with 1 and 4 workers")
    func workerInvariance() throws {
        for id in ["hopper-medium-replay-v1", "maze-umaze-diverse-v1", "kitchen-partial-v1"] {
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
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ofql-cat-\(UUID().uuidString)").path
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
    }
}
