#!/usr/bin/env bash
# Runs a tiny suite plan as a Slurm job array on this machine's own one-node test cluster and
# checks that its table is identical to a local `suite` run of the same plan:
#   bash scripts/slurm-check.sh
# Installs slurm-wlm and munge from Debian when missing (needs root), writes a minimal
# single-node configuration in a temporary folder, starts munged, slurmctld and slurmd on
# loopback, submits the plan (2 datasets x 2 algorithms x 2 seeds), requeues one task while it
# runs (the requeued task resumes its cell from the latest checkpoint), waits for the collection
# job, runs the same plan locally with the same per-task CPU count, compares results.json and
# prints a line containing "identical" when they match. Stops only the daemons it started.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
  [ "$(id -u)" = 0 ] || { echo "slurm-check: slurm-wlm and munge are missing; run as root to install them" >&2; exit 1; }
  echo "slurm-check: installing slurm-wlm and munge" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q slurm-wlm munge >/dev/null
fi
[ "$(id -u)" = 0 ] || { echo "slurm-check: the test cluster runs its daemons as root" >&2; exit 1; }

bash scripts/bootstrap.sh >/dev/null
swift build -c release -Xswiftc -static-stdlib --product ofql-eval >/dev/null
bin=$(swift build -c release -Xswiftc -static-stdlib --show-bin-path)/ofql-eval

work=$(mktemp -d -t ofql-slurm-check.XXXXXX)   # under $TMPDIR
pids=()
cleanup() {
  for p in "${pids[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done
  sleep 1
  for p in "${pids[@]:-}"; do [ -n "$p" ] && kill -9 "$p" 2>/dev/null || true; done
}
trap cleanup EXIT

# --- the test cluster: one node (this machine), one partition, loopback only ---------------
node=$(hostname -s)
cpus=$(nproc)
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
ctlport=$(port); dport=$(port)
mkdir -p "$work/state" "$work/spool"
dd if=/dev/urandom of="$work/munge.key" bs=1024 count=1 status=none
chmod 400 "$work/munge.key"
munged --force --socket="$work/munge.sock" --key-file="$work/munge.key" --pid-file="$work/munged.pid" \
  --log-file="$work/munged.log" --seed-file="$work/munged.seed"
pids+=("$(cat "$work/munged.pid")")
cat > "$work/slurm.conf" <<EOF
ClusterName=ofqlcheck
SlurmctldHost=$node(127.0.0.1)
SlurmctldPort=$ctlport
SlurmdPort=$dport
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$work/munge.sock
CredType=cred/munge
StateSaveLocation=$work/state
SlurmdSpoolDir=$work/spool
SlurmctldPidFile=$work/slurmctld.pid
SlurmdPidFile=$work/slurmd.pid
SlurmctldLogFile=$work/slurmctld.log
SlurmdLogFile=$work/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
ReturnToService=2
JobRequeue=1
MinJobAge=600
NodeName=$node NodeAddr=127.0.0.1 CPUs=$cpus State=UNKNOWN
PartitionName=check Nodes=$node Default=YES MaxTime=INFINITE State=UP
EOF
export SLURM_CONF=$work/slurm.conf
slurmctld -f "$SLURM_CONF"
for _ in $(seq 50); do [ -s "$work/slurmctld.pid" ] && break; sleep 0.2; done
pids+=("$(cat "$work/slurmctld.pid")")
slurmd -f "$SLURM_CONF" -N "$node"
for _ in $(seq 50); do [ -s "$work/slurmd.pid" ] && break; sleep 0.2; done
pids+=("$(cat "$work/slurmd.pid")")
for _ in $(seq 60); do sinfo -h -o %T 2>/dev/null | grep -qE '^idle' && break; sleep 0.5; done
sinfo -h -o %T | grep -qE '^idle' || { echo "slurm-check: the node did not come up"; tail -20 "$work/slurmd.log" "$work/slurmctld.log"; exit 1; }
echo "slurm-check: test cluster up ($node, $cpus CPUs; slurm $(sinfo -V | awk '{print $2}'))"

# --- the plan: 2 datasets x 2 algorithms x 2 seeds, one CPU per task ----------------------
cat > "$work/plan.json" <<'EOF'
{"name": "slurm-check", "datasets": [{"id": "hopper-medium-v1", "size": 5000}, {"id": "walker2d-medium-v1", "size": 5000}],
 "algorithms": ["bc", "td3bc"], "seeds": [0, 1], "steps": 1600, "eval_every": 400, "eval_episodes": 3,
 "slurm": {"cpus_per_task": 1, "time": "00:20:00"}}
EOF
"$bin" suite --plan "$work/plan.json" --out "$work/slurm-out" --slurm | tee "$work/submit.txt"
job=$(sed -n 's/^submitted array job \([0-9]*\) .*/\1/p' "$work/submit.txt")
[ -n "$job" ] || { echo "slurm-check: no job id"; exit 1; }

# Requeue task 3 (td3bc on hopper, seed 1) once its first checkpoint exists: Slurm kills it and
# runs it again; the task resumes its cell from that checkpoint.
victim=3
run="$work/slurm-out/runs/hopper-medium-v1/td3bc/seed-1"
for _ in $(seq 600); do [ -e "$run/checkpoints/latest" ] && break; sleep 0.1; done
[ -e "$run/checkpoints/latest" ] || { echo "slurm-check: task $victim never wrote a checkpoint"; tail -20 "$work/slurm-out/slurm/logs/task-$victim.out" || true; exit 1; }
if scontrol requeue "${job}_${victim}"; then
  echo "slurm-check: requeued task $victim while it ran (checkpoint $(readlink "$run/checkpoints/latest" || cat "$run/checkpoints/latest"))"
else
  echo "slurm-check: task $victim finished before it could be requeued"; exit 1
fi
# Slurm holds a requeued task back for a while before it starts again; release it at once.
sleep 1
scontrol update JobId="${job}_${victim}" StartTime=now >/dev/null 2>&1 || true

for _ in $(seq 1200); do
  [ -z "$(squeue -h -o %i 2>/dev/null)" ] && break
  sleep 0.5
done
[ -z "$(squeue -h -o %i)" ] || { echo "slurm-check: jobs still queued after 10 minutes"; squeue; exit 1; }
grep -q "restart 1" "$work/slurm-out/slurm/logs/task-$victim.out" || { echo "slurm-check: task $victim did not run twice"; cat "$work/slurm-out/slurm/logs/task-$victim.out"; exit 1; }
grep -q "resuming" "$work/slurm-out/slurm/logs/task-$victim.out" || { echo "slurm-check: task $victim did not resume from its checkpoint"; exit 1; }
[ -s "$work/slurm-out/results.json" ] || { echo "slurm-check: the collection job wrote no table"; cat "$work/slurm-out/slurm/logs/collect.out" || true; exit 1; }

# --- the same plan locally, one CPU per cell as on the cluster ------------------------------
"$bin" suite --plan "$work/plan.json" --out "$work/local-out" --threads 1 --workers 1 >/dev/null 2>"$work/local.log"
if cmp -s "$work/slurm-out/results.json" "$work/local-out/results.json"; then
  echo "slurm-check: identical tables from the Slurm array (task $victim requeued mid-run) and the local run ($(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["rows"]))' "$work/local-out/results.json") rows)"
else
  echo "slurm-check: the tables differ"; diff "$work/slurm-out/results.json" "$work/local-out/results.json" | head -40; exit 1
fi
rm -rf "$work"
