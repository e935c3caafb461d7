"""Tests of the Python package (run by scripts/python-check.sh after `pip install ./python`).

OFQL_EVAL names the ofql-eval executable of the same checkout: the datasets and the reference
evaluations come from it, so the package is checked against the CLI."""
import importlib.util
import json
import os
import subprocess
import tempfile
import unittest
import warnings
from pathlib import Path

import gymnasium as gym
import h5py
import numpy as np
from gymnasium.utils.env_checker import check_env

import ofql_suite
from ofql_suite import _native

CLI = os.environ.get("OFQL_EVAL", "ofql-eval")
REPO = Path(__file__).resolve().parents[2]


def cli(*args):
    r = subprocess.run([CLI, *args], cwd=REPO, capture_output=True, text=True)
    if r.returncode != 0:
        raise AssertionError(f"{CLI} {' '.join(args)} failed: {r.stderr}")
    return r.stdout


class EnvTests(unittest.TestCase):
    def test_every_env_is_registered_and_passes_gymnasiums_checker(self):
        self.assertEqual(len(ofql_suite.ENV_IDS), len(ofql_suite.NATIVE_IDS))
        self.assertIn("ofql_suite/hopper-v1", ofql_suite.ENV_IDS)
        for env_id in ofql_suite.ENV_IDS:
            with self.subTest(env=env_id), warnings.catch_warnings():
                warnings.simplefilter("error")  # a checker warning fails the test, except the
                # heuristic about unbounded observation entries (Gymnasium's MuJoCo envs raise it too)
                warnings.filterwarnings("ignore", message=".*Box observation space (minimum|maximum) value is .?infinity")
                env = gym.make(env_id)
                check_env(env.unwrapped, skip_render_check=True)
                env.close()

    def test_seeded_episodes_are_deterministic(self):
        for env_id in ofql_suite.ENV_IDS:
            with self.subTest(env=env_id):
                runs = []
                for _ in range(2):
                    env = gym.make(env_id)
                    env.action_space.seed(3)
                    obs = [env.reset(seed=11)[0]]
                    for t in range(60):
                        o, r, term, trunc, _ = env.step(env.action_space.sample())
                        obs.append(o)
                        if term or trunc:
                            obs.append(env.reset()[0])  # unseeded reset: drawn from the seeded generator
                    runs.append(np.stack(obs))
                    env.close()
                np.testing.assert_array_equal(runs[0], runs[1])
        a = gym.make("ofql_suite/hopper-v1").reset(seed=1)[0]
        b = gym.make("ofql_suite/hopper-v1").reset(seed=2)[0]
        self.assertFalse(np.array_equal(a, b), "different seeds start differently")

    def test_bad_actions_and_ids_raise_clear_errors(self):
        env = gym.make("ofql_suite/hopper-v1").unwrapped
        env.reset(seed=0)
        with self.assertRaisesRegex(ValueError, r"expected \(3,\)"):
            env.step(np.zeros(4, np.float32))
        with self.assertRaisesRegex(RuntimeError, "must be finite"):
            env.step(np.array([np.nan, 0, 0], np.float32))
        with self.assertRaisesRegex(ValueError, "unknown"):
            ofql_suite.make_vec("no-such-env", 2)
        with self.assertRaisesRegex(ValueError, "num_envs"):
            ofql_suite.make_vec("hopper", 0)
        with self.assertRaisesRegex(ValueError, "success rate"):
            ofql_suite.normalized_score("maze-medium", 1.0)

    def test_box2d_profiler_timers_are_disabled_inside_the_library(self):
        self.assertEqual(_native.lib.ofs_box2d_profiler_disabled(), 1)


def expert_action(policy, obs):
    """The committed linear expert, a = clip(W [(o - mu) / sd; 1]), in float32 with the Swift loop's
    summation order, so its actions equal the CLI's bit for bit."""
    W, mu, sd = policy
    n = len(mu)
    z = ((obs - mu) / sd).astype(np.float32)
    prod = (W[:, :n] * z).astype(np.float32)
    s = W[:, n].copy()
    for j in range(n):
        s = (s + prod[:, j]).astype(np.float32)
    return np.clip(s, np.float32(-1), np.float32(1))


