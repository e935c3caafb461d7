/// A scripted behaviour policy of a maze or kitchen env: reset per episode, then act on one
/// observation at a time (batched engines keep one instance per lane).
///
/// ``MazePlanner`` and ``KitchenPlanner`` conform. Noise draws come from the caller's
/// generator (any `RandomNumberGenerator`, e.g. the episode's own), so an episode's actions
/// depend only on its observations and generator.
public protocol ScriptedController: AnyObject {
    /// Standard deviation of the Gaussian action noise (0 = deterministic).
    var noise: Float { get set }
    /// Starts a new episode (clears waypoint/phase state, keeps the goal or order).
    func reset()
    /// Writes the action for `observation` into `action` (inside [-1, 1]).
    func act<G: RandomNumberGenerator>(observation: UnsafePointer<Float>, action: UnsafeMutablePointer<Float>, rng: inout G)
}

extension MazePlanner: ScriptedController {}
extension KitchenPlanner: ScriptedController {}

/// Factory of the evaluation-task scripted controllers (REF_MAX policies, `envs render`).
public enum ScriptedControllers {
    /// Default action noise: σ = 0.2 for mazes (D4RL antmaze's collection noise), 0.1 for
    /// the kitchen.
    public static func defaultNoise(for id: EnvID) -> Float? {
        if Maze.layout(for: id) != nil { return 0.2 }
        if id == .kitchen || id == Kitchen.mixedSpec.id { return 0.1 }
        return nil
    }

    /// A controller for the registered task of `id`: the maze planner aimed at `G`, or the
    /// kitchen policy performing the targets in D4RL's order; nil for other envs.
    public static func make(for id: EnvID, noise: Float? = nil) -> (any ScriptedController)? {
        guard let n = noise ?? defaultNoise(for: id) else { return nil }
        if let layout = Maze.layout(for: id) { return MazePlanner(layout: layout, noise: n) }
        if id == .kitchen { return KitchenPlanner(order: KitchenTargets.complete, noise: n) }
        if id == Kitchen.mixedSpec.id { return KitchenPlanner(order: KitchenTargets.mixed, noise: n) }
        return nil
    }
}
