#!/usr/bin/env bash
# Evaluate finished one-step-study checkpoints in other sampling modes, on the cells' own
# evaluation episodes, to see how much of a score the sampler (rather than the training) sets.
#
#   scripts/sampling-diagnostic.sh RUNS OUT.jsonl [BIN] [CHECKPOINT-STEP]
#
# RUNS is a suite's runs folder (e.g. runs/abl/runs, laid out DATASET/ALGO/seed-N). For every run
# it evaluates the final checkpoint (or step-CHECKPOINT-STEP) with 150 episodes from evaluation
# seed 1,000,000 in:
#   - its own sampling, and the same with every noise draw × 0 (`--noise-scale 0`);
#   - OFQL: the average velocity in 2 and 5 steps (`meanflow-K`);
#   - FQL: its BC flow in 1, 5 and 10 Euler steps (`flow-K`); FBRAC: its flow in 5 and 10;
#   - DQL: one DDIM step (`ddim1`).
# Each evaluation appends one JSON line {dataset, algo, seed, step, mode, noise_scale, score,
# score_episode_std}. Lines already in OUT (same dataset, algo, seed, step, mode, noise scale)
# are not evaluated again.
set -euo pipefail
RUNS=${1:?usage: scripts/sampling-diagnostic.sh RUNS OUT.jsonl [BIN] [CHECKPOINT-STEP]}
OUT=${2:?usage: scripts/sampling-diagnostic.sh RUNS OUT.jsonl [BIN] [CHECKPOINT-STEP]}
BIN=${3:-.build/release/ofql-eval}
STEP=${4:-}
[ -d "$RUNS" ] || { echo "sampling-diagnostic: RUNS '$RUNS' is not a folder" >&2; exit 2; }
[ -x "$BIN" ] || { echo "sampling-diagnostic: BIN '$BIN' is not an executable (build with swift build -c release)" >&2; exit 2; }
touch "$OUT"
TMP=$(mktemp)
trap 'rm -f "$TMP"' EXIT

evaluate() { # run_dir dataset algo seed step mode noise_scale
  local run=$1 ds=$2 algo=$3 seed=$4 step=$5 mode=$6 ns=$7 ckpt
  if [ -n "$STEP" ]; then ckpt=$(printf "%s/checkpoints/step-%09d" "$run" "$STEP"); else ckpt=$run; fi
  if python3 - "$OUT" "$ds" "$algo" "$seed" "$step" "$mode" "$ns" <<'EOF'
import json, sys
out, ds, algo, seed, step, mode, ns = sys.argv[1:]
for line in open(out):
    r = json.loads(line)
    if (r["dataset"], r["algo"], str(r["seed"]), str(r["step"]), r["mode"], float(r["noise_scale"])) == (ds, algo, seed, step, mode, float(ns)):
        sys.exit(0)
sys.exit(1)
EOF
  then return; fi
  local args=(evaluate --checkpoint "$ckpt" --episodes 150 --seed 1000000 --workers 1 --noise-scale "$ns" --json "$TMP")
  [ "$mode" = own ] || args+=(--sampling "$mode")
  "$BIN" "${args[@]}" >/dev/null
  python3 - "$TMP" "$ds" "$algo" "$seed" "$step" "$mode" "$ns" >> "$OUT" <<'EOF'
import json, sys
rep, ds, algo, seed, step, mode, ns = sys.argv[1:]
r = json.load(open(rep))
print(json.dumps({"dataset": ds, "algo": algo, "seed": int(seed), "step": int(step), "mode": mode,
                  "noise_scale": float(ns), "score": round(r["normalized_score"]["mean"], 3),
                  "score_episode_std": round(r["normalized_score"]["std"], 3), "episodes": 150, "eval_seed": 1000000}))
EOF
  tail -n 1 "$OUT"
}

for run in "$RUNS"/*/*/seed-*; do
  [ -f "$run/summary.json" ] || continue # unfinished
  ds=$(basename "$(dirname "$(dirname "$run")")"); algo=$(basename "$(dirname "$run")"); seed=${run##*seed-}
  base=${algo%%.*} # a variant's folder is ALGO.VARIANT
  step=${STEP:-$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["steps"])' "$run/summary.json")}
  modes=(own)
  case "$base" in
    ofql) modes+=(meanflow-2 meanflow-5) ;;
    fql) modes+=(flow-1 flow-5 flow-10) ;;
    fbrac) modes+=(flow-5 flow-10) ;;
    dql) modes+=(ddim1) ;;
  esac
  for m in "${modes[@]}"; do
    for ns in 1 0; do evaluate "$run" "$ds" "$algo" "$seed" "$step" "$m" "$ns"; done
  done
done
