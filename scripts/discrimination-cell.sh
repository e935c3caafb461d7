#!/usr/bin/env bash
# Trains and evaluates one cell of the discrimination check (issue: baselines prove the
# stand-ins rank algorithms as D4RL does) and writes it as a small JSON file:
#   scripts/discrimination-cell.sh DATASET_FILE ALGO SEED STEPS OUT_CELL_DIR [CONFIG_JSON]
# ALGO is td3bc or iql (published defaults; CONFIG_JSON overrides keys, e.g. IQL's maze
# settings) or bc (the suite's BC: observation normalisation on).
# Evaluation: 150 episodes of the final policy from evaluation seed 1000000 (seeds disjoint
# from the training seeds), as the stand-in protocol asks.
set -euo pipefail
data=$1 algo=$2 seed=$3 steps=$4 cells=$5 extra=${6:-}
bin=${OFQL_EVAL:-.build/release/ofql-eval}
id=$(basename "$data" .hdf5)
run=${RUNS:-runs/discrimination}/$id/$algo/seed-$seed
mkdir -p "$cells" "$run"
cfg=$run.config.json
case $algo in
  bc) base='{"normalizeObservations": true}' ;;
  *) base='{}' ;;
esac
python3 -c 'import json,sys; d=json.loads(sys.argv[1]); d.update(json.loads(sys.argv[2] or "{}")); print(json.dumps(d))' "$base" "$extra" > "$cfg"
"$bin" train --dataset "$data" --algo "$algo" --config "$cfg" --steps "$steps" --seed "$seed" --out "$run" \
  --eval-every "$steps" --eval-episodes 150 --eval-seed 1000000 --checkpoint-every 0 --log-every 1000 \
  --threads "${THREADS:-2}" > "$run/summary.json"
python3 - "$run" "$id" "$algo" "$seed" "$steps" "$cells" <<'PY'
import hashlib, json, sys
run, ds, algo, seed, steps, cells = sys.argv[1:]
config = json.load(open(f"{run}/config.json"))
evals = [json.loads(l) for l in open(f"{run}/eval.jsonl") if l.strip()]
summary = json.load(open(f"{run}/summary.json"))
final = evals[-1]
metrics = [json.loads(l) for l in open(f"{run}/metrics.jsonl") if l.strip()]
cell = {
    "dataset": ds, "domain": "maze" if ds.startswith("maze") else "kitchen" if ds.startswith("kitchen") else "locomotion", "algo": algo, "seed": int(seed), "steps": int(steps),
    "score": final["normalized_score_mean"], "score_episode_std": final["normalized_score_std"],
    "return": final["return_mean"], "eval": "one-step", "variant": "", "episodes": 150, "eval_seed": 1000000,
    "steps_per_s": summary["steps_per_s"],
    "config": config, "config_sha256": hashlib.sha256(json.dumps(config, sort_keys=True).encode()).hexdigest(),
    "final_critic_q_mean": metrics[-1].get("critic/q_mean"),
    "curve": [{"step": e["step"], "score": e["normalized_score_mean"]} for e in evals],
}
path = f"{cells}/{ds}.{algo}.seed-{seed}.json"
json.dump(cell, open(path + ".tmp", "w"), indent=1, sort_keys=True)
import os; os.replace(path + ".tmp", path)
print(f"{ds} {algo} seed {seed}: {final['normalized_score_mean']:.1f}")
PY
