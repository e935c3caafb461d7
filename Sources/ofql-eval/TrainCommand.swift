import ArgumentParser

// Placeholder: the OFQL issue replaces this file.
struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "train", abstract: "Train OFQL on a D4RL-layout dataset.")
    func run() throws { throw ValidationError("training is not available yet") }
}
