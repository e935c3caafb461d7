import ArgumentParser

// Placeholder: the environments issue replaces this file.
struct BenchEnvsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "envs", abstract: "Single-thread env steps/s.")
    func run() throws { throw ValidationError("no environments are registered yet") }
}
