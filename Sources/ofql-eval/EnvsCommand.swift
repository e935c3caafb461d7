import ArgumentParser

// Placeholder: the environments issue replaces this file.
struct EnvsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "envs", abstract: "List, check and render environments.")
    func run() throws { throw ValidationError("no environments are registered yet") }
}
