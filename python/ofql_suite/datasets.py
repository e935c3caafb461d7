"""D4RL-layout datasets: loading after the suite's own validation, and export to Minari."""
import os

import h5py
import numpy as np

from ._native import ERRLEN, error_buffer, lib, message


def verify(path, env_id=None):
    """The problems `ofql-eval dataset verify` reports for `path` (empty list: valid). Raises
    FileNotFoundError for a missing file and ValueError for one that cannot be read as a dataset."""
    err = error_buffer()
    n = lib.ofs_dataset_verify(str(path).encode(), env_id.encode() if env_id else None, err, ERRLEN)
    if n < 0:
        if not os.path.exists(path):
            raise FileNotFoundError(message(err))
        raise ValueError(message(err))
    return [line for line in message(err).split("\n") if line] if n > 0 else []


def load_dataset(path, env_id=None):
    """The D4RL dict of a dataset file (`observations`, `actions`, `rewards`, `terminals`,
    `timeouts`, `next_observations`, `infos/...`, `metadata/...`) as numpy arrays, after the
    same validation as `ofql-eval dataset verify`; raises ValueError listing the problems."""
    problems = verify(path, env_id)
    if problems:
        raise ValueError(f"{path}: {len(problems)} problem(s):\n" + "\n".join(problems))
    out = {}
    with h5py.File(path, "r") as f:
        def visit(name, obj):
            if isinstance(obj, h5py.Dataset):
                v = obj[()]
                out[name] = v.decode() if isinstance(v, bytes) else v  # metadata/* strings
        f.visititems(visit)
    return out


def episodes(data):
    """(start, end) row ranges of the episodes (ends at terminals, timeouts or the last row)."""
    ends = np.flatnonzero(np.logical_or(data["terminals"], data["timeouts"]))
    bounds, start = [], 0
    for e in ends:
        bounds.append((start, int(e) + 1))
        start = int(e) + 1
    if start < len(data["rewards"]):
        bounds.append((start, len(data["rewards"])))
    return bounds


def to_minari(path, dataset_id, env_id=None):
    """Writes a Minari dataset `dataset_id` (e.g. "ofql_suite/hopper-medium-v1") from a D4RL-layout
    file and returns it (`minari.load_dataset(dataset_id)` opens it). Needs the `minari` extra."""
    import minari
    from minari.data_collector import EpisodeBuffer

    from .envs import OFQLEnv

    data = load_dataset(path, env_id)
    env_name = env_id or data.get("metadata/env_id")
    if env_name is None:
        raise ValueError(f"{path}: the file does not name its environment (metadata/env_id); pass env_id")
    buffers = []
    for k, (s, e) in enumerate(episodes(data)):
        term = data["terminals"][s:e].astype(bool)
        trunc = data["timeouts"][s:e].astype(bool)
        trunc[-1] |= not term[-1]  # an episode cut by the end of the file ends truncated
        buffers.append(EpisodeBuffer(
            id=k,
            observations=np.concatenate([data["observations"][s:e], data["next_observations"][e - 1:e]]).astype(np.float32),
            actions=data["actions"][s:e].astype(np.float32),
            rewards=list(data["rewards"][s:e].astype(np.float64)),
            terminations=list(term), truncations=list(trunc & ~term)))
    env = OFQLEnv(env_name)
    # Gymnasium id of the env, so Minari users can recover it with dataset.recover_environment().
    from . import ENV_IDS, NATIVE_IDS
    gym_id = dict(zip(NATIVE_IDS, ENV_IDS))[env_name]
    return minari.create_dataset_from_buffers(
        dataset_id=dataset_id, buffer=buffers, env=gym_id, observation_space=env.observation_space,
        action_space=env.action_space, algorithm_name=str(data.get("metadata/behavior_policy", "scripted")),
        author="ofql_suite", description=f"converted from {path}")
