import Physics

/// The shared engine of the planar locomotion envs (hopper, walker2d, halfcheetah).
///
/// Physics construction (``LocomotionModel``: links, hinges, gears) is kept apart from the
/// task (reward and termination, also in the model); each env file documents its model.
/// Every reset rebuilds the Box2D world so an episode depends only on its seed and actions.
/// Actuation: action × gear is a torque applied to the child link and its reaction to the
/// parent, plus the hinge's passive spring and damper, re-applied at every Box2D sub-step.
public final class LocomotionEnv: Environment {
    public let model: LocomotionModel
    public let observationSpace: Box
    public let actionSpace: Box
    public var id: EnvID { model.id }

    /// Ground friction coefficient (Box2D mixes frictions as √(a·b); links store f² so the pair gives f).
    static let groundFriction: Float = 1

    private var world: World
    private var bodies: [BodyID] = []
    private let nj: Int
    private let jointHandles: UnsafeMutablePointer<Int32>
    private let jointBuf: UnsafeMutablePointer<Float>
    private let ctrl: UnsafeMutablePointer<Float>
    private let childBody: UnsafeMutablePointer<BodyID>
    private let parentBody: UnsafeMutablePointer<BodyID>
    private let gear: UnsafeMutablePointer<Float>
    private let stiffness: UnsafeMutablePointer<Float>
    private let damping: UnsafeMutablePointer<Float>
    private let sign: UnsafeMutablePointer<Float>
    private let passive: Bool
    private let substepDt: Float
    /// Torso centre of mass in the torso frame.
    private var torsoCom = SIMD2<Float>(0, 0)

    // Generator and replay log.
    private var rng = SeededRNG(seed: 0)
    private var episodeSeed: UInt64 = 0
    private var generatorStateAfterReset: UInt64 = 0
    private var actionLog: [Float] = []
    private var hasReset = false

    // Last step's diagnostics.
    private var torsoX: Float = 0
    private var xVelocity: Float = 0
    private var lastCtrlCost: Float = 0
    private var lastHealthy = true
    private var lastReward: Float = 0
    /// Generalised state of the last observation (qpos then qvel, unclipped).
    private let qpos: UnsafeMutablePointer<Float>
    private let qvel: UnsafeMutablePointer<Float>

    public init(model: LocomotionModel) {
        self.model = model
        nj = model.hinges.count
        observationSpace = Box(dimension: model.observationDimension, low: -.infinity, high: .infinity)
        actionSpace = .unitCube(nj)
        jointHandles = .allocate(capacity: nj); jointBuf = .allocate(capacity: 2 * nj); ctrl = .allocate(capacity: nj)
        childBody = .allocate(capacity: nj); parentBody = .allocate(capacity: nj)
        gear = .allocate(capacity: nj); stiffness = .allocate(capacity: nj); damping = .allocate(capacity: nj)
        sign = .allocate(capacity: nj)
        qpos = .allocate(capacity: 3 + nj); qvel = .allocate(capacity: 3 + nj)
        qpos.initialize(repeating: 0, count: 3 + nj); qvel.initialize(repeating: 0, count: 3 + nj)
        ctrl.initialize(repeating: 0, count: nj)
        for (j, h) in model.hinges.enumerated() {
            gear[j] = h.gear; stiffness[j] = h.stiffness; damping[j] = h.damping; sign[j] = h.axisSign
        }
        // Springs (stiffness > 0) become soft Box2D weld joints (implicit, stable at large
        // sub-steps); pure dampers are applied explicitly at every sub-step.
        for (j, h) in model.hinges.enumerated() where h.stiffness > 0 { stiffness[j] = 0; damping[j] = 0 }
        passive = model.hinges.contains { $0.stiffness == 0 && $0.damping != 0 }
        substepDt = model.controlPeriod / Float(model.substeps)
        world = World()
        actionLog.reserveCapacity(1000 * nj)
        build(noiseSeed: 0)
    }

    deinit {
        jointHandles.deallocate(); jointBuf.deallocate(); ctrl.deallocate(); childBody.deallocate()
        parentBody.deallocate(); gear.deallocate(); stiffness.deallocate(); damping.deallocate(); sign.deallocate()
        qpos.deallocate(); qvel.deallocate()
    }

    // MARK: Physics construction

