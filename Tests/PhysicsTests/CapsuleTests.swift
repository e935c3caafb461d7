import Testing
@testable import Physics

@Suite("Rounded capsules and their mass properties")
struct CapsuleTests {
    /// Mass, centre and inertia of a uniform 2-D capsule by midpoint-rule integration over a grid.
    func integrated(from p1: SIMD2<Double>, to p2: SIMD2<Double>, radius r: Double, mass: Double) -> (Double, SIMD2<Double>, Double) {
        let lo = SIMD2(min(p1.x, p2.x) - r, min(p1.y, p2.y) - r), hi = SIMD2(max(p1.x, p2.x) + r, max(p1.y, p2.y) + r)
        let n = 1200
        let d = p2 - p1, len2 = (d * d).sum()
        var area = 0.0, c = SIMD2<Double>(0, 0), second = 0.0
        let cell = (hi - lo) / Double(n)
        for i in 0..<n {
            for j in 0..<n {
                let p = lo + cell * SIMD2(Double(i) + 0.5, Double(j) + 0.5)
                let t = max(0, min(1, ((p - p1) * d).sum() / len2))
                let q = p - (p1 + t * d)
                guard (q * q).sum() <= r * r else { continue }
                let a = cell.x * cell.y
                area += a; c += a * p; second += a * (p * p).sum()
            }
        }
        c /= area
        let rho = mass / area
        return (mass, c, rho * (second - area * (c * c).sum()))
    }

    @Test("capsule inertia matches numerical integration, and parts combine by parallel axes")
    func capsuleMassProperties() {
        let p1 = SIMD2<Float>(-0.3, 0.1), p2 = SIMD2<Float>(0.2, -0.15), r: Float = 0.046, m: Float = 2.5
        let mp = MassProperties.capsule(from: p1, to: p2, radius: r, mass: m)
        let (_, c, i) = integrated(from: SIMD2(Double(p1.x), Double(p1.y)), to: SIMD2(Double(p2.x), Double(p2.y)), radius: Double(r), mass: Double(m))
        #expect(abs(Double(mp.center.x) - c.x) < 1e-4 && abs(Double(mp.center.y) - c.y) < 1e-4)
        #expect(abs(Double(mp.inertia) - i) / i < 2e-3, "closed form \(mp.inertia) vs integrated \(i)")
        // A capsule of zero length is a disc: I = m r²/2.
        let disc = MassProperties.capsule(from: .zero, to: .zero, radius: 0.5, mass: 2)
        #expect(abs(disc.inertia - 0.25) < 1e-6)
        // Two equal point-like parts 2 apart: centre in the middle, I = 2·m·1².
        let a = MassProperties(mass: 1, center: [-1, 0], inertia: 0), b = MassProperties(mass: 1, center: [1, 0], inertia: 0)
        let both = MassProperties.combined([a, b])
        #expect(both.mass == 2 && both.center == [0, 0] && abs(both.inertia - 2) < 1e-6)
    }

    @Test("a rounded capsule is one fixture that rests on the ground at its radius and rolls like a capsule")
    func roundedCapsuleRests() throws {
        let w = World(gravity: (0, -10))
        let ground = try w.createBody(.staticBody, x: 0, y: 0)
        try w.addBox(ground, halfWidth: 50, halfHeight: 1, center: (0, -1))
        let b = try w.createBody(.dynamic, x: 0, y: 1)
        let before = World.threadLiveObjects
        try w.addRoundedCapsule(b, from: (-0.3, 0), to: (0.3, 0), radius: 0.1, material: Material(density: 0))
        #expect(World.threadLiveObjects == before + 1, "one fixture, not a box and two circles")
        let mp = MassProperties.capsule(from: [-0.3, 0], to: [0.3, 0], radius: 0.1, mass: 3)
        try w.setMassData(b, mass: mp.mass, localCenter: (mp.center.x, mp.center.y), inertia: mp.inertia)
        #expect(abs(w.mass(b) - 3) < 1e-6 && abs(w.inertia(b) - mp.inertia) < 1e-6)
        for _ in 0..<240 { w.step(1.0 / 60.0) }
        let s = w.state(b)
        // The axis rests one radius above the ground, less Box2D's allowed penetration (linear slop 0.005).
        #expect(abs(s.y - 0.1) < 0.012, "axis at \(s.y)")
        #expect(abs(s.angle) < 1e-3 && abs(s.vy) < 1e-3)
        // Standing on one end cap, the centre sits half the length plus the radius up (the cap is round).
        let w2 = World(gravity: (0, -10))
        let g2 = try w2.createBody(.staticBody, x: 0, y: 0)
        try w2.addBox(g2, halfWidth: 50, halfHeight: 1, center: (0, -1))
        let upright = try w2.createBody(.dynamic, x: 0, y: 0.5)
        w2.setFixedRotation(upright, true)
        try w2.addRoundedCapsule(upright, from: (0, -0.3), to: (0, 0.3), radius: 0.1)
        for _ in 0..<240 { w2.step(1.0 / 60.0) }
        #expect(abs(w2.state(upright).y - 0.4) < 0.012, "centre at \(w2.state(upright).y)")
        // Invalid input is rejected, not turned into a default shape.
        #expect(throws: PhysicsError.self) { try w.addRoundedCapsule(BodyID(raw: 999), from: (0, 0), to: (1, 0), radius: 0.1) }
    }
}
