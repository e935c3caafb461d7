import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Temporary siblings of a file being written atomically (written under a hidden name, then
/// renamed): `.NAME.tmp-PID` or `.NAME.PID.RANDOM.tmp`. A writer killed mid-write leaves its
/// temporary behind; the next write to the same place removes those whose writer is gone.
public enum AtomicFiles {
    /// The temporary name for `name` written by this process.
    public static func temporaryName(for name: String) -> String { ".\(name).tmp-\(getpid())" }

    /// Removes temporaries of `name` in `folder` whose writing process no longer exists (never
    /// this process's, never a live writer's). Returns the removed paths.
    @discardableResult
    public static func removeStaleTemporaries(of name: String, in folder: String) -> [String] {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: folder) else { return [] }
        var removed: [String] = []
        for e in entries {
            guard let pid = writerPID(of: e, for: name), pid != getpid(), !processExists(pid) else { continue }
            let path = folder + "/" + e
            if (try? FileManager.default.removeItem(atPath: path)) != nil { removed.append(path) }
        }
        return removed
    }

    /// The writer's process id when `entry` is a temporary of `name`.
    static func writerPID(of entry: String, for name: String) -> pid_t? {
        let prefix = "." + name + "."
        guard entry.hasPrefix(prefix) else { return nil }
        let rest = entry.dropFirst(prefix.count)
        if rest.hasPrefix("tmp-") { return pid_t(rest.dropFirst(4)) }                          // .NAME.tmp-PID
        let parts = rest.split(separator: ".")                                                  // .NAME.PID.RANDOM.tmp
        if parts.count == 3, parts[2] == "tmp", UInt32(parts[1]) != nil { return pid_t(parts[0]) }
        return nil
    }

    static func processExists(_ pid: pid_t) -> Bool { kill(pid, 0) == 0 || errno == EPERM }
}
