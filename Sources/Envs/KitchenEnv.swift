import Physics

extension EnvID {
    public static let kitchen: EnvID = "kitchen"
}

/// `kitchen-v1`: a top-down planar 3-link arm on a kitchen counter that must bring four
/// target objects to their goal states (D4RL FrankaKitchen's task structure).
///
/// Box2D world without gravity (seen from above, +y away from the robot, base at the
/// origin). The arm's links pass above the counter; only the fingertip (a 2.5 cm disc at
/// the tip of link 3) touches the objects. The seven objects (``KitchenObject``,
/// geometry in ``KitchenModel``) are: microwave and hinge cabinet (hinged doors pushed open),
/// bottom and top burner (knobs turned by pushing their lever), light switch (a lever with
/// a stop), slide cabinet (a panel on a rail, pushed by its handle) and the kettle (a round
/// block pushed across the counter into a target zone). Joints have dry friction, so
/// objects stay where the finger leaves them.
///
/// ## Action space
/// `Box(-1, 1, (3,))`: joint velocity commands for base, elbow and wrist, × 1.5 rad/s
/// (revolute motors with torque limits 8, 5, 2.5 N·m; joint ranges in
/// ``KitchenModel/jointLimits``). Values outside [-1, 1] are clipped; NaN throws.
///
/// ## Observation space
/// `Box(-inf, inf, (24,))`, float32:
/// - 0–2: joint angles q₁ (base, absolute from +x), q₂ (elbow), q₃ (wrist) (rad)
/// - 3–5: joint velocities (rad/s)
/// - 6, 7: fingertip x, y (m)
/// - 8–15: object state: bottom burner, top burner, light switch angles (rad), slide
///   cabinet opening (m), hinge cabinet and microwave door angles (rad), kettle x, y (m)
/// - 16–23: goal object state, same layout: the goal of each target object, the rest
///   state of the others (D4RL puts goals of the task's elements only)
///
/// ## Rewards
/// As D4RL kitchen evaluation: an object counts as at its goal when the L2 distance of its
/// state to the goal is below its threshold (0.2 rad for hinges, 5 cm for the slide
/// cabinet, 6 cm for the kettle). The reward of a step is the number of not-yet-completed
/// target subtasks that are at their goal after it (any order); completed subtasks are
/// removed, so the return is an integer 0…4. Datasets may store the Markovian count
/// instead (``KitchenModel/targetsAtGoal(observation:targets:)``), as D4RL's files do.
///
/// Goals: microwave −0.75 rad, kettle at radius 0.80 m of its sector, light switch
/// +0.7 rad, slide cabinet 0.24 m; bottom/top burner −0.8 rad; hinge cabinet 0.9 rad.
///
/// ## Starting state
/// Arm at the home pose (fingertip 0.40 m straight ahead) plus uniform noise in ±0.03 rad
/// per joint; objects at rest, the kettle ± 1 cm per axis; drawn from the episode seed.
///
/// ## Episode end
/// Terminates when every target subtask has been completed. Truncated by the spec after
/// 280 steps of 0.08 s.
///
/// ## Info
/// `subtasks_completed` (targets completed so far), `targets_at_goal` (Markovian count),
/// and for each target its key (`microwave`, `kettle`, …) = 1 once completed.
///
/// ## Physics
/// Box2D 2.4.1, 4 sub-steps of 20 ms per step (10 velocity, 8 position iterations);
/// bodies at rest sleep (objects far from the finger cost nothing). Joint limits yield by
/// Box2D's angular slop (2°) and a little more under hard impacts.
///
/// ## Version history
/// - v1: first release.
public final class KitchenEnv: Environment {
    public static let observationDimension = 24
    public static let actionDimension = 3
    /// Offset of the 8-value object state in the observation (goal follows at +8).
    public static let objectStateOffset = 8

    public let id: EnvID
    /// Target subtasks of the task (default ``KitchenTargets/complete``).
    public let targets: [KitchenObject]
    public let observationSpace = Box(dimension: 24, low: -.infinity, high: .infinity)
    public let actionSpace = Box.unitCube(3)

