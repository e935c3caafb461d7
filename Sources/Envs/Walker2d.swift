/// `walker2d-v1`: a planar biped (torso plus two thigh–leg–foot chains) that should walk forward.
///
/// A Box2D reproduction of Gymnasium's MuJoCo `Walker2d-v4` body (same link tree, capsule
/// sizes, masses at 1000 kg/m³, joint ranges and gears). Units: metres, seconds, radians,
/// kilograms; x forward, z up; angles counter-clockwise in the x–z view (MuJoCo axis (0, −1, 0)).
///
/// ## Action space
/// `Box(-1, 1, (6,))`: torques on right thigh, right leg, right foot, left thigh, left leg,
/// left foot hinges, each action × gear 100 N·m. Out-of-range values are clipped; NaN throws.
///
/// ## Observation space
/// `Box(-inf, inf, (17,))`, float32:
/// - 0: torso z (m, torso centre; 1.25 at rest), 1: torso angle (rad)
/// - 2–4: right thigh, leg, foot joint angles (rad); 5–7: the same for the left leg
/// - 8: torso x velocity, 9: torso z velocity (m/s), 10: torso angular velocity (rad/s)
/// - 11–13: right thigh, leg, foot joint velocities; 14–16: left (rad/s)
///
/// Velocities (8–16) are clipped to ±10. Ranges: thigh and leg [-150°, 0], foot [-45°, 45°].
///
/// ## Rewards
/// `1·(x_after − x_before)/dt + 1 (healthy reward) − 0.001·‖a‖²` with dt = 0.008 s.
///
/// ## Starting state
/// Upright rest pose plus uniform noise in ±0.005 on every qpos and qvel entry.
///
/// ## Episode end
/// Terminates when unhealthy: torso z outside (0.8, 2.0) or torso angle outside (−1, 1).
/// Truncated after 1000 steps (8 s) by the spec.
///
/// ## Physics
/// Box2D 2.4.1, 4 sub-steps of 2 ms per step; hinge damping 0.1 N·m·s/rad; both feet have
/// friction 0.9 (as Walker2d-v5; v4's left foot had 1.9); self-collision off; no armature.
///
/// ## Version history
/// - v1: first release.
public enum Walker2d {
    public static let model: LocomotionModel = {
        var links = [LinkModel("torso", origin: [0, 1.25], geoms: [CapsuleGeom([0, 1.45], [0, 1.05], radius: 0.05)], friction: 0.9)]
        var hinges: [HingeModel] = []
        for side in ["", "_left"] {
            let base = links.count
            links.append(LinkModel("thigh" + side, origin: [0, 1.05], geoms: [CapsuleGeom([0, 1.05], [0, 0.6], radius: 0.05)], friction: 0.9))
            links.append(LinkModel("leg" + side, origin: [0, 0.6], geoms: [CapsuleGeom([0, 0.6], [0, 0.1], radius: 0.04)], friction: 0.9))
            links.append(LinkModel("foot" + side, origin: [0, 0.1], geoms: [CapsuleGeom([0, 0.1], [0.2, 0.1], radius: 0.06)], friction: 0.9))
            hinges.append(HingeModel("thigh\(side)_joint", parent: 0, child: base, anchor: [0, 1.05], rangeDegrees: -150...0,
                                     gear: 100, damping: 0.1, armature: 0.01, axisSign: 1))
            hinges.append(HingeModel("leg\(side)_joint", parent: base, child: base + 1, anchor: [0, 0.6], rangeDegrees: -150...0,
                                     gear: 100, damping: 0.1, armature: 0.01, axisSign: 1))
            hinges.append(HingeModel("foot\(side)_joint", parent: base + 1, child: base + 2, anchor: [0, 0.1], rangeDegrees: -45...45,
                                     gear: 100, damping: 0.1, armature: 0.01, axisSign: 1))
        }
        return LocomotionModel(
            id: .walker2d, links: links, hinges: hinges,
            rootAxisSign: 1, zOffset: 0, controlPeriod: 0.008, substeps: 4, velocityIterations: 6, positionIterations: 2,
            forwardRewardWeight: 1, healthyReward: 1, ctrlCostWeight: 1e-3,
            health: .walker(z: 0.8...2.0, angle: -1...1),
            velocityClip: 10, resetNoise: .uniform(qpos: 5e-3, qvel: 5e-3))
    }()

    public static let spec = EnvSpec(
        id: .walker2d, version: 1, domain: .locomotion, observationDimension: 17, actionDimension: 6,
        maxEpisodeSteps: 1000, controlPeriod: 0.008,
        // R_random and R_expert: exact means of `ofql-eval reference --episodes 100 --seed 0` (the test
        // "Reference scores" recomputes them; `reference --update` exports them to datasets/catalog.json).
        referenceScores: ReferenceScores(random: 1.486963286063401, expert: 3567.1233485621215),
        summary: "planar biped (torso + two thigh/leg/foot chains); 6 hinge torques",
        makeBare: { LocomotionEnv(model: model) })
}
