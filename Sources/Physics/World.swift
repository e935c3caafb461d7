import CBox2D

/// A handle to a body inside a ``World``.
public struct BodyID: Hashable, Sendable {
    public let raw: Int32
    public init(raw: Int32) { self.raw = raw }
}

/// A handle to a joint inside a ``World``.
public struct JointID: Hashable, Sendable {
    public let raw: Int32
    public init(raw: Int32) { self.raw = raw }
}

/// A handle to a fixture inside a ``World``.
public struct FixtureID: Hashable, Sendable {
    public let raw: Int32
    public init(raw: Int32) { self.raw = raw }
}

/// Errors raised when Box2D rejects a construction call.
public enum PhysicsError: Error, CustomStringConvertible, Equatable {
    case rejected(String)
    public var description: String {
        switch self {
        case .rejected(let what): return "Box2D rejected \(what)"
        }
    }
}

public enum BodyType: Int32, Sendable {
    case staticBody = 0, kinematic = 1, dynamic = 2
}

/// Material and collision filter of a fixture.
public struct Material: Sendable, Equatable {
    public var density: Float
    public var friction: Float
    public var restitution: Float
    /// Collision category bits of this fixture.
    public var category: UInt16
    /// Categories this fixture collides with.
    public var mask: UInt16
    /// Fixtures sharing the same negative group never collide (a robot's own links).
    public var group: Int16
    public var isSensor: Bool

    public init(density: Float = 1, friction: Float = 0.2, restitution: Float = 0,
                category: UInt16 = 0x0001, mask: UInt16 = 0xFFFF, group: Int16 = 0, isSensor: Bool = false) {
        self.density = density; self.friction = friction; self.restitution = restitution
        self.category = category; self.mask = mask; self.group = group; self.isSensor = isSensor
    }

    var c: CB2FixtureDef {
        CB2FixtureDef(density: density, friction: friction, restitution: restitution,
                      categoryBits: category, maskBits: mask, groupIndex: group, isSensor: isSensor ? 1 : 0)
    }
}

/// Position, angle and velocities of a body (world frame, SI units).
public struct BodyState: Sendable, Equatable {
    public var x: Float, y: Float, angle: Float, vx: Float, vy: Float, omega: Float
    public init(x: Float, y: Float, angle: Float, vx: Float, vy: Float, omega: Float) {
        self.x = x; self.y = y; self.angle = angle; self.vx = vx; self.vy = vy; self.omega = omega
    }
    init(_ s: CB2BodyState) { self.init(x: s.x, y: s.y, angle: s.angle, vx: s.vx, vy: s.vy, omega: s.omega) }
}

/// Revolute joint options; the anchor is in world coordinates.
public struct RevoluteJointOptions: Sendable {
    public var anchor: (x: Float, y: Float)
    public var limits: ClosedRange<Float>?
    /// Motor speed (rad/s) and maximum torque (N·m); nil disables the motor.
    public var motor: (speed: Float, maxTorque: Float)?
    public var collideConnected: Bool
    public init(anchor: (x: Float, y: Float), limits: ClosedRange<Float>? = nil,
                motor: (speed: Float, maxTorque: Float)? = nil, collideConnected: Bool = false) {
        self.anchor = anchor; self.limits = limits; self.motor = motor; self.collideConnected = collideConnected
    }
}

/// Prismatic joint options; anchor and axis are in world coordinates.
public struct PrismaticJointOptions: Sendable {
    public var anchor: (x: Float, y: Float)
    public var axis: (x: Float, y: Float)
    public var limits: ClosedRange<Float>?
    /// Motor speed (m/s) and maximum force (N); nil disables the motor.
    public var motor: (speed: Float, maxForce: Float)?
    public var collideConnected: Bool
    public init(anchor: (x: Float, y: Float), axis: (x: Float, y: Float), limits: ClosedRange<Float>? = nil,
                motor: (speed: Float, maxForce: Float)? = nil, collideConnected: Bool = false) {
        self.anchor = anchor; self.axis = axis; self.limits = limits; self.motor = motor
        self.collideConnected = collideConnected
    }
}