    private var world = World(gravity: (0, 0))
    private var links: [BodyID] = []
    private var objectBodies: [BodyID] = []   // indexed by KitchenObject.rawValue
    /// Joint handles: 3 arm joints then the 6 articulated objects (raw values 0…5).
    private let jointHandles: UnsafeMutablePointer<Int32>
    private let jointBuf: UnsafeMutablePointer<Float>
    private let objectState: UnsafeMutablePointer<Float>
    private let goalState: UnsafeMutablePointer<Float>
    private var fingertip = SIMD2<Float>(0, 0)
    private let substepDt = KitchenModel.controlPeriod / Float(KitchenModel.substeps)
    private let targetMask: [Bool]
    private var completed: [Bool]
    private var completedCount = 0

    private var rng = SeededRNG(seed: 0)
    private var episodeSeed: UInt64 = 0
    private var generatorStateAfterReset: UInt64 = 0
    private var actionLog: [Float] = []
    private var hasReset = false

    public init(id: EnvID = .kitchen, targets: [KitchenObject] = KitchenTargets.complete) {
        precondition(!targets.isEmpty && Set(targets).count == targets.count, "kitchen targets must be distinct and non-empty")
        self.id = id; self.targets = targets
        jointHandles = .allocate(capacity: 9); jointBuf = .allocate(capacity: 18)
        objectState = .allocate(capacity: 8); goalState = .allocate(capacity: 8)
        jointBuf.initialize(repeating: 0, count: 18)
        objectState.initialize(repeating: 0, count: 8)
        goalState.initialize(repeating: 0, count: 8)
        targetMask = KitchenObject.allCases.map { targets.contains($0) }
        completed = .init(repeating: false, count: KitchenObject.allCases.count)
        for o in KitchenObject.allCases {
            let g = targets.contains(o) ? KitchenModel.goal(o) : KitchenModel.rest(o)
            for (k, i) in o.stateRange.enumerated() { goalState[i] = g[k] }
        }
        actionLog.reserveCapacity(300 * 3)
        build(noiseSeed: 0)
    }

    deinit {
        jointHandles.deallocate(); jointBuf.deallocate(); objectState.deallocate(); goalState.deallocate()
    }

    // MARK: Physics construction

    static let fingerCategory: UInt16 = 0x0002
    static let objectCategory: UInt16 = 0x0004
    static let linkCategory: UInt16 = 0x0008

