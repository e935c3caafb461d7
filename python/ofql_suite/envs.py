"""Gymnasium envs over the native stand-ins, and a vector env stepped by native workers."""
import ctypes

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from . import _native
from ._native import ERRLEN, error_buffer, f32, lib, message, u8


class OFQLEnv(gym.Env):
    """One native env. `reset(seed=s)` plays the episode that `ofql-eval evaluate --seed s` plays
    first (episode i of an evaluation uses seed s + i); episodes are truncated at the env's time
    limit natively, so `truncated` comes from the env, not from a Gymnasium wrapper.

    Rendering: the native suite draws SVG (`ofql-eval envs render`), not pixel frames, so no
    `render_mode` is offered here."""

    metadata = {"render_modes": []}

    def __init__(self, env_id, render_mode=None):
        if render_mode is not None:
            raise ValueError(f"render_mode {render_mode!r}: the native envs draw SVG through `ofql-eval envs render`")
        info = _native.env_info(env_id)
        self.env_id = env_id
        self.observation_space = spaces.Box(info["obs_low"], info["obs_high"], dtype=np.float32)
        self.action_space = spaces.Box(-1.0, 1.0, shape=(info["act_dim"],), dtype=np.float32)
        self.max_episode_steps = info["max_episode_steps"]
        self._err = error_buffer()
        self._handle = lib.ofs_env_create(env_id.encode(), self._err, ERRLEN)
        if not self._handle:
            raise ValueError(message(self._err))
        self._obs = np.zeros(info["obs_dim"], np.float32)
        self._action = np.zeros(info["act_dim"], np.float32)
        self._reward = ctypes.c_float()
        self._term = ctypes.c_uint8()
        self._trunc = ctypes.c_uint8()

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        native_seed = seed if seed is not None else int(self.np_random.integers(0, 2**63))
        if lib.ofs_env_reset(self._handle, native_seed, f32(self._obs), self._err, ERRLEN) != 0:
            raise RuntimeError(message(self._err))
        return self._obs.copy(), {"seed": native_seed}

    def step(self, action):
        a = np.asarray(action, dtype=np.float32).reshape(-1)
        if a.shape != self._action.shape:
            raise ValueError(f"{self.env_id}: action has shape {np.shape(action)}, expected {self._action.shape}")
        self._action[:] = a
        if lib.ofs_env_step(self._handle, f32(self._action), f32(self._obs), ctypes.byref(self._reward),
                            ctypes.byref(self._term), ctypes.byref(self._trunc), self._err, ERRLEN) != 0:
            raise RuntimeError(message(self._err))
        return self._obs.copy(), float(self._reward.value), bool(self._term.value), bool(self._trunc.value), {}

    def close(self):
        if getattr(self, "_handle", None):
            lib.ofs_env_close(self._handle)
            self._handle = None

    def __del__(self):
        self.close()


class OFQLVectorEnv(gym.vector.VectorEnv):
    """`num_envs` copies of one env stepped in native code by `num_threads` Dispatch workers
    (no Python loop over envs). Gymnasium 1.x next-step autoreset: the step after an episode ends
    resets that env and returns its first observation with reward 0. `reset(seed=s)` gives env i
    the seed s + i, so env i's first episode is episode i of `ofql-eval evaluate --seed s`; its
    k-th later episode uses seed s + i + k · num_envs."""

    metadata = {"render_modes": [], "autoreset_mode": getattr(gym.vector, "AutoresetMode", None) and gym.vector.AutoresetMode.NEXT_STEP}

    def __init__(self, env_id, num_envs, num_threads=1):
        info = _native.env_info(env_id)
        self.env_id = env_id
        self.num_envs = int(num_envs)
        self.single_observation_space = spaces.Box(info["obs_low"], info["obs_high"], dtype=np.float32)
        self.single_action_space = spaces.Box(-1.0, 1.0, shape=(info["act_dim"],), dtype=np.float32)
        self.observation_space = gym.vector.utils.batch_space(self.single_observation_space, self.num_envs)
        self.action_space = gym.vector.utils.batch_space(self.single_action_space, self.num_envs)
        self._err = error_buffer()
        self._handle = lib.ofs_vec_create(env_id.encode(), self.num_envs, int(num_threads), self._err, ERRLEN)
        if not self._handle:
            raise ValueError(message(self._err))
        self._obs = np.zeros((self.num_envs, info["obs_dim"]), np.float32)
        self._actions = np.zeros((self.num_envs, info["act_dim"]), np.float32)
        self._rewards = np.zeros(self.num_envs, np.float32)
        self._term = np.zeros(self.num_envs, np.uint8)
        self._trunc = np.zeros(self.num_envs, np.uint8)
        self._np_random = None

    def reset(self, *, seed=None, options=None):
        if isinstance(seed, (list, tuple)):
            base = int(seed[0])
            if list(seed) != [base + i for i in range(self.num_envs)]:
                raise ValueError("seed: a list must be consecutive (s, s + 1, …): env i always uses the base seed + i")
            seed = base
        if seed is not None:
            self._np_random, _ = gym.utils.seeding.np_random(seed)
        elif self._np_random is None:
            self._np_random, _ = gym.utils.seeding.np_random()
        native_seed = seed if seed is not None else int(self._np_random.integers(0, 2**63))
        if lib.ofs_vec_reset(self._handle, native_seed, f32(self._obs), self._err, ERRLEN) != 0:
            raise RuntimeError(message(self._err))
        return self._obs.copy(), {}

    def step(self, actions):
        a = np.asarray(actions, dtype=np.float32)
        if a.shape != self._actions.shape:
            raise ValueError(f"{self.env_id}: actions have shape {a.shape}, expected {self._actions.shape}")
        np.copyto(self._actions, a)
        if lib.ofs_vec_step(self._handle, f32(self._actions), f32(self._obs), f32(self._rewards), u8(self._term),
                            u8(self._trunc), self._err, ERRLEN) != 0:
            raise RuntimeError(message(self._err))
        return (self._obs.copy(), self._rewards.astype(np.float64), self._term.astype(bool), self._trunc.astype(bool), {})

    def close_extras(self, **kwargs):
        if getattr(self, "_handle", None):
            lib.ofs_vec_close(self._handle)
            self._handle = None

    def __del__(self):
        self.close_extras()
