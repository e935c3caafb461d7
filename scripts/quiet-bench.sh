#!/usr/bin/env bash
# The 2-core figures of the training-speed issue on a larger, otherwise idle machine: the same
# benchmarks pinned (taskset) to two hardware threads of *different* physical cores, then to the
# two SMT siblings of *one* core, then rollout scaling over all cores. Cloud "2 vCPU" machines
# may be either pair; this tells which one a 2-core figure is close to.
#
#   bash scripts/quiet-bench.sh BIN OUTDIR [--quick]
#
# BIN: a release `ofql-eval`. Writes OUTDIR/quiet-bench.jsonl (every benchmark's JSON line with a
# "pinning" field added) and OUTDIR/cpu.txt (lscpu and the chosen CPU pairs).
set -euo pipefail
BIN="${1:?usage: quiet-bench.sh BIN OUTDIR [--quick]}"; OUT="${2:?usage: quiet-bench.sh BIN OUTDIR [--quick]}"
[[ -x "$BIN" ]] || { echo "quiet-bench.sh: $BIN is not an executable ofql-eval" >&2; exit 66; }
QUICK="${3:-}"
[[ -z "$QUICK" || "$QUICK" == --quick ]] || { echo "quiet-bench.sh: unknown argument $QUICK (expected --quick or nothing)" >&2; exit 64; }
if [[ "$QUICK" == --quick ]]; then R=(--reps 2 --seconds 0.3); EP=32; else R=(--reps 5 --seconds 1); EP=256; fi
mkdir -p "$OUT"; LOG="$OUT/quiet-bench.jsonl"; : > "$LOG"
topo() { cat "/sys/devices/system/cpu/cpu$1/topology/$2" 2>/dev/null || echo "?"; }
# Two threads on different cores: cpu0 and the first CPU whose (package, core) differs.
c0="$(topo 0 physical_package_id):$(topo 0 core_id)"; other=""; sibling=""
for d in /sys/devices/system/cpu/cpu[0-9]*; do
    n=${d##*cpu}; [[ $n == 0 ]] && continue
    key="$(topo "$n" physical_package_id):$(topo "$n" core_id)"
    if [[ "$key" != "$c0" && -z "$other" ]]; then other=$n; fi
    if [[ "$key" == "$c0" && -z "$sibling" ]]; then sibling=$n; fi
done
[[ -n "$other" ]] || { echo "quiet-bench.sh: needs two CPUs on different cores; this machine has $(nproc) CPU(s)" >&2; exit 69; }
{ lscpu; echo "cores pair: 0,$other"; echo "SMT sibling pair: 0,${sibling:-none}"; } > "$OUT/cpu.txt"
echo "# $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) CPUs; pairs: cores 0,$other, siblings 0,${sibling:-none}" >&2
run() {  # run PINNING CPUS ARGS...: one benchmark pinned to CPUS, its lines tagged with PINNING
    local tag=$1 cpus=$2; shift 2
    taskset -c "$cpus" "$BIN" "$@" 2> >(tee -a "$OUT/stderr.txt" >&2) | sed "s/^{/{\"pinning\": \"$tag\", /" | tee -a "$LOG"
}
pairs=("two-cores:0,$other"); [[ -n "$sibling" ]] && pairs+=("smt-siblings:0,$sibling")
for p in "${pairs[@]}"; do
    tag=${p%%:*}; cpus=${p#*:}
    run "$tag" "$cpus" bench gemm "${R[@]}" --sizes 256
    run "$tag" "$cpus" bench train "${R[@]}" --hidden 256x3 --baselines bc
    run "$tag" "$cpus" bench rollout "${R[@]}" --episodes "$EP" --workers 1 --workers 2
    run "$tag" "$cpus" bench policy "${R[@]}" --batches 1 --threads 1
    run "$tag" "$cpus" bench policy "${R[@]}" --batches 1 --threads 2
done
all=$(nproc); ws=(--workers 1 --workers 2 --workers 4); ((all >= 8)) && ws+=(--workers 8); ((all >= 16)) && ws+=(--workers 16)
run "all-$all" "0-$((all - 1))" bench rollout "${R[@]}" --episodes $((EP * 4)) "${ws[@]}"