    /// Builds a fresh world in the rest pose, then moves it to the noisy start state.
    private func build(noiseSeed: UInt64) {
        let w = World(gravity: (0, -9.81))
        w.setAllowSleeping(false)
        // The ground is a 2 m thick box (not an edge), so continuous collision (costly TOI
        // sweeps against the static ground) can stay off without links tunnelling through.
        w.setContinuousPhysics(false)
        let ground = try! w.createBody(.staticBody, x: 0, y: 0)
        try! w.addBox(ground, halfWidth: 10_050, halfHeight: 1, center: (9_950, -1),
                      material: Material(density: 0, friction: Self.groundFriction, category: 0x0001, mask: 0xFFFF))
        var ids: [BodyID] = []
        for link in model.links {
            let b = try! w.createBody(.dynamic, x: link.origin.x, y: link.origin.y)
            var parts: [MassProperties] = []
            for g in link.geoms {
                let from = (g.from.x - link.origin.x, g.from.y - link.origin.y), to = (g.to.x - link.origin.x, g.to.y - link.origin.y)
                switch model.capsuleFixtures {
                case .boxAndCircles:
                    let l = ((g.to - g.from) * (g.to - g.from)).sum().squareRoot()
                    let area = 2 * g.radius * l + 2 * Float.pi * g.radius * g.radius
                    let mat = Material(density: g.mujocoMass / area, friction: link.friction * link.friction,
                                       category: 0x0002, mask: 0x0001, group: -1)
                    try! w.addCapsule(b, from: from, to: to, radius: g.radius, material: mat)
                case .rounded:
                    let mat = Material(density: 0, friction: link.friction * link.friction, category: 0x0002, mask: 0x0001, group: -1)
                    try! w.addRoundedCapsule(b, from: from, to: to, radius: g.radius, material: mat)
                    parts.append(.capsule(from: g.from - link.origin, to: g.to - link.origin, radius: g.radius, mass: g.mujocoMass))
                }
            }
            if !parts.isEmpty {
                let mp = MassProperties.combined(parts)
                try! w.setMassData(b, mass: mp.mass, localCenter: (mp.center.x, mp.center.y), inertia: mp.inertia)
            }
            ids.append(b)
        }
        for h in model.hinges where h.armature > 0 {
            let b = ids[h.child]
            try! w.setMassData(b, mass: w.mass(b), localCenter: w.localCenter(b), inertia: w.inertia(b) + h.armature)
        }
        for (j, h) in model.hinges.enumerated() {
            let lo = h.axisSign > 0 ? h.range.lowerBound : -h.range.upperBound
            let hi = h.axisSign > 0 ? h.range.upperBound : -h.range.lowerBound
            let jid = try! w.addRevoluteJoint(ids[h.parent], ids[h.child],
                                              RevoluteJointOptions(anchor: (h.anchor.x, h.anchor.y), limits: lo...hi))
            jointHandles[j] = jid.raw
            if h.stiffness > 0 {
                _ = try! w.addWeldJoint(ids[h.parent], ids[h.child], anchor: (h.anchor.x, h.anchor.y),
                                        stiffness: h.stiffness, damping: h.damping)
            }
            parentBody[j] = ids[h.parent]; childBody[j] = ids[h.child]
        }
        let c = w.worldCenter(ids[0])
        torsoCom = SIMD2(c.x - model.links[0].origin.x, c.y - model.links[0].origin.y)
        world = w
        bodies = ids
        applyStartState(noiseSeed: noiseSeed)
    }

