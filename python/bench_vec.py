"""make_vec throughput beside EnvPool's in one run (issue target: hopper 8 envs / 2 threads ≥ 3x
EnvPool's BipedalWalker-v3 at the same counts).

    .venv-check/bin/python python/bench_vec.py --peers /path/to/peers-venv/bin/python

Random actions are pre-generated uniform [-1, 1] arrays as in the anchors' bench_envs.py, and
EnvPool is measured by that very script (its `envpool` group) with the peers' Python. Prints
JSON lines {"bench", "label", "min", "median", "max", "n", "unit"} and the ratio of medians."""
import argparse
import json
import os
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np

import ofql_suite


def measure(step, units, seconds, reps):
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < 0.5:
        step(n)
        n += 1
    calls = max(100, int(n / (time.perf_counter() - t0) * seconds))
    rates = []
    for _ in range(reps):
        t0 = time.perf_counter()
        for i in range(calls):
            step(i)
        rates.append(calls * units / (time.perf_counter() - t0))
    return rates


def line(label, rates):
    s = sorted(rates)
    return {"bench": "env", "label": label, "min": s[0], "median": float(np.median(s)), "max": s[-1], "n": len(s),
            "unit": "env steps/s"}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--env", default="hopper")
    ap.add_argument("--num-envs", type=int, default=8)
    ap.add_argument("--num-threads", type=int, default=2)
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--peers", help="Python of the peers' virtual environment (bash ../shared/anchors/setup.sh VENV)")
    ap.add_argument("--anchors", default=str(Path(__file__).resolve().parents[2] / "shared" / "anchors"))
    args = ap.parse_args()

    vec = ofql_suite.make_vec(args.env, args.num_envs, args.num_threads)
    vec.reset(seed=0)
    acts = np.random.default_rng(0).uniform(-1, 1, size=(1024, *vec.action_space.shape)).astype(np.float32)
    ours = line(f"ofql_suite make_vec {args.env} {args.num_envs} envs / {args.num_threads} threads",
                measure(lambda i: vec.step(acts[i & 1023]), args.num_envs, args.seconds, args.reps))
    print(json.dumps(ours), flush=True)
    if not args.peers:
        return
    with tempfile.TemporaryDirectory() as tmp:
        out = f"{tmp}/envs.jsonl"
        subprocess.run([args.peers, "bench_envs.py", "--groups", "envpool", "--seconds", str(args.seconds),
                        "--reps", str(args.reps), "--out", out], cwd=args.anchors, check=True,
                       stdout=subprocess.DEVNULL, env={**os.environ, "PYTHONWARNINGS": "ignore"})
        peers = [json.loads(l) for l in open(out) if l.strip()]
    want = f"envpool BipedalWalker-v3 num_envs={args.num_envs} threads={args.num_threads}"
    peer = next((p for p in peers if p["label"] == want), None)
    if peer is None:
        raise SystemExit(f"no EnvPool line '{want}' in the peers' output: {[p['label'] for p in peers]}")
    print(json.dumps({k: peer[k] for k in ("bench", "label", "min", "median", "max") if k in peer} | {"unit": "env steps/s"}))
    print(json.dumps({"bench": "env", "label": "ratio of medians (ours / EnvPool)", "value": ours["median"] / peer["median"]}))


if __name__ == "__main__":
    main()
