import Envs
import Foundation
import OFQL
import Randomness
import Rollout

/// An animated SVG (SMIL, no scripts) of one episode of a policy: side view of the bodies for
/// locomotion envs, the env's own top-down drawing for the others.
public enum EpisodeAnimation {
    struct Failure: Error, CustomStringConvertible { let description: String }

    /// Runs one episode (seed `seed`) of `policy` and draws every `every`-th step.
    public static func svg(spec: EnvSpec, policy: BatchPolicy, seed: UInt64, every: Int = 4, maxFrames: Int = 250) throws -> String {
        let env = spec.make()
        let p = policy.makeWorkerCopy()
        let od = spec.observationDimension, ad = spec.actionDimension
        let obs = UnsafeMutablePointer<Float>.allocate(capacity: od), act = UnsafeMutablePointer<Float>.allocate(capacity: ad)
        defer { obs.deallocate(); act.deallocate() }
        var rng = Xoshiro(seed: seed).derived(RolloutOptions(episodes: 1).noiseStream)
        var lane = 0
        p.beginEpisode(lane: 0, episode: 0, seed: seed, env: env)
        var frames: [[RenderCapsule]] = [], cams: [Float] = [], captions: [String] = []
        var topDown: [String] = [], trail: [SIMD2<Float>] = []
        var total = 0.0
        let isTopDown = TopDownRender.supports(spec.id)
        let frameBudget = isTopDown ? min(maxFrames, 60) : maxFrames
        let stride = max(every, (spec.maxEpisodeSteps / every + frameBudget - 1) / frameBudget * every)
        func capture(_ t: Int) {
            let caption = "step \(t)  return \(String(format: "%.1f", total))"
            if isTopDown {
                if let svg = TopDownRender.svg(env, trail: trail, title: caption) { topDown.append(svg) }
                return
            }
            guard let r = env.inner as? CapsuleRenderable else { return }
            frames.append(r.renderCapsules()); cams.append(r.cameraX)
            captions.append(caption)
        }
        var started = false
        let e = try EpisodeRunner.run(
            env: env, seed: seed, controlPeriod: spec.controlPeriod, observation: obs, action: act,
            act: { o, a in
                if !started {
                    started = true
                    if let p = TopDownRender.trailPoint(env) { trail.append(p) }
                    capture(0)
                }
                p.act(observations: o, count: 1, lanes: &lane, actions: a, rngs: &rng)
            },
            observe: { t, out in
                total += Double(out.reward)
                if let p = TopDownRender.trailPoint(env) { trail.append(p) }
                if t % stride == 0 || out.done { capture(t) }
            })
        let t = e.steps
        if !topDown.isEmpty {
            return animateSVGFrames(topDown, title: "\(spec.id) · \(policy.name) · \(t) steps, return \(String(format: "%.1f", total))",
                                    frameSeconds: Double(stride) * spec.controlPeriod)
        }
        guard !frames.isEmpty else { throw Failure(description: "\(spec.id) has no drawing") }
        return animate(frames: frames, cameras: cams, captions: captions, title: "\(spec.id) · \(policy.name) · \(t) steps, return \(String(format: "%.1f", total))",
                       frameSeconds: Double(stride) * spec.controlPeriod)
    }

    /// Opens frame `i`'s group with a discrete, looping visibility switch: it shows during
    /// [i/n, (i+1)/n) of a `seconds`-long loop.
    static func frameGroupOpening(_ i: Int, of n: Int, seconds: Double) -> String {
        var keyTimes = "0", values = i == 0 ? "visible" : "hidden"
        if i > 0 { keyTimes += ";" + String(format: "%.5f", Double(i) / Double(n)); values += ";visible" }
        if i < n - 1 { keyTimes += ";" + String(format: "%.5f", Double(i + 1) / Double(n)); values += ";hidden" }
        return "<g visibility=\"\(i == 0 ? "visible" : "hidden")\"><animate attributeName=\"visibility\" calcMode=\"discrete\" "
            + "dur=\"\(String(format: "%.2f", seconds))s\" repeatCount=\"indefinite\" keyTimes=\"\(keyTimes)\" values=\"\(values)\"/>"
    }

