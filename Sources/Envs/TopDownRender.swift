/// A minimal SVG canvas in world coordinates (metres) for top-down scenes.
///
/// `flipY` draws +y upwards (the kitchen); without it +y points down the picture, which
/// makes a maze look like its text map (rows grow downwards).
public struct TopDownSVG {
    public let origin: SIMD2<Float>
    public let size: SIMD2<Float>
    public let scale: Float
    public let flipY: Bool
    private var body: [String] = []

    /// A canvas showing the world rectangle `min`…`max` at `pixelsPerMetre`.
    public init(min: SIMD2<Float>, max: SIMD2<Float>, pixelsPerMetre: Float, flipY: Bool) {
        origin = min; size = max - min; scale = pixelsPerMetre; self.flipY = flipY
    }

    func px(_ p: SIMD2<Float>) -> (String, String) {
        let x = (p.x - origin.x) * scale
        let y = flipY ? (origin.y + size.y - p.y) * scale : (p.y - origin.y) * scale
        return (fmt(x), fmt(y))
    }

    func fmt(_ v: Float) -> String { String((v * 10).rounded() / 10) }

    /// A rectangle with centre `c`, half extents `h`, rotated by `angle` (rad, counter-clockwise in world).
    public mutating func rect(_ c: SIMD2<Float>, _ h: SIMD2<Float>, angle: Float = 0, fill: String, stroke: String = "none",
                              width: Float = 1, extra: String = "") {
        let ca = cosf(angle), sa = sinf(angle)
        let corners = [SIMD2<Float>(-h.x, -h.y), SIMD2(h.x, -h.y), SIMD2(h.x, h.y), SIMD2(-h.x, h.y)].map {
            c + SIMD2(ca * $0.x - sa * $0.y, sa * $0.x + ca * $0.y)
        }
        polygon(corners, fill: fill, stroke: stroke, width: width, extra: extra)
    }

    public mutating func polygon(_ pts: [SIMD2<Float>], fill: String, stroke: String = "none", width: Float = 1, extra: String = "") {
        let s = pts.map { let p = px($0); return "\(p.0),\(p.1)" }.joined(separator: " ")
        body.append("<polygon points=\"\(s)\" fill=\"\(fill)\" stroke=\"\(stroke)\" stroke-width=\"\(fmt(width))\" \(extra)/>")
    }

    public mutating func circle(_ c: SIMD2<Float>, radius r: Float, fill: String, stroke: String = "none", width: Float = 1,
                                extra: String = "") {
        let p = px(c)
        body.append("<circle cx=\"\(p.0)\" cy=\"\(p.1)\" r=\"\(fmt(r * scale))\" fill=\"\(fill)\" stroke=\"\(stroke)\" stroke-width=\"\(fmt(width))\" \(extra)/>")
    }

    public mutating func line(_ a: SIMD2<Float>, _ b: SIMD2<Float>, stroke: String, width: Float = 1, extra: String = "") {
        let p = px(a), q = px(b)
        body.append("<line x1=\"\(p.0)\" y1=\"\(p.1)\" x2=\"\(q.0)\" y2=\"\(q.1)\" stroke=\"\(stroke)\" stroke-width=\"\(fmt(width))\" stroke-linecap=\"round\" \(extra)/>")
    }

    public mutating func polyline(_ pts: [SIMD2<Float>], stroke: String, width: Float = 1, extra: String = "") {
        guard pts.count > 1 else { return }
        let s = pts.map { let p = px($0); return "\(p.0),\(p.1)" }.joined(separator: " ")
        body.append("<polyline points=\"\(s)\" fill=\"none\" stroke=\"\(stroke)\" stroke-width=\"\(fmt(width))\" stroke-linejoin=\"round\" \(extra)/>")
    }

    public mutating func text(_ t: String, at p: SIMD2<Float>, size: Float = 12, fill: String = "#333", anchor: String = "middle") {
        let q = px(p)
        let esc = t.map { c -> String in
            switch c { case "<": return "&lt;"; case ">": return "&gt;"; case "&": return "&amp;"; default: return String(c) }
        }.joined()
        body.append("<text x=\"\(q.0)\" y=\"\(q.1)\" font-family=\"sans-serif\" font-size=\"\(fmt(size))\" fill=\"\(fill)\" text-anchor=\"\(anchor)\">\(esc)</text>")
    }

    /// The finished document.
    public func svg() -> String {
        let w = fmt(size.x * scale), h = fmt(size.y * scale)
        return "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(w)\" height=\"\(h)\" viewBox=\"0 0 \(w) \(h)\">\n"
            + "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n" + body.joined(separator: "\n") + "\n</svg>\n"
    }
}

