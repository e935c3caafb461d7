"""Summarise scripts/bench.sh output: our medians beside the peers' from the same run.

    python3 scripts/bench_summary.py bench-results/…/bench.jsonl
"""
import json
import sys


def load(path):
    rows = []
    for line in open(path):
        line = line.strip()
        if line.startswith("{"):
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError:
                pass
    return rows


def main():
    rows = load(sys.argv[1])
    ours = [r for r in rows if r.get("bench") not in ("env", "policy", "ofql_steps")]
    peers = [r for r in rows if r.get("bench") in ("env", "policy", "ofql_steps")]

    def peer(pred):
        c = [r for r in peers if pred(r)]
        return max(c, key=lambda r: r["median"]) if c else None

    pairs = {
        "hopper": lambda r: r["bench"] == "env" and "Hopper-v5" in r["label"],
        "walker2d": lambda r: r["bench"] == "env" and "Walker2d-v5" in r["label"],
        "halfcheetah": lambda r: r["bench"] == "env" and "HalfCheetah-v5" in r["label"],
        "maze": lambda r: r["bench"] == "env" and "single BipedalWalker" in r["label"],
        "kitchen": lambda r: r["bench"] == "env" and "single BipedalWalker" in r["label"],
    }
    print("| benchmark | ours (median) | peer, same run (median) | ratio | target |")
    print("|---|---:|---|---:|---|")
    for r in ours:
        b, label, med = r.get("bench"), r.get("label", ""), r.get("median")
        p, target = None, ""
        if b == "env_step":
            key = next((k for k in pairs if label.startswith(k)), None)
            p = peer(pairs[key]) if key else None
            target = "≥ 5x twin" + (", ≥ 50k/s" if key in ("hopper", "maze") else ", ≥ 20k/s" if key == "kitchen" else "")
        elif b == "rollout" and "workers=2" in label:
            p = peer(lambda q: q["bench"] == "env" and "envpool BipedalWalker" in q["label"] and "num_envs=8" in q["label"])
            target = "≥ 3x EnvPool"
        elif b == "ofql_policy_sample":
            batch = 1 if "batch=1" in label and "batch=16" not in label else 256
            p = peer(lambda q: q["bench"] == "policy" and q.get("batch") == batch and "flow-1" in q["label"])
            target = "≥ 2.5x" if batch == 1 else "≥ 1.5x"
        elif b == "ofql_train_steps" and "default config" in label:
            target = f"≥ 0.8 of the GEMM ceiling (here {r.get('fraction_of_ceiling')})"
        elif b == "ofql_train_steps":
            hidden = "256x3" if "256x3" in label else "512x4"
            p = peer(lambda q: q["bench"] == "ofql_steps" and hidden in q["label"])
            target = "≥ 2x JAX"
        elif b.endswith("_train_steps"):
            target = f"fraction of the GEMM ceiling {r.get('fraction_of_ceiling')} (no target yet)"
        elif b == "rollout_scaling":
            print(f"| {label} | {r['value']:.2f}x | | | ≥ 1.8x |")
            continue
        elif b in ("dataset_generate", "dataset_load"):
            v = r.get("seconds") if b == "dataset_generate" else r.get("ratio")
            t = f"< {r.get('target_seconds')} s" if b == "dataset_generate" else f"peak ≤ {r.get('target_ratio')}x arrays"
            print(f"| {b}: {label} | {v} | | | {t} |")
            continue
        if med is None:
            continue
        unit = r.get("unit", "")
        if p:
            print(f"| {b}: {label} | {med:,.0f} {unit} | {p['label']}: {p['median']:,.0f} | {med / p['median']:.2f}x | {target} |")
        else:
            ref = r.get("peer_steps_per_s") or r.get("peer_actions_per_s") or r.get("peer_jax_steps_per_s")
            note = f"(RESULTS.md: {ref:,})" if ref else ""
            print(f"| {b}: {label} | {med:,.0f} {unit} | {note} | | {target} |")


if __name__ == "__main__":
    main()