/// The closest ray-cast hit.
public struct RayHit: Sendable, Equatable {
    public var body: BodyID
    /// Fraction along the ray from its start (0) to its end (1).
    public var fraction: Float
    public var point: (x: Float, y: Float)
    public var normal: (x: Float, y: Float)
    public static func == (a: RayHit, b: RayHit) -> Bool {
        a.body == b.body && a.fraction == b.fraction && a.point == b.point && a.normal == b.normal
    }
}

/// A Box2D world. Owns its bodies, fixtures and joints and frees them all in `deinit`.
///
/// A world is not thread-safe: use one per thread (call ``World/warmUp()`` once before
/// creating worlds on several threads).
public final class World {
    @usableFromInline let handle: OpaquePointer

    /// Box2D's version as built against (the runtime constant reports 2.4.0 in 2.4.1 builds).
    public static var box2DVersion: String { String(cString: cb2_version()) }

    /// Fills Box2D's lazily built global contact table; call once before multi-threaded use.
    public static func warmUp() { cb2_global_warmup() }

    /// Bodies, fixtures and joints alive in all worlds (for leak checks).
    public static var liveObjects: Int { Int(cb2_live_objects()) }
    /// Bodies, fixtures and joints created minus destroyed on the calling thread.
    public static var threadLiveObjects: Int { Int(cb2_thread_live_objects()) }

    public init(gravity: (x: Float, y: Float) = (0, -9.81)) {
        World.warmUp()
        guard let h = cb2_world_create(gravity.x, gravity.y) else { fatalError("Box2D could not allocate a world") }
        handle = h
    }

    deinit { cb2_world_destroy(handle) }

    /// Advances the simulation by `dt` seconds.
    @inlinable
    public func step(_ dt: Float, velocityIterations: Int32 = 8, positionIterations: Int32 = 3) {
        cb2_world_step(handle, dt, velocityIterations, positionIterations)
    }

    /// What Box2D's step profiler measured for the last step (b2Profile.step, ms).
    public var lastStepProfileMilliseconds: Float { cb2_world_profile_step_ms(handle) }

    /// Whether libbox2d calls the shim's no-op profiler timers in this process (the executable,
    /// a test binary or a shared library loaded by Python): 20 steps of a small falling stack
    /// then all report 0 ms, where the real timers read the wall clock.
    public static func profilerTimersDisabled() -> Bool {
        let w = World(gravity: (0, -10))
        guard let ground = try? w.createBody(.staticBody, x: 0, y: 0) else { return false }
        _ = try? w.addBox(ground, halfWidth: 10, halfHeight: 0.5)
        for k in 0..<8 {
            guard let b = try? w.createBody(.dynamic, x: 0, y: 1 + Float(k)) else { return false }
            _ = try? w.addBox(b, halfWidth: 0.4, halfHeight: 0.4)
        }
        for _ in 0..<20 {
            w.step(1 / 60)
            if w.lastStepProfileMilliseconds != 0 { return false }
        }
        return true
    }

    public func setGravity(_ x: Float, _ y: Float) { cb2_world_set_gravity(handle, x, y) }
    public func setAllowSleeping(_ allow: Bool) { cb2_world_set_allow_sleeping(handle, allow ? 1 : 0) }
    public func setWarmStarting(_ on: Bool) { cb2_world_set_warm_starting(handle, on ? 1 : 0) }
    public func setContinuousPhysics(_ on: Bool) { cb2_world_set_continuous(handle, on ? 1 : 0) }
    public var bodyCount: Int { Int(cb2_world_body_count(handle)) }
    public var jointCount: Int { Int(cb2_world_joint_count(handle)) }
    public var contactCount: Int { Int(cb2_world_contact_count(handle)) }

    // MARK: Bodies

    public func createBody(_ type: BodyType, x: Float, y: Float, angle: Float = 0) throws -> BodyID {
        let h = cb2_body_create(handle, type.rawValue, x, y, angle)
        guard h >= 0 else { throw PhysicsError.rejected("body at (\(x), \(y), \(angle))") }
        return BodyID(raw: h)
    }