def load_expert(env):
    d = json.loads((REPO / "datasets" / "behavior" / f"{env}.json").read_text())["expert"]
    f = lambda k: np.array(d[k], dtype=np.float32)  # noqa: E731
    obs_dim = len(d["obs_mean"])
    return f("params").reshape(-1, obs_dim + 1), f("obs_mean"), f("obs_std")


class VectorTests(unittest.TestCase):
    def test_first_episode_of_each_env_equals_the_cli_evaluation(self):
        for env in ["hopper", "walker2d", "halfcheetah"]:
            with self.subTest(env=env):
                n, seed = 4, 7
                with tempfile.TemporaryDirectory() as tmp:
                    cli("evaluate", "--env", env, "--policy", "expert", "--noise", "0", "--episodes", str(n),
                        "--seed", str(seed), "--workers", "2", "--json", f"{tmp}/eval.json")
                    ref = json.loads(Path(f"{tmp}/eval.json").read_text())["episodes"]
                policy = load_expert(env)
                vec = ofql_suite.make_vec(env, n, 2)
                obs, _ = vec.reset(seed=seed)
                returns, lengths, done = np.zeros(n), np.zeros(n, int), np.zeros(n, bool)
                while not done.all():
                    actions = np.stack([expert_action(policy, o) for o in obs])
                    obs, r, term, trunc, _ = vec.step(actions)
                    live = ~done
                    returns[live] += r[live]
                    lengths[live] += 1
                    done |= term | trunc
                vec.close()
                for i in range(n):
                    self.assertEqual(ref[i]["seed"], seed + i)
                    self.assertAlmostEqual(ofql_suite.normalized_score(env, returns[i]), ref[i]["normalized_score"], places=6)
                    self.assertEqual(lengths[i], ref[i]["length"], f"{env} env {i}")
                    self.assertAlmostEqual(returns[i], ref[i]["return"], delta=1e-9 * max(1, abs(ref[i]["return"])))

    def test_next_step_autoreset(self):
        vec = ofql_suite.make_vec("hopper", 2, 1)
        self.assertIsInstance(vec, gym.vector.VectorEnv)
        obs, _ = vec.reset(seed=5)
        single = gym.make("ofql_suite/hopper-v1").unwrapped
        np.testing.assert_array_equal(obs[1], single.reset(seed=6)[0])
        ones = np.ones((2, 3), np.float32)
        for _ in range(1000):
            obs, r, term, trunc, _ = vec.step(ones)
            if term[0] or trunc[0]:
                break
        self.assertTrue(term[0] or trunc[0])
        obs, r, term, trunc, _ = vec.step(ones)  # this step resets env 0 (its 2nd episode: seed 5 + 0 + 1 * 2)
        self.assertEqual((r[0], term[0], trunc[0]), (0.0, False, False))
        np.testing.assert_array_equal(obs[0], single.reset(seed=7)[0])


