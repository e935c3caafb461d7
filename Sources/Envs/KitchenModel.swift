/// The seven articulated objects of the kitchen env; each is also the subtask "bring this
/// object to its goal state". Raw values follow D4RL's observation order.
public enum KitchenObject: Int, CaseIterable, Sendable, CustomStringConvertible {
    case bottomBurner, topBurner, lightSwitch, slideCabinet, hingeCabinet, microwave, kettle

    /// D4RL's element name ("bottom burner", "light switch", …).
    public var name: String {
        switch self {
        case .bottomBurner: return "bottom burner"
        case .topBurner: return "top burner"
        case .lightSwitch: return "light switch"
        case .slideCabinet: return "slide cabinet"
        case .hingeCabinet: return "hinge cabinet"
        case .microwave: return "microwave"
        case .kettle: return "kettle"
        }
    }

    /// Snake-case key (info entries, configs): `bottom_burner`, `microwave`, …
    public var key: String { String(name.map { $0 == " " ? "_" : $0 }) }

    public var description: String { name }

    /// Parses ``name`` or ``key``.
    public init?(name: String) {
        guard let o = KitchenObject.allCases.first(where: { $0.name == name || $0.key == name }) else { return nil }
        self = o
    }

    /// Entries of this object in the 8-value object-state vector.
    public var stateRange: Range<Int> { self == .kettle ? 6..<8 : rawValue..<(rawValue + 1) }
}

/// Target subtask sets of the kitchen datasets (D4RL's task elements).
public enum KitchenTargets {
    /// `kitchen-complete` / `kitchen-partial`: microwave, kettle, light switch, slide cabinet.
    public static let complete: [KitchenObject] = [.microwave, .kettle, .lightSwitch, .slideCabinet]
    /// `kitchen-mixed`: microwave, kettle, bottom burner, light switch.
    public static let mixed: [KitchenObject] = [.microwave, .kettle, .bottomBurner, .lightSwitch]
}

/// A bar on a revolute joint to the table: a door, a knob's lever or the light switch.
public struct KitchenHinge: Sendable, Equatable {
    /// Pivot on the table (m).
    public var pivot: SIMD2<Float>
    /// Direction of the bar at rest (rad, counter-clockwise from +x).
    public var restDirection: Float
    public var length: Float
    public var halfThickness: Float
    /// Joint range (rad), relative to rest.
    public var limits: ClosedRange<Float>
    /// Dry friction torque holding the bar where it is left (N·m).
    public var frictionTorque: Float
    public var mass: Float
    /// Distance from the pivot at which the scripted policy pushes (m).
    public var pushRadius: Float
    /// Direction of rotation towards the goal (+1 counter-clockwise, −1 clockwise).
    public var openingSign: Float
}

/// A panel on a prismatic joint, with a handle on its robot-facing side.
public struct KitchenSlider: Sendable, Equatable {
    /// Panel centre at rest (m).
    public var restCenter: SIMD2<Float>
    /// Unit sliding direction (the state grows along it).
    public var axis: SIMD2<Float>
    public var halfLength: Float
    public var halfThickness: Float
    /// Handle centre in the panel frame (x along `axis`, y towards the robot) and half extents.
    public var handleCenter: SIMD2<Float>
    public var handleHalfExtents: SIMD2<Float>
    public var limits: ClosedRange<Float>
    /// Dry friction force of the rail (N).
    public var frictionForce: Float
    public var mass: Float
}

/// The kettle: a round block that slides on the table with floor friction.
public struct KitchenKettle: Sendable, Equatable {
    public var start: SIMD2<Float>
    public var radius: Float
    public var mass: Float
    /// Floor friction force and torque (N, N·m).
    public var frictionForce: Float
    public var frictionTorque: Float
}

/// Geometry, arm, goals and thresholds of the kitchen env (all SI units, top-down view,
/// robot base at the origin, +y pointing away from the robot).
///
/// The objects stand on a semicircular counter around the arm, each in its own angular
/// sector, so the scripted policy can move between them at a small radius and approach
/// each radially: microwave 5°, kettle 38°, bottom burner 64°, top burner 84°, light switch
/// 106°, slide cabinet 133°, hinge cabinet 178° (angles from +x).
public enum KitchenModel {
    /// Arm link lengths, base to tip (m).
    public static let linkLengths = SIMD3<Float>(0.45, 0.40, 0.25)
    /// Joint ranges (rad): base (absolute), elbow and wrist (relative).
    public static let jointLimits: [ClosedRange<Float>] = [-1.75...(Float.pi + 0.75), -0.3...3.0, -2.6...2.6]
    /// Joint speed at action ±1 (rad/s).
    public static let maxJointSpeed: Float = 1.5
    /// Maximum motor torques (N·m).
    public static let motorTorques = SIMD3<Float>(8, 5, 2.5)
    /// Radius of the fingertip disc, the only part of the arm that touches objects (m).
    public static let fingerRadius: Float = 0.025
    /// Seconds per step (D4RL kitchen ≈ 0.08 s) and Box2D sub-steps per step.
    public static let controlPeriod: Float = 0.08
    public static let substeps = 4
    /// Fingertip position at the home pose (radius 0.40 m straight ahead).
    public static let homeFinger = SIMD2<Float>(0, 0.40)
    /// Radius at which the scripted policy travels between objects (inside every object).
    public static let stagingRadius: Float = 0.38

