#!/usr/bin/env python3
"""Builds the discrimination check's table from its committed cells.

    python3 scripts/discrimination_table.py results/discrimination-v1 [DATA_SCORES.json]

Reads DIR/cells/*.json (one trained and evaluated (dataset, algo, seed) each, written by
scripts/discrimination-cell.sh), writes DIR.md and DIR.json (the stand-in table schema:
{"protocol", "rows": [{dataset, domain, algo, seed, steps, score, eval, variant}]}).

The gate (issue "OFQL must beat BC", item 0): on a dataset group the checking method's mean
beats BC's by >= 10 normalised points and by more than 2 seed standard deviations (the larger
of the two methods' sample std over seeds).
"""
import glob, json, os, statistics, sys

root = sys.argv[1].rstrip("/")
data_scores = json.load(open(sys.argv[2])) if len(sys.argv) > 2 else {}
cells = [json.load(open(p)) for p in sorted(glob.glob(f"{root}/cells/*.json"))]
if not cells:
    sys.exit(f"{root}/cells holds no cells")

by = {}
for c in cells:
    by.setdefault(c["dataset"], {}).setdefault(c["algo"], []).append(c)

def stats(cs):
    s = [c["score"] for c in cs]
    return statistics.mean(s), (statistics.stdev(s) if len(s) > 1 else float("nan")), len(s)

algos = sorted({c["algo"] for c in cells}, key=lambda a: (a != "bc", a))
lines = [f"# Do the stand-ins reward offline RL? ({os.path.basename(root)})", ""]
steps = sorted({c["steps"] for c in cells})
eps = sorted({c["episodes"] for c in cells})
lines += [f"Normalised scores of the final policy: mean ± sample std over training seeds "
          f"({', '.join(str(s) for s in sorted({c['seed'] for c in cells}))}), {'/'.join(map(str, steps))} gradient steps, "
          f"{'/'.join(map(str, eps))} evaluation episodes per seed from evaluation seed 1000000. Published defaults, nothing tuned.", ""]
checks = [a for a in algos if a != "bc"]
lines.append("| dataset | data | " + " | ".join(a.upper() for a in algos) + " | "
             + " | ".join(f"{a.upper()} − BC (gate)" for a in checks) + " |")
lines.append("|---|---:|" + "---:|" * len(algos) + "---|" * len(checks))
rows = []
for ds in sorted(by):
    cellstats = {a: stats(by[ds][a]) for a in algos if a in by[ds]}
    txt = []
    for a in algos:
        if a in cellstats:
            m, s, n = cellstats[a]
            txt.append(f"{m:.1f} ± {s:.1f} (n={n})" if n > 1 else f"{m:.1f} (n=1)")
        else:
            txt.append("—")
    gaps = []
    for a in checks:
        if "bc" not in cellstats or a not in cellstats:
            gaps.append("—"); continue
        m, s, _ = cellstats[a]; bm, bs, _ = cellstats["bc"]
        d = m - bm
        known = [x for x in (s, bs) if x == x]
        spread = max(known) if known else 0.0
        ok = d >= 10 and d > 2 * spread
        gaps.append(f"{d:+.1f} ({'passes' if ok else 'fails'}{'' if len(known) == 2 else ', one seed'})")
    data = data_scores.get(ds)
    lines.append((f"| {ds} | {data:.1f} | " if data is not None else f"| {ds} | — | ") + " | ".join(txt + gaps) + " |")
    for a in cellstats:
        for c in by[ds][a]:
            rows.append({"dataset": ds, "domain": c["domain"], "algo": a, "seed": c["seed"], "steps": c["steps"],
                         "score": c["score"], "eval": c["eval"], "variant": c["variant"]})
    if data is not None:
        rows.append({"dataset": ds, "domain": next(iter(by[ds].values()))[0]["domain"],
                     "algo": "data", "seed": None, "steps": 0, "score": data, "eval": "dataset", "variant": ""})
lines.append("")
notes = os.path.join(root, "NOTES.md")
if os.path.exists(notes):
    lines += [open(notes).read().rstrip(), ""]
protocol = {"datasets": sorted(by), "steps": steps, "episodes": eps, "eval_seed": 1000000,
            "seeds": sorted({c["seed"] for c in cells}), "cells": f"{os.path.basename(root)}/cells",
            "gate": "mean(check) - mean(bc) >= 10 and > 2 * max(seed std)"}
json.dump({"protocol": protocol, "rows": rows}, open(root + ".json", "w"), indent=1)
open(root + ".md", "w").write("\n".join(lines))
print("\n".join(lines))
