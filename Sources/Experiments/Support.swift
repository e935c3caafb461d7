#if canImport(Glibc)
import Glibc
#endif
import Envs
import Foundation

/// A failed run: a message that names the flag or file at fault and what was expected.
/// The CLI prints it and exits non-zero.
public struct RunError: Error, CustomStringConvertible, LocalizedError, Sendable {
    public let description: String
    public init(_ message: String) { description = message }
    public var errorDescription: String? { description }
}

/// Messages for people go to stderr; stdout stays for results.
public enum Log {
    public static func info(_ s: String) { StandardStream.error.write(s + "\n") }
    public static var stderrIsTerminal: Bool { isatty(2) != 0 }
}

/// Unbuffered writes to a standard stream's file descriptor.
public struct StandardStream: Sendable {
    public let fd: Int32
    public static let error = StandardStream(fd: 2)
    public static let output = StandardStream(fd: 1)
    public func write(_ s: String) {
        var s = s
        s.withUTF8 { buf in
            var off = 0
            while off < buf.count {
                let n = Glibc.write(fd, buf.baseAddress! + off, buf.count - off)
                if n <= 0 { break }
                off += n
            }
        }
    }
}

/// Monotonic wall clock in seconds.
public func monotonicSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
}

/// Three significant decimals without Foundation's formatter.
public func format3(_ v: Double) -> String {
    let r = (v * 1000).rounded() / 1000
    if r == r.rounded(), abs(r) < 1e15 { return String(Int64(r)) }
    return String(r)
}

/// Writes text atomically (temporary file, then rename); errors name `flag` and the path.
public func writeAtomically(_ text: String, to path: String, flag: String) throws {
    let url = URL(fileURLWithPath: path)
    do { try Data(text.utf8).write(to: url, options: .atomic) } catch {
        throw RunError("\(flag): cannot write \(path): \(error.localizedDescription)")
    }
}

/// Resolves an env id to its spec; the error names `flag`.
public func envSpec(_ id: String, flag: String = "--env") throws -> EnvSpec {
    do { return try EnvRegistry.spec(EnvID(rawValue: id)) } catch {
        throw RunError("\(flag): \(error)")
    }
}