    static func polar(_ degrees: Float) -> (u: SIMD2<Float>, t: SIMD2<Float>) {
        let a = degrees * .pi / 180
        return (SIMD2(cosf(a), sinf(a)), SIMD2(-sinf(a), cosf(a)))
    }
    static func angle(_ v: SIMD2<Float>) -> Float { atan2f(v.y, v.x) }

    /// Sector angle of each object (degrees from +x).
    public static func sector(_ o: KitchenObject) -> Float {
        switch o {
        case .microwave: return 5
        case .kettle: return 38
        case .bottomBurner: return 64
        case .topBurner: return 84
        case .lightSwitch: return 106
        case .slideCabinet: return 133
        case .hingeCabinet: return 178
        }
    }

    /// The hinged objects (doors, knobs, switch); nil for the slide cabinet and kettle.
    public static func hinge(_ o: KitchenObject) -> KitchenHinge? {
        let (u, t) = polar(sector(o))
        switch o {
        case .microwave:
            // Door along +t hinged at its clockwise end; pushed outward it swings clockwise.
            return KitchenHinge(pivot: 0.78 * u - 0.15 * t, restDirection: angle(t), length: 0.30, halfThickness: 0.015,
                                limits: -1.25...0, frictionTorque: 0.3, mass: 0.5, pushRadius: 0.24, openingSign: -1)
        case .hingeCabinet:
            return KitchenHinge(pivot: 0.70 * u + 0.15 * t, restDirection: angle(-t), length: 0.30, halfThickness: 0.015,
                                limits: 0...1.4, frictionTorque: 0.3, mass: 0.5, pushRadius: 0.24, openingSign: 1)
        case .bottomBurner, .topBurner:
            // Knob at radius 0.64 with a lever pointing at the robot; pushed sideways it turns clockwise.
            return KitchenHinge(pivot: 0.64 * u, restDirection: angle(-u), length: 0.12, halfThickness: 0.01,
                                limits: -1.2...0, frictionTorque: 0.05, mass: 0.4, pushRadius: 0.10, openingSign: -1)
        case .lightSwitch:
            // Lever along −t; pushed outward it turns counter-clockwise up to its stop at 0.8 rad.
            return KitchenHinge(pivot: 0.70 * u, restDirection: angle(-t), length: 0.10, halfThickness: 0.01,
                                limits: 0...0.8, frictionTorque: 0.05, mass: 0.4, pushRadius: 0.08, openingSign: 1)
        case .slideCabinet, .kettle:
            return nil
        }
    }

    /// The slide cabinet's panel: 0.26 m long at radius 0.84, sliding counter-clockwise.
    public static let slider: KitchenSlider = {
        let (u, t) = polar(sector(.slideCabinet))
        return KitchenSlider(restCenter: 0.84 * u, axis: t, halfLength: 0.13, halfThickness: 0.015,
                             handleCenter: SIMD2(-0.08, 0.04), handleHalfExtents: SIMD2(0.015, 0.025),
                             limits: 0...0.30, frictionForce: 1.5, mass: 0.5)
    }()

    /// The kettle: a disc of radius 6 cm starting at radius 0.50 m.
    public static let kettle: KitchenKettle = {
        let (u, _) = polar(sector(.kettle))
        return KitchenKettle(start: 0.50 * u, radius: 0.06, mass: 0.5, frictionForce: 2, frictionTorque: 0.02)
    }()

    /// Goal state of an object (1 value, 2 for the kettle's x, y).
    public static func goal(_ o: KitchenObject) -> [Float] {
        switch o {
        case .bottomBurner, .topBurner: return [-0.8]
        case .lightSwitch: return [0.7]
        case .slideCabinet: return [0.24]
        case .hingeCabinet: return [0.9]
        case .microwave: return [-0.75]
        case .kettle:
            let (u, _) = polar(sector(.kettle))
            let g = 0.80 * u
            return [g.x, g.y]
        }
    }

