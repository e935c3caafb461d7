import Foundation
import Synchronization

/// A progress line with rate and ETA on stderr, only when stderr is a terminal.
public final class ProgressLine: Sendable {
    let label: String
    let unit: String
    let start = monotonicSeconds()
    let last = Mutex<Double>(0)
    let enabled: Bool

    public init(_ label: String, unit: String, enabled: Bool = Log.stderrIsTerminal) {
        self.label = label; self.unit = unit; self.enabled = enabled
    }

    /// Reports `done` of `total`; throttled to a few updates per second.
    public func update(_ done: Int, of total: Int) {
        guard enabled else { return }
        let now = monotonicSeconds()
        let due = last.withLock { t -> Bool in
            if now - t < 0.25 && done < total { return false }
            t = now
            return true
        }
        guard due else { return }
        let elapsed = now - start
        let rate = Double(done) / max(elapsed, 1e-9)
        let eta = rate > 0 ? Double(total - done) / rate : .infinity
        let pct = total > 0 ? 100 * Double(done) / Double(total) : 100
        let line = String(format: "\r%@ %5.1f%%  %d/%d %@  %.0f %@/s  ETA %@   ", label, pct, done, total, unit, rate, unit, ProgressLine.clock(eta))
        StandardStream.error.write(line)
    }

    public func finish() {
        guard enabled else { return }
        StandardStream.error.write("\r" + String(repeating: " ", count: 100) + "\r")
    }

    static func clock(_ s: Double) -> String {
        guard s.isFinite else { return "--:--" }
        let t = Int(s.rounded())
        return t >= 3600 ? String(format: "%d:%02d:%02d", t / 3600, t / 60 % 60, t % 60) : String(format: "%02d:%02d", t / 60, t % 60)
    }
}
