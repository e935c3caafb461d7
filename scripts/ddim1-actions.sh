#!/usr/bin/env bash
# What one DDIM step does to a DQL policy's actions: for every finished DQL run, roll out the final
# checkpoint in its own K-step sampling and with one DDIM step (`--sampling ddim1`), 150 episodes
# from evaluation seed 1,000,000 each, and summarise the executed actions from the trace.
#
#   scripts/ddim1-actions.sh RUNS OUT.jsonl [BIN]
#
# RUNS is a suite's runs folder laid out DATASET/dql/seed-N. Each evaluation appends one JSON line
# {dataset, seed, mode, score, clip_share, mean_abs_action, steps}: clip_share is the fraction of
# action entries with |a| ≥ 0.999 (on the ±1 bound), mean_abs_action the mean |a| over all entries
# and steps. Averaging over the modes of a multimodal policy pulls actions towards 0 (mean |a|
# shrinks); a 1/√ᾱ_K-amplified error of ε̂ pushes entries onto the bound (clip share grows).
# Lines already in OUT (same dataset, seed and mode) are not evaluated again.
set -euo pipefail
RUNS=${1:?usage: scripts/ddim1-actions.sh RUNS OUT.jsonl [BIN]}
OUT=${2:?usage: scripts/ddim1-actions.sh RUNS OUT.jsonl [BIN]}
BIN=${3:-.build/release/ofql-eval}
[ -d "$RUNS" ] || { echo "ddim1-actions: RUNS '$RUNS' is not a folder" >&2; exit 2; }
[ -x "$BIN" ] || { echo "ddim1-actions: BIN '$BIN' is not an executable (build with swift build -c release)" >&2; exit 2; }
touch "$OUT"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

for run in "$RUNS"/*/dql/seed-*; do
  [ -f "$run/summary.json" ] || continue # unfinished
  ds=$(basename "$(dirname "$(dirname "$run")")"); seed=${run##*seed-}
  for mode in own ddim1; do
    if python3 - "$OUT" "$ds" "$seed" "$mode" <<'EOF'
import json, sys
out, ds, seed, mode = sys.argv[1:]
for line in open(out):
    r = json.loads(line)
    if (r["dataset"], str(r["seed"]), r["mode"]) == (ds, seed, mode):
        sys.exit(0)
sys.exit(1)
EOF
    then continue; fi
    args=(evaluate --checkpoint "$run" --episodes 150 --seed 1000000 --workers 1 --trace "$TMP/trace.csv" --json "$TMP/report.json")
    [ "$mode" = own ] || args+=(--sampling ddim1)
    "$BIN" "${args[@]}" >/dev/null
    python3 - "$TMP/trace.csv" "$TMP/report.json" "$ds" "$seed" "$mode" >> "$OUT" <<'EOF'
import csv, json, sys
trace, report, ds, seed, mode = sys.argv[1:]
with open(trace) as f:
    rows = csv.reader(f)
    header = next(rows)
    cols = [i for i, h in enumerate(header) if h.startswith("action_")]
    if not cols:
        sys.exit(f"ddim1-actions: {trace} has no action_ columns")
    entries = clipped = steps = 0
    total = 0.0
    for row in rows:
        steps += 1
        for i in cols:
            a = abs(float(row[i]))
            entries += 1
            total += a
            clipped += a >= 0.999
r = json.load(open(report))
print(json.dumps({"dataset": ds, "seed": int(seed), "mode": mode, "score": round(r["normalized_score"]["mean"], 2),
                  "clip_share": round(clipped / entries, 4), "mean_abs_action": round(total / entries, 4), "steps": steps}))
EOF
    tail -n 1 "$OUT"
  done
done
