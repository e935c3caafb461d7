import Testing
import Envs

@Suite("Maze and kitchen: contract and rendering")
struct ContractTests {
    static let ids: [EnvID] = [.mazeUmaze, .mazeMedium, .mazeLarge, .kitchen]

    @Test("registered and passing the env checker", arguments: ids)
    func checker(id: EnvID) throws {
        let spec = try EnvRegistry.spec(id)
        #expect(spec.domain == (id == .kitchen ? .manipulation : .maze))
        #expect(spec.maxEpisodeSteps == [EnvID.mazeUmaze: 280, .mazeMedium: 400, .mazeLarge: 400, .kitchen: 280][id])
        let failures = EnvChecker(spec: spec).run()
        #expect(failures.isEmpty, "\(failures)")
    }

    @Test("the mixed-target kitchen spec (kitchen-mixed) passes the env checker too")
    func mixedChecker() {
        let failures = EnvChecker(spec: Kitchen.mixedSpec, trajectorySteps: 100).run()
        #expect(failures.isEmpty, "\(failures)")
    }

    @Test("NaN actions throw and leave the env unchanged", arguments: ids)
    func nanAction(id: EnvID) throws {
        let a = try EnvRegistry.spec(id).makeBare(), b = try EnvRegistry.spec(id).makeBare()
        _ = a.reset(seed: 4); _ = b.reset(seed: 4)
        let n = a.actionSpace.dimension
        var bad = [Float](repeating: 0.5, count: n); bad[0] = .nan
        #expect(throws: EnvError.nanAction(index: 0)) { try a.step(bad) }
        let good = [Float](repeating: 0.5, count: n)
        #expect(try a.step(good).observation == b.step(good).observation)
    }

    @Test("scripted controllers exist exactly for the maze and kitchen tasks, with their default noise")
    func controllers() {
        for id in Self.ids + [Kitchen.mixedSpec.id] {
            let c = ScriptedControllers.make(for: id)
            #expect(c != nil)
            #expect(c?.noise == (id == .kitchen || id == Kitchen.mixedSpec.id ? 0.1 : 0.2))
        }
        #expect(ScriptedControllers.make(for: .hopper) == nil)
        let k = ScriptedControllers.make(for: Kitchen.mixedSpec.id) as? KitchenPlanner
        #expect(k?.order == KitchenTargets.mixed)
    }

    @Test("SVG of the current state shows walls, rover and trail / arm and objects")
    func render() throws {
        let env = MazeEnv(id: .mazeMedium, layout: .medium)
        _ = env.reset(seed: 0)
        let svg = env.renderSVG(trail: [SIMD2(0, 0), SIMD2(4, 0), SIMD2(4, 4)])
        #expect(svg.hasPrefix("<svg"))
        #expect(svg.components("<polygon") == MazeLayout.medium.wallRectangles().count + 2)
        #expect(svg.components("<polyline") == 1)
        let k = KitchenEnv()
        _ = k.reset(seed: 0)
        let ksvg = TopDownRender.svg(k, trail: [])!
        #expect(ksvg.contains("microwave") && ksvg.contains("slide cabinet"))
        #expect(TopDownRender.svg(try EnvRegistry.make(.hopper)) == nil)
        let episode = try TopDownRender.episodeSVG(id: .mazeUmaze, seed: 1)
        #expect(episode.contains("return 1.0"), "the scripted rover reaches the goal")
        #expect(throws: EnvError.self) { try TopDownRender.episodeSVG(id: .hopper, seed: 0) }
    }
}

extension String {
    /// Number of non-overlapping occurrences of `s`.
    func components(_ s: String) -> Int {
        var n = 0, rest = self[...]
        while let r = rest.firstRange(of: s) { n += 1; rest = rest[r.upperBound...] }
        return n
    }
}
