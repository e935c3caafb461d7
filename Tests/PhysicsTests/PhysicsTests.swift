import Dispatch
import Testing
@testable import Physics
#if canImport(Glibc)
import Glibc
#endif

private let dt: Float = 1.0 / 60.0

@Suite("Box2D through the C shim")
struct PhysicsTests {
    @Test("free fall follows Box2D's semi-implicit Euler exactly and the analytic parabola to O(dt)")
    func freeFall() throws {
        let w = World(gravity: (0, -10))
        let b = try w.createBody(.dynamic, x: 0, y: 100)
        try w.addCircle(b, radius: 0.5)
        let n = 60
        for _ in 0..<n { w.step(dt) }
        let s = w.state(b)
        // Semi-implicit Euler: v_k = g·k·dt, y_n = y0 + g·dt²·n(n+1)/2.
        let discrete = 100 - 10 * dt * dt * Float(n * (n + 1)) / 2
        #expect(abs(s.y - discrete) < 1e-3)
        #expect(abs(s.vy - (-10 * Float(n) * dt)) < 1e-4)
        let t = Float(n) * dt
        let analytic = 100 - 5 * t * t
        #expect(abs(s.y - analytic) < 10 * dt * t)  // the discretisation error is g·dt·t/2
        #expect(s.x == 0 && s.angle == 0)
    }

    @Test("a revolute motor reaches its commanded speed")
    func revoluteMotor() throws {
        let w = World(gravity: (0, 0))
        let ground = try w.createBody(.staticBody, x: 0, y: 0)
        let wheel = try w.createBody(.dynamic, x: 0, y: 0)
        try w.addCircle(wheel, radius: 0.5, material: Material(density: 1))
        let j = try w.addRevoluteJoint(ground, wheel, RevoluteJointOptions(anchor: (0, 0), motor: (speed: 3, maxTorque: 100)))
        for _ in 0..<60 { w.step(dt) }
        #expect(abs(w.jointSpeed(j) - 3) < 1e-3)
        #expect(abs(w.state(wheel).omega - 3) < 1e-3)
        // The joint angle integrates the speed.
        #expect(abs(w.jointValue(j) - 3 * 60 * dt) < 0.1)
        // A weak motor cannot hold a commanded speed against gravity on a heavy lever.
        w.setMotor(j, enabled: true, speed: -3, maxOutput: 1)
        w.step(dt)
        #expect(abs(w.motorOutput(j, dt: dt)) <= 1.0001)
    }

    @Test("revolute joint limits hold under gravity")
    func jointLimits() throws {
        let w = World(gravity: (0, -10))
        let ground = try w.createBody(.staticBody, x: 0, y: 0)
        let arm = try w.createBody(.dynamic, x: 1, y: 0)
        try w.addBox(arm, halfWidth: 1, halfHeight: 0.1)
        let j = try w.addRevoluteJoint(ground, arm, RevoluteJointOptions(anchor: (0, 0), limits: -0.5...0.5))
        var minAngle: Float = 0
        for _ in 0..<300 { w.step(dt); minAngle = min(minAngle, w.jointValue(j)) }
        #expect(minAngle > -0.5 - 0.02)
        #expect(abs(w.jointValue(j) + 0.5) < 0.02, "the arm rests on its lower limit")
    }

    @Test("a prismatic motor reaches its speed and stops at its limit")
    func prismatic() throws {
        let w = World(gravity: (0, 0))
        let ground = try w.createBody(.staticBody, x: 0, y: 0)
        let slider = try w.createBody(.dynamic, x: 0, y: 0)
        try w.addBox(slider, halfWidth: 0.2, halfHeight: 0.2)
        let j = try w.addPrismaticJoint(ground, slider, PrismaticJointOptions(
            anchor: (0, 0), axis: (1, 0), limits: -1...1, motor: (speed: 0.5, maxForce: 100)))
        for _ in 0..<30 { w.step(dt) }
        #expect(abs(w.jointSpeed(j) - 0.5) < 1e-3)
        for _ in 0..<300 { w.step(dt) }
        #expect(abs(w.jointValue(j) - 1) < 0.01)
        #expect(abs(w.state(slider).y) < 1e-5, "motion stays on the axis")
    }

