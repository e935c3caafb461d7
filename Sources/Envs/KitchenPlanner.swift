/// The kitchen behaviour policy: scripted per-object primitives (approach, then push along
/// the object's path) chained in a configurable order, driven through inverse kinematics,
/// plus seeded Gaussian action noise.
///
/// For each subtask in ``order`` the policy retracts the fingertip to the staging radius
/// (0.38 m, inside every object), travels there to the object's sector, approaches the
/// object's contact point radially, then pushes: along the arc of a door, knob lever or
/// switch, along the rail of the slide cabinet, or behind the kettle towards its goal. It
/// moves on to the next subtask once the object is well inside its goal threshold, skips
/// subtasks that are already at their goal, and re-approaches when a push stalls. After
/// the last subtask it returns to the home pose and holds.
///
/// Motion: every step the fingertip target is moved at most `travelStep` (transit) or
/// `pushStep` (contact) metres towards the phase's target (a straight Cartesian line),
/// turned into joint angles by ``KitchenModel/inverseKinematics(_:orientation:)`` (last
/// link radial), and the joint-velocity action is the angle error over one control period.
///
/// It acts from the observation only (joint angles, fingertip, object states); goals come
/// from ``KitchenModel`` so non-target subtasks (whose observed goal is the rest state) can be
/// scripted too. ``act(observation:action:rng:)`` allocates nothing.
public final class KitchenPlanner {
    /// Subtasks in the order the policy performs them.
    public var order: [KitchenObject]
    /// Standard deviation of the Gaussian noise added to each joint command (then clipped).
    public var noise: Float
    /// Fingertip travel per step between objects and while in contact (m).
    public var travelStep: Float = 0.05
    public var pushStep: Float = 0.025
    /// Largest lead (rad) of the push target ahead of a hinged bar's current angle.
    public var maxTurnPerStep: Float = 0.12

    enum Phase { case backoff, transit, approach, push, home }

    private var index = 0
    private var phase = Phase.transit
    private var phaseSteps = 0
    private var bestDistance: Float = .infinity
    private var stallSteps = 0
    private var backoffTarget = SIMD2<Float>(0, 0)

    /// A policy that performs `order` (default: the four complete-task targets in D4RL's order).
    public init(order: [KitchenObject] = KitchenTargets.complete, noise: Float = 0.1) {
        self.order = order; self.noise = noise
    }

    /// Starts a new episode at the first subtask.
    public func reset() {
        index = 0; phase = .transit; phaseSteps = 0; bestDistance = .infinity; stallSteps = 0
    }

    /// The subtask being worked on, nil once the order is exhausted.
    public var currentSubtask: KitchenObject? { index < order.count ? order[index] : nil }

    /// Writes the three joint commands for `observation` (24 kitchen values) into `action`;
    /// noise draws come from `rng`.
    public func act<G: RandomNumberGenerator>(observation o: UnsafePointer<Float>, action: UnsafeMutablePointer<Float>,
                                              rng: inout G) {
        control(observation: o, action: action)
        addActionNoise(action, count: 3, std: noise, rng: &rng)
    }

    /// The noiseless joint commands (clipped to [-1, 1]); advances the phase machine.
    private func control(observation o: UnsafePointer<Float>, action: UnsafeMutablePointer<Float>) {
        let q = SIMD3(o[0], o[1], o[2])
        let finger = SIMD2(o[6], o[7])
        let s = o + KitchenEnv.objectStateOffset
        // Skip subtasks already done (well inside their threshold).
        while index < order.count && done(order[index], s) {
            index += 1
            enter(.backoff, finger: finger)
        }
        let target: SIMD2<Float>
        var step = travelStep
        if index >= order.count {
            if phase == .backoff && phaseSteps < 6 && dist(finger, backoffTarget) > 0.01 {
                target = backoffTarget
            } else {
                phase = .home
                target = KitchenModel.homeFinger
            }
        } else {
            let obj = order[index]
            let pre = contactPoint(obj, s, gap: 0.02)
            switch phase {
            case .home, .backoff:
                if phase == .backoff && phaseSteps < 6 && dist(finger, backoffTarget) > 0.01 {
                    target = backoffTarget
                } else {
                    enter(.transit, finger: finger)
                    target = transitTarget(finger: finger, pre: pre)
                }
            case .transit:
                if sameSector(finger, pre) {
                    enter(.approach, finger: finger)
                    target = pre
                } else {
                    target = transitTarget(finger: finger, pre: pre)
                }
            case .approach:
                if dist(finger, pre) < 0.012 || (phaseSteps > 25 && dist(finger, pre) < 0.03) {
                    enter(.push, finger: finger)
                    target = pushTarget(obj, s)
                    step = pushStep
                } else {
                    target = pre
                }
            case .push:
                let d = KitchenModel.distanceToGoal(obj, objectState: s)
                if d < bestDistance - 0.004 { bestDistance = d; stallSteps = 0 } else { stallSteps += 1 }
                let lost = dist(finger, contactPoint(obj, s, gap: 0)) > 0.06
                if stallSteps > 12 || lost {
                    enter(.backoff, finger: finger)
                    target = backoffTarget
                } else {
                    target = pushTarget(obj, s)
                    step = pushStep
                }
            }
        }
        phaseSteps += 1
        command(finger: finger, q: q, target: target, maxStep: step, action: action)
    }

