import ArgumentParser
import BLAS
#if canImport(Glibc)
import Glibc
#endif

/// `ofql-eval`: datasets, training, rollout evaluation and diagnostics for OFQL.
@main
struct OFQLEval: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ofql-eval",
        abstract: "One-Step Flow Q-Learning with a Box2D offline-RL evaluation suite.",
        version: PackageInfo.version,
        subcommands: [
            DoctorCommand.self,
            DemoCommand.self,
            EnvsCommand.self,
            BehaviorCommand.self,
            EvaluateCommand.self,
            DatasetCommand.self,
            ReferenceCommand.self,
            SuiteCommand.self,
            TrainCommand.self,
            BenchCommand.self,
        ]
    )

    static func main() {
        // OpenBLAS reads OPENBLAS_CORETYPE before main; fix a generic kernel choice first.
        let choice = BLASRuntime.selectCoreAndReexecIfNeeded(log: { Log.info($0) })
        PackageInfo.blasCoreChoice = choice
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            exit(withError: error)
        }
    }
}

/// Version and start-up facts shown by `doctor` and written into outputs.
enum PackageInfo {
    static let version = "0.1.0"
    nonisolated(unsafe) static var blasCoreChoice = ""
}

/// Messages for people go to stderr; stdout stays for results.
enum Log {
    static func info(_ s: String) {
        FileHandle.standardError.write(s + "\n")
    }
    static var stderrIsTerminal: Bool { isatty(2) != 0 }
}

struct FileHandle {
    let fd: Int32
    static let standardError = FileHandle(fd: 2)
    static let standardOutput = FileHandle(fd: 1)
    func write(_ s: String) {
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