extension MazeEnv {
    /// SVG of the maze (walls, start and goal cells, goal radius), the rover and `trail`
    /// (rover centres, e.g. the episode so far). Rows grow downwards as in the text map.
    public func renderSVG(trail: [SIMD2<Float>] = [], title: String? = nil) -> String {
        let b = layout.bounds
        let pad: Float = title == nil ? 0 : 3
        let scale = max(12, 520 / (b.max.x - b.min.x))
        var c = TopDownSVG(min: b.min - SIMD2(0, pad), max: b.max, pixelsPerMetre: scale, flipY: false)
        let h = layout.cellSize / 2
        for r in layout.wallRectangles() { c.rect(r.center, r.halfExtents, fill: "#444") }
        c.rect(layout.center(of: options.startCell ?? layout.start), SIMD2(h, h), fill: "#dfe9f7")
        c.rect(layout.center(of: goalCell), SIMD2(h, h), fill: "#dff5df")
        c.circle(goal, radius: options.goalRadius, fill: "#7cc47c", stroke: "#2e7d32", width: 1.5)
        c.polyline(trail, stroke: "#d9534f", width: 2, extra: "stroke-opacity=\"0.8\"")
        let p = position, a = heading
        c.circle(p, radius: rover.radius, fill: "#1f5fa8", stroke: "#0b2e55", width: 1.5)
        c.line(p, p + rover.radius * SIMD2(cosf(a), sinf(a)), stroke: "white", width: 2.5)
        if let title { c.text(title, at: SIMD2(b.min.x + 0.5, b.min.y - 1), size: 14, anchor: "start") }
        return c.svg()
    }
}

extension KitchenEnv {
    /// SVG of the counter, every object (goal poses of the targets dashed in green), the arm
    /// and `trail` (fingertip positions). The robot sits at the bottom, +y points up.
    public func renderSVG(trail: [SIMD2<Float>] = [], title: String? = nil) -> String {
        var c = TopDownSVG(min: SIMD2(-1.3, -0.3), max: SIMD2(1.3, 1.15), pixelsPerMetre: 300, flipY: true)
        // Counter: a half ring between radius 0.45 and 1.05.
        var ring: [SIMD2<Float>] = []
        for k in 0...36 { let a = -0.3 + Float(k) / 36 * (Float.pi + 0.6); ring.append(1.02 * SIMD2(cosf(a), sinf(a))) }
        for k in 0...36 { let a = Float.pi + 0.3 - Float(k) / 36 * (Float.pi + 0.6); ring.append(0.43 * SIMD2(cosf(a), sinf(a))) }
        c.polygon(ring, fill: "#f3eee4", stroke: "#c9bfa9")
        let s = objectStateVector
        let ghost = "stroke-dasharray=\"4,3\""
        for o in KitchenObject.allCases {
            let isTarget = targets.contains(o)
            let done = isCompleted(o)
            let color = done ? "#2e7d32" : (isTarget ? "#b35c00" : "#666")
            let (u, _) = KitchenModel.polar(KitchenModel.sector(o))
            if let h = KitchenModel.hinge(o) {
                if isTarget {
                    let ga = h.restDirection + KitchenModel.goal(o)[0]
                    c.line(h.pivot, h.pivot + h.length * SIMD2(cosf(ga), sinf(ga)), stroke: "#4caf50", width: 2, extra: ghost)
                }
                let a = h.restDirection + s[o.rawValue]
                let mid = h.pivot + h.length / 2 * SIMD2(cosf(a), sinf(a))
                c.rect(mid, SIMD2(h.length / 2, max(h.halfThickness, 0.008)), angle: a, fill: color)
                c.circle(h.pivot, radius: o == .bottomBurner || o == .topBurner ? 0.03 : 0.01, fill: "none", stroke: color, width: 1.5)
            } else if o == .slideCabinet {
                let sl = KitchenModel.slider
                let a = atan2f(sl.axis.y, sl.axis.x)
                c.line(sl.restCenter - (sl.halfLength + 0.02) * sl.axis,
                       sl.restCenter + (sl.limits.upperBound + sl.halfLength + 0.02) * sl.axis, stroke: "#bbb", width: 1)
                if isTarget {
                    c.rect(sl.restCenter + KitchenModel.goal(o)[0] * sl.axis, SIMD2(sl.halfLength, sl.halfThickness), angle: a,
                           fill: "none", stroke: "#4caf50", width: 1.5, extra: ghost)
                }
                let center = sl.restCenter + s[o.rawValue] * sl.axis
                c.rect(center, SIMD2(sl.halfLength, sl.halfThickness), angle: a, fill: color)
                let inward = -sl.restCenter / (sl.restCenter * sl.restCenter).sum().squareRoot()
                let hc = center + sl.handleCenter.x * sl.axis + (sl.halfThickness + sl.handleHalfExtents.y) * inward
                c.rect(hc, sl.handleHalfExtents, angle: a, fill: color)
            } else {
                let k = KitchenModel.kettle
                if isTarget {
                    c.circle(KitchenModel.kettleGoal, radius: KitchenModel.threshold(.kettle), fill: "#dff5df", stroke: "#4caf50",
                             width: 1.5, extra: ghost)
                }
                c.circle(SIMD2(s[6], s[7]), radius: k.radius, fill: color)
            }
            c.text(o.name, at: 1.08 * u + SIMD2(0, o == .hingeCabinet ? 0.05 : 0), size: 11, fill: color)
        }
        c.polyline(trail, stroke: "#d9534f", width: 1.5, extra: "stroke-opacity=\"0.7\"")
        // Arm.
        let poses = linkPoses()
        let l = KitchenModel.linkLengths
        let lengths = [l.x, l.y, l.z]
        for (i, p) in poses.enumerated() {
            let a = SIMD2(p.x, p.y)
            let b = a + lengths[i] * SIMD2(cosf(p.angle), sinf(p.angle))
            c.line(a, b, stroke: "#1f5fa8", width: 8, extra: "stroke-opacity=\"0.85\"")
            c.circle(a, radius: 0.015, fill: "#0b2e55")
        }
        c.circle(fingertipPosition, radius: KitchenModel.fingerRadius, fill: "#0b2e55")
        c.rect(SIMD2(0, -0.05), SIMD2(0.08, 0.05), fill: "#0b2e55")
        let label = title ?? "subtasks completed \(subtasksCompleted)/\(targets.count)"
        c.text(label, at: SIMD2(-1.25, -0.22), size: 14, anchor: "start")
        return c.svg()
    }
}

