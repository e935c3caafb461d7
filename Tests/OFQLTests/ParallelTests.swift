import Datasets
import Glibc
import Randomness
import Testing
@testable import OFQL

/// The two-worker update (critic pairs, row-split policy passes) is deterministic, and agrees
/// with the one-worker update up to GEMM rounding (OpenBLAS may round a row block or a column
/// block of a product differently from the whole product).
@Suite struct ParallelTests {
    @Test(arguments: [(TimeInput.raw, QNormalization.dql), (TimeInput.sinusoidal, QNormalization.paper)])
    func twoWorkerUpdateIsDeterministicAndMatchesOneWorker(_ input: TimeInput, _ qn: QNormalization) throws {
        var c = OFQLConfig()
        c.hidden = [48, 40]; c.criticHidden = [40, 48]; c.timeEmbeddingDim = 8; c.batchSize = 40
        c.timeInput = input; c.qNormalization = qn; c.policyEMA = false
        let obsDim = 5, actDim = 3, n = 200
        var rng = Xoshiro(seed: 3)
        func arr(_ k: Int) -> [Float] { (0..<k).map { _ in Float(rng.normal()) } }
        let data = try Transitions(observations: arr(n * obsDim), actions: arr(n * actDim).map { $0 / 3 }, rewards: arr(n),
                                   nextObservations: arr(n * obsDim), terminals: (0..<n).map { $0 % 7 == 0 ? 1 : 0 },
                                   obsDim: obsDim, actDim: actDim)
        func run(_ parallel: Bool) throws -> [[Float]] {
            let agent = try OFQLAgent.create(config: c, obsDim: obsDim, actDim: actDim, seed: 11)
            agent.twoWorkers = parallel
            let batch = TransitionBatch(capacity: c.batchSize, obsDim: obsDim, actDim: actDim)
            var metrics: [UpdateMetrics] = []
            for k in 0..<4 {
                batch.fill(from: data, indices: (0..<c.batchSize).map { ($0 * 7 + k * 13) % n })
                metrics.append(try agent.update(batch))
            }
            #expect(metrics.allSatisfy { $0.criticLoss.isFinite && $0.actorLoss.isFinite })
            return [agent.policy.valueArray, agent.critic.valueArray, agent.criticTarget.valueArray]
        }
        let seq = try run(false), par = try run(true), par2 = try run(true)
        for k in seq.indices {
            #expect(par[k].map(\.bitPattern) == par2[k].map(\.bitPattern), "two-worker state block \(k) is not deterministic")
            let worst = zip(seq[k], par[k]).map { abs($0 - $1) }.max() ?? 0
            #expect(worst <= 1e-5, "state block \(k): one- and two-worker updates differ by \(worst)")
        }
    }
}

/// The two-worker fork–join itself (`ofk_pair_run`). Serialized: two tests read the one
/// per-site timing table.
@Suite(.serialized) struct PairTests {
    @Test("both halves run, on two threads when parallel, in order otherwise; nested calls do not deadlock")
    func pairRunsBothHalves() {
        for parallel in [true, false] {
            for _ in 0..<200 {
                var ran = [0, 0], threads: [pthread_t?] = [nil, nil], inner = [0, 0, 0, 0]
                withUnsafeMutablePointer(to: &ran) { ranP in
                    withUnsafeMutablePointer(to: &threads) { thP in
                        withUnsafeMutablePointer(to: &inner) { inP in
                            Workers.pair(parallel) { i in
                                ranP.pointee[i] += 1
                                thP.pointee[i] = pthread_self()
                                Workers.pair(true) { j in inP.pointee[2 * i + j] += 1 }
                            }
                        }
                    }
                }
                #expect(ran == [1, 1] && inner == [1, 1, 1, 1])
                let same = pthread_equal(threads[0]!, threads[1]!) != 0
                #expect(same == !parallel, "parallel \(parallel): halves on \(same ? "one thread" : "two threads")")
            }
        }
    }

