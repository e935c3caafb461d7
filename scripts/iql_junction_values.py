#!/usr/bin/env python3
"""IQL's values where a maze's routes part: V and Q − V on the data rows of one cell, grouped by
the cell each row's episode enters next, V along named cells, and how the actor's own action
scores against the data's at the same states.

    python3 scripts/iql_junction_values.py DATASET.hdf5 CHECKPOINT_DIR [--cell 3,1] [--along 3,2 3,3 ...]

DATASET is a maze file in the D4RL layout (observations[:, :2] = rover x, y in metres, the
start cell's centre at the origin, 4 m cells; `infos/episode` numbers the episodes);
CHECKPOINT_DIR holds an IQL `model.safetensors` (value, critic_target.q1/q2, normalizer).
Q is the minimum of the two target critics, as in IQL's advantage (arXiv 2110.06169, eq. 5).
The actor's action is its Gaussian's mean, tanh(f(s)) with f the checkpoint's `policy.body`
(activation from `checkpoint.json`), the action a deterministic evaluation takes; the rover's
actions are wheel forces, so actions are only compared at the same state, never across states;
rewards enter as r − 1 (the v2 plan's maze transform), so values are in steps-to-go units.
Needs numpy and h5py.
"""
import argparse, json, struct, sys
import numpy as np

p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
p.add_argument("dataset"); p.add_argument("checkpoint")
p.add_argument("--cell", default="3,1", help="junction cell as row,col (default 3,1)")
p.add_argument("--start", default="1,1", help="start cell as row,col (default 1,1, the large maze's S)")
p.add_argument("--cell-size", type=float, default=4.0)
p.add_argument("--along", nargs="*", default=[], help="cells (row,col) at which to print mean V")
a = p.parse_args()

def cell(s):
    try:
        r, c = (int(x) for x in s.split(",")); return r, c
    except ValueError:
        sys.exit(f"error: cell {s!r}: expected row,col (two integers)")

def load(path):
    try:
        b = open(path, "rb").read()
    except OSError as e:
        sys.exit(f"error: {path}: {e.strerror}")
    n = struct.unpack("<Q", b[:8])[0]; header = json.loads(b[8:8 + n]); out = {}
    for k, v in header.items():
        if k == "__metadata__": continue
        s, e = v["data_offsets"]
        out[k] = np.frombuffer(b[8 + n + s:8 + n + e], dtype=np.float32).reshape(v["shape"])
    return out

import h5py
try:
    f = h5py.File(a.dataset, "r")
except OSError as e:
    sys.exit(f"error: {a.dataset}: cannot open as HDF5 ({e})")
for key in ("observations", "actions", "infos/episode"):
    if key not in f: sys.exit(f"error: {a.dataset}: no `{key}` dataset (expected a maze file in the D4RL layout)")
O = f["observations"][:]; A = f["actions"][:]; ep = f["infos/episode"][:]
W = load(a.checkpoint + "/model.safetensors")
for key in ("value.layers.0.weight", "critic_target.q1.layers.0.weight", "normalizer.obs_mean"):
    if key not in W: sys.exit(f"error: {a.checkpoint}/model.safetensors: no `{key}` (expected an IQL checkpoint with observation normalisation)")
mean, std = W["normalizer.obs_mean"], W["normalizer.obs_std"]

def mlp(prefix, x, hidden=lambda h: np.maximum(h, 0)):   # ReLU between layers: the plan's IQL critics
    i = 0
    while f"{prefix}.layers.{i}.weight" in W:
        if i: x = hidden(x)
        x = x @ W[f"{prefix}.layers.{i}.weight"].T + W[f"{prefix}.layers.{i}.bias"]; i += 1
    return x

V = lambda o: mlp("value", (o - mean) / std)[:, 0]
def act(name, x):
    if name == "relu": return np.maximum(x, 0)
    if name == "mish": return x * np.tanh(np.logaddexp(0, x))
    if name == "tanh": return np.tanh(x)
    sys.exit(f"error: {a.checkpoint}/checkpoint.json: activation {name!r} not handled here (expected relu, mish or tanh)")

try:
    activation = json.load(open(a.checkpoint + "/checkpoint.json"))["config"]["activation"]
except (OSError, KeyError, ValueError) as e:
    sys.exit(f"error: {a.checkpoint}/checkpoint.json: cannot read config.activation ({e})")

mu = lambda o: np.tanh(mlp("policy.body", (o - mean) / std, lambda h: act(activation, h)))   # the actor's mean action

Q = lambda o, u: np.minimum(*(mlp(f"critic_target.q{k}", np.concatenate([(o - mean) / std, u], 1))[:, 0] for k in (1, 2)))

s0 = cell(a.start)
row = np.rint(O[:, 1] / a.cell_size).astype(int) + s0[0]
col = np.rint(O[:, 0] / a.cell_size).astype(int) + s0[1]
j0 = cell(a.cell)
idx = np.where((row == j0[0]) & (col == j0[1]))[0]
if len(idx) == 0: sys.exit(f"error: {a.dataset}: no row in cell {a.cell}")
N = len(O); nxt = {}
for i in idx:                                  # the next cell this row's episode enters
    j = i
    while j + 1 < N and ep[j + 1] == ep[i] and (row[j], col[j]) == j0: j += 1
    nxt[i] = (row[j], col[j]) if (row[j], col[j]) != j0 else None
v, q = V(O[idx]), Q(O[idx], A[idx])
qpi = Q(O[idx], mu(O[idx]))                    # the actor's action at the same states
print(f"{a.dataset}, {a.checkpoint}: {len(idx)} rows in cell {a.cell}")
print("| next cell | rows | mean V | mean Q(s, a_data) | mean Q − V | mean Q(s, μ(s)) − Q(s, a_data) | share with Q(s, μ(s)) > Q(s, a_data) |")
print("|---|---:|---:|---:|---:|---:|---:|")
for b in sorted({x for x in nxt.values() if x is not None}):
    m = np.array([nxt[i] == b for i in idx])
    d = (qpi - q)[m]
    print(f"| {b[0]},{b[1]} | {m.sum()} | {v[m].mean():.1f} | {q[m].mean():.1f} | {(q - v)[m].mean():.2f} | {d.mean():+.2f} | {(d > 0).mean():.2f} |")
for c in map(cell, a.along):
    m = (row == c[0]) & (col == c[1])
    print(f"V at {c[0]},{c[1]}: " + (f"{V(O[m]).mean():.1f} over {m.sum()} rows" if m.any() else "no rows"))