    /// Array convenience for ``act(observation:action:rng:)``.
    public func act<G: RandomNumberGenerator>(_ observation: [Float], rng: inout G) -> [Float] {
        precondition(observation.count == KitchenEnv.observationDimension, "kitchen observations have 24 values")
        var a: [Float] = [0, 0, 0]
        observation.withUnsafeBufferPointer { o in a.withUnsafeMutableBufferPointer { act(observation: o.baseAddress!, action: $0.baseAddress!, rng: &rng) } }
        return a
    }

    private func enter(_ p: Phase, finger: SIMD2<Float>) {
        phase = p; phaseSteps = 0; stallSteps = 0; bestDistance = .infinity
        if p == .backoff {
            // Straight back towards the base by 6 cm.
            let r = max(length(finger), 1e-3)
            backoffTarget = finger * max(r - 0.06, KitchenModel.stagingRadius) / r
        }
    }

    /// Done = well inside the threshold (half of it), or pushed past the goal (a push
    /// cannot be undone, so the policy moves on).
    private func done(_ obj: KitchenObject, _ s: UnsafePointer<Float>) -> Bool {
        let half = 0.5 * KitchenModel.threshold(obj)
        if let h = KitchenModel.hinge(obj) { return h.openingSign * (s[obj.rawValue] - KitchenModel.goal(obj)[0]) > -half }
        if obj == .slideCabinet { return s[obj.rawValue] > KitchenModel.goal(obj)[0] - half }
        return KitchenModel.distanceToGoal(obj, objectState: s) < half
    }

    /// Whether the fingertip is at the staging circle in the angular sector of `pre`.
    private func sameSector(_ finger: SIMD2<Float>, _ pre: SIMD2<Float>) -> Bool {
        abs(angleDiff(finger, pre)) < 0.06 && length(finger) < length(pre) + 0.03
    }

    /// Retract radially to the staging radius, travel along it, then the approach starts.
    private func transitTarget(finger: SIMD2<Float>, pre: SIMD2<Float>) -> SIMD2<Float> {
        let rs = min(KitchenModel.stagingRadius, length(pre))
        let r = length(finger)
        if r > rs + 0.04 && abs(angleDiff(finger, pre)) > 0.06 { return finger * (rs / max(r, 1e-3)) }
        // Along the staging circle through the front half-plane, at most 0.4 rad ahead.
        let af = frontAngle(finger), ap = frontAngle(pre)
        let a = af + min(max(ap - af, -0.4), 0.4)
        return rs * SIMD2(cosf(a), sinf(a))
    }

    /// Where the fingertip centre touches the object's push face, `gap` metres off it.
    func contactPoint(_ obj: KitchenObject, _ s: UnsafePointer<Float>, gap: Float) -> SIMD2<Float> {
        let rf = KitchenModel.fingerRadius
        if let h = KitchenModel.hinge(obj) {
            return hingeContact(h, angle: s[obj.rawValue], gap: gap)
        } else if obj == .slideCabinet {
            let sl = KitchenModel.slider
            return handleCenter(sl, opening: s[obj.rawValue]) - (sl.handleHalfExtents.x + rf + gap) * sl.axis
        } else {
            let k = SIMD2(s[6], s[7])
            let u = kettleDirection(k)
            return k - (KitchenModel.kettle.radius + rf + gap) * u
        }
    }

