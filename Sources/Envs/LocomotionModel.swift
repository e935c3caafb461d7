import Physics

/// A capsule of a link in the model's rest pose, in MuJoCo's x–z plane (metres).
public struct CapsuleGeom: Sendable {
    public var from: SIMD2<Float>
    public var to: SIMD2<Float>
    public var radius: Float
    public init(_ from: SIMD2<Float>, _ to: SIMD2<Float>, radius: Float) { self.from = from; self.to = to; self.radius = radius }
    /// A capsule of half-length `halfLength` centred at `center`, its axis rotated by
    /// `axisAngle` about MuJoCo's +y (MuJoCo's `axisangle="0 1 0 a"` with `size="r h"`).
    public init(center: SIMD2<Float>, axisAngle: Float, halfLength: Float, radius: Float) {
        let d = SIMD2<Float>(sinf(axisAngle), cosf(axisAngle)) * halfLength
        self.init(center + d, center - d, radius: radius)
    }
    /// Mass at MuJoCo's default density (1000 kg/m³) of the 3-D capsule.
    public var mujocoMass: Float {
        let l = ((to - from) * (to - from)).sum().squareRoot()
        return 1000 * (Float.pi * radius * radius * l + 4 / 3 * Float.pi * radius * radius * radius)
    }
}

/// A rigid link: its frame origin (rest pose, world) and capsules.
public struct LinkModel: Sendable {
    public var name: String
    public var origin: SIMD2<Float>
    public var geoms: [CapsuleGeom]
    /// Coulomb friction against the ground (MuJoCo's geom friction; the ground has 1).
    public var friction: Float
    public init(_ name: String, origin: SIMD2<Float>, geoms: [CapsuleGeom], friction: Float) {
        self.name = name; self.origin = origin; self.geoms = geoms; self.friction = friction
    }
}

/// A hinge between two links with its actuator (gear) and passive spring/damper.
public struct HingeModel: Sendable {
    public var name: String
    public var parent: Int
    public var child: Int
    /// Hinge position in the rest pose (world).
    public var anchor: SIMD2<Float>
    /// Range of the joint angle (rad) in MuJoCo's sign convention.
    public var range: ClosedRange<Float>
    /// Torque (N·m) per unit action.
    public var gear: Float
    /// Passive spring (N·m/rad, towards 0) and damper (N·m·s/rad).
    public var stiffness: Float
    public var damping: Float
    /// MuJoCo's joint armature (kg·m²), approximated by adding it to the child link's
    /// rotational inertia (exact while the parent does not rotate).
    public var armature: Float
    /// +1 for MuJoCo axis (0, −1, 0) (angles counter-clockwise in the x–z view), −1 for (0, 1, 0).
    public var axisSign: Float
    public init(_ name: String, parent: Int, child: Int, anchor: SIMD2<Float>, rangeDegrees: ClosedRange<Float>? = nil,
                range: ClosedRange<Float>? = nil, gear: Float, stiffness: Float = 0, damping: Float = 0, armature: Float = 0, axisSign: Float) {
        self.name = name; self.parent = parent; self.child = child; self.anchor = anchor
        if let r = rangeDegrees { self.range = (r.lowerBound * .pi / 180)...(r.upperBound * .pi / 180) } else { self.range = range! }
        self.gear = gear; self.stiffness = stiffness; self.damping = damping; self.armature = armature
        self.axisSign = axisSign
    }
}

/// When a locomotion episode terminates (Gymnasium's `is_healthy`).
public enum HealthRule: Sendable, Equatable {
    /// Never terminates (halfcheetah).
    case always
    /// Healthy while z > minZ, angle in `angle`, and |qpos[2:], qvel| < stateBound (hopper).
    case hopper(minZ: Float, angle: ClosedRange<Float>, stateBound: Float)
    /// Healthy while z in the open interval `z` and angle in `angle` (walker2d).
    case walker(z: ClosedRange<Float>, angle: ClosedRange<Float>)
}

/// How the start state is perturbed on reset.
public enum ResetNoise: Sendable, Equatable {
    /// qpos += U(±qpos), qvel += U(±qvel) (hopper, walker2d).
    case uniform(qpos: Float, qvel: Float)
    /// qpos += U(±qpos), qvel += qvel·N(0, 1) (halfcheetah).
    case uniformGaussian(qpos: Float, qvel: Float)
}

/// How a model's capsules become Box2D fixtures.
public enum CapsuleFixtures: Sendable, Equatable {
    /// A box and two circles per capsule; Box2D derives the mass from their areas (v1 bodies).
    case boxAndCircles
    /// One rounded box per capsule (``World/addRoundedCapsule``); the mass data of each link
    /// is set from its capsules' ``MassProperties`` (3 times fewer fixtures and contacts).
    case rounded
}

/// A planar articulated body plus its task: everything a ``LocomotionEnv`` needs.
///
/// Generalised coordinates follow MuJoCo: qpos = (rootx, rootz, rooty, hinge angles),
/// qvel = (ẋ, ż, root angular velocity, hinge speeds), with the root at link 0's frame.
public struct LocomotionModel: Sendable {
    public var id: EnvID
    public var links: [LinkModel]
    public var hinges: [HingeModel]
    /// Sign of the root rotation (as ``HingeModel/axisSign``).
    public var rootAxisSign: Float
    /// qpos[1] = torso-frame z − zOffset (0 when MuJoCo's rootz has `ref` = start height).
    public var zOffset: Float
    /// Seconds per env step (MuJoCo frame_skip × timestep).
    public var controlPeriod: Float
    /// Box2D steps per env step.
    public var substeps: Int
    public var velocityIterations: Int32
    public var positionIterations: Int32
    public var forwardRewardWeight: Float
    public var healthyReward: Float
    public var ctrlCostWeight: Float
    public var health: HealthRule
    /// Velocities in the observation are clipped to ±this (nil: not clipped).
    public var velocityClip: Float?
    public var resetNoise: ResetNoise
    public var capsuleFixtures: CapsuleFixtures = .boxAndCircles

    public var actionDimension: Int { hinges.count }
    public var observationDimension: Int { 5 + 2 * hinges.count }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