    /// Builds a fresh world: arm at the noisy home pose, objects at rest (kettle noisy).
    private func build(noiseSeed: UInt64) {
        var g = SeededRNG(seed: noiseSeed)
        let w = World(gravity: (0, 0))
        w.setAllowSleeping(true)
        w.setContinuousPhysics(false)
        let ground = try! w.createBody(.staticBody, x: 0, y: 0)
        let l = KitchenModel.linkLengths
        let lengths = [l.x, l.y, l.z]
        // Links are built straight along +x (all joint angles 0), then posed.
        let linkMat = Material(density: 30, friction: 0.5, category: Self.linkCategory, mask: 0, group: -1)
        var ls: [BodyID] = []
        var x0: Float = 0
        for (i, len) in lengths.enumerated() {
            let b = try! w.createBody(.dynamic, x: x0, y: 0)
            try! w.addBox(b, halfWidth: len / 2, halfHeight: 0.03, center: (len / 2, 0), material: linkMat)
            if i == 2 {
                try! w.addCircle(b, radius: KitchenModel.fingerRadius, center: (len, 0),
                                 material: Material(density: 30, friction: 0.5, category: Self.fingerCategory,
                                                    mask: Self.objectCategory, group: -1))
            }
            w.setSleepingAllowed(b, false)
            ls.append(b)
            x0 += len
        }
        x0 = 0
        for i in 0..<3 {
            let parent = i == 0 ? ground : ls[i - 1]
            let j = try! w.addRevoluteJoint(parent, ls[i], RevoluteJointOptions(
                anchor: (x0, 0), limits: KitchenModel.jointLimits[i], motor: (0, KitchenModel.motorTorques[i])))
            jointHandles[i] = j.raw
            x0 += lengths[i]
        }
        // Objects.
        let objMat = { (m: Float, area: Float) in
            Material(density: m / area, friction: 0.5, category: Self.objectCategory, mask: Self.fingerCategory | Self.objectCategory)
        }
        var bodies = [BodyID](repeating: BodyID(raw: -1), count: KitchenObject.allCases.count)
        for o in KitchenObject.allCases {
            if let h = KitchenModel.hinge(o) {
                let b = try! w.createBody(.dynamic, x: h.pivot.x, y: h.pivot.y, angle: h.restDirection)
                try! w.addBox(b, halfWidth: h.length / 2, halfHeight: h.halfThickness, center: (h.length / 2, 0),
                              material: objMat(h.mass, h.length * 2 * h.halfThickness))
                let j = try! w.addRevoluteJoint(ground, b, RevoluteJointOptions(
                    anchor: (h.pivot.x, h.pivot.y), limits: h.limits, motor: (0, h.frictionTorque)))
                jointHandles[3 + o.rawValue] = j.raw
                bodies[o.rawValue] = b
            } else if o == .slideCabinet {
                let s = KitchenModel.slider
                let b = try! w.createBody(.dynamic, x: s.restCenter.x, y: s.restCenter.y, angle: atan2f(s.axis.y, s.axis.x))
                let m = objMat(s.mass, 4 * s.halfLength * s.halfThickness)
                try! w.addBox(b, halfWidth: s.halfLength, halfHeight: s.halfThickness, material: m)
                // Panel frame: x along the axis, y = axis turned +90°, which points at the robot here.
                try! w.addBox(b, halfWidth: s.handleHalfExtents.x, halfHeight: s.handleHalfExtents.y,
                              center: (s.handleCenter.x, handleLocalY(s)), material: m)
                let j = try! w.addPrismaticJoint(ground, b, PrismaticJointOptions(
                    anchor: (s.restCenter.x, s.restCenter.y), axis: (s.axis.x, s.axis.y), limits: s.limits,
                    motor: (0, s.frictionForce)))
                jointHandles[3 + o.rawValue] = j.raw
                bodies[o.rawValue] = b
            } else {
                let k = KitchenModel.kettle
                let p = k.start + SIMD2(Float(g.uniform(-0.01, 0.01)), Float(g.uniform(-0.01, 0.01)))
                let b = try! w.createBody(.dynamic, x: p.x, y: p.y)
                try! w.addCircle(b, radius: k.radius, material: objMat(k.mass, .pi * k.radius * k.radius))
                _ = try! w.addFrictionJoint(b, ground: ground, anchor: (p.x, p.y), maxForce: k.frictionForce, maxTorque: k.frictionTorque)
                bodies[o.rawValue] = b
            }
        }
        world = w
        links = ls
        objectBodies = bodies
        // Arm start pose: home plus noise, set through forward kinematics of the link frames.
        var q = KitchenModel.inverseKinematics(KitchenModel.homeFinger)
        for i in 0..<3 { q[i] += Float(g.uniform(-0.03, 0.03)) }
        setArm(q)
    }

    /// Which local y of the panel points at the robot (the handle side).
    private func handleLocalY(_ s: KitchenSlider) -> Float {
        let a = atan2f(s.axis.y, s.axis.x)
        let localY = SIMD2(-sinf(a), cosf(a))
        return (localY * s.restCenter).sum() < 0 ? s.handleCenter.y : -s.handleCenter.y
    }

    /// Poses the arm links at joint angles `q` with zero velocity.
    private func setArm(_ q: SIMD3<Float>) {
        let l = KitchenModel.linkLengths
        let a1 = q.x, a2 = q.x + q.y, a3 = a2 + q.z
        let p2 = SIMD2(l.x * cosf(a1), l.x * sinf(a1))
        let p3 = p2 + SIMD2(l.y * cosf(a2), l.y * sinf(a2))
        world.setTransform(links[0], x: 0, y: 0, angle: a1)
        world.setTransform(links[1], x: p2.x, y: p2.y, angle: a2)
        world.setTransform(links[2], x: p3.x, y: p3.y, angle: a3)
        for b in links { world.setVelocity(b, vx: 0, vy: 0, omega: 0) }
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
        for i in 0..<completed.count { completed[i] = false }
        completedCount = 0
        readState()
        writeObservation(observation)
        hasReset = true
    }

