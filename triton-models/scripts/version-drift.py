#!/usr/bin/env python3
"""How the item_encoder versions a tuner published move the embedding space, on MovieLens items
(docs/evaluation-fine-tuning.md): per version (each one's own ONNX model), the mean cosine of random
item pairs, and of item pairs that one user liked both of (rating >= 3.5), for users the tuner
was trained on and for held-out users. Text of an item = the Java ItemVersion.text(): "Title (year).
Genre, Genre".

  .venv/bin/python scripts/version-drift.py --repository TUNER_REPO --data ML_DIR \
      [--trained-users 150] [--items 1500] [--pairs 3000]
"""
import argparse
import csv
import os
import pathlib
import random
import sys

import numpy as np

HERE = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(HERE))

from encoder.minilm import MiniLmEncoder  # noqa: E402
from encoder.tuner import version_numbers  # noqa: E402


def item_texts(data: pathlib.Path) -> dict:
    texts = {}
    with open(data / "movies.csv", newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            genres = [g for g in row["genres"].split("|") if g and not g.startswith("(")]
            texts[row["movieId"]] = row["title"] + (". " + ", ".join(genres) if genres else "")
    return texts


def liked_by_user(data: pathlib.Path) -> dict:
    liked = {}
    with open(data / "ratings.csv", newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            if float(row["rating"]) >= 3.5:
                liked.setdefault(int(row["userId"]), []).append(row["movieId"])
    return liked


def co_liked_pairs(liked: dict, users, n: int, rng: random.Random) -> list:
    users = [u for u in users if len(liked.get(u, [])) >= 2]
    pairs = []
    while len(pairs) < n:
        items = liked[rng.choice(users)]
        a, b = rng.sample(items, 2)
        pairs.append((a, b))
    return pairs


def mean_cosine(vectors: dict, pairs) -> float:
    return float(np.mean([vectors[a] @ vectors[b] for a, b in pairs]))


TEXTS: dict = {}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--repository", required=True, action="append",
                   help="a tuner's model repository (repeatable)")
    p.add_argument("--data", required=True, help="ml-latest-small folder")
    p.add_argument("--trained-users", type=int, default=150,
                   help="users 1..N were in the replay the tuner trained on; the rest are held out")
    p.add_argument("--pairs", type=int, default=3000)
    p.add_argument("--model-dir", default=str(HERE / "item_encoder" / "1"))
    args = p.parse_args()
    data = pathlib.Path(args.data)
    rng = random.Random(42)
    texts = item_texts(data)
    liked = liked_by_user(data)
    trained = co_liked_pairs(liked, [u for u in liked if u <= args.trained_users], args.pairs, rng)
    held_out = co_liked_pairs(liked, [u for u in liked if u > args.trained_users], args.pairs, rng)
    ids = sorted(texts)
    randoms = []
    while len(randoms) < args.pairs:
        a, b = rng.sample(ids, 2)
        randoms.append((a, b))
    needed = sorted({i for pair in trained + held_out + randoms for i in pair})
    TEXTS.update(texts)
    frozen = None  # each version is encoded by its own model
    print("| repository | version | random pairs | co-liked, trained users | co-liked, held-out "
          "users | held-out co-liked − random | (co-liked − random) / (1 − random) |")
    print("|---|---|---|---|---|---|---|")
    for repository in args.repository:
        models = os.path.join(repository, "item_encoder")
        for version in version_numbers(models):
            row(repository, models, version, frozen, needed, randoms, trained, held_out)


def row(repository, models, version, frozen, needed, randoms, trained, held_out):
    y = MiniLmEncoder(os.path.join(models, str(version))).encode([TEXTS[i] for i in needed])
    vectors = dict(zip(needed, y))
    r, t, h = (mean_cosine(vectors, pairs) for pairs in (randoms, trained, held_out))
    print(f"| {os.path.basename(repository)} | {version} | {r:.3f} | {t:.3f} "
          f"| {h:.3f} | {h - r:+.3f} | {(h - r) / (1 - r):+.3f} |", flush=True)


if __name__ == "__main__":
    main()
