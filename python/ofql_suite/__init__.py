"""The OFQL suite's Box2D stand-ins for D4RL, from Python.

    import gymnasium as gym, ofql_suite
    env = gym.make("ofql_suite/hopper-v1")
    vec = ofql_suite.make_vec("hopper", num_envs=8, num_threads=2)
    data = ofql_suite.load_dataset("data/hopper-medium-v1.hdf5")

Importing the package registers every env with Gymnasium as `ofql_suite/<env>-v<version>`."""
import gymnasium as gym

from . import _native
from .datasets import load_dataset, to_minari, verify
from .envs import OFQLEnv, OFQLVectorEnv

__version__ = _native.lib.ofs_version().decode()

#: The native env names ("hopper", "maze-medium", ...).
NATIVE_IDS = _native.env_ids()


def _gym_id(name):
    return f"ofql_suite/{name}-v{_native.env_info(name)['version']}"


#: Every env's Gymnasium id.
ENV_IDS = [_gym_id(n) for n in NATIVE_IDS]

for _name, _id in zip(NATIVE_IDS, ENV_IDS):
    if _id not in gym.registry:
        gym.register(id=_id, entry_point="ofql_suite.envs:OFQLEnv", vector_entry_point="ofql_suite.envs:OFQLVectorEnv",
                     kwargs={"env_id": _name})


def native_id(env_id):
    """"hopper" for "ofql_suite/hopper-v1" (and for "hopper")."""
    for name, gid in zip(NATIVE_IDS, ENV_IDS):
        if env_id in (name, gid):
            return name
    raise ValueError(f"unknown env {env_id!r}; known: {', '.join(ENV_IDS)}")


def normalized_score(env_id, episode_return):
    """D4RL-style score of a locomotion return: 100 (R − R_random) / (R_expert − R_random), with the
    suite's reference returns (the same numbers `ofql-eval evaluate` uses)."""
    import ctypes

    lo, hi = ctypes.c_double(), ctypes.c_double()
    err = _native.error_buffer()
    if _native.lib.ofs_env_reference(native_id(env_id).encode(), ctypes.byref(lo), ctypes.byref(hi), err, _native.ERRLEN) != 0:
        raise ValueError(_native.message(err))
    return 100.0 * (episode_return - lo.value) / (hi.value - lo.value)


def make_vec(env_id, num_envs, num_threads=1):
    """A `gymnasium.vector.VectorEnv` of `num_envs` copies stepped natively by `num_threads` workers."""
    return OFQLVectorEnv(native_id(env_id), num_envs, num_threads)


__all__ = ["ENV_IDS", "NATIVE_IDS", "OFQLEnv", "OFQLVectorEnv", "make_vec", "normalized_score", "load_dataset", "to_minari", "verify", "native_id"]