    public func step(action: UnsafePointer<Float>, observation: UnsafeMutablePointer<Float>) throws(EnvError) -> StepOutcome {
        guard hasReset else { throw .notReset }
        for i in 0..<3 where action[i].isNaN { throw .nanAction(index: i) }
        let w = world
        for i in 0..<3 {
            let a = min(max(action[i], -1), 1)
            actionLog.append(a)
            w.setMotorSpeed(JointID(raw: jointHandles[i]), a * KitchenModel.maxJointSpeed)
        }
        for _ in 0..<KitchenModel.substeps { w.step(substepDt, velocityIterations: 10, positionIterations: 8) }
        readState()
        writeObservation(observation)
        var reward: Float = 0
        for o in targets where !completed[o.rawValue] && KitchenModel.isAtGoal(o, objectState: objectState) {
            completed[o.rawValue] = true
            completedCount += 1
            reward += 1
        }
        return StepOutcome(reward: reward, terminated: completedCount == targets.count, truncated: false)
    }

    /// Reads joints, fingertip and kettle from the world.
    private func readState() {
        world.jointValues(jointHandles, count: 9, into: jointBuf)
        for i in 0..<6 { objectState[i] = jointBuf[2 * (3 + i)] }
        let k = world.state(objectBodies[KitchenObject.kettle.rawValue])
        objectState[6] = k.x; objectState[7] = k.y
        let t = world.state(links[2])
        let l3 = KitchenModel.linkLengths.z
        fingertip = SIMD2(t.x + l3 * cosf(t.angle), t.y + l3 * sinf(t.angle))
    }

    private func writeObservation(_ o: UnsafeMutablePointer<Float>) {
        for i in 0..<3 { o[i] = jointBuf[2 * i]; o[3 + i] = jointBuf[2 * i + 1] }
        o[6] = fingertip.x; o[7] = fingertip.y
        for i in 0..<8 { o[8 + i] = objectState[i]; o[16 + i] = goalState[i] }
    }

    /// Number of target subtasks completed so far this episode.
    public var subtasksCompleted: Int { completedCount }

    /// Markovian count: targets whose object is at its goal right now.
    public func targetsAtGoal() -> Int {
        var n = 0
        for o in targets where KitchenModel.isAtGoal(o, objectState: objectState) { n += 1 }
        return n
    }

    /// Whether target `o` has been completed this episode (false for non-targets).
    public func isCompleted(_ o: KitchenObject) -> Bool { completed[o.rawValue] }

    public func info() -> EnvInfo {
        var e: [(key: String, value: Double)] = [("subtasks_completed", Double(completedCount)),
                                                 ("targets_at_goal", Double(targetsAtGoal()))]
        for o in targets { e.append((o.key, completed[o.rawValue] ? 1 : 0)) }
        return EnvInfo(e)
    }

    public func snapshot() -> EnvSnapshot {
        EnvSnapshot(id: id, episodeSeed: episodeSeed, generatorState: generatorStateAfterReset,
                    actions: actionLog, actionDimension: 3)
    }

    public func restore(_ snapshot: EnvSnapshot) throws(EnvError) {
        try snapshot.check(id: id, actionDimension: 3)
        episodeSeed = snapshot.episodeSeed
        rng.state = snapshot.generatorState
        generatorStateAfterReset = snapshot.generatorState
        let obs = UnsafeMutablePointer<Float>.allocate(capacity: Self.observationDimension)
        defer { obs.deallocate() }
        start(observation: obs)
        snapshot.replay(observationDimension: Self.observationDimension) { a, o throws(EnvError) in try step(action: a, observation: o) }
    }

    // MARK: Read-outs and direct manipulation (tests, tools, rendering)

    /// Current object state (8 values, observation layout).
    public var objectStateVector: [Float] { Array(UnsafeBufferPointer(start: objectState, count: 8)) }
    /// Current fingertip position (m).
    public var fingertipPosition: SIMD2<Float> { fingertip }
    /// Current arm joint angles, read from the Box2D joints.
    public var jointAngles: SIMD3<Float> {
        SIMD3(world.jointValue(JointID(raw: jointHandles[0])), world.jointValue(JointID(raw: jointHandles[1])),
              world.jointValue(JointID(raw: jointHandles[2])))
    }
    /// World poses (x, y, angle) of the three links, base first (link frames at their joints).
    public func linkPoses() -> [(x: Float, y: Float, angle: Float)] {
        links.map { let s = world.state($0); return (s.x, s.y, s.angle) }
    }

