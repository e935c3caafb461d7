import ArgumentParser

// Placeholder: the environments issue replaces this file.
struct BehaviorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "behavior", abstract: "Tune scripted behaviour policies.")
    func run() throws { throw ValidationError("no behaviour policies yet") }
}
