#!/usr/bin/env python3
"""Chooses item_encoder_tuner's CPU settings for `make eval-fine-tune` before the evaluation runs,
without looking at what the evaluation scores (docs/evaluation-fine-tuning.md): the tuner's own
held-out InfoNCE loss and its steps/s on MovieLens training examples built as the job builds them.

Examples as the job's user-graph makes them (FineTuningSupport): per user, in event order, each
positive rating (stars > 2.5) of an item whose text differs from the previous positive one gives
(the texts of the user's last `--context-items` positive items joined with " | " → this item's text).
Item text = title + ". " + genres joined with ", " (ItemVersion.text()).

Training examples come from users the evaluation does not replay (ids above `--skip-users`, the
evaluation's --eval.max-users) in event-time order, as the job sends them; the held-out loss is
measured on a fixed sample of examples of other users again (the highest ids), never trained on.
Per learning rate: steps/s and the held-out loss before training and after every `--eval-every`
steps.

  .venv/bin/python scripts/movielens-probe.py --data ../../shared/data/ml-latest-small \
      --skip-users 150 --batch 32 --steps 40 --learning-rates 5e-5,1e-4,2e-4
"""
import argparse
import csv
import pathlib
import sys
import time

import numpy as np

HERE = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(HERE))

from encoder.tuner import EncoderTrainer  # noqa: E402

SEPARATOR = " | "  # FineTuningSupport.CONTEXT_SEPARATOR


def item_texts(data: pathlib.Path) -> dict:
    texts = {}
    with open(data / "movies.csv", newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            genres = [g for g in row["genres"].split("|") if g.strip() and not g.startswith("(")]
            texts[row["movieId"]] = row["title"] + (". " + ", ".join(genres) if genres else "")
    return texts


def examples_by_user(data: pathlib.Path, context_items: int) -> dict:
    texts = item_texts(data)
    ratings = {}
    with open(data / "ratings.csv", newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            ratings.setdefault(int(row["userId"]), []).append(
                (int(row["timestamp"]) * 1000, row["movieId"], float(row["rating"])))
    out = {}
    for user, events in ratings.items():
        events.sort(key=lambda e: (e[0], e[1]))
        recent, examples = [], []
        for time_ms, movie, stars in events:
            text = texts.get(movie)
            if text is None or (stars - 2.5) / 2.5 <= 0:
                continue
            if recent and recent[-1] != text:
                examples.append((time_ms, SEPARATOR.join(recent), text))
            if text in recent:
                recent.remove(text)
            recent.append(text)
            del recent[:-context_items]
        out[user] = examples
    return out


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--data", required=True, help="ml-latest-small directory")
    p.add_argument("--model-dir", default=str(HERE / "item_encoder" / "1"))
    p.add_argument("--skip-users", type=int, default=150, help="the evaluation's users: never used")
    p.add_argument("--held-out-users", type=int, default=100, help="the highest ids: held-out loss only")
    p.add_argument("--held-out-examples", type=int, default=256)
    p.add_argument("--context-items", type=int, default=3)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--steps", type=int, default=40)
    p.add_argument("--eval-every", type=int, default=10)
    p.add_argument("--learning-rates", default="5e-5,1e-4,2e-4")
    p.add_argument("--weight-decay", type=float, default=0.0)
    p.add_argument("--threads", type=int, default=0)
    args = p.parse_args()

    by_user = examples_by_user(pathlib.Path(args.data), args.context_items)
    users = sorted(by_user)
    held_users = set(users[-args.held_out_users:])
    train = sorted((e for u in users if u > args.skip_users and u not in held_users for e in by_user[u]),
                   key=lambda e: e[0])
    held = [e for u in sorted(held_users) for e in by_user[u]]
    rng = np.random.default_rng(7)
    held = [held[i] for i in sorted(rng.choice(len(held), size=min(args.held_out_examples, len(held)),
                                               replace=False))]
    print(f"{len(train):,} training examples (users > {args.skip_users}, not held out), "
          f"{len(held)} held-out examples of {len(held_users)} users", flush=True)

    def held_out_loss(trainer):
        # in batches of the training size: InfoNCE depends on how many negatives a row has
        losses = [trainer.evaluate([c for _, c, _ in held[i:i + args.batch]],
                                   [t for _, _, t in held[i:i + args.batch]])
                  for i in range(0, len(held) - args.batch + 1, args.batch)]
        return float(np.mean(losses))

    for lr in (float(x) for x in args.learning_rates.split(",")):
        trainer = EncoderTrainer(args.model_dir, learning_rate=lr, weight_decay=args.weight_decay,
                                 threads=args.threads)
        line = [f"lr {lr:g}, batch {args.batch}: held-out InfoNCE {held_out_loss(trainer):.3f} (frozen)"]
        train_seconds, losses = 0.0, []
        for step in range(args.steps):
            chunk = train[step * args.batch:(step + 1) * args.batch]
            started = time.perf_counter()
            losses.append(trainer.step([c for _, c, _ in chunk], [t for _, _, t in chunk]))
            train_seconds += time.perf_counter() - started
            if (step + 1) % args.eval_every == 0:
                line.append(f"step {step + 1} {held_out_loss(trainer):.3f}")
        print(", ".join(line) + f"; training loss first 5 {np.mean(losses[:5]):.3f} last 5 "
              f"{np.mean(losses[-5:]):.3f}; {args.steps / train_seconds:.3f} steps/s "
              f"({train_seconds / args.steps:.2f} s/step, {args.steps * args.batch / train_seconds:.1f} "
              f"examples/s)", flush=True)


if __name__ == "__main__":
    main()
