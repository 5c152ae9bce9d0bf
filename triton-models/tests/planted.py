"""Planted-topic training data for the tuner, from the vocabularies of the Java SyntheticDataset.

flink-job/src/main/java/dev/interestgraph/data/SyntheticDataset.java titles an item with three
words of its topic's vocabulary and a number ("Galactic starship alien 3"). Those eight topics
are already far apart for the frozen encoder, so here each *planted interest* joins two unrelated
vocabularies (scifi + cooking, football + jazz, ...): users who like one half like the other half
too. That is the kind of signal only behaviour carries, and the one fine-tuning must learn.
"""
from __future__ import annotations

import random
from typing import List, Tuple

import numpy as np

# SyntheticDataset.TOPICS: name, then the title vocabulary
VOCABULARIES = {
    "scifi": ["galactic", "starship", "alien", "robot", "orbit", "nebula"],
    "cooking": ["recipe", "kitchen", "pasta", "spice", "oven", "baking"],
    "football": ["goal", "league", "striker", "stadium", "match", "coach"],
    "jazz": ["saxophone", "swing", "trumpet", "improvisation", "quartet", "blues"],
    "gardening": ["seeds", "compost", "roses", "greenhouse", "soil", "pruning"],
    "finance": ["stocks", "bonds", "dividend", "portfolio", "market", "savings"],
    "travel": ["beach", "passport", "island", "hostel", "backpack", "journey"],
    "history": ["empire", "medieval", "castle", "dynasty", "revolution", "archive"],
}
# planted interests: two unrelated vocabularies each
PLANTED = [("scifi", "cooking"), ("football", "jazz"), ("gardening", "finance"), ("travel", "history")]


def title(vocabulary: str, number: int, rng: random.Random) -> str:
    """SyntheticDataset's recipe: three shuffled words of the vocabulary, capitalised, and a number."""
    words = list(VOCABULARIES[vocabulary])
    rng.shuffle(words)
    return f"{words[0].capitalize()} {words[1]} {words[2]} {number}"


def items(first: int, count: int, seed: int) -> Tuple[List[str], np.ndarray]:
    """`count` items per vocabulary numbered first.., with the index of their planted interest."""
    rng = random.Random(seed)
    texts, topics = [], []
    for t, pair in enumerate(PLANTED):
        for vocabulary in pair:
            for i in range(count):
                texts.append(title(vocabulary, first + i, rng))
                topics.append(t)
    return texts, np.asarray(topics)


def batches(texts: List[str], topics: np.ndarray, steps: int, batch_size: int, seed: int,
            history: int = 3, start_ms: int = 1_700_000_000_000):
    """Training batches: (contexts, positives, event times); a context is `history` earlier
    positives of one planted interest joined with " | ", the positive the next item of it."""
    rng = random.Random(seed)
    by_topic = {t: [texts[i] for i in np.flatnonzero(topics == t)] for t in range(len(PLANTED))}
    time_ms = start_ms
    for _ in range(steps):
        contexts, positives, times = [], [], []
        for _ in range(batch_size):
            pool = by_topic[rng.randrange(len(PLANTED))]
            picked = rng.sample(pool, history + 1)
            contexts.append(" | ".join(picked[:history]))
            positives.append(picked[history])
            time_ms += rng.randint(1, 1000)
            times.append(time_ms)
        yield contexts, positives, times


def separation(vectors: np.ndarray, topics: np.ndarray) -> float:
    """Mean cosine of pairs within a planted interest minus mean cosine of pairs across them."""
    v = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    cos = v @ v.T
    same = topics[:, None] == topics[None, :]
    off_diagonal = ~np.eye(len(topics), dtype=bool)
    return float(cos[same & off_diagonal].mean() - cos[~same].mean())


def cross_cosine(vectors: np.ndarray, topics: np.ndarray) -> float:
    """Mean cosine of pairs of items of different planted interests: how alike unrelated items look."""
    v = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    cos = v @ v.T
    return float(cos[topics[:, None] != topics[None, :]].mean())