    /// Contact point on a hinged bar at joint angle `angle`, on the side the push comes from.
    private func hingeContact(_ h: KitchenHinge, angle: Float, gap: Float) -> SIMD2<Float> {
        let a = h.restDirection + angle
        let dir = SIMD2(cosf(a), sinf(a)), perp = SIMD2(-sinf(a), cosf(a))
        return h.pivot + h.pushRadius * dir - (h.halfThickness + KitchenModel.fingerRadius + gap) * h.openingSign * perp
    }

    private func handleCenter(_ sl: KitchenSlider, opening: Float) -> SIMD2<Float> {
        let inward = -sl.restCenter / length(sl.restCenter)
        return sl.restCenter + (opening + sl.handleCenter.x) * sl.axis + (sl.halfThickness + sl.handleHalfExtents.y) * inward
    }

    private func kettleDirection(_ k: SIMD2<Float>) -> SIMD2<Float> {
        let d = KitchenModel.kettleGoal - k
        let n = length(d)
        return n > 1e-4 ? d / n : SIMD2(1, 0)
    }

    /// The fingertip target while pushing: the contact point a little further along the path.
    private func pushTarget(_ obj: KitchenObject, _ s: UnsafePointer<Float>) -> SIMD2<Float> {
        let rf = KitchenModel.fingerRadius
        if let h = KitchenModel.hinge(obj) {
            let g = KitchenModel.goal(obj)[0]
            let th = s[obj.rawValue]
            // At most `maxTurnPerStep` ahead, so a short lever is not flicked past its goal.
            let next = h.openingSign > 0 ? min(th + maxTurnPerStep, g + 0.05) : max(th - maxTurnPerStep, g - 0.05)
            return hingeContact(h, angle: next, gap: -0.005)
        } else if obj == .slideCabinet {
            let sl = KitchenModel.slider
            let next = min(s[obj.rawValue] + 0.1, KitchenModel.goal(obj)[0] + 0.01)
            return handleCenter(sl, opening: next) - (sl.handleHalfExtents.x + rf - 0.005) * sl.axis
        } else {
            let k = SIMD2(s[6], s[7])
            let u = kettleDirection(k)
            let lead = min(length(KitchenModel.kettleGoal - k) + 0.005, 0.08)
            return k + (lead - KitchenModel.kettle.radius - rf) * u
        }
    }

    /// Joint-velocity action moving the fingertip up to `maxStep` towards `target`.
    private func command(finger: SIMD2<Float>, q: SIMD3<Float>, target: SIMD2<Float>, maxStep: Float,
                         action: UnsafeMutablePointer<Float>) {
        var d = target - finger
        let n = length(d)
        if n > maxStep { d *= maxStep / n }
        let qt = KitchenModel.inverseKinematics(finger + d)
        let scale = 1 / (KitchenModel.maxJointSpeed * KitchenModel.controlPeriod)
        for i in 0..<3 {
            var e = qt[i] - q[i]
            if i != 0 {
                while e > .pi { e -= 2 * .pi }
                while e < -.pi { e += 2 * .pi }
            }
            action[i] = min(max(e * scale, -1), 1)
        }
    }
}

@inline(__always) private func length(_ v: SIMD2<Float>) -> Float { (v * v).sum().squareRoot() }
@inline(__always) private func dist(_ a: SIMD2<Float>, _ b: SIMD2<Float>) -> Float { length(a - b) }
/// Polar angle in [-π/2, 3π/2): continuous over the robot's front half-plane.
@inline(__always) private func frontAngle(_ v: SIMD2<Float>) -> Float {
    let a = atan2f(v.y, v.x)
    return a < -.pi / 2 ? a + 2 * .pi : a
}
@inline(__always) private func angleDiff(_ a: SIMD2<Float>, _ b: SIMD2<Float>) -> Float {
    var x = atan2f(a.y, a.x) - atan2f(b.y, b.x)
    while x > .pi { x -= 2 * .pi }
    while x <= -.pi { x += 2 * .pi }
    return x
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Randomness
