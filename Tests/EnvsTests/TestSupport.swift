import TestSupport
@testable import Envs

/// Runs a seeded episode with `act` choosing actions; returns (return, steps, terminated, truncated).
func runEpisode(_ env: any Environment, seed: UInt64, maxSteps: Int = 1000, act: ([Float]) -> [Float]) throws
    -> (ret: Double, steps: Int, terminated: Bool, truncated: Bool) {
    var obs = env.reset(seed: seed).observation
    var ret = 0.0
    for t in 1...maxSteps {
        let r = try env.step(act(obs))
        ret += Double(r.reward); obs = r.observation
        if r.terminated || r.truncated { return (ret, t, r.terminated, r.truncated) }
    }
    return (ret, maxSteps, false, false)
}

/// Ids of the registered locomotion envs.
let locomotionIDs = EnvRegistry.all.filter { $0.domain == .locomotion }.map(\.id.rawValue)