/// Top-down rendering of the maze and kitchen envs, for `ofql-eval envs render`.
public enum TopDownRender {
    /// Which actions the rendered episode uses.
    public enum Policy: String, Sendable, CaseIterable {
        /// The env's scripted behaviour policy (``ScriptedControllers/make(for:noise:)``).
        case scripted
        /// Uniform random actions.
        case random
    }

    /// Whether `id` has a top-down renderer (the mazes and the kitchen).
    public static func supports(_ id: EnvID) -> Bool { Maze.layout(for: id) != nil || id == .kitchen || id == Kitchen.mixedSpec.id }

    /// SVG of an env's current state with a trail, or nil when it has no top-down view.
    /// Accepts bare envs and ``TimeLimit`` wrappers.
    public static func svg(_ env: any Environment, trail: [SIMD2<Float>] = [], title: String? = nil) -> String? {
        let e = env.unwrapped
        if let m = e as? MazeEnv { return m.renderSVG(trail: trail, title: title) }
        if let k = e as? KitchenEnv { return k.renderSVG(trail: trail, title: title) }
        return nil
    }

    /// The point a trail follows: the rover centre or the fingertip; nil for other envs.
    public static func trailPoint(_ env: any Environment) -> SIMD2<Float>? {
        let e = env.unwrapped
        if let m = e as? MazeEnv { return m.position }
        if let k = e as? KitchenEnv { return k.fingertipPosition }
        return nil
    }

    /// Runs one episode of `id` from `seed` (spec time limit) and renders its last state
    /// with the whole path. `noise` overrides the scripted policy's default action noise.
    /// Throws ``EnvError/unknownEnv(_:)`` for ids without a top-down view.
    public static func episodeSVG(id: EnvID, seed: UInt64, policy: Policy = .scripted, noise: Float? = nil,
                                  maxSteps: Int? = nil) throws(EnvError) -> String {
        guard supports(id) else { throw .unknownEnv("\(id.rawValue) (no top-down renderer; mazes and kitchen only)") }
        let spec = try EnvRegistry.spec(id)
        let env = spec.make()
        let obs = UnsafeMutablePointer<Float>.allocate(capacity: spec.observationDimension)
        let act = UnsafeMutablePointer<Float>.allocate(capacity: spec.actionDimension)
        defer { obs.deallocate(); act.deallocate() }
        var rng = EpisodeSeeding.actorRNG(episodeSeed: seed)
        let controller = ScriptedControllers.make(for: id, noise: noise)
        var trail: [SIMD2<Float>] = []
        let limit = min(maxSteps ?? spec.maxEpisodeSteps, spec.maxEpisodeSteps)
        let e: EpisodeStats
        do {
            e = try EpisodeRunner.run(
                env: env, seed: seed, maxSteps: limit, controlPeriod: spec.controlPeriod, observation: obs, action: act,
                act: { o, a in
                    if trail.isEmpty { trail.append(trailPoint(env)!) }
                    switch policy {
                    case .random: for i in 0..<spec.actionDimension { a[i] = Float(rng.uniform(-1, 1)) }
                    case .scripted: controller!.act(observation: o, action: a, rng: &rng)
                    }
                },
                observe: { _, _ in trail.append(trailPoint(env)!) })
        } catch { throw (error as? EnvError) ?? .unknownEnv("\(id.rawValue): \(error)") }
        let ret = Float(e.totalReturn), steps = e.steps
        let title = "\(id) seed \(seed), \(policy.rawValue) policy: \(steps) steps, return \(ret)"
        return svg(env, trail: trail, title: title)!
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Randomness
