/// A loaded training dataset and what its file says about itself.
public struct LoadedDataset: Sendable {
    public var transitions: Transitions
    /// `metadata/dataset_id`, else the file name without extension.
    public var datasetID: String
    /// `metadata/env_id` when the file names its environment.
    public var envID: String?
    /// Rows dropped because their next state is unknown.
    public var droppedRows: Int
    /// The smallest and largest undiscounted episode return (every kept episode, including a
    /// final one cut by the end of the file); nil without rows.
    public var episodeReturnRange: ClosedRange<Double>? = nil
}

/// Loads a D4RL-layout HDF5 file for training: its ``Transitions``, dataset id, env id,
/// rows dropped and episode-return range.
///
/// Next observations and bootstrap masks follow ``D4RLDataset/makeTransitions(maxEpisodeSteps:)``: stored
/// `next_observations` are used when present, no next state crosses an episode boundary,
/// only `terminals` clear the mask (timeouts bootstrap), and rows whose next state is
/// unknown are dropped. Errors name the file and the key.
public func loadD4RL(path: String) throws -> LoadedDataset {
    let ds = try D4RLDataset.load(path, loadInfos: false)
    var limit: Int? = nil
    if case .int(let v)? = ds.metadata["max_episode_steps"] { limit = Int(v) }
    var id = String(path.split(separator: "/").last ?? Substring(path))
    for ext in [".hdf5", ".h5"] where id.hasSuffix(ext) { id.removeLast(ext.count) }
    if case .string(let s)? = ds.metadata["dataset_id"] { id = s }
    do {
        let q = try ds.makeTransitions(maxEpisodeSteps: limit)
        var env: String? = nil
        if case .string(let e)? = ds.metadata["env_id"] { env = e }
        var lo = Double.infinity, hi = -Double.infinity, ret = 0.0
        for i in 0..<q.count {
            ret += Double(q.rewards[i])
            if q.episodeEnds[i] || i == q.count - 1 { lo = Swift.min(lo, ret); hi = Swift.max(hi, ret); ret = 0 }
        }
        return LoadedDataset(transitions: q, datasetID: id, envID: env, droppedRows: q.droppedRows,
                             episodeReturnRange: q.count > 0 ? lo...hi : nil)
    } catch {
        throw DatasetFileError(file: path, message: "\(error)")
    }
}