    /// Loops whole SVG pictures (one per frame) with discrete SMIL visibility switches.
    static func animateSVGFrames(_ pictures: [String], title: String, frameSeconds: Double) -> String {
        let n = pictures.count
        let dur = max(Double(n) * max(frameSeconds, 0.1), 0.5)
        var o = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"560\" height=\"580\" viewBox=\"0 0 560 580\" font-family=\"sans-serif\" font-size=\"12\">"
        o += "<text x=\"10\" y=\"16\" font-weight=\"bold\">\(xmlEscape(title))</text>"
        for (i, pic) in pictures.enumerated() {
            // Nested <svg> keeps each picture's own viewBox; it is scaled into the frame.
            var inner = pic
            if let open = inner.range(of: "<svg "), let close = inner[open.upperBound...].range(of: ">") {
                let tag = inner[open.lowerBound..<close.upperBound]
                var viewBox = ""
                if let v = tag.range(of: "viewBox=\""), let e = tag[v.upperBound...].range(of: "\"") {
                    viewBox = " viewBox=\"\(tag[v.upperBound..<e.lowerBound])\""
                }
                inner.replaceSubrange(open.lowerBound..<close.upperBound,
                                      with: "<svg x=\"0\" y=\"24\" width=\"560\" height=\"556\"\(viewBox)>")
            }
            o += frameGroupOpening(i, of: n, seconds: dur) + inner + "</g>"
        }
        return o + "</svg>"
    }

    static func animate(frames: [[RenderCapsule]], cameras: [Float], captions: [String], title: String, frameSeconds: Double) -> String {
        let w: Float = 640, h: Float = 300, scale: Float = 120, groundY: Float = 250
        let n = frames.count
        let dur = max(Double(n) * max(frameSeconds, 0.05), 0.5)
        func f(_ v: Float) -> String { String(format: "%.1f", v) }
        let palette = ["#4C72B0", "#DD8452", "#55A868", "#C44E52", "#8172B3", "#937860", "#DA8BC3", "#8C8C8C"]
        var o = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(w))\" height=\"\(Int(h))\" viewBox=\"0 0 \(Int(w)) \(Int(h))\" font-family=\"sans-serif\" font-size=\"12\">"
        o += "<rect width=\"\(Int(w))\" height=\"\(Int(h))\" fill=\"#fbfbf8\"/>"
        o += "<text x=\"10\" y=\"18\" font-weight=\"bold\">\(xmlEscape(title))</text>"
        for (i, caps) in frames.enumerated() {
            let cam = cameras[i]
            o += frameGroupOpening(i, of: n, seconds: dur)
            o += "<line x1=\"0\" y1=\"\(f(groundY))\" x2=\"\(f(w))\" y2=\"\(f(groundY))\" stroke=\"#555\" stroke-width=\"2\"/>"
            // Ground ticks every metre so forward motion shows.
            let left = cam - w / 2 / scale
            var m = left.rounded(.down)
            while m < left + w / scale {
                let x = (m - cam) * scale + w / 2
                o += "<line x1=\"\(f(x))\" y1=\"\(f(groundY))\" x2=\"\(f(x))\" y2=\"\(f(groundY + 8))\" stroke=\"#555\"/><text x=\"\(f(x + 2))\" y=\"\(f(groundY + 20))\" fill=\"#777\">\(Int(m)) m</text>"
                m += 1
            }
            for c in caps {
                let x1 = (c.from.x - cam) * scale + w / 2, y1 = groundY - c.from.y * scale
                let x2 = (c.to.x - cam) * scale + w / 2, y2 = groundY - c.to.y * scale
                o += "<line x1=\"\(f(x1))\" y1=\"\(f(y1))\" x2=\"\(f(x2))\" y2=\"\(f(y2))\" stroke=\"\(palette[c.link % palette.count])\" stroke-width=\"\(f(max(2, 2 * c.radius * scale)))\" stroke-linecap=\"round\"/>"
            }
            o += "<text x=\"10\" y=\"36\" fill=\"#333\">\(xmlEscape(captions[i]))</text></g>"
        }
        o += "</svg>"
        return o
    }
}
