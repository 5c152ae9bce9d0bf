#!/usr/bin/env python3
"""Measures item_encoder_tuner on this machine's CPU (docs/fine-tuning.md):

- training steps/s at batch 32 and 64 with the frozen encoder's forward pass included (the
  tuner's cache of frozen vectors off: every context and positive text is encoded each step);
- the loss curve and the held-out separation of the planted interests (tests/planted.py), frozen
  vs adapted, for the learning test's setting and for a longer run.

  .venv/bin/python scripts/tuner-bench.py [--threads 1] [--speed-steps 20] [--long-steps 300]
"""
import argparse
import pathlib
import sys
import tempfile
import time

import numpy as np

HERE = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE / "tests"))

import planted  # noqa: E402
from encoder import adapter as adapter_math  # noqa: E402
from encoder.minilm import MiniLmEncoder  # noqa: E402
from encoder.tuner import Tuner  # noqa: E402


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--model-dir", default=str(HERE / "item_encoder" / "1"))
    p.add_argument("--threads", type=int, default=0, help="ONNX Runtime intra-op threads, 0 = its default")
    p.add_argument("--speed-steps", type=int, default=20)
    p.add_argument("--long-steps", type=int, default=300)
    p.add_argument("--speed-only", action="store_true")
    args = p.parse_args()
    encoder = MiniLmEncoder(args.model_dir, intra_op_threads=args.threads or None)
    train_texts, train_topics = planted.items(first=1, count=15, seed=1)
    held_out, held_out_topics = planted.items(first=101, count=8, seed=2)

    for batch in (32, 64):
        with tempfile.TemporaryDirectory() as repo:
            tuner = Tuner(repo, encoder.encode, repo + "/state", None, publish_every_steps=10 ** 9, cache_size=0)
            data = list(planted.batches(train_texts, train_topics, args.speed_steps + 2, batch, seed=11))
            for i, b in enumerate(data[:2]):  # warm-up
                tuner.train(f"w{i}", *b)
            started = time.perf_counter()
            for i, b in enumerate(data[2:]):
                tuner.train(f"s{i}", *b)
            elapsed = time.perf_counter() - started
            # the parts: the frozen encoder alone on the same texts, the adapter step alone
            started = time.perf_counter()
            for contexts, positives, _ in data[2:]:
                encoder.encode(contexts)
                encoder.encode(positives)
            encode_s = (time.perf_counter() - started) / args.speed_steps
            vectors = [(encoder.encode(c), encoder.encode(p)) for c, p, _ in data[2:4]]
            started = time.perf_counter()
            for i in range(20):
                xc, xp = vectors[i % 2]
                _, grad = adapter_math.infonce(tuner.w, xc, xp, 0.05)
                tuner.optimizer.step(tuner.w, grad)
            math_s = (time.perf_counter() - started) / 20
            print(f"batch {batch}: {args.speed_steps / elapsed:.2f} steps/s, "
                  f"{args.speed_steps * batch * 2 / elapsed:.0f} texts/s encoded ({elapsed / args.speed_steps * 1000:.0f} ms/step; "
                  f"encoder alone {encode_s * 1000:.0f} ms, adapter loss+gradient+Adam alone {math_s * 1000:.1f} ms)",
                  flush=True)

    if args.speed_only:
        return
    frozen = planted.separation(encoder.encode(held_out), held_out_topics)
    for steps, lr in ((40, 1e-3), (args.long_steps, 1e-3)):  # 40: the learning test's setting
        with tempfile.TemporaryDirectory() as repo:
            tuner = Tuner(repo, encoder.encode, repo + "/state", None, publish_every_steps=10 ** 9, learning_rate=lr)
            losses = [tuner.train(f"b{i}", *b).loss
                      for i, b in enumerate(planted.batches(train_texts, train_topics, steps, 32, seed=3))]
            curve = ", ".join(f"{np.mean(losses[i:i + 10]):.2f}" for i in range(0, steps, max(10, steps // 10)))
            adapted = planted.separation(tuner.adapted(held_out), held_out_topics)
            print(f"{steps} steps, batch 32, lr {lr}: loss first10 {np.mean(losses[:10]):.3f} last10 "
                  f"{np.mean(losses[-10:]):.3f} (10-step means: {curve}); held-out separation frozen {frozen:.3f} "
                  f"adapted {adapted:.3f} (gain {adapted - frozen:+.3f}); |W|_F {np.linalg.norm(tuner.w):.2f}")


if __name__ == "__main__":
    main()
