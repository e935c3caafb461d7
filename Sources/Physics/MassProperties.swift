/// Mass, centre of mass and rotational inertia of a planar rigid body (or part of one).
public struct MassProperties: Sendable, Equatable {
    public var mass: Float
    /// Centre of mass, in the frame the parts were given in.
    public var center: SIMD2<Float>
    /// Rotational inertia about ``center``.
    public var inertia: Float

    public init(mass: Float, center: SIMD2<Float>, inertia: Float) {
        self.mass = mass; self.center = center; self.inertia = inertia
    }

    /// A uniform 2-D capsule (a 2r-wide rectangle along the segment p1–p2 plus two half-discs
    /// of radius r) of total mass `mass`: centre at the segment's midpoint and inertia
    /// I = I_rect + 2·I_half-disc, each half-disc moved by the parallel-axis theorem from
    /// its own centroid (4r/3π from its flat side).
    public static func capsule(from p1: SIMD2<Float>, to p2: SIMD2<Float>, radius r: Float, mass: Float) -> MassProperties {
        let d = p2 - p1
        let h = Double((d * d).sum().squareRoot()) / 2, rr = Double(r), m = Double(mass)
        let area = 4 * rr * h + Double.pi * rr * rr
        let rho = m / area
        let mRect = rho * 4 * rr * h
        let iRect = mRect * (4 * h * h + 4 * rr * rr) / 12
        let mCap = rho * Double.pi * rr * rr / 2
        let c = 4 * rr / (3 * Double.pi)
        let iCapOwn = mCap * rr * rr / 2 - mCap * c * c
        let iCap = iCapOwn + mCap * (h + c) * (h + c)
        return MassProperties(mass: mass, center: (p1 + p2) / 2, inertia: Float(iRect + 2 * iCap))
    }

    /// Several parts as one body: total mass, combined centre, inertia about it (parallel axes).
    public static func combined(_ parts: [MassProperties]) -> MassProperties {
        let m = parts.reduce(0.0) { $0 + Double($1.mass) }
        precondition(m > 0, "combined mass must be positive")
        var cx = 0.0, cy = 0.0
        for p in parts { cx += Double(p.mass) * Double(p.center.x); cy += Double(p.mass) * Double(p.center.y) }
        cx /= m; cy /= m
        var i = 0.0
        for p in parts {
            let dx = Double(p.center.x) - cx, dy = Double(p.center.y) - cy
            i += Double(p.inertia) + Double(p.mass) * (dx * dx + dy * dy)
        }
        return MassProperties(mass: Float(m), center: SIMD2(Float(cx), Float(cy)), inertia: Float(i))
    }
}
