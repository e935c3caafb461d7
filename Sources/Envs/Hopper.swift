/// `hopper-v1`: a planar one-legged hopper (torso, thigh, leg, foot) that should hop forward.
///
/// A Box2D reproduction of Gymnasium's MuJoCo `Hopper-v4` body (same link tree, capsule
/// sizes, masses at 1000 kg/m³, joint ranges and gears). Units are SI: metres, seconds,
/// radians, kilograms; x points forward, z up. Angles are counter-clockwise in the x–z view
/// (MuJoCo's hinge axis (0, −1, 0)).
///
/// ## Action space
/// `Box(-1, 1, (3,))`: torques on the thigh, leg (knee) and foot (ankle) hinges, each
/// action × gear 200 N·m. Values outside [-1, 1] are clipped; NaN throws.
///
/// ## Observation space
/// `Box(-inf, inf, (11,))`, float32:
/// - 0: torso z (m, torso centre; 1.25 at rest)
/// - 1: torso angle (rad)
/// - 2: thigh joint angle (rad, range [-150°, 0])
/// - 3: leg joint angle (rad, range [-150°, 0])
/// - 4: foot joint angle (rad, range [-45°, 45°])
/// - 5: torso x velocity (m/s), 6: torso z velocity (m/s), 7: torso angular velocity (rad/s)
/// - 8, 9, 10: thigh, leg, foot joint angular velocities (rad/s)
///
/// Velocities (5–10) are clipped to ±10. The torso x position is left out.
///
/// ## Rewards
/// `1·(x_after − x_before)/dt + 1 (healthy reward) − 0.001·‖a‖²` with dt = 0.008 s.
///
/// ## Starting state
/// Upright rest pose (torso centre at z = 1.25, foot 4 cm above the ground) plus uniform
/// noise in ±0.005 on every qpos (x, z, angle, joints) and qvel entry, drawn from the seed.
///
/// ## Episode end
/// Terminates when unhealthy: torso z ≤ 0.7, or |torso angle| ≥ 0.2, or any of
/// qpos[2:], qvel reaches |·| ≥ 100. Truncated after 1000 steps (8 s) by the spec.
///
/// ## Physics
/// Box2D 2.4.1, 4 sub-steps of 2 ms per step (MuJoCo: frame_skip 4 × 0.002), hinge damping
/// 1 N·m·s/rad, foot friction 2, self-collision off. MuJoCo's joint armature has no Box2D
/// counterpart and is left out, so the links respond faster than in MuJoCo.
///
/// ## Version history
/// - v1: first release.
public enum Hopper {
    public static let model = LocomotionModel(
        id: .hopper,
        links: [
            LinkModel("torso", origin: [0, 1.25], geoms: [CapsuleGeom([0, 1.45], [0, 1.05], radius: 0.05)], friction: 0.9),
            LinkModel("thigh", origin: [0, 1.05], geoms: [CapsuleGeom([0, 1.05], [0, 0.6], radius: 0.05)], friction: 0.9),
            LinkModel("leg", origin: [0, 0.6], geoms: [CapsuleGeom([0, 0.6], [0, 0.1], radius: 0.04)], friction: 0.9),
            LinkModel("foot", origin: [0, 0.1], geoms: [CapsuleGeom([-0.13, 0.1], [0.26, 0.1], radius: 0.06)], friction: 2.0),
        ],
        hinges: [
            HingeModel("thigh_joint", parent: 0, child: 1, anchor: [0, 1.05], rangeDegrees: -150...0, gear: 200, damping: 1, armature: 1, axisSign: 1),
            HingeModel("leg_joint", parent: 1, child: 2, anchor: [0, 0.6], rangeDegrees: -150...0, gear: 200, damping: 1, armature: 1, axisSign: 1),
            HingeModel("foot_joint", parent: 2, child: 3, anchor: [0, 0.1], rangeDegrees: -45...45, gear: 200, damping: 1, armature: 1, axisSign: 1),
        ],
        rootAxisSign: 1, zOffset: 0, controlPeriod: 0.008, substeps: 4, velocityIterations: 6, positionIterations: 2,
        forwardRewardWeight: 1, healthyReward: 1, ctrlCostWeight: 1e-3,
        health: .hopper(minZ: 0.7, angle: -0.2...0.2, stateBound: 100),
        velocityClip: 10, resetNoise: .uniform(qpos: 5e-3, qvel: 5e-3))

    public static let spec = EnvSpec(
        id: .hopper, version: 1, domain: .locomotion, observationDimension: 11, actionDimension: 3,
        maxEpisodeSteps: 1000, controlPeriod: 0.008,
        // R_random and R_expert: exact means of `ofql-eval reference --episodes 100 --seed 0` (the test
        // "Reference scores" recomputes them; `reference --update` exports them to datasets/catalog.json).
        referenceScores: ReferenceScores(random: 4.724004279598594, expert: 2468.332855280638),
        summary: "planar one-legged hopper (torso, thigh, leg, foot); 3 hinge torques",
        makeBare: { LocomotionEnv(model: model) })
}