    /// Sets qpos = rest + noise and qvel = noise through forward kinematics.
    private func applyStartState(noiseSeed: UInt64) {
        var g = SeededRNG(seed: noiseSeed)
        let n = 3 + nj
        var q = [Float](repeating: 0, count: n), v = [Float](repeating: 0, count: n)
        switch model.resetNoise {
        case .uniform(let a, let b):
            for i in 0..<n { q[i] = Float(g.uniform(-Double(a), Double(a))) }
            for i in 0..<n { v[i] = Float(g.uniform(-Double(b), Double(b))) }
        case .uniformGaussian(let a, let b):
            for i in 0..<n { q[i] = Float(g.uniform(-Double(a), Double(a))) }
            for i in 0..<n { v[i] = b * Float(g.gaussian()) }
        }
        // Link angles and angular velocities in Box2D's counter-clockwise convention.
        var angle = [Float](repeating: 0, count: model.links.count)
        var omega = [Float](repeating: 0, count: model.links.count)
        var origin = model.links.map(\.origin)
        var vel = [SIMD2<Float>](repeating: .zero, count: model.links.count)
        angle[0] = model.rootAxisSign * q[2]; omega[0] = model.rootAxisSign * v[2]
        origin[0] = model.links[0].origin + SIMD2(q[0], q[1])
        vel[0] = SIMD2(v[0], v[1])
        func rot(_ p: SIMD2<Float>, _ a: Float) -> SIMD2<Float> {
            SIMD2(cosf(a) * p.x - sinf(a) * p.y, sinf(a) * p.x + cosf(a) * p.y)
        }
        func cross(_ w: Float, _ r: SIMD2<Float>) -> SIMD2<Float> { SIMD2(-w * r.y, w * r.x) }
        for (j, h) in model.hinges.enumerated() {
            let p = h.parent, c = h.child
            angle[c] = angle[p] + h.axisSign * q[3 + j]
            omega[c] = omega[p] + h.axisSign * v[3 + j]
            let ra = rot(h.anchor - model.links[p].origin, angle[p])
            let anchor = origin[p] + ra
            let va = vel[p] + cross(omega[p], ra)
            let rc = rot(model.links[c].origin - h.anchor, angle[c])
            origin[c] = anchor + rc
            vel[c] = va + cross(omega[c], rc)
        }
        for (i, b) in bodies.enumerated() {
            world.setTransform(b, x: origin[i].x, y: origin[i].y, angle: angle[i])
            let com = world.worldCenter(b)
            let vc = vel[i] + cross(omega[i], SIMD2(com.x - origin[i].x, com.y - origin[i].y))
            world.setVelocity(b, vx: vc.x, vy: vc.y, omega: omega[i])
        }
    }

    // MARK: Environment

    public func reset(seed: UInt64?, observation: UnsafeMutablePointer<Float>) {
        if let seed { rng = SeededRNG(seed: seed) }
        episodeSeed = rng.next()
        generatorStateAfterReset = rng.state
        start(observation: observation)
    }

    private func start(observation: UnsafeMutablePointer<Float>) {
        actionLog.removeAll(keepingCapacity: true)
        build(noiseSeed: episodeSeed)
        for j in 0..<nj { ctrl[j] = 0 }
        readState()
        writeObservation(observation)
        xVelocity = 0; lastCtrlCost = 0; lastReward = 0
        lastHealthy = isHealthy()
        hasReset = true
    }

    public func step(action: UnsafePointer<Float>, observation: UnsafeMutablePointer<Float>) throws(EnvError) -> StepOutcome {
        guard hasReset else { throw .notReset }
        var cost: Float = 0
        for j in 0..<nj where action[j].isNaN { throw .nanAction(index: j) }
        for j in 0..<nj {
            let a = min(max(action[j], -1), 1)
            ctrl[j] = a; cost += a * a
            actionLog.append(a)
        }
        let xBefore = torsoX
        simulate()
        readState()
        writeObservation(observation)
        xVelocity = (torsoX - xBefore) / model.controlPeriod
        lastCtrlCost = model.ctrlCostWeight * cost
        lastHealthy = isHealthy()
        let healthy: Float = model.health == .always ? 0 : model.healthyReward
        lastReward = model.forwardRewardWeight * xVelocity + healthy - lastCtrlCost
        return StepOutcome(reward: lastReward, terminated: !lastHealthy, truncated: false)
    }

    /// Runs the Box2D sub-steps of one control period with the current `ctrl`.
    @inline(__always)
    private func simulate() {
        let w = world
        for _ in 0..<model.substeps {
            if passive { w.jointValues(jointHandles, count: nj, into: jointBuf) }
            for j in 0..<nj {
                var f = gear[j] * ctrl[j]
                if passive {
                    let q = sign[j] * jointBuf[2 * j], qd = sign[j] * jointBuf[2 * j + 1]
                    f -= stiffness[j] * q + damping[j] * qd
                }
                let t = sign[j] * f
                w.applyTorque(childBody[j], t)
                w.applyTorque(parentBody[j], -t)
            }
            w.step(substepDt, velocityIterations: model.velocityIterations, positionIterations: model.positionIterations)
        }
    }