    @Test("per-site timing: each parallel call counted at its own #fileID:#line, the halves bracketed by the fork-to-join time; serial and nested calls not counted; switching on clears")
    func siteTimings() {
        Workers.profile(true)
        defer { Workers.profile(false) }
        let here = #line
        for _ in 0..<20 { Workers.pair(true) { i in if i == 1 { usleep(1000) }; Workers.pair(true) { _ in } } }
        Workers.pair(false) { _ in }
        // (Other tests may fork–join meanwhile, at their own sites.)
        let site = "OFQLTests/ParallelTests.swift:", lines = [here + 1, here + 2, here + 16].map { site + "\($0)" }
        let mine = Workers.siteTimings().filter { lines.contains($0.site) }
        #expect(mine.map(\.site) == [lines[0]], "only the outer parallel call is a site: \(mine.map(\.site))")
        guard let t = mine.first else { return }
        #expect(t.calls == 20)
        #expect(t.helper >= 20 * 0.001, "the helper's half sleeps ≥ 1 ms per call: \(t.helper) s")
        #expect(t.wall >= t.helper && t.wall >= t.caller)
        #expect(abs(t.wall - (t.caller + t.wait)) < 1e-6, "fork to join = the caller's half + its wait")
        // The helper runs inside [fork, join], so the caller waits at least the helper's excess.
        #expect(t.wait >= t.helper - t.caller - 1e-6)
        Workers.profile(true)
        Workers.profile(false)
        Workers.pair(true) { _ in }
        #expect(Workers.siteTimings().filter { lines.contains($0.site) }.isEmpty, "switched off after a reset: nothing recorded")
    }

    @Test("packed inference with its units split over the pair: the same bits as one worker, every layer of two or more panels forked once")
    func packedUnitsSplitOverThePair() throws {
        // Hidden widths with panel tails (37 and 20 units: 3 and 2 panels), a one-panel output.
        var layout = ParameterLayout()
        let net = MLP<Float>(MLPSpec(inputDim: 13, hidden: [37, 20, 256], outputDim: 3, activation: .mish), prefix: "p",
                             layout: &layout, maxRows: 9)
        let block = ParameterBlock<Float>(layout: layout)
        var rng = Xoshiro(seed: 5)
        net.initialize(block.values, rng: &rng)
        let x = (0..<(9 * 13)).map { _ in Float(rng.normal()) }
        let packed = net.packWeights(block.values)
        func run(_ rows: Int, _ split: Bool) -> [UInt32] {
            x.withUnsafeBufferPointer { net.forwardPacked(packed, input: $0.baseAddress!, rows: rows, splitColumns: split) }
            return UnsafeBufferPointer(start: net.output, count: rows * 3).map(\.bitPattern)
        }
        Workers.profile(true)
        defer { Workers.profile(false) }
        for rows in [1, 4, 9] { #expect(run(rows, true) == run(rows, false), "\(rows) row(s)") }
        let forks = Workers.siteTimings().filter { $0.site.hasPrefix("MLP.forwardPacked units:") }.map(\.calls).reduce(0, +)
        #expect(forks == 3 * 3, "three split layers (37, 20, 256 units) per forward, three forwards: \(forks) forks")

        // A sampler's split path gives the same actions (OFQL's one-step policy, 3 × 256).
        let agent = try OFQLAgent.create(config: OFQLConfig(), obsDim: 11, actDim: 3, seed: 2)
        let sampler = agent.makeSampler(maxRows: 1)
        let obs = (0..<11).map { _ in Float(rng.normal()) }, noise = (0..<3).map { _ in Float(rng.normal()) }
        var plain = [Float](repeating: 0, count: 3), split = plain
        sampler.sample(observations: obs, count: 1, noise: noise, into: &plain)
        sampler.splitColumns = true
        #expect(!sampler.copy().splitColumns, "a worker copy starts unsplit")
        sampler.sample(observations: obs, count: 1, noise: noise, into: &split)
        #expect(split.map(\.bitPattern) == plain.map(\.bitPattern))
        #expect(Workers.siteTimings().filter { $0.site.hasPrefix("MLP.forwardPacked units:") }.map(\.calls).reduce(0, +) == forks + 3,
                "the sampler's three hidden layers forked")
    }
}
