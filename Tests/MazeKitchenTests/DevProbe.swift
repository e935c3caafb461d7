import Testing
import Envs
import Glibc

// Temporary probe for tuning (runs only with PROBE set).
@Test(.enabled(if: getenv("PROBE") != nil)) func probeMaze() throws {
    let which = String(cString: getenv("PROBE"))
    let n = Int(String(cString: getenv("EPISODES") ?? strdup("20"))) ?? 20
    for spec in Maze.specs where which == "all" || which == "maze" || spec.id.rawValue == which {
        for noise: Float in [0, 0.2] {
            let env = spec.make()
            let layout = Maze.layout(for: spec.id)!
            let planner = MazePlanner(layout: layout, noise: noise)
            var succ = 0, lens: [Int] = []
            var rng = SeededRNG(seed: 7)
            for ep in 0..<n {
                var (o, _) = env.reset(seed: UInt64(ep))
                planner.reset()
                var t = 0
                while true {
                    let a = planner.act(o, rng: &rng)
                    let r = try env.step(a)
                    o = r.observation; t += 1
                    if r.terminated { succ += 1; lens.append(t); break }
                    if r.truncated { print("fail ep \(ep) at \(o[0]), \(o[1])"); break }
                }
            }
            lens.sort()
            print("\(spec.id) noise \(noise): success \(succ)/\(n) len median \(lens.isEmpty ? -1 : lens[lens.count/2]) max \(lens.last ?? -1)")
        }
    }
    if which == "all" || which == "kitchen" {
        for noise: Float in [0, 0.1] {
            let env = Kitchen.spec.make()
            let planner = KitchenPlanner(noise: noise)
            var rng = SeededRNG(seed: 7)
            var full = 0, total = 0, lens: [Int] = []
            for ep in 0..<n {
                var (o, _) = env.reset(seed: UInt64(ep))
                planner.reset()
                var t = 0, ret: Float = 0
                while true {
                    let a = planner.act(o, rng: &rng)
                    let r = try env.step(a)
                    o = r.observation; t += 1; ret += r.reward
                    if r.terminated || r.truncated { break }
                }
                total += Int(ret)
                if ret == 4 { full += 1; lens.append(t) } else { print("ep \(ep) return \(ret) stuck at \(String(describing: planner.currentSubtask)) obj \(Array(o[8..<16]))") }
            }
            lens.sort()
            print("kitchen noise \(noise): all4 \(full)/\(n) mean return \(Double(total)/Double(n)) len median \(lens.isEmpty ? -1 : lens[lens.count/2]) max \(lens.last ?? -1)")
        }
    }
}