    @Test("a ray cast hits a known box at the known fraction")
    func rayCast() throws {
        let w = World()
        let box = try w.createBody(.staticBody, x: 5, y: 0)
        try w.addBox(box, halfWidth: 1, halfHeight: 1)
        let hit = try #require(w.rayCast(from: (0, 0), to: (10, 0)))
        #expect(hit.body == box)
        #expect(abs(hit.fraction - 0.4) < 1e-5)
        #expect(abs(hit.point.x - 4) < 1e-4)
        #expect(hit.normal.x == -1)
        #expect(w.rayCast(from: (0, 5), to: (10, 5)) == nil)
        // Masks filter categories.
        #expect(w.rayCast(from: (0, 0), to: (10, 0), mask: 0x0002) == nil)
    }

    @Test("contacts: resting on the ground touches it; separated bodies do not")
    func contacts() throws {
        let w = World(gravity: (0, -10))
        let ground = try w.createBody(.staticBody, x: 0, y: 0)
        try w.addEdge(ground, from: (-10, 0), to: (10, 0))
        let box = try w.createBody(.dynamic, x: 0, y: 2)
        try w.addBox(box, halfWidth: 0.5, halfHeight: 0.5)
        let far = try w.createBody(.dynamic, x: 5, y: 50)
        try w.addCircle(far, radius: 0.5)
        #expect(!w.touching(box, ground))
        for _ in 0..<120 { w.step(dt) }
        #expect(w.touching(box, ground))
        #expect(w.touchingStatic(box))
        #expect(w.contactCount(box) == 1)
        #expect(!w.touchingStatic(far))
        #expect(abs(w.state(box).y - 0.5) < 0.02)
        #expect(w.contains(box, point: (0, 0.5)))
    }

    @Test("bodies in the same negative group never collide")
    func collisionFiltering() throws {
        let w = World(gravity: (0, 0))
        let m = Material(group: -1)
        let a = try w.createBody(.dynamic, x: 0, y: 0)
        try w.addBox(a, halfWidth: 1, halfHeight: 1, material: m)
        let b = try w.createBody(.dynamic, x: 0.5, y: 0)
        try w.addBox(b, halfWidth: 1, halfHeight: 1, material: m)
        for _ in 0..<30 { w.step(dt) }
        #expect(!w.touching(a, b))
        #expect(w.state(a).x == 0 && w.state(b).x == 0.5, "overlapping bodies stay put")
        // Without the group they push apart.
        let w2 = World(gravity: (0, 0))
        let c = try w2.createBody(.dynamic, x: 0, y: 0)
        try w2.addBox(c, halfWidth: 1, halfHeight: 1)
        let d = try w2.createBody(.dynamic, x: 0.5, y: 0)
        try w2.addBox(d, halfWidth: 1, halfHeight: 1)
        for _ in 0..<30 { w2.step(dt) }
        #expect(w2.state(d).x - w2.state(c).x > 0.6)
    }

    @Test("friction and weld joints constrain motion")
    func frictionAndWeld() throws {
        let w = World(gravity: (0, 0))
        let ground = try w.createBody(.staticBody, x: 0, y: 0)
        let puck = try w.createBody(.dynamic, x: 0, y: 0)
        try w.addCircle(puck, radius: 0.5)
        _ = try w.addFrictionJoint(puck, ground: ground, anchor: (0, 0), maxForce: 5, maxTorque: 1)
        w.setVelocity(puck, vx: 2, vy: 0, omega: 0)
        for _ in 0..<120 { w.step(dt) }
        #expect(abs(w.state(puck).vx) < 1e-4, "floor friction stops a sliding puck")
        let a = try w.createBody(.dynamic, x: 3, y: 0)
        try w.addBox(a, halfWidth: 0.5, halfHeight: 0.5)
        let b = try w.createBody(.dynamic, x: 4, y: 0)
        try w.addBox(b, halfWidth: 0.5, halfHeight: 0.5)
        _ = try w.addWeldJoint(a, b, anchor: (3.5, 0))
        w.applyAngularImpulse(a, 1)
        for _ in 0..<60 { w.step(dt) }
        let sa = w.state(a), sb = w.state(b)
        let d = ((sa.x - sb.x) * (sa.x - sb.x) + (sa.y - sb.y) * (sa.y - sb.y)).squareRoot()
        #expect(abs(d - 1) < 0.01)
        #expect(abs(sa.angle - sb.angle) < 0.01)
        #expect(abs(sa.angle) > 0.1, "the impulse turned the welded pair")
    }

