#!/usr/bin/env python3
"""The OFQL-learns issue's group gates, computed from a table's committed cells.

    python3 scripts/group_gates.py results/stand-ins-v2 [--reference bc] [--json OUT.json]

Reads DIR/cells/*.json (one-step evaluations only) and DIR/results.json (the data's scores,
written by `ofql-eval suite collect`; cells it does not list are stale and left out). For each dataset group (medium, medium-replay,
medium-expert on locomotion; the mazes; kitchen) and each algorithm with a cell on every
dataset of the group for a seed, it averages the group per seed, then compares the
algorithm's mean over seeds with the reference algorithm's (BC by default):

    gap = mean(algo) − mean(reference); passes when gap ≥ 10 and gap > 2·max(std(algo), std(reference))

(std: the sample standard deviation over seeds of the per-seed group averages), and says
whether the algorithm's mean reaches the data's own group average. Groups where a seed lacks a
dataset are listed as incomplete with what is missing. Exit status 0; the verdicts are printed.
"""
import argparse, glob, json, os, statistics, sys

parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
parser.add_argument("table", help="a table folder holding cells/ and results.json")
parser.add_argument("--reference", default="bc", help="the algorithm every other one is compared with (default: bc)")
parser.add_argument("--json", help="also write the verdicts as JSON to this file")
args = parser.parse_args()

root = args.table.rstrip("/")
paths = sorted(glob.glob(f"{root}/cells/*.json"))
if not paths:
    sys.exit(f"{root}/cells: no cells (expected one JSON file per dataset, algorithm and seed)")
cells = []
for p in paths:
    try:
        c = json.load(open(p))
    except (OSError, json.JSONDecodeError) as e:
        sys.exit(f"{p}: not a readable cell ({e})")
    if c.get("eval", "one-step") == "one-step" and not c.get("variant"):
        cells.append(c)

data = {}
results = f"{root}/results.json"
if os.path.exists(results):
    rows = json.load(open(results)).get("rows", [])
    for row in rows:
        if row.get("algo") == "data":
            data[row["dataset"]] = row["score"]
    # Only the cells the table holds: a cell made with other settings (stale) is not in it.
    current = {(r["dataset"], r["algo"], r["seed"], r["steps"]) for r in rows if r.get("algo") != "data"}
    stale = [c for c in cells if (c["dataset"], c["algo"], c["seed"], c["steps"]) not in current]
    if stale:
        print(f"({len(stale)} cell(s) not in {results}, made with other settings, are left out)\n")
    cells = [c for c in cells if c not in stale]


def group_of(dataset):
    if dataset.startswith("maze-"):
        return "maze"
    if dataset.startswith("kitchen-"):
        return "kitchen"
    variant = dataset.split("-", 1)[1].rsplit("-v", 1)[0]
    return {"medium": "medium", "medium-replay": "medium-replay", "medium-expert": "medium-expert"}.get(variant, variant)


scores = {}   # (group, algo, seed) -> {dataset: score}
datasets = {}  # group -> set of datasets
for c in cells:
    g = group_of(c["dataset"])
    datasets.setdefault(g, set()).add(c["dataset"])
    scores.setdefault((g, c["algo"], c["seed"]), {})[c["dataset"]] = c["score"]

verdicts = []
for g in ["medium", "medium-replay", "medium-expert", "maze", "kitchen"]:
    if g not in datasets:
        continue
    need = sorted(datasets[g])
    per_algo = {}
    missing = {}
    for (gg, algo, seed), by_ds in sorted(scores.items()):
        if gg != g:
            continue
        lacking = [d for d in need if d not in by_ds]
        if lacking:
            missing.setdefault(algo, []).append(f"seed {seed}: {', '.join(lacking)}")
        else:
            per_algo.setdefault(algo, []).append(statistics.mean(by_ds[d] for d in need))
    data_mean = statistics.mean(data[d] for d in need) if all(d in data for d in need) else None
    print(f"## {g} ({', '.join(need)})" + (f"; data {data_mean:.1f}" if data_mean is not None else ""))
    ref = per_algo.get(args.reference, [])

    def describe(v):
        sd = statistics.stdev(v) if len(v) > 1 else float("nan")
        return statistics.mean(v), sd

    for algo in sorted(per_algo, key=lambda a: (a != args.reference, a)):
        v = per_algo[algo]
        m, sd = describe(v)
        spread = f" ± {sd:.1f}" if len(v) > 1 else " (no spread: one seed)"
        line = f"- {algo}: {m:.1f}{spread} over {len(v)} seed(s)"
        verdict = {"group": g, "algo": algo, "mean": m, "std": sd, "seeds": len(v), "datasets": need}
        if algo != args.reference and len(ref) >= 2 and len(v) >= 2:
            rm, rsd = describe(ref)
            gap = m - rm
            ok = gap >= 10 and gap > 2 * max(sd, rsd)
            line += f"; {'+' if gap >= 0 else ''}{gap:.1f} over {args.reference} ({'passes' if ok else 'fails'}: needs ≥ 10 and > {2 * max(sd, rsd):.1f})"
            verdict.update(gap=gap, passes=ok)
        if data_mean is not None:
            line += f"; {'≥' if m >= data_mean else '<'} data"
            verdict["at_least_data"] = m >= data_mean
        print(line)
        verdicts.append(verdict)
    for algo, what in sorted(missing.items()):
        print(f"- {algo}: incomplete ({'; '.join(what)})")
    print()

if args.json:
    tmp = args.json + ".tmp"
    with open(tmp, "w") as f:
        json.dump(verdicts, f, indent=1)
    os.replace(tmp, args.json)
