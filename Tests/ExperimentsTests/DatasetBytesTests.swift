import Datasets
import Experiments
import Testing
import TestSupport
@testable import Rollout

/// SHA-256 of a dataset's arrays (observations, actions, rewards, next observations as
/// little-endian float32, then terminals and timeouts as bytes).
/// `columns` keeps only the first that many observation values of each row (the maze env v2
/// layout inside v3's observations).
func arrayFingerprint(_ d: D4RLDataset, columns: Int? = nil) -> String {
    var bytes: [UInt8] = []
    func floats(_ a: [Float]) { for v in a { withUnsafeBytes(of: v.bitPattern.littleEndian) { bytes.append(contentsOf: $0) } } }
    func observations(_ a: [Float]) -> [Float] {
        guard let c = columns else { return a }
        let w = d.observationDimension
        return (0..<(a.count / w)).flatMap { a[($0 * w)..<($0 * w + c)] }
    }
    floats(observations(d.observations)); floats(d.actions); floats(d.rewards); floats(observations(d.nextObservations ?? []))
    bytes.append(contentsOf: d.terminals.map { $0 ? 1 : 0 })
    bytes.append(contentsOf: (d.timeouts ?? []).map { $0 ? 1 : 0 })
    return sha256Hex(bytes)
}

@Suite("Dataset bytes are fixed by id, size and seed")
struct DatasetBytesTests {
    /// Fingerprints of 3,000-transition datasets (seed 0), recorded when the generators moved onto
    /// one RNG module and one episode runner, and equal to those of the files the code wrote
    /// before (hashed independently with h5py; the v4 to v7 mazes' recorded from the generator
    /// when they were made); a change of any of them changes the data and needs a new dataset
    /// version. The maze files up to v7 were made on maze env v2: their fingerprints cover the
    /// first 9 observation values of env v3's rows, which shows that v3's wall ranges were
    /// appended to unchanged rows (``v2Columns``); v8's cover whole rows.
    static let golden: [(String, String)] = [
        ("hopper-medium-replay-v1", "a91056dc288703becd260a1be735bb851b944036738df2c60a63c51f00d787f8"),
        ("walker2d-medium-expert-v1", "68949e17b9ca70fdbf26ef2f41cae98ff5aee6d472690b6ec704a6d011042337"),
        ("halfcheetah-medium-v2", "63f45dc457389d69a78f9f09d009bbdb555c477a01025d85c4ee447a4ef71228"),
        ("maze-medium-play-v3", "5fd3ba3f7668ec698e1c5f69695d62d89c7da1b7e71327cffca1b9505e20109c"),
        ("maze-medium-diverse-v4", "bed1d045a15fe570525d2096fcb64fb634032da611b96d62ebd85c272b2068cc"),
        ("maze-large-play-v4", "c7e65182065c142bc5bc71f7c67e57e8c1972ddaa9760c6e11244c18637a0a51"),
        ("maze-medium-play-v5", "07b496d9900d5fdb748604ffc0edaecab98baf721494cee58d6f5406b8336e48"),
        ("maze-large-diverse-v5", "58beeb396a93a934f5983a43453dca6213611b9b2a7361d32f7f2c5a4d104a53"),
        ("maze-medium-play-v6", "239728fcc99d758611efdf591f6fdb30683b6e16bf2c78c8093341eb7aa156a6"),
        ("maze-large-diverse-v6", "dfec7e4db4127010954b6ec47ec58431a48be16e75893273e94ada748a3154fa"),
        ("maze-medium-play-v7", "a03df9608f9672aff6bdf9a019d78c6d9709f08a59e969d65277b7d1507593b2"),
        ("maze-large-diverse-v7", "66eff1a0301cf7a0d5958374918170bf2aac7dc23f99d56196a4cd91fb7626b0"),
        ("maze-medium-play-v8", "6a279863224f2528b7a69042be00743380120451f0d9b1a0f61eb40522981db1"),
        ("maze-large-diverse-v8", "ba1eef3aeb559cb2235a11f12b53ec0f2975b4856d389f9bf81872f6ccdd669d"),
        ("kitchen-mixed-v1", "05bf5882664e30c2b9c7e385192f7ebdd6bc2fe03dee34a332810651558e37c0"),
        ("kitchen-partial-v2", "5f3d7ea7a8594403f6f8a24afef73b2a1f8a53216d4aae337c91d4f3938b8860"),
        ("kitchen-mixed-v2", "198bda201cc681b2c29b30c41f74590ee68d8c93940b7b2664c97b0ee468876f"),
    ]

    @Test("generated arrays match their recorded fingerprints", arguments: golden.map(\.0))
    func fingerprint(id: String) throws {
        let entry = try DatasetCatalog.entry(id)
        let d = try DatasetGenerator.generate(entry, size: 3000, seed: 0, workers: 2, provider: BundledBehaviors(datasets: datasetsPath))
        let want = Self.golden.first { $0.0 == id }!.1
        let columns = Self.v2Columns(id)
        #expect(arrayFingerprint(d, columns: columns) == want, "\(id): \(arrayFingerprint(d, columns: columns))")
    }

    /// 9 for maze data made on maze env v2 (versions 3 to 7), nil otherwise.
    static func v2Columns(_ id: String) -> Int? {
        guard id.hasPrefix("maze-"), let v = Int(id.split(separator: "v").last ?? ""), v <= 7 else { return nil }
        return 9
    }
}
