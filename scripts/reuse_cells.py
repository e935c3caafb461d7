#!/usr/bin/env python3
"""Reuse finished cells of one plan as a variant's cells in another.

An ablation's default setting (e.g. the flow ratio λ = 0.5 of arXiv 2508.13904 Table 3, or the
logit-normal time sampler of its App. M) trains exactly the run another plan already ran: same
resolved config, dataset, data seed, steps, training seeds and evaluation. Training it again
would reproduce the same numbers (the learner is deterministic from its seed), so this copies
those cells under the variant's file name with the variant's name in the record.

  python3 scripts/reuse_cells.py --source results/stand-ins-v2/cells \\
      --dest results/flow-ratio/cells --variant lambda=0.5 --algo ofql --seeds 0,1,2 \\
      --datasets halfcheetah-medium-expert-v3,halfcheetah-medium-v2,halfcheetah-medium-replay-v2

Afterwards `ofql-eval suite collect DIR --plan PLAN` checks every copied record against the
plan (config hash, data, steps, episodes, evaluation seed) and names any that do not match.
An existing destination file is never overwritten unless it is byte-identical.
"""
import argparse
import json
import os
import sys
import tempfile


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--source", required=True, help="cells folder to copy from")
    ap.add_argument("--dest", required=True, help="cells folder to copy into")
    ap.add_argument("--variant", required=True, help="the variant name the copies carry")
    ap.add_argument("--algo", required=True)
    ap.add_argument("--seeds", required=True, help="comma-separated training seeds")
    ap.add_argument("--datasets", required=True, help="comma-separated dataset ids")
    a = ap.parse_args()
    try:
        seeds = [int(s) for s in a.seeds.split(",")]
    except ValueError:
        print(f"--seeds: expected comma-separated integers, got '{a.seeds}'", file=sys.stderr)
        return 2
    if not a.variant or any(not (c.isalnum() or c in "=._-") for c in a.variant):
        print(f"--variant: expected letters, digits and = . _ - (it names files), got '{a.variant}'", file=sys.stderr)
        return 2
    os.makedirs(a.dest, exist_ok=True)
    copied = 0
    for ds in a.datasets.split(","):
        for s in seeds:
            src = os.path.join(a.source, f"{ds}.{a.algo}.seed-{s}.json")
            dst = os.path.join(a.dest, f"{ds}.{a.algo}.{a.variant}.seed-{s}.json")
            try:
                with open(src) as f:
                    rec = json.load(f)
            except (OSError, json.JSONDecodeError) as e:
                print(f"{src}: cannot read a cell record ({e})", file=sys.stderr)
                return 1
            if rec.get("variant", ""):
                print(f"{src}: already a variant's cell ('{rec['variant']}'); expected a plain cell", file=sys.stderr)
                return 1
            rec["variant"] = a.variant
            text = json.dumps(rec, indent=2, sort_keys=True) + "\n"
            if os.path.exists(dst):
                with open(dst) as f:
                    if f.read() == text:
                        continue
                print(f"{dst}: exists with other content; not overwritten", file=sys.stderr)
                return 1
            fd, tmp = tempfile.mkstemp(dir=a.dest, prefix=".tmp-")
            with os.fdopen(fd, "w") as f:
                f.write(text)
            os.replace(tmp, dst)
            copied += 1
    print(f"copied {copied} cells as variant {a.variant} into {a.dest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
