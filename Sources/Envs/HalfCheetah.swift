/// `halfcheetah-v2`: a planar two-legged cheetah (torso with head, back and front legs) that should run forward.
///
/// A Box2D reproduction of Gymnasium's MuJoCo `HalfCheetah-v4` body (same link tree, capsule
/// sizes and orientations, masses at 1000 kg/m³, joint ranges, gears, joint springs and
/// dampers). Units: metres, seconds, radians, kilograms; x forward, z up. Angles follow
/// MuJoCo's hinge axis (0, 1, 0): positive is clockwise in the x–z view.
///
/// ## Action space
/// `Box(-1, 1, (6,))`: torques on bthigh, bshin, bfoot, fthigh, fshin, ffoot with gears
/// 120, 90, 60, 120, 60, 30 N·m. Out-of-range values are clipped; NaN throws.
///
/// ## Observation space
/// `Box(-inf, inf, (17,))`, float32:
/// - 0: torso-frame z − 0.7 (m; MuJoCo's rootz), 1: torso angle (rad)
/// - 2–4: bthigh, bshin, bfoot angles; 5–7: fthigh, fshin, ffoot angles (rad)
/// - 8: torso-frame x velocity, 9: z velocity (m/s), 10: torso angular velocity (rad/s)
/// - 11–16: the six joint angular velocities (rad/s), not clipped
///
/// ## Rewards
/// `1·(x_after − x_before)/dt − 0.1·‖a‖²` with dt = 0.05 s; no healthy reward.
///
/// ## Starting state
/// Rest pose (torso frame at z = 0.7) plus U(±0.1) on every qpos entry and 0.1·N(0, 1) on
/// every qvel entry.
///
/// ## Episode end
/// Never terminates; truncated after 1000 steps (50 s) by the spec.
///
/// ## Physics
/// Box2D 2.4.1, 2 sub-steps of 25 ms per 50 ms step (MuJoCo: 5 × 10 ms); joint springs
/// towards 0 and dampers as in the MuJoCo model; friction 0.4; self-collision off; armature
/// 0.1 kg·m² added to each child link's inertia. Each capsule is one Box2D fixture (a thin
/// box rounded by the capsule radius, ``CapsuleFixtures/rounded``) and each link's mass,
/// centre and inertia are those of its 2-D capsules at MuJoCo's capsule masses.
///
/// ## Version history
/// - v2: one rounded fixture per capsule (was a box and two circles) with exact capsule
///   mass properties: the outline MuJoCo collides, and 1.5x faster; expert re-tuned.
/// - v1: first release.
public enum HalfCheetah {
    static let r: Float = 0.046
    public static let model = LocomotionModel(
        id: .halfcheetah,
        links: [
            LinkModel("torso", origin: [0, 0.7], geoms: [
                CapsuleGeom([-0.5, 0.7], [0.5, 0.7], radius: r),
                CapsuleGeom(center: [0.6, 0.8], axisAngle: 0.87, halfLength: 0.15, radius: r),
            ], friction: 0.4),
            LinkModel("bthigh", origin: [-0.5, 0.7], geoms: [CapsuleGeom(center: [-0.4, 0.57], axisAngle: -3.8, halfLength: 0.145, radius: r)], friction: 0.4),
            LinkModel("bshin", origin: [-0.34, 0.45], geoms: [CapsuleGeom(center: [-0.48, 0.38], axisAngle: -2.03, halfLength: 0.15, radius: r)], friction: 0.4),
            LinkModel("bfoot", origin: [-0.62, 0.31], geoms: [CapsuleGeom(center: [-0.59, 0.213], axisAngle: -0.27, halfLength: 0.094, radius: r)], friction: 0.4),
            LinkModel("fthigh", origin: [0.5, 0.7], geoms: [CapsuleGeom(center: [0.43, 0.58], axisAngle: 0.52, halfLength: 0.133, radius: r)], friction: 0.4),
            LinkModel("fshin", origin: [0.36, 0.46], geoms: [CapsuleGeom(center: [0.425, 0.37], axisAngle: -0.6, halfLength: 0.106, radius: r)], friction: 0.4),
            LinkModel("ffoot", origin: [0.49, 0.28], geoms: [CapsuleGeom(center: [0.535, 0.21], axisAngle: -0.6, halfLength: 0.07, radius: r)], friction: 0.4),
        ],
        hinges: [
            HingeModel("bthigh", parent: 0, child: 1, anchor: [-0.5, 0.7], range: -0.52...1.05, gear: 120, stiffness: 240, damping: 6, armature: 0.1, axisSign: -1),
            HingeModel("bshin", parent: 1, child: 2, anchor: [-0.34, 0.45], range: -0.785...0.785, gear: 90, stiffness: 180, damping: 4.5, armature: 0.1, axisSign: -1),
            HingeModel("bfoot", parent: 2, child: 3, anchor: [-0.62, 0.31], range: -0.4...0.785, gear: 60, stiffness: 120, damping: 3, armature: 0.1, axisSign: -1),
            HingeModel("fthigh", parent: 0, child: 4, anchor: [0.5, 0.7], range: -1...0.7, gear: 120, stiffness: 180, damping: 4.5, armature: 0.1, axisSign: -1),
            HingeModel("fshin", parent: 4, child: 5, anchor: [0.36, 0.46], range: -1.2...0.87, gear: 60, stiffness: 120, damping: 3, armature: 0.1, axisSign: -1),
            HingeModel("ffoot", parent: 5, child: 6, anchor: [0.49, 0.28], range: -0.5...0.5, gear: 30, stiffness: 60, damping: 1.5, armature: 0.1, axisSign: -1),
        ],
        rootAxisSign: -1, zOffset: 0.7, controlPeriod: 0.05, substeps: 2, velocityIterations: 6, positionIterations: 2,
        forwardRewardWeight: 1, healthyReward: 0, ctrlCostWeight: 0.1,
        health: .always, velocityClip: nil, resetNoise: .uniformGaussian(qpos: 0.1, qvel: 0.1), capsuleFixtures: .rounded)

    public static let spec = EnvSpec(
        id: .halfcheetah, version: 2, domain: .locomotion, observationDimension: 17, actionDimension: 6,
        maxEpisodeSteps: 1000, controlPeriod: 0.05,
        // R_random and R_expert: exact means of `ofql-eval reference --episodes 100 --seed 0` (the test
        // "Reference scores" recomputes them; `reference --update` exports them to datasets/catalog.json).
        referenceScores: ReferenceScores(random: -291.67869294498115, expert: 3156.8733463985473),
        summary: "planar cheetah (torso + back and front legs); 6 hinge torques; never terminates",
        makeBare: { LocomotionEnv(model: model) })
}
