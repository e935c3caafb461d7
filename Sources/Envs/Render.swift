/// A capsule in world coordinates (metres) for drawing.
public struct RenderCapsule: Sendable, Equatable {
    public var from: SIMD2<Float>
    public var to: SIMD2<Float>
    public var radius: Float
    /// Index of the link (for colouring).
    public var link: Int
}

/// Envs that can describe their bodies as capsules for the SVG renderer.
public protocol CapsuleRenderable {
    /// The bodies' capsules in world coordinates.
    func renderCapsules() -> [RenderCapsule]
    /// World x the camera should centre on.
    var cameraX: Float { get }
}

extension LocomotionEnv: CapsuleRenderable {
    public func renderCapsules() -> [RenderCapsule] {
        var out: [RenderCapsule] = []
        for (i, pose) in linkPoses().enumerated() {
            let link = model.links[i]
            let c = cosf(pose.angle), s = sinf(pose.angle)
            func tf(_ p: SIMD2<Float>) -> SIMD2<Float> {
                let l = p - link.origin
                return SIMD2(pose.x + c * l.x - s * l.y, pose.y + s * l.x + c * l.y)
            }
            for g in link.geoms { out.append(RenderCapsule(from: tf(g.from), to: tf(g.to), radius: g.radius, link: i)) }
        }
        return out
    }
    public var cameraX: Float { xPosition }
}

/// Draws frames of an episode as a self-contained SVG filmstrip (no scripts, no external files).
///
/// Each panel shows the bodies (capsules as round-capped strokes), the ground, and tick
/// marks every 0.5 m (labelled every metre) so forward motion is visible between panels.
public struct SVGFilmstrip {
    public struct Frame: Sendable {
        public var step: Int
        public var capsules: [RenderCapsule]
        public var cameraX: Float
        public var caption: String
        public init(step: Int, capsules: [RenderCapsule], cameraX: Float, caption: String = "") {
            self.step = step; self.capsules = capsules; self.cameraX = cameraX; self.caption = caption
        }
    }
    public var title: String
    public var frames: [Frame]
    public var columns = 4
    /// Pixels per metre.
    public var scale: Float = 110
    public var panelWidth: Float = 320
    public var panelHeight: Float = 230

    public init(title: String, frames: [Frame]) { self.title = title; self.frames = frames }

    static let palette = ["#4C72B0", "#DD8452", "#55A868", "#C44E52", "#8172B3", "#937860", "#DA8BC3", "#8C8C8C", "#CCB974"]

    public func svg() -> String {
        let rows = (frames.count + columns - 1) / max(columns, 1)
        let w = Float(columns) * panelWidth, h = Float(rows) * panelHeight + 40
        var s = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(f(w))\" height=\"\(f(h))\" viewBox=\"0 0 \(f(w)) \(f(h))\" font-family=\"sans-serif\">\n"
        s += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
        s += "<text x=\"10\" y=\"26\" font-size=\"18\">\(escape(title))</text>\n"
        for (k, fr) in frames.enumerated() {
            let ox = Float(k % columns) * panelWidth, oy = 40 + Float(k / columns) * panelHeight
            let groundY = oy + panelHeight - 40
            func px(_ p: SIMD2<Float>) -> (Float, Float) { (ox + panelWidth / 2 + (p.x - fr.cameraX) * scale, groundY - p.y * scale) }
            s += "<g>\n<clipPath id=\"c\(k)\"><rect x=\"\(f(ox))\" y=\"\(f(oy))\" width=\"\(f(panelWidth))\" height=\"\(f(panelHeight))\"/></clipPath>\n"
            s += "<g clip-path=\"url(#c\(k))\">\n"
            s += "<rect x=\"\(f(ox + 2))\" y=\"\(f(oy + 2))\" width=\"\(f(panelWidth - 4))\" height=\"\(f(panelHeight - 4))\" fill=\"#f4f7fb\" stroke=\"#ccc\"/>\n"
            s += "<rect x=\"\(f(ox))\" y=\"\(f(groundY))\" width=\"\(f(panelWidth))\" height=\"40\" fill=\"#d9cbb0\"/>\n"
            let half = panelWidth / 2 / scale
            var tick = ((fr.cameraX - half) * 2).rounded(.down) / 2
            while tick <= fr.cameraX + half {
                let (tx, _) = px(SIMD2(tick, 0))
                let major = tick == tick.rounded()
                s += "<line x1=\"\(f(tx))\" y1=\"\(f(groundY))\" x2=\"\(f(tx))\" y2=\"\(f(groundY + (major ? 10 : 5)))\" stroke=\"#6b5b3e\"/>\n"
                if major { s += "<text x=\"\(f(tx + 2))\" y=\"\(f(groundY + 22))\" font-size=\"10\" fill=\"#6b5b3e\">\(Int(tick)) m</text>\n" }
                tick += 0.5
            }
            for c in fr.capsules {
                let (x1, y1) = px(c.from), (x2, y2) = px(c.to)
                let col = Self.palette[c.link % Self.palette.count]
                s += "<line x1=\"\(f(x1))\" y1=\"\(f(y1))\" x2=\"\(f(x2))\" y2=\"\(f(y2))\" stroke=\"\(col)\" stroke-width=\"\(f(2 * c.radius * scale))\" stroke-linecap=\"round\"/>\n"
            }
            s += "</g>\n<text x=\"\(f(ox + 8))\" y=\"\(f(oy + 18))\" font-size=\"12\">step \(fr.step) \(escape(fr.caption))</text>\n</g>\n"
        }
        return s + "</svg>\n"
    }

    func f(_ v: Float) -> String { String((v * 10).rounded() / 10) }
    func escape(_ t: String) -> String {
        t.svgReplacing("&", "&amp;").svgReplacing("<", "&lt;").svgReplacing(">", "&gt;")
    }
}

extension String {
    fileprivate func svgReplacing(_ a: Character, _ b: String) -> String {
        var out = ""
        for c in self { if c == a { out += b } else { out.append(c) } }
        return out
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
