#!/usr/bin/env bash
# Sort a halfcheetah policy's evaluation episodes by how they fail, to see what lowers a score
# whose per-episode spread is wide (a mean of 30 can be 150 episodes at 30 or half at 50, half at 10).
#
#   scripts/episode-modes.sh RUNS OUT.jsonl [BIN]
#
# RUNS is a suite's runs folder (laid out DATASET/ALGO/seed-N). For every halfcheetah run and
# every checkpoint it keeps (checkpoints/step-N), it rolls the policy out in its own sampling on
# 150 episodes from evaluation seed 1,000,000 (the cells' episodes) with a step trace, and
# sorts each episode into one of three modes:
#   - tipped:  the torso pitched past 1 rad (observation 1) at some step. The cheetah stood on its
#              head or went over; the data holds such states only in its few worst episodes
#              (about 1 % of halfcheetah-medium-replay's rows).
#   - stalled: never tipped, and the episode's return is below 100 (a running policy earns
#              1,000-1,500): it stopped moving; stall_from_step is the median step after which
#              the torso's x velocity (observation 8) stays within ±0.2 m/s.
#   - ran:     everything else.
# One JSON line per checkpoint: {dataset, algo, seed, step, score, score_episode_std, episodes,
# tipped, tipped_return, stalled, stalled_return, stall_from_step, ran, ran_return,
# clipped_action_share} (returns are means over the mode's episodes; clipped_action_share is the
# share of action entries at |a| >= 0.999 over all steps). Checkpoints already in OUT are skipped.
set -euo pipefail
usage="usage: scripts/episode-modes.sh RUNS OUT.jsonl [BIN]"
RUNS=${1:?$usage}
OUT=${2:?$usage}
BIN=${3:-.build/release/ofql-eval}
[ -d "$RUNS" ] || { echo "episode-modes: RUNS '$RUNS' is not a folder" >&2; exit 2; }
[ -x "$BIN" ] || { echo "episode-modes: BIN '$BIN' is not an executable (build with swift build -c release)" >&2; exit 2; }
touch "$OUT"
TRACE=$(mktemp); REPORT=$(mktemp)
trap 'rm -f "$TRACE" "$REPORT"' EXIT

for ckpt in "$RUNS"/halfcheetah-*/*/seed-*/checkpoints/step-*; do
  [ -f "$ckpt/checkpoint.json" ] || continue
  run=$(dirname "$(dirname "$ckpt")")
  ds=$(basename "$(dirname "$(dirname "$run")")"); algo=$(basename "$(dirname "$run")"); seed=${run##*seed-}
  step=$((10#${ckpt##*step-}))
  if grep -q "\"dataset\": \"$ds\", \"algo\": \"$algo\", \"seed\": $seed, \"step\": $step," "$OUT"; then continue; fi
  "$BIN" evaluate --checkpoint "$ckpt" --episodes 150 --seed 1000000 --workers 1 \
    --trace "$TRACE" --json "$REPORT" >/dev/null
  python3 - "$TRACE" "$REPORT" "$ds" "$algo" "$seed" "$step" >> "$OUT" <<'EOF'
import csv, json, statistics, sys
trace, report, ds, algo, seed, step = sys.argv[1:]
episodes = {}  # episode -> [return, tipped, last moving step]
clipped = entries = 0
with open(trace) as f:
    rows = csv.reader(f)
    head = next(rows)
    col = {name: i for i, name in enumerate(head)}
    acts = [i for name, i in col.items() if name.startswith("action_")]
    for row in rows:
        e = episodes.setdefault(int(row[col["episode"]]), [0.0, False, 0])
        e[0] += float(row[col["reward"]])
        e[1] = e[1] or abs(float(row[col["obs_1"]])) > 1.0
        if abs(float(row[col["obs_8"]])) > 0.2:
            e[2] = int(row[col["step"]]) + 1
        for i in acts:
            entries += 1
            clipped += abs(float(row[i])) >= 0.999
modes = {"tipped": [], "stalled": [], "ran": []}
stall_from = []
for ret, tipped, last_moving in episodes.values():
    mode = "tipped" if tipped else ("stalled" if ret < 100 else "ran")
    modes[mode].append(ret)
    if mode == "stalled":
        stall_from.append(last_moving)
mean = lambda xs: round(statistics.fmean(xs), 1) if xs else None
r = json.load(open(report))
print(json.dumps({"dataset": ds, "algo": algo, "seed": int(seed), "step": int(step),
                  "score": round(r["normalized_score"]["mean"], 3),
                  "score_episode_std": round(r["normalized_score"]["std"], 3),
                  "episodes": len(episodes), "eval_seed": 1000000,
                  "tipped": len(modes["tipped"]), "tipped_return": mean(modes["tipped"]),
                  "stalled": len(modes["stalled"]), "stalled_return": mean(modes["stalled"]),
                  "stall_from_step": int(statistics.median(stall_from)) if stall_from else None,
                  "ran": len(modes["ran"]), "ran_return": mean(modes["ran"]),
                  "clipped_action_share": round(clipped / max(entries, 1), 4)}))
EOF
  tail -n 1 "$OUT"
done
