#!/usr/bin/env bash
# Where the two-worker training update spends its time, per thread (#14): `perf record` of
# `bench train --threads 2` pinned to two CPUs, reported by thread and symbol, and the callers
# of the fork–join's two wait loops (`ofk_pair_run` on the calling thread, `pair_helper` on
# the helper).
#
#   bash scripts/profile-pair.sh BIN OUTDIR [CPUS]
#
# BIN: a release `ofql-eval`; CPUS: two CPUs for taskset (default 0,1). Needs `perf`
# (Debian: linux-perf) and permission to sample (perf_event_paranoid ≤ 2 for your own
# processes). Writes OUTDIR/perf-{syn,all}-{bench,tid,waits}.txt: `syn` is the synthetic line
# alone (--no-default-config), `all` adds the default config on hopper's shapes.
set -euo pipefail
BIN="${1:?usage: profile-pair.sh BIN OUTDIR [CPUS]}"; OUT="${2:?usage: profile-pair.sh BIN OUTDIR [CPUS]}"
CPUS="${3:-0,1}"
[[ -x "$BIN" ]] || { echo "profile-pair.sh: $BIN is not an executable ofql-eval" >&2; exit 66; }
command -v perf >/dev/null || { echo "profile-pair.sh: perf not found (Debian: apt-get install linux-perf)" >&2; exit 69; }
[[ "$CPUS" =~ ^[0-9]+,[0-9]+$ ]] || { echo "profile-pair.sh: CPUS must be two CPU numbers like 0,1, got $CPUS" >&2; exit 64; }
mkdir -p "$OUT"; data=$(mktemp -d); trap 'rm -rf "$data"' EXIT
for v in syn all; do
    flag=(); [[ $v == syn ]] && flag=(--no-default-config)
    taskset -c "$CPUS" perf record -F 1999 -g -o "$data/$v.data" -- "$BIN" bench train --reps 3 --seconds 2 \
        --hidden 256x3 --baselines "" --threads 2 "${flag[@]}" > "$OUT/perf-$v-bench.txt" 2> "$data/$v.err" \
        || { tail -5 "$data/$v.err" >&2; exit 1; }
    perf report -i "$data/$v.data" --no-children --sort pid,sym -g none --stdio 2>/dev/null | grep -v '^$' | sed -n 1,120p > "$OUT/perf-$v-tid.txt"
    perf report -i "$data/$v.data" --no-children --sort sym --stdio --max-stack=3 -g caller,0.5,callee,function,percent \
        --symbols=ofk_pair_run,pair_helper 2>/dev/null | grep -v '^$' | sed -n 1,300p > "$OUT/perf-$v-waits.txt"
done
grep -v '^#' "$OUT/perf-syn-tid.txt" | sed -n 1,30p