    /// Puts an object into `state` (1 value; kettle x, y) at rest, bypassing the physics,
    /// and refreshes the read-outs (not the reward: the next step scores it). For tests and
    /// demonstrations: snapshots do not record it, so a restore will not reproduce it.
    public func setObjectState(_ o: KitchenObject, _ state: [Float]) {
        precondition(state.count == o.stateRange.count, "\(o) has \(o.stateRange.count) state values")
        let b = objectBodies[o.rawValue]
        if let h = KitchenModel.hinge(o) {
            world.setTransform(b, x: h.pivot.x, y: h.pivot.y, angle: h.restDirection + state[0])
        } else if o == .slideCabinet {
            let s = KitchenModel.slider
            let c = s.restCenter + state[0] * s.axis
            world.setTransform(b, x: c.x, y: c.y, angle: atan2f(s.axis.y, s.axis.x))
        } else {
            world.setTransform(b, x: state[0], y: state[1], angle: 0)
        }
        world.setVelocity(b, vx: 0, vy: 0, omega: 0)
        world.setAwake(b, true)
        readState()
    }
}

/// The registered kitchen spec.
public enum Kitchen {
    /// The kitchen-partial v2 behaviour's routines, one drawn per episode. D4RL's kitchen
    /// demonstrations are a few task sequences repeated by the demonstrators (D4RL, arXiv
    /// 2004.07219; the demonstrations of arXiv 1910.11956), and only some of kitchen-partial's
    /// perform the four targets. Here one routine in four is the targets in order; the others
    /// share its first steps and branch off at states the observation shows (which objects are
    /// done), so a learner that weighs the branches by their returns can follow the targets
    /// where an imitator mixes them. v1 drew a random order per episode, a choice the
    /// observation never shows: BC's v1 cells averaged 8.7 (partial) and 23.3 (mixed) against
    /// data scores of 73.5 and 74.7, where BC on the complete routine alone scores 100.
    public static let partialRoutines: [[KitchenObject]] = [
        KitchenTargets.complete,
        [.microwave, .kettle, .bottomBurner, .topBurner],
        [.microwave, .hingeCabinet, .lightSwitch, .slideCabinet],
        [.kettle, .bottomBurner, .lightSwitch, .hingeCabinet],
    ]
    /// The kitchen-mixed v2 behaviour's routines: each performs three of the four mixed targets
    /// (microwave, kettle, bottom burner, light switch) and never all four, as D4RL's
    /// kitchen-mixed. After microwave, kettle and bottom burner the first routine turns to the
    /// hinge cabinet; the light switch follows the bottom burner in the last two, where the
    /// microwave or the kettle is not done: completing all four takes stitching across them.
    public static let mixedRoutines: [[KitchenObject]] = [
        [.microwave, .kettle, .bottomBurner, .hingeCabinet],
        [.microwave, .kettle, .topBurner, .lightSwitch],
        [.kettle, .bottomBurner, .lightSwitch, .slideCabinet],
        [.microwave, .bottomBurner, .lightSwitch, .slideCabinet],
    ]

    /// The registered task: targets ``KitchenTargets/complete``.
    public static let spec = EnvSpec(
        id: .kitchen, version: 1, domain: .manipulation, observationDimension: KitchenEnv.observationDimension,
        actionDimension: KitchenEnv.actionDimension, maxEpisodeSteps: 280, controlPeriod: Double(KitchenModel.controlPeriod),
        summary: "top-down 3-link arm, 7 kitchen objects; reward = target subtasks completed (microwave, kettle, light switch, slide cabinet)",
        makeBare: { KitchenEnv() })

    /// D4RL `kitchen-mixed`'s evaluation task (targets ``KitchenTargets/mixed``), id
    /// `kitchen-mixed` (registered, for evaluating on `kitchen-mixed-v1` and `-v2` data).
    public static let mixedSpec = EnvSpec(
        id: "kitchen-mixed", version: 1, domain: .manipulation, observationDimension: KitchenEnv.observationDimension,
        actionDimension: KitchenEnv.actionDimension, maxEpisodeSteps: 280, controlPeriod: Double(KitchenModel.controlPeriod),
        summary: "kitchen with the mixed targets (microwave, kettle, bottom burner, light switch)",
        makeBare: { KitchenEnv(id: "kitchen-mixed", targets: KitchenTargets.mixed) })
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Randomness
