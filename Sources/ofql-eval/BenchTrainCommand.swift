import ArgumentParser

// Placeholder: the OFQL issue replaces this file.
struct BenchTrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "train", abstract: "OFQL gradient steps/s.")
    func run() throws { throw ValidationError("training is not available yet") }
}

struct BenchPolicyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "policy", abstract: "One-step action sampling throughput.")
    func run() throws { throw ValidationError("policies are not available yet") }
}