    public func destroy(_ body: BodyID) throws {
        guard cb2_body_destroy(handle, body.raw) == 0 else { throw PhysicsError.rejected("destroying body \(body.raw)") }
    }

    @inlinable
    public func state(_ body: BodyID) -> BodyState {
        var s = CB2BodyState()
        _ = cb2_body_get_state(handle, body.raw, &s)
        return BodyState(x: s.x, y: s.y, angle: s.angle, vx: s.vx, vy: s.vy, omega: s.omega)
    }

    /// Reads the states of several bodies at once into `out` (`bodies.count` entries).
    public func states(_ bodies: [Int32], into out: UnsafeMutablePointer<CB2BodyState>) {
        bodies.withUnsafeBufferPointer { _ = cb2_bodies_get_states(handle, $0.baseAddress, Int32($0.count), out) }
    }

    public func setTransform(_ b: BodyID, x: Float, y: Float, angle: Float) {
        _ = cb2_body_set_transform(handle, b.raw, x, y, angle)
    }
    public func setVelocity(_ b: BodyID, vx: Float, vy: Float, omega: Float) {
        _ = cb2_body_set_velocity(handle, b.raw, vx, vy, omega)
    }
    public func setDamping(_ b: BodyID, linear: Float, angular: Float) {
        _ = cb2_body_set_damping(handle, b.raw, linear, angular)
    }
    public func setFixedRotation(_ b: BodyID, _ fixed: Bool) { _ = cb2_body_set_fixed_rotation(handle, b.raw, fixed ? 1 : 0) }
    public func setBullet(_ b: BodyID, _ on: Bool) { _ = cb2_body_set_bullet(handle, b.raw, on ? 1 : 0) }
    public func setAwake(_ b: BodyID, _ on: Bool) { _ = cb2_body_set_awake(handle, b.raw, on ? 1 : 0) }
    public func setSleepingAllowed(_ b: BodyID, _ on: Bool) { _ = cb2_body_set_sleeping_allowed(handle, b.raw, on ? 1 : 0) }
    public func setGravityScale(_ b: BodyID, _ s: Float) { _ = cb2_body_set_gravity_scale(handle, b.raw, s) }
    public func mass(_ b: BodyID) -> Float { cb2_body_mass(handle, b.raw) }
    /// Rotational inertia about the centre of mass.
    public func inertia(_ b: BodyID) -> Float { cb2_body_inertia(handle, b.raw) }
    /// Overrides a body's mass, local centre of mass and rotational inertia about that centre.
    public func setMassData(_ b: BodyID, mass: Float, localCenter: (x: Float, y: Float), inertia: Float) throws {
        guard cb2_body_set_mass_data(handle, b.raw, mass, localCenter.x, localCenter.y, inertia) == 0 else {
            throw PhysicsError.rejected("mass data (m \(mass), I \(inertia)) on body \(b.raw)")
        }
    }
    /// The centre of mass in body-local coordinates.
    public func localCenter(_ b: BodyID) -> (x: Float, y: Float) {
        let c = worldCenter(b)
        return localPoint(b, world: c)
    }
    public func worldCenter(_ b: BodyID) -> (x: Float, y: Float) {
        var x: Float = 0, y: Float = 0
        _ = cb2_body_world_center(handle, b.raw, &x, &y)
        return (x, y)
    }
    public func worldPoint(_ b: BodyID, local: (x: Float, y: Float)) -> (x: Float, y: Float) {
        var x: Float = 0, y: Float = 0
        _ = cb2_body_world_point(handle, b.raw, local.x, local.y, &x, &y)
        return (x, y)
    }
    public func localPoint(_ b: BodyID, world: (x: Float, y: Float)) -> (x: Float, y: Float) {
        var x: Float = 0, y: Float = 0
        _ = cb2_body_local_point(handle, b.raw, world.x, world.y, &x, &y)
        return (x, y)
    }
    public func applyForce(_ b: BodyID, _ fx: Float, _ fy: Float, at p: (x: Float, y: Float)) {
        _ = cb2_body_apply_force(handle, b.raw, fx, fy, p.x, p.y)
    }
    public func applyForceToCenter(_ b: BodyID, _ fx: Float, _ fy: Float) {
        _ = cb2_body_apply_force_to_center(handle, b.raw, fx, fy)
    }
    @inlinable
    public func applyTorque(_ b: BodyID, _ t: Float) { _ = cb2_body_apply_torque(handle, b.raw, t) }
    public func applyLinearImpulse(_ b: BodyID, _ ix: Float, _ iy: Float, at p: (x: Float, y: Float)) {
        _ = cb2_body_apply_linear_impulse(handle, b.raw, ix, iy, p.x, p.y)
    }
    public func applyAngularImpulse(_ b: BodyID, _ i: Float) { _ = cb2_body_apply_angular_impulse(handle, b.raw, i) }

