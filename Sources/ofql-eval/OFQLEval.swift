import ArgumentParser
import BLAS
import Experiments
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
            ExpressivenessCommand.self,
            CompareCommand.self,
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
