import ArgumentParser
import Physics

/// `ofql-eval demo`: the main job on the small embedded default.
struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Run the main job end to end on a small embedded default.",
        discussion: "Checks the native libraries, then runs a short physics demo.")

    func run() throws {
        let report = Doctor.run()
        print(report.text)
        let failed = report.checks.filter { !$0.passed }
        guard failed.isEmpty else {
            throw ValidationError("demo: library checks failed: " + failed.map(\.name).joined(separator: ", "))
        }
        print("")
        try PhysicsDemo.run()
    }
}

/// A pendulum knocking boxes off a ledge, printed as a short trace.
enum PhysicsDemo {
    static func run() throws {
        let w = World(gravity: (0, -9.81))
        let ground = try w.createBody(.staticBody, x: 0, y: 0)
        try w.addEdge(ground, from: (-10, 0), to: (10, 0))
        try w.addBox(ground, halfWidth: 1, halfHeight: 0.5, center: (2, 0.5))
        var boxes: [BodyID] = []
        for i in 0..<3 {
            let b = try w.createBody(.dynamic, x: 1.6 + Float(i) * 0.35, y: 1.2)
            try w.addBox(b, halfWidth: 0.15, halfHeight: 0.2, material: Material(density: 1, friction: 0.5))
            boxes.append(b)
        }
        // A pendulum released from horizontal swings down through the boxes.
        let arm = try w.createBody(.dynamic, x: 0.9, y: 3.3)
        try w.addCapsule(arm, from: (0, 0), to: (-2.0, 0), radius: 0.1, material: Material(density: 5))
        let hinge = try w.addRevoluteJoint(ground, arm, RevoluteJointOptions(anchor: (0.9, 3.3)))
        print("physics demo: a pendulum knocks three boxes off a ledge (Box2D \(World.box2DVersion))")
        print("   t(s)   arm angle   boxes on ledge")
        let dt: Float = 1.0 / 60
        for k in 1...240 {
            if k % 40 == 0 {
                let onLedge = boxes.filter { w.state($0).y > 1.0 && w.touchingStatic($0) }.count
                print(String(repeating: " ", count: 3) + pad(Float(k) * dt, 4) + pad(w.jointValue(hinge), 12) + "   \(onLedge)")
            }
            w.step(dt)
        }
    }

    static func pad(_ v: Float, _ width: Int) -> String {
        let s = String((v * 100).rounded() / 100)
        return String(repeating: " ", count: max(0, width - s.count)) + s
    }
}
