import Foundation

/// How `suite --slurm` asks Slurm for resources: one array task per cell.
public struct SlurmSettings: Codable, Sendable, Equatable {
    /// CPUs per array task (also the task's BLAS threads and rollout workers).
    public var cpus_per_task: Int?
    /// Wall-time limit per task, in Slurm's format (e.g. "02:00:00").
    public var time: String?
    /// At most this many tasks at once (the array's `%` throttle).
    public var throttle: Int?
    public var partition: String?
    public init(cpus_per_task: Int? = nil, time: String? = nil, throttle: Int? = nil, partition: String? = nil) {
        self.cpus_per_task = cpus_per_task; self.time = time; self.throttle = throttle; self.partition = partition
    }
}

/// The scripts `suite --slurm` writes and submits.
public struct SlurmSubmission: Sendable {
    public var arrayScript: String
    public var collectScript: String
    public var tasks: Int
    /// Job ids when submitted (nil for a dry run or without `sbatch`).
    public var arrayJob: String?
    public var collectJob: String?
}

extension Suite {
    /// Writes `out/slurm/array.sbatch` (one task per cell, requeue-safe: a requeued task resumes
    /// its cell from the latest checkpoint) and `out/slurm/collect.sbatch` (builds the tables),
    /// after generating every dataset, so array tasks only read them. Submits both with `sbatch`
    /// (the collection with `--dependency=afterany`, so it also lists failed cells) unless
    /// `dryRun` or `sbatch` is not on PATH.
    public func submitSlurm(settings: SlurmSettings, binary: String, dryRun: Bool) throws -> SlurmSubmission {
        try prepare()
        let fm = FileManager.default
        let root = URL(fileURLWithPath: out).standardizedFileURL.path
        let cells = URL(fileURLWithPath: cellsDir).standardizedFileURL.path
        let slurmDir = root + "/slurm"
        try fm.createDirectory(atPath: slurmDir + "/logs", withIntermediateDirectories: true)
        let cpus = settings.cpus_per_task ?? 2
        guard cpus >= 1 else { throw RunError("--cpus-per-task must be at least 1, got \(cpus)") }
        let n = plan.cells.count
        var array = "0-\(n - 1)"
        if let t = settings.throttle {
            guard t >= 1 else { throw RunError("--throttle must be at least 1, got \(t)") }
            array += "%\(t)"
        }
        func q(_ s: String) -> String { "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'" }
        var head = "#!/bin/bash\n"
        head += "#SBATCH --job-name=ofql-\(plan.name.filter { $0.isLetter || $0.isNumber || $0 == "-" }.prefix(32))\n"
        if let p = settings.partition { head += "#SBATCH --partition=\(p)\n" }
        var a = head
        a += "# One task per (dataset, algorithm, seed) cell of \(root)/plan.json, \(n) cells; written by ofql-eval suite --slurm.\n"
        a += "#SBATCH --array=\(array)\n#SBATCH --cpus-per-task=\(cpus)\n"
        if let t = settings.time { a += "#SBATCH --time=\(t)\n" }
        a += "#SBATCH --output=\(slurmDir)/logs/task-%a.out\n#SBATCH --open-mode=append\n#SBATCH --requeue\n"
        a += "set -euo pipefail\n"
        a += "echo \"task $SLURM_ARRAY_TASK_ID on $(hostname), restart ${SLURM_RESTART_COUNT:-0}\"\n"
        a += "exec \(q(binary)) suite --plan \(q(root + "/plan.json")) --out \(q(root)) --cells \(q(cells)) "
        a += "--task \"$SLURM_ARRAY_TASK_ID\" --threads \(cpus) --workers \(cpus)\n"
        var c = head
        c += "# Builds the tables from the cells once the array has ended (also when cells failed).\n"
        c += "#SBATCH --cpus-per-task=1\n#SBATCH --output=\(slurmDir)/logs/collect.out\n"
        c += "set -euo pipefail\nexec \(q(binary)) suite collect \(q(root)) --cells \(q(cells))\n"
        let arrayPath = slurmDir + "/array.sbatch", collectPath = slurmDir + "/collect.sbatch"
        try writeAtomically(a, to: arrayPath, flag: "--out")
        try writeAtomically(c, to: collectPath, flag: "--out")
        var sub = SlurmSubmission(arrayScript: arrayPath, collectScript: collectPath, tasks: n)
        guard !dryRun, let sbatch = Suite.which("sbatch") else { return sub }
        let job = try Suite.sbatch(sbatch, [arrayPath])
        sub.arrayJob = job
        sub.collectJob = try Suite.sbatch(sbatch, ["--dependency=afterany:\(job)", collectPath])
        return sub
    }

    /// The full path of an executable on PATH.
    static func which(_ name: String) -> String? {
        for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":") {
            let p = "\(dir)/\(name)"
            if FileManager.default.isExecutableFile(atPath: p) { return p }
        }
        return nil
    }

    /// Runs `sbatch --parsable ARGS` and returns the job id.
    static func sbatch(_ path: String, _ args: [String]) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: path)
        p.arguments = ["--parsable"] + args
        let out = Pipe(), err = Pipe()
        p.standardOutput = out; p.standardError = err
        try p.run()
        p.waitUntilExit()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let msg = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        guard p.terminationStatus == 0, let id = text.split(separator: "\n").first?.split(separator: ";").first else {
            throw RunError("sbatch \(args.joined(separator: " ")) failed (exit \(p.terminationStatus)): \(msg)")
        }
        return String(id)
    }
}
