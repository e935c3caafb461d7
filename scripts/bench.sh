#!/usr/bin/env bash
# Every benchmark of the project, and the Python peers beside it in the same run.
#
#   bash scripts/bench.sh [--peers VENV] [--quick] [--out DIR]
#
# Our side: `ofql-eval bench gemm|envs|rollout|policy|train|decide` (JSON lines with min/median/max;
# `decide` also writes DIR/efficiency.md),
# hopper-medium generation at 1M transitions (wall time) and the peak memory of loading it.
# Peer side (when VENV has gymnasium, envpool and jax: `bash ../shared/anchors/setup.sh VENV`):
# the anchors' bench_envs.py, bench_policy.py (JAX) and ofql_jax.py bench, run right after ours
# on the same machine. Everything lands in DIR/bench.jsonl and a summary table is printed.
set -euo pipefail
cd "$(dirname "$0")/.."
PEERS="${OFQL_PEER_VENV:-}"
QUICK=0
OUT="bench-results/$(date +%Y%m%d-%H%M%S)"
while (($#)); do
    case "$1" in
        --peers) PEERS="$2"; shift 2 ;;
        --quick) QUICK=1; shift ;;
        --out) OUT="$2"; shift 2 ;;
        *) echo "bench.sh: unknown argument $1 (expected --peers VENV, --quick, --out DIR)" >&2; exit 64 ;;
    esac
done
ANCHORS="$(cd .. && pwd)/shared/anchors"
mkdir -p "$OUT"
OUT="$(cd "$OUT" && pwd)"
LOG="$OUT/bench.jsonl"
: > "$LOG"
bash scripts/bootstrap.sh
swift build -c release --product ofql-eval >&2
BIN=.build/release/ofql-eval
if ((QUICK)); then R="--reps 3 --seconds 0.5"; PS=1.0; PR=3; else R="--reps 5 --seconds 2"; PS=4.0; PR=5; fi

echo "# machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)" | tee -a "$OUT/notes.txt" >&2
"$BIN" doctor | grep -E "^openblas (core|selection)" | sed 's/^/# /' >&2
run() { "$@" 2>>"$OUT/stderr.txt" | tee -a "$LOG"; }
run "$BIN" bench gemm $R
run "$BIN" bench envs $R
run "$BIN" bench rollout $R
run "$BIN" bench policy $R
run "$BIN" bench train $R
run "$BIN" bench decide $R --report "$OUT/efficiency.md"

# Dataset generation (1M hopper-medium transitions on every core) and the memory of loading it.
T0=$(date +%s.%N)
"$BIN" dataset generate hopper-medium-v1 --size $((QUICK ? 100000 : 1000000)) --out "$OUT" >/dev/null 2>>"$OUT/stderr.txt"
T1=$(date +%s.%N)
echo "{\"bench\": \"dataset_generate\", \"label\": \"hopper-medium-v1 $((QUICK ? 100000 : 1000000)) transitions, $(nproc) workers, incl. writing\", \"seconds\": $(echo "$T1 - $T0" | bc), \"target_seconds\": 120}" | tee -a "$LOG"
run "$BIN" bench load "$OUT/hopper-medium-v1.hdf5"
rm -f "$OUT/hopper-medium-v1.hdf5"

if [[ -n "$PEERS" && -x "$PEERS/bin/python" && -d "$ANCHORS" ]]; then
    echo "# peers from $ANCHORS with $PEERS" >&2
    ( cd "$ANCHORS"
      taskset -c 0,1 "$PEERS/bin/python" bench_envs.py --groups single,envpool --seconds $PS --reps $PR --out "$OUT/peer_envs.jsonl" >&2 || true
      taskset -c 0,1 "$PEERS/bin/python" bench_policy.py --frameworks jax --reps $PR --seconds 1.5 --out "$OUT/peer_policy.jsonl" >&2 || true
      taskset -c 0,1 "$PEERS/bin/python" ofql_jax.py bench --hidden "256x3;512x4" --reps 3 --seconds $PS --out "$OUT/peer_ofql_jax.jsonl" >&2 || true )
    cat "$OUT"/peer_*.jsonl >> "$LOG" 2>/dev/null || true
else
    echo "# no peer venv (pass --peers VENV or set OFQL_PEER_VENV): peer figures come from ../shared/anchors/RESULTS.md" >&2
fi
python3 scripts/bench_summary.py "$LOG" | tee "$OUT/summary.md"
