#!/usr/bin/env python3
"""Chooses item_encoder_tuner's training recipe for `make eval-fine-tune` on a validation measure
that is not the evaluation's target (docs/evaluation-fine-tuning.md, "How the recipe was chosen").

Training examples are built as the job builds them (scripts/movielens-probe.py, FineTuningSupport)
from the users the evaluation does not replay (ids above `--skip-users`) and not held out, in
event-time order, `--batch` at a time. The measure is content-only NDCG@10 / Recall@10 of
held-out users (the `--held-out-users` highest ids, never trained on), the protocol of issue 19's
GPU measurement: per user, events in time order, cut at 80 %; the profile is the normalised mean
of the vectors of the last 20 items rated >= 3.5 before the cut; every item the user did not
rate before the cut is ranked by cosine to it; relevant = the items rated >= 3.5 after the cut.
Also reported per checkpoint: the mean cosine of random item pairs (how spread the space is,
which the user-graph's absolute cosine thresholds see) and the share of random pairs at or above
the interest join threshold (0.5).

A recipe is `lr:uniformity_weight:temperature:lora_rank[:warmup_steps]`; recipes are separated by
spaces:

  .venv/bin/python scripts/recipe-probe.py --data ../../shared/data/ml-latest-small \
      --steps 100 --eval-every 50 --recipes "5e-5:0.5:0.05:0 5e-5:0:0.05:0"
"""
import argparse
import importlib.util
import pathlib
import sys
import time

import numpy as np

HERE = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(HERE))

from encoder.tuner import EncoderTrainer  # noqa: E402

_spec = importlib.util.spec_from_file_location("movielens_probe", HERE / "scripts" / "movielens-probe.py")
probe = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(probe)

LIKED = 3.5          # Evaluation: relevant = rating >= 3.5
PROFILE_ITEMS = 20   # issue 19: mean of the last 20 liked items
CUT = 0.8


def ratings_by_user(data: pathlib.Path) -> dict:
    import csv

    out = {}
    with open(data / "ratings.csv", newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            out.setdefault(int(row["userId"]), []).append(
                (int(row["timestamp"]), row["movieId"], float(row["rating"])))
    for events in out.values():
        events.sort()
    return out


def content_ndcg(vectors: np.ndarray, index: dict, users: dict, k: int = 10):
    """Mean NDCG@k and Recall@k over the held-out users with a profile and a relevant item."""
    ndcgs, recalls = [], []
    discounts = 1.0 / np.log2(np.arange(2, k + 2))
    for events in users.values():
        cut = int(len(events) * CUT)
        before, after = events[:cut], events[cut:]
        liked = [index[m] for _, m, r in before if r >= LIKED and m in index][-PROFILE_ITEMS:]
        relevant = {index[m] for _, m, r in after if r >= LIKED and m in index}
        if not liked or not relevant:
            continue
        profile = vectors[liked].mean(0)
        scores = vectors @ (profile / np.linalg.norm(profile))
        scores[[index[m] for _, m, _ in before if m in index]] = -np.inf
        top = np.argpartition(-scores, k)[:k]
        top = top[np.argsort(-scores[top])]
        hits = np.array([t in relevant for t in top], dtype=float)
        ndcgs.append(float(hits @ discounts) / float(discounts[:min(len(relevant), k)].sum()))
        recalls.append(hits.sum() / len(relevant))
    return float(np.mean(ndcgs)), float(np.mean(recalls)), len(ndcgs)


def space(vectors: np.ndarray, pairs: np.ndarray, threshold: float = 0.5):
    c = np.einsum("ij,ij->i", vectors[pairs[:, 0]], vectors[pairs[:, 1]])
    return float(c.mean()), float((c >= threshold).mean())


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--data", required=True, help="ml-latest-small directory")
    p.add_argument("--model-dir", default=str(HERE / "item_encoder" / "1"))
    p.add_argument("--skip-users", type=int, default=150, help="the evaluation's users: never used")
    p.add_argument("--held-out-users", type=int, default=100, help="the highest ids: measured only")
    p.add_argument("--context-items", type=int, default=3)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--steps", type=int, default=100)
    p.add_argument("--eval-every", type=int, default=50)
    p.add_argument("--recipes", default="5e-5:0.5:0.05:0 5e-5:0:0.05:0")
    p.add_argument("--weight-decay", type=float, default=0.0)
    p.add_argument("--threads", type=int, default=0)
    p.add_argument("--skip-frozen", action="store_true", help="do not measure the frozen encoder")
    args = p.parse_args()

    data = pathlib.Path(args.data)
    texts = probe.item_texts(data)
    movies = sorted(texts)
    index = {m: i for i, m in enumerate(movies)}
    item_texts = [texts[m] for m in movies]
    by_user = probe.examples_by_user(data, args.context_items)
    users = sorted(by_user)
    held_users = set(users[-args.held_out_users:])
    train = sorted((e for u in users if u > args.skip_users and u not in held_users for e in by_user[u]),
                   key=lambda e: e[0])
    ratings = ratings_by_user(data)
    held = {u: ratings[u] for u in sorted(held_users)}
    by_length = np.argsort([len(t) for t in item_texts], kind="stable")
    pairs = np.random.default_rng(7).integers(0, len(movies), size=(20000, 2))
    pairs = pairs[pairs[:, 0] != pairs[:, 1]]
    print(f"{len(train):,} training examples (users > {args.skip_users}, not held out); measured on "
          f"{len(held)} held-out users, {len(movies):,} items", flush=True)

    def measure(trainer, label):
        started = time.perf_counter()
        # in order of length: a batch pads to its longest text
        vectors = np.empty((len(item_texts), 384), dtype=np.float32)
        for i in range(0, len(by_length), 256):
            vectors[by_length[i:i + 256]] = trainer.encode([item_texts[j] for j in by_length[i:i + 256]])
        ndcg, recall, n = content_ndcg(vectors, index, held)
        mean, joined = space(vectors, pairs)
        print(f"  {label}: content-only NDCG@10 {ndcg:.4f}, R@10 {recall:.4f} ({n} users); random pairs "
              f"cosine {mean:.3f}, >= 0.5: {joined:.3f} (measured in {time.perf_counter() - started:.0f} s)",
              flush=True)

    frozen_done = False
    for recipe in args.recipes.split():
        lr, uniformity, tau, lora, *warmup = recipe.split(":")
        trainer = EncoderTrainer(args.model_dir, learning_rate=float(lr), weight_decay=args.weight_decay,
                                 temperature=float(tau), lora_rank=int(lora), threads=args.threads,
                                 uniformity_weight=float(uniformity), warmup_steps=int((warmup or ["0"])[0]))
        print(f"recipe lr {lr}, uniformity {uniformity}, tau {tau}, lora {lora}, warm-up {trainer.warmup_steps}, "
              f"batch {args.batch}", flush=True)
        if not frozen_done and not args.skip_frozen:
            measure(trainer, "frozen")
            frozen_done = True
        train_seconds = 0.0
        for step in range(args.steps):
            chunk = train[step * args.batch:(step + 1) * args.batch]
            started = time.perf_counter()
            trainer.step([c for _, c, _ in chunk], [t for _, _, t in chunk])
            train_seconds += time.perf_counter() - started
            if (step + 1) % args.eval_every == 0:
                measure(trainer, f"step {step + 1} ({train_seconds / (step + 1):.2f} s/step)")


if __name__ == "__main__":
    main()