    /// Reads qpos/qvel from the world (root at link 0's frame).
    private func readState() {
        let s = world.state(bodies[0])
        let c = cosf(s.angle), sn = sinf(s.angle)
        let r = SIMD2(c * torsoCom.x - sn * torsoCom.y, sn * torsoCom.x + c * torsoCom.y)
        torsoX = s.x
        qpos[0] = s.x; qpos[1] = s.y - model.zOffset; qpos[2] = model.rootAxisSign * s.angle
        qvel[0] = s.vx + s.omega * r.y; qvel[1] = s.vy - s.omega * r.x; qvel[2] = model.rootAxisSign * s.omega
        world.jointValues(jointHandles, count: nj, into: jointBuf)
        for j in 0..<nj {
            qpos[3 + j] = sign[j] * jointBuf[2 * j]
            qvel[3 + j] = sign[j] * jointBuf[2 * j + 1]
        }
    }

    private func writeObservation(_ o: UnsafeMutablePointer<Float>) {
        let np = 2 + nj, nv = 3 + nj
        for i in 0..<np { o[i] = qpos[1 + i] }
        if let clip = model.velocityClip {
            for i in 0..<nv { o[np + i] = min(max(qvel[i], -clip), clip) }
        } else {
            for i in 0..<nv { o[np + i] = qvel[i] }
        }
    }

    private func isHealthy() -> Bool {
        let z = qpos[1], angle = qpos[2]
        switch model.health {
        case .always:
            return true
        case .hopper(let minZ, let range, let bound):
            guard z > minZ, angle > range.lowerBound, angle < range.upperBound else { return false }
            for i in 2..<(3 + nj) where !(abs(qpos[i]) < bound) { return false }
            for i in 0..<(3 + nj) where !(abs(qvel[i]) < bound) { return false }
            return true
        case .walker(let zr, let range):
            return z > zr.lowerBound && z < zr.upperBound && angle > range.lowerBound && angle < range.upperBound
        }
    }

    public func info() -> EnvInfo {
        EnvInfo([
            ("x_position", Double(torsoX)), ("x_velocity", Double(xVelocity)),
            ("z", Double(qpos[1])), ("angle", Double(qpos[2])),
            ("reward_forward", Double(model.forwardRewardWeight * xVelocity)),
            ("reward_ctrl", Double(-lastCtrlCost)),
            ("reward_survive", Double(model.health == .always ? 0 : model.healthyReward)),
            ("is_healthy", lastHealthy ? 1 : 0),
        ])
    }

    public func snapshot() -> EnvSnapshot {
        EnvSnapshot(id: id, episodeSeed: episodeSeed, generatorState: generatorStateAfterReset,
                    actions: actionLog, actionDimension: nj)
    }

    public func restore(_ snapshot: EnvSnapshot) throws(EnvError) {
        try snapshot.check(id: id, actionDimension: nj)
        episodeSeed = snapshot.episodeSeed
        rng.state = snapshot.generatorState
        generatorStateAfterReset = snapshot.generatorState
        let obs = UnsafeMutablePointer<Float>.allocate(capacity: model.observationDimension)
        defer { obs.deallocate() }
        start(observation: obs)
        snapshot.replay(observationDimension: model.observationDimension) { a, o throws(EnvError) in try step(action: a, observation: o) }
    }

    // MARK: Read-outs for policies, renderers and tests

    /// Current generalised positions (rootx, rootz as qpos[1] convention, rooty, hinges).
    public var generalizedPositions: [Float] { Array(UnsafeBufferPointer(start: qpos, count: 3 + nj)) }
    /// Current generalised velocities (unclipped).
    public var generalizedVelocities: [Float] { Array(UnsafeBufferPointer(start: qvel, count: 3 + nj)) }
    /// Hinge angles in MuJoCo's sign convention, read straight from the Box2D joints.
    public func physicsJointAngles() -> [Float] {
        (0..<nj).map { sign[$0] * world.jointValue(JointID(raw: jointHandles[$0])) }
    }
    /// World poses of the links (x, y, counter-clockwise angle), for rendering.
    public func linkPoses() -> [(x: Float, y: Float, angle: Float)] {
        bodies.map { let s = world.state($0); return (s.x, s.y, s.angle) }
    }
    /// Torso-frame x position (qpos[0]).
    public var xPosition: Float { torsoX }
    /// Total mass of the robot (kg).
    public var totalMass: Float { bodies.reduce(0) { $0 + world.mass($1) } }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Randomness