    /// Rest (start) state of an object, without noise.
    public static func rest(_ o: KitchenObject) -> [Float] {
        o == .kettle ? [kettle.start.x, kettle.start.y] : [0]
    }

    /// Completion threshold: the object counts as at its goal when the L2 distance between
    /// its state and goal is below this (rad for hinges, m for the slider and kettle).
    public static func threshold(_ o: KitchenObject) -> Float {
        switch o {
        case .slideCabinet: return 0.05
        case .kettle: return 0.06
        default: return 0.2
        }
    }

    /// Distance between an object's state and its goal, read from an 8-value object-state vector.
    @inlinable
    public static func distanceToGoal(_ o: KitchenObject, objectState s: UnsafePointer<Float>) -> Float {
        switch o {
        case .kettle:
            let g = kettleGoal
            let dx = s[6] - g.x, dy = s[7] - g.y
            return (dx * dx + dy * dy).squareRoot()
        default:
            return abs(s[o.rawValue] - scalarGoals[o.rawValue])
        }
    }

    /// Whether an object is within its threshold of the goal (8-value object-state vector).
    @inlinable
    public static func isAtGoal(_ o: KitchenObject, objectState s: UnsafePointer<Float>) -> Bool {
        distanceToGoal(o, objectState: s) < thresholds[o.rawValue]
    }

    @usableFromInline static let kettleGoal: SIMD2<Float> = { let g = goal(.kettle); return SIMD2(g[0], g[1]) }()
    @usableFromInline static let scalarGoals: [Float] = KitchenObject.allCases.map { $0 == .kettle ? 0 : goal($0)[0] }
    @usableFromInline static let thresholds: [Float] = KitchenObject.allCases.map { threshold($0) }

    /// The Markovian dataset reward: how many of `targets` are at their goal in `observation`
    /// (a 24-value kitchen observation), regardless of what happened before (D4RL's
    /// `REMOVE_TASKS_WHEN_COMPLETE = False` relabelling).
    public static func targetsAtGoal(observation: UnsafePointer<Float>, targets: [KitchenObject]) -> Int {
        let s = observation + KitchenEnv.objectStateOffset
        var n = 0
        for o in targets where isAtGoal(o, objectState: s) { n += 1 }
        return n
    }

    /// Array convenience for ``targetsAtGoal(observation:targets:)``.
    public static func targetsAtGoal(_ observation: [Float], targets: [KitchenObject]) -> Int {
        precondition(observation.count == KitchenEnv.observationDimension, "kitchen observations have \(KitchenEnv.observationDimension) values")
        return observation.withUnsafeBufferPointer { targetsAtGoal(observation: $0.baseAddress!, targets: targets) }
    }

    // MARK: Arm kinematics

    /// Fingertip position for joint angles `q` (base absolute, elbow and wrist relative).
    public static func forwardKinematics(_ q: SIMD3<Float>) -> SIMD2<Float> {
        let a1 = q.x, a2 = q.x + q.y, a3 = a2 + q.z
        let l = linkLengths
        return SIMD2(l.x * cosf(a1) + l.y * cosf(a2) + l.z * cosf(a3), l.x * sinf(a1) + l.y * sinf(a2) + l.z * sinf(a3))
    }

    /// Joint angles that put the fingertip at `p` with the last link at absolute angle
    /// `orientation` (default: pointing radially outward), elbow bent counter-clockwise
    /// (q₂ ≥ 0). Unreachable wrist distances are clamped to the annulus the arm reaches.
    public static func inverseKinematics(_ p: SIMD2<Float>, orientation: Float? = nil) -> SIMD3<Float> {
        let l = linkLengths
        let psi = orientation ?? atan2f(p.y, p.x)
        let w = p - l.z * SIMD2(cosf(psi), sinf(psi))
        var d = (w * w).sum().squareRoot()
        d = min(max(d, abs(l.x - l.y) + 1e-3), l.x + l.y - 1e-3)
        let c2 = min(max((d * d - l.x * l.x - l.y * l.y) / (2 * l.x * l.y), -1), 1)
        let q2 = acosf(c2)
        var q1 = atan2f(w.y, w.x) - atan2f(l.y * sinf(q2), l.x + l.y * cosf(q2))
        // The base turns over [-1.75, π + 0.75]: keep q1 in [-2, 2π − 2).
        while q1 < -2 { q1 += 2 * .pi }
        while q1 >= 2 * .pi - 2 { q1 -= 2 * .pi }
        var q3 = psi - q1 - q2
        while q3 > .pi { q3 -= 2 * .pi }
        while q3 <= -.pi { q3 += 2 * .pi }
        return SIMD3(q1, q2, q3)
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