    // MARK: Fixtures

    @discardableResult
    public func addBox(_ b: BodyID, halfWidth: Float, halfHeight: Float, center: (x: Float, y: Float) = (0, 0),
                       angle: Float = 0, material: Material = Material()) throws -> FixtureID {
        var d = material.c
        let h = cb2_fixture_box(handle, b.raw, halfWidth, halfHeight, center.x, center.y, angle, &d)
        guard h >= 0 else { throw PhysicsError.rejected("box \(halfWidth)×\(halfHeight) on body \(b.raw)") }
        return FixtureID(raw: h)
    }

    /// Adds a convex polygon (3…8 vertices, body-local).
    @discardableResult
    public func addPolygon(_ b: BodyID, vertices: [(x: Float, y: Float)], material: Material = Material()) throws -> FixtureID {
        var d = material.c
        let flat = vertices.flatMap { [$0.x, $0.y] }
        let h = flat.withUnsafeBufferPointer { cb2_fixture_polygon(handle, b.raw, $0.baseAddress, Int32(vertices.count), &d) }
        guard h >= 0 else { throw PhysicsError.rejected("polygon with \(vertices.count) vertices on body \(b.raw)") }
        return FixtureID(raw: h)
    }

    @discardableResult
    public func addCircle(_ b: BodyID, radius: Float, center: (x: Float, y: Float) = (0, 0),
                          material: Material = Material()) throws -> FixtureID {
        var d = material.c
        let h = cb2_fixture_circle(handle, b.raw, radius, center.x, center.y, &d)
        guard h >= 0 else { throw PhysicsError.rejected("circle of radius \(radius) on body \(b.raw)") }
        return FixtureID(raw: h)
    }

    /// A capsule approximated by a box with circular caps (MuJoCo's capsule geoms), from
    /// `p1` to `p2` in body-local coordinates.
    @discardableResult
    public func addCapsule(_ b: BodyID, from p1: (x: Float, y: Float), to p2: (x: Float, y: Float), radius: Float,
                           material: Material = Material()) throws -> [FixtureID] {
        let dx = p2.x - p1.x, dy = p2.y - p1.y
        let len = (dx * dx + dy * dy).squareRoot()
        var ids: [FixtureID] = []
        if len > 1e-4 {
            let angle = atan2f(dy, dx)
            ids.append(try addBox(b, halfWidth: len / 2, halfHeight: radius,
                                  center: ((p1.x + p2.x) / 2, (p1.y + p2.y) / 2), angle: angle, material: material))
        }
        ids.append(try addCircle(b, radius: radius, center: p1, material: material))
        if len > 1e-4 { ids.append(try addCircle(b, radius: radius, center: p2, material: material)) }
        return ids
    }