    @Test("forces, torques and impulses change velocities as Newton says")
    func forces() throws {
        let w = World(gravity: (0, 0))
        let b = try w.createBody(.dynamic, x: 0, y: 0)
        try w.addBox(b, halfWidth: 0.5, halfHeight: 0.5, material: Material(density: 2))
        #expect(abs(w.mass(b) - 2) < 1e-5)
        w.applyLinearImpulse(b, 4, 0, at: w.worldCenter(b))
        #expect(abs(w.state(b).vx - 2) < 1e-5)
        w.applyForceToCenter(b, 0, 6)
        w.step(dt)
        #expect(abs(w.state(b).vy - 3 * dt) < 1e-5)
        let inertia = w.inertia(b)
        w.applyTorque(b, 1)
        w.step(dt)
        #expect(abs(w.state(b).omega - dt / inertia) < 1e-4)
    }

    @Test("invalid construction is rejected, not silently replaced")
    func rejects() throws {
        let w = World()
        let b = try w.createBody(.dynamic, x: 0, y: 0)
        #expect(throws: PhysicsError.self) { try w.addCircle(b, radius: 0) }
        #expect(throws: PhysicsError.self) { try w.addPolygon(b, vertices: [(0, 0), (1, 0), (2, 0)]) }
        #expect(throws: PhysicsError.self) { try w.addBox(BodyID(raw: 99), halfWidth: 1, halfHeight: 1) }
        #expect(throws: PhysicsError.self) { try w.createBody(.dynamic, x: .nan, y: 0) }
        #expect(throws: PhysicsError.self) { try w.addRevoluteJoint(b, b, RevoluteJointOptions(anchor: (0, 0))) }
        try w.addPolygon(b, vertices: [(0, 0), (1, 0), (0, 1)])
        try w.addChain(b, vertices: [(0, 0), (1, 0), (2, 1)])
    }

    @Test("destroying a body takes its joints along and frees every handle")
    func destroyCascades() throws {
        let base = World.threadLiveObjects
        do {
            let w = World()
            let a = try w.createBody(.dynamic, x: 0, y: 0)
            try w.addCircle(a, radius: 0.5)
            let b = try w.createBody(.dynamic, x: 1, y: 0)
            try w.addCircle(b, radius: 0.5)
            let j = try w.addRevoluteJoint(a, b, RevoluteJointOptions(anchor: (0.5, 0)))
            #expect(w.jointCount == 1)
            try w.destroy(a)
            #expect(w.jointCount == 0)
            #expect(w.bodyCount == 1)
            #expect(w.jointValue(j).isNaN, "a joint destroyed with its body is no longer reachable")
            #expect(throws: PhysicsError.self) { try w.destroy(j) }
        }
        #expect(World.threadLiveObjects == base)
    }
}