class DatasetTests(unittest.TestCase):
    def test_load_dataset_equals_h5py_and_rejects_bad_files(self):
        with tempfile.TemporaryDirectory() as tmp:
            cli("dataset", "generate", "hopper-medium-v1", "--size", "3000", "--out", tmp)
            path = f"{tmp}/hopper-medium-v1.hdf5"
            data = ofql_suite.load_dataset(path)
            with h5py.File(path, "r") as f:
                for key in ["observations", "actions", "rewards", "terminals", "timeouts", "next_observations"]:
                    np.testing.assert_array_equal(data[key], f[key][()])
                self.assertEqual(data["observations"].shape, (3000, 11))
            self.assertEqual(data["metadata/env_id"], "hopper")
            self.assertEqual(ofql_suite.verify(path), [])
            # A NaN reward: refused with the verifier's message.
            bad = f"{tmp}/bad.hdf5"
            with h5py.File(path, "r") as src, h5py.File(bad, "w") as dst:
                for key in src:
                    src.copy(key, dst)
                for k, v in src.attrs.items():
                    dst.attrs[k] = v
                r = dst["rewards"][()]
                r[5] = np.nan
                dst["rewards"][...] = r
            with self.assertRaisesRegex(ValueError, "'rewards': non-finite value nan at row 5"):
                ofql_suite.load_dataset(bad)
            with self.assertRaisesRegex(FileNotFoundError, "no such file"):
                ofql_suite.load_dataset(f"{tmp}/missing.hdf5")
            with self.assertRaisesRegex(ValueError, "dimension 11, the environment has 17"):
                ofql_suite.load_dataset(path, env_id="walker2d")

    @unittest.skipUnless(importlib.util.find_spec("minari"), "minari is not installed (optional extra)")
    def test_minari_round_trip(self):
        import minari

        with tempfile.TemporaryDirectory() as tmp:
            os.environ["MINARI_DATASETS_PATH"] = tmp
            cli("dataset", "generate", "hopper-medium-v1", "--size", "3000", "--out", tmp)
            ofql_suite.to_minari(f"{tmp}/hopper-medium-v1.hdf5", "ofql_suite/hopper-medium-v1")
            ds = minari.load_dataset("ofql_suite/hopper-medium-v1")
            self.assertEqual(ds.total_steps, 3000)
            data = ofql_suite.load_dataset(f"{tmp}/hopper-medium-v1.hdf5")
            first = next(iter(ds.iterate_episodes()))
            n = len(first.actions)
            np.testing.assert_array_equal(first.actions, data["actions"][:n])



class GroupGateTests(unittest.TestCase):
    """scripts/group_gates.py on a hand-made table: the gap and spread rule, and stale cells."""

    def table(self, tmp, cells, listed):
        os.makedirs(f"{tmp}/cells")
        for i, (ds, algo, seed, score) in enumerate(cells):
            with open(f"{tmp}/cells/{i}.json", "w") as f:
                json.dump({"dataset": ds, "algo": algo, "seed": seed, "steps": 10, "score": score, "eval": "one-step"}, f)
        rows = [{"dataset": ds, "algo": a, "seed": s, "steps": 10} for ds, a, s, _ in cells if (ds, a, s) in listed]
        with open(f"{tmp}/results.json", "w") as f:
            json.dump({"rows": rows + [{"dataset": "maze-a-v1", "algo": "data", "score": 5.0}]}, f)

    def gates(self, tmp):
        out = subprocess.run(["python3", str(REPO / "scripts/group_gates.py"), tmp, "--json", f"{tmp}/v.json"],
                             capture_output=True, text=True, check=True).stdout
        with open(f"{tmp}/v.json") as f:
            return out, json.load(f)

    def test_gap_spread_and_stale_cells(self):
        cells = [("maze-a-v1", "bc", s, x) for s, x in [(0, 0.0), (1, 10.0), (2, 20.0)]]
        cells += [("maze-a-v1", "iql", s, x) for s, x in [(0, 60.0), (1, 70.0), (2, 80.0)]]
        cells.append(("maze-a-v1", "iql", 3, -500.0))   # a stale cell: not in results.json
        with tempfile.TemporaryDirectory() as tmp:
            self.table(tmp, cells, {(d, a, s) for d, a, s, _ in cells[:6]})
            out, verdicts = self.gates(tmp)
            self.assertIn("1 cell(s) not in", out)
            self.assertIn("+60.0 over bc (passes: needs ≥ 10 and > 20.0)", out)
            iql = next(v for v in verdicts if v["algo"] == "iql")
            self.assertEqual((iql["seeds"], iql["passes"], iql["at_least_data"]), (3, True, True))
        # The same gap with a seed spread over 30 fails.
        cells = cells[:3] + [("maze-a-v1", "iql", s, x) for s, x in [(0, 20.0), (1, 70.0), (2, 120.0)]]
        with tempfile.TemporaryDirectory() as tmp:
            self.table(tmp, cells, {(d, a, s) for d, a, s, _ in cells})
            out, _ = self.gates(tmp)
            self.assertIn("+60.0 over bc (fails: needs ≥ 10 and > 100.0)", out)


if __name__ == "__main__":
    unittest.main()