    /// A capsule from `p1` to `p2` (body-local) as one fixture: a thin box of half-height
    /// `core` rounded by `radius − core` (Box2D's polygon skin), so contacts see the capsule's
    /// outline to within `core` at its two ends. Box2D gives this fixture the thin box's mass
    /// only: set the body's mass data yourself (``CapsuleMass``). Needs a segment longer than
    /// 2·`core`; shorter ones become a circle.
    @discardableResult
    public func addRoundedCapsule(_ b: BodyID, from p1: (x: Float, y: Float), to p2: (x: Float, y: Float), radius: Float,
                                  core: Float = 0.005, material: Material = Material()) throws -> FixtureID {
        let dx = p2.x - p1.x, dy = p2.y - p1.y
        let len = (dx * dx + dy * dy).squareRoot()
        let center = ((p1.x + p2.x) / 2, (p1.y + p2.y) / 2)
        guard radius > core, core > 0, len > 2 * core else {
            return try addCircle(b, radius: radius, center: center, material: material)
        }
        var d = material.c
        let h = cb2_fixture_rounded_box(handle, b.raw, len / 2, core, center.0, center.1, atan2f(dy, dx), radius - core, &d)
        guard h >= 0 else { throw PhysicsError.rejected("rounded capsule of radius \(radius) on body \(b.raw)") }
        return FixtureID(raw: h)
    }

    @discardableResult
    public func addEdge(_ b: BodyID, from p1: (x: Float, y: Float), to p2: (x: Float, y: Float),
                        material: Material = Material()) throws -> FixtureID {
        var d = material.c
        let h = cb2_fixture_edge(handle, b.raw, p1.x, p1.y, p2.x, p2.y, &d)
        guard h >= 0 else { throw PhysicsError.rejected("edge on body \(b.raw)") }
        return FixtureID(raw: h)
    }

    @discardableResult
    public func addChain(_ b: BodyID, vertices: [(x: Float, y: Float)], loop: Bool = false,
                         material: Material = Material()) throws -> FixtureID {
        var d = material.c
        let flat = vertices.flatMap { [$0.x, $0.y] }
        let h = flat.withUnsafeBufferPointer {
            cb2_fixture_chain(handle, b.raw, $0.baseAddress, Int32(vertices.count), loop ? 1 : 0, &d)
        }
        guard h >= 0 else { throw PhysicsError.rejected("chain with \(vertices.count) vertices on body \(b.raw)") }
        return FixtureID(raw: h)
    }

    public func setFriction(_ f: FixtureID, _ friction: Float) { _ = cb2_fixture_set_friction(handle, f.raw, friction) }

    // MARK: Joints

    public func addRevoluteJoint(_ a: BodyID, _ b: BodyID, _ o: RevoluteJointOptions) throws -> JointID {
        var d = CB2RevoluteDef(anchorX: o.anchor.x, anchorY: o.anchor.y,
                               enableLimit: o.limits == nil ? 0 : 1,
                               lowerAngle: o.limits?.lowerBound ?? 0, upperAngle: o.limits?.upperBound ?? 0,
                               enableMotor: o.motor == nil ? 0 : 1,
                               motorSpeed: o.motor?.speed ?? 0, maxMotorTorque: o.motor?.maxTorque ?? 0,
                               collideConnected: o.collideConnected ? 1 : 0)
        let h = cb2_joint_revolute(handle, a.raw, b.raw, &d)
        guard h >= 0 else { throw PhysicsError.rejected("revolute joint between bodies \(a.raw) and \(b.raw)") }
        return JointID(raw: h)
    }

    public func addPrismaticJoint(_ a: BodyID, _ b: BodyID, _ o: PrismaticJointOptions) throws -> JointID {
        var d = CB2PrismaticDef(anchorX: o.anchor.x, anchorY: o.anchor.y, axisX: o.axis.x, axisY: o.axis.y,
                                enableLimit: o.limits == nil ? 0 : 1,
                                lowerTranslation: o.limits?.lowerBound ?? 0, upperTranslation: o.limits?.upperBound ?? 0,
                                enableMotor: o.motor == nil ? 0 : 1,
                                motorSpeed: o.motor?.speed ?? 0, maxMotorForce: o.motor?.maxForce ?? 0,
                                collideConnected: o.collideConnected ? 1 : 0)
        let h = cb2_joint_prismatic(handle, a.raw, b.raw, &d)
        guard h >= 0 else { throw PhysicsError.rejected("prismatic joint between bodies \(a.raw) and \(b.raw)") }
        return JointID(raw: h)
    }