/// A scene with a motorised arm and a few falling boxes; returns its trajectory.
func simulateScene(steps: Int, seed: Int) throws -> [Float] {
    let w = World(gravity: (0, -9.81))
    let ground = try w.createBody(.staticBody, x: 0, y: 0)
    try w.addEdge(ground, from: (-20, 0), to: (20, 0))
    let arm = try w.createBody(.dynamic, x: 0, y: 2)
    try w.addBox(arm, halfWidth: 1.5, halfHeight: 0.1)
    let j = try w.addRevoluteJoint(ground, arm, RevoluteJointOptions(anchor: (0, 2), motor: (speed: 1.5, maxTorque: 50)))
    var boxes: [BodyID] = []
    for i in 0..<8 {
        let b = try w.createBody(.dynamic, x: Float(i % 4) - 1.5 + Float(seed) * 0.01, y: 4 + Float(i))
        try w.addBox(b, halfWidth: 0.3, halfHeight: 0.3, material: Material(density: 1, friction: 0.6))
        boxes.append(b)
    }
    var out: [Float] = []
    out.reserveCapacity(steps * 3)
    for k in 0..<steps {
        w.setMotorSpeed(j, k % 200 < 100 ? 1.5 : -1.5)
        w.step(1.0 / 60.0)
        let s = w.state(boxes[k % boxes.count])
        out.append(s.x); out.append(s.y); out.append(w.jointValue(j))
    }
    return out
}

@Suite("Determinism and threads")
struct DeterminismTests {
    @Test("the same scene built twice gives bitwise-identical trajectories over 1000 steps")
    func rebuildIdentical() throws {
        let a = try simulateScene(steps: 1000, seed: 0)
        let b = try simulateScene(steps: 1000, seed: 0)
        #expect(a.map(\.bitPattern) == b.map(\.bitPattern))
        let c = try simulateScene(steps: 1000, seed: 1)
        #expect(a != c, "a different scene gives a different trajectory")
    }

    @Test("worlds stepped concurrently on Dispatch workers give exactly the sequential results")
    func concurrentEqualsSequential() throws {
        World.warmUp()
        let n = 8
        let sequential = try (0..<n).map { try simulateScene(steps: 300, seed: $0) }
        nonisolated(unsafe) var parallel = [[Float]](repeating: [], count: n)
        parallel.withUnsafeMutableBufferPointer { buf in
            nonisolated(unsafe) let slots = buf
            DispatchQueue.concurrentPerform(iterations: n) { i in
                slots[i] = (try? simulateScene(steps: 300, seed: i)) ?? []
            }
        }
        for i in 0..<n { #expect(parallel[i].map(\.bitPattern) == sequential[i].map(\.bitPattern)) }
    }

    @Test("create/destroy loops do not grow memory")
    func noLeaks() throws {
        func rssKiB() -> Int {
            guard let f = fopen("/proc/self/statm", "r") else { return 0 }
            defer { fclose(f) }
            var size = 0, resident = 0
            _ = withUnsafeMutablePointer(to: &size) { s in
                withUnsafeMutablePointer(to: &resident) { r in
                    withVaList([s, r]) { vfscanf(f, "%ld %ld", $0) }
                }
            }
            return resident * Int(sysconf(Int32(_SC_PAGESIZE))) / 1024
        }
        let base = World.threadLiveObjects
        func churn(_ rounds: Int) throws {
            for _ in 0..<rounds {
                let w = World()
                let g = try w.createBody(.staticBody, x: 0, y: 0)
                try w.addChain(g, vertices: [(-5, 0), (0, 0), (5, 0)])
                for i in 0..<10 {
                    let b = try w.createBody(.dynamic, x: Float(i), y: 1)
                    try w.addCapsule(b, from: (-0.2, 0), to: (0.2, 0), radius: 0.1)
                    _ = try w.addRevoluteJoint(g, b, RevoluteJointOptions(anchor: (Float(i), 1)))
                    if i % 2 == 0 { try w.destroy(b) }
                }
                for _ in 0..<5 { w.step(dt) }
            }
        }
        try churn(300)  // warm the allocator
        let before = rssKiB()
        try churn(3000)
        let after = rssKiB()
        #expect(World.threadLiveObjects == base)
        // Each b2World carries a 100 KiB stack allocator, so leaking worlds would grow RSS by
        // ≥ 300 MiB here; the bound leaves room for tests allocating beside this one.
        #expect(after - before < 32 * 1024, "RSS grew by \(after - before) KiB")
    }
}

@Suite("Box2D profiler timers")
struct ProfilerTimerTests {
    @Test("libbox2d calls the shim's no-op timers in this process (every step profiles at 0 ms)")
    func disabled() { #expect(World.profilerTimersDisabled()) }
}
