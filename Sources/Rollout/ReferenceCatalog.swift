import Envs

/// R_random and R_expert per environment, measured by `ofql-eval reference` (100 seeded
/// episodes each, seed 0) and committed in `datasets/catalog.json`; this table mirrors it so
/// scores need no file at run time. Regenerate both with the command when dynamics change.
public enum ReferenceCatalog {
    /// Generator version that produced these numbers.
    public static let generatorVersion = "0.1.0"
    /// Exact means printed by `ofql-eval reference --episodes 100 --seed 0` (see the test that
    /// recomputes them).
    static let table: [String: ReferenceScores] = [
        "hopper": ReferenceScores(random: 4.724004279598594, expert: 2468.332855280638),
        "walker2d": ReferenceScores(random: 1.486963286063401, expert: 3567.1233485621215),
        "halfcheetah": ReferenceScores(random: -291.67869294498115, expert: 3156.8733463985473),
    ]
    public static func scores(for id: EnvID) -> ReferenceScores? { table[id.rawValue] }
}