    public func addWeldJoint(_ a: BodyID, _ b: BodyID, anchor: (x: Float, y: Float),
                             stiffness: Float = 0, damping: Float = 0) throws -> JointID {
        let h = cb2_joint_weld(handle, a.raw, b.raw, anchor.x, anchor.y, stiffness, damping)
        guard h >= 0 else { throw PhysicsError.rejected("weld joint between bodies \(a.raw) and \(b.raw)") }
        return JointID(raw: h)
    }

    /// Top-down floor friction between `body` and a static `ground` body.
    public func addFrictionJoint(_ body: BodyID, ground: BodyID, anchor: (x: Float, y: Float),
                                 maxForce: Float, maxTorque: Float) throws -> JointID {
        let h = cb2_joint_friction(handle, body.raw, ground.raw, anchor.x, anchor.y, maxForce, maxTorque)
        guard h >= 0 else { throw PhysicsError.rejected("friction joint on body \(body.raw)") }
        return JointID(raw: h)
    }

    public func destroy(_ joint: JointID) throws {
        guard cb2_joint_destroy(handle, joint.raw) == 0 else { throw PhysicsError.rejected("destroying joint \(joint.raw)") }
    }

    /// Revolute angle (rad) or prismatic translation (m).
    @inlinable public func jointValue(_ j: JointID) -> Float { cb2_joint_value(handle, j.raw) }
    /// Revolute speed (rad/s) or prismatic speed (m/s).
    @inlinable public func jointSpeed(_ j: JointID) -> Float { cb2_joint_speed(handle, j.raw) }
    /// Motor torque (revolute) or force (prismatic) applied over the last step of length `dt`.
    public func motorOutput(_ j: JointID, dt: Float) -> Float { cb2_joint_motor_output(handle, j.raw, 1 / dt) }
    public func setMotor(_ j: JointID, enabled: Bool, speed: Float, maxOutput: Float) {
        _ = cb2_joint_set_motor(handle, j.raw, enabled ? 1 : 0, speed, maxOutput)
    }
    @inlinable public func setMotorSpeed(_ j: JointID, _ speed: Float) { _ = cb2_joint_set_motor_speed(handle, j.raw, speed) }
    public func setLimits(_ j: JointID, _ range: ClosedRange<Float>?) {
        _ = cb2_joint_set_limits(handle, j.raw, range == nil ? 0 : 1, range?.lowerBound ?? 0, range?.upperBound ?? 0)
    }
    /// Reads (value, speed) pairs of several joints into `out` (2 floats per joint).
    public func jointValues(_ joints: UnsafePointer<Int32>, count: Int, into out: UnsafeMutablePointer<Float>) {
        _ = cb2_joints_get_values(handle, joints, Int32(count), out)
    }

    // MARK: Queries

    /// The closest fixture along the segment p1→p2 whose category intersects `mask`.
    public func rayCast(from p1: (x: Float, y: Float), to p2: (x: Float, y: Float), mask: UInt16 = 0xFFFF) -> RayHit? {
        var out = CB2RayHit()
        guard cb2_ray_cast(handle, p1.x, p1.y, p2.x, p2.y, mask, &out) == 1 else { return nil }
        return RayHit(body: BodyID(raw: out.body), fraction: out.fraction,
                      point: (out.pointX, out.pointY), normal: (out.normalX, out.normalY))
    }
    public func touching(_ a: BodyID, _ b: BodyID) -> Bool { cb2_bodies_touching(handle, a.raw, b.raw) == 1 }
    public func touchingStatic(_ a: BodyID) -> Bool { cb2_body_touching_static(handle, a.raw) == 1 }
    public func contactCount(_ a: BodyID) -> Int { Int(max(0, cb2_body_contact_count(handle, a.raw))) }
    public func contains(_ a: BodyID, point: (x: Float, y: Float)) -> Bool {
        cb2_body_test_point(handle, a.raw, point.x, point.y) == 1
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
