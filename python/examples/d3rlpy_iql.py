"""IQL from d3rlpy trained on a stand-in dataset and evaluated through the Gymnasium env.

An example, not a test dependency (d3rlpy pulls in PyTorch):

    pip install ./python d3rlpy
    ofql-eval dataset generate hopper-medium-replay-v1 --out data
    python python/examples/d3rlpy_iql.py data/hopper-medium-replay-v1.hdf5 --steps 50000

Evaluation follows the suite's protocol: episode i of the evaluation uses env seed 1,000,000 + i,
and returns are normalised with the suite's reference returns, so the number is comparable with
`ofql-eval train --algo iql` on the same file (results/discrimination-v1.md). Checked with
d3rlpy 2.8.1 and torch 2.13 (CPU): 2,000 steps on 20,000 transitions run end to end."""
import argparse

import d3rlpy
import gymnasium as gym
import numpy as np

import ofql_suite


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dataset")
    ap.add_argument("--steps", type=int, default=50_000)
    ap.add_argument("--episodes", type=int, default=150)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    data = ofql_suite.load_dataset(args.dataset)  # validated like `ofql-eval dataset verify`
    env_name = data["metadata/env_id"]
    dataset = d3rlpy.dataset.MDPDataset(
        observations=data["observations"], actions=data["actions"], rewards=data["rewards"],
        terminals=data["terminals"].astype(np.float32), timeouts=data["timeouts"].astype(np.float32))
    d3rlpy.seed(args.seed)
    iql = d3rlpy.algos.IQLConfig(  # the IQL paper's locomotion settings (arXiv 2110.06169)
        expectile=0.7, weight_temp=3.0, max_weight=100.0,
        reward_scaler=d3rlpy.preprocessing.ReturnBasedRewardScaler(multiplier=1000.0),
        observation_scaler=d3rlpy.preprocessing.StandardObservationScaler(),
    ).create(device="cpu")
    iql.fit(dataset, n_steps=args.steps, n_steps_per_epoch=min(args.steps, 10_000),
            logger_adapter=d3rlpy.logging.NoopAdapterFactory(), show_progress=False)

    env = gym.make(ofql_suite.ENV_IDS[ofql_suite.NATIVE_IDS.index(env_name)])
    scores = []
    for i in range(args.episodes):
        obs, _ = env.reset(seed=1_000_000 + i)
        total, done = 0.0, False
        while not done:
            action = iql.predict(obs[None].astype(np.float32))[0]
            obs, reward, terminated, truncated, _ = env.step(action)
            total += reward
            done = terminated or truncated
        scores.append(ofql_suite.normalized_score(env_name, total))
    print(f"d3rlpy IQL on {data['metadata/dataset_id']}: normalised score {np.mean(scores):.1f} ± {np.std(scores):.1f} "
          f"over {args.episodes} episodes")


if __name__ == "__main__":
    main()
