#!/usr/bin/env python3
"""Measures item_encoder_tuner's trainer on this machine's CPU (docs/fine-tuning.md): fp32 training
steps/s at batch 16 and 32 for every weight (lora_rank 0) and for LoRA r=8, and the loss and the
held-out separation of the planted interests (tests/planted.py) after a few steps, frozen vs tuned.
On a GPU, `make bench-gpu` measures the same step in bf16.

  .venv/bin/python scripts/tuner-bench.py [--threads 1] [--speed-steps 6] [--learn-steps 16]
"""
import argparse
import pathlib
import sys
import time

import numpy as np

HERE = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE / "tests"))

import planted  # noqa: E402
from encoder.minilm import MiniLmEncoder  # noqa: E402
from encoder.tuner import EncoderTrainer  # noqa: E402


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--model-dir", default=str(HERE / "item_encoder" / "1"))
    p.add_argument("--threads", type=int, default=0, help="PyTorch threads, 0 = its default")
    p.add_argument("--speed-steps", type=int, default=6)
    p.add_argument("--learn-steps", type=int, default=16)
    p.add_argument("--speed-only", action="store_true")
    args = p.parse_args()
    train_texts, train_topics = planted.items(first=1, count=15, seed=1)
    held_out, held_out_topics = planted.items(first=101, count=8, seed=2)

    for rank, lr in ((0, 2e-4), (8, 1e-3)):
        for batch in (16, 32):
            trainer = EncoderTrainer(args.model_dir, learning_rate=lr, lora_rank=rank, threads=args.threads)
            data = list(planted.batches(train_texts, train_topics, args.speed_steps + 1, batch, seed=11))
            trainer.step(*data[0][:2])  # warm-up
            started = time.perf_counter()
            for contexts, positives, _ in data[1:]:
                trainer.step(contexts, positives)
            elapsed = time.perf_counter() - started
            print(f"lora_rank {rank}, batch {batch}: {args.speed_steps / elapsed:.2f} steps/s, "
                  f"{args.speed_steps * batch / elapsed:.1f} examples/s ({elapsed / args.speed_steps * 1000:.0f} ms/step)",
                  flush=True)
    if args.speed_only:
        return
    frozen = MiniLmEncoder(args.model_dir, intra_op_threads=args.threads or None).encode(held_out)
    before = planted.separation(frozen, held_out_topics)
    for rank, lr in ((0, 2e-4), (8, 1e-3)):
        trainer = EncoderTrainer(args.model_dir, learning_rate=lr, lora_rank=rank, threads=args.threads)
        losses = [trainer.step(c, p) for c, p, _ in
                  planted.batches(train_texts, train_topics, args.learn_steps, 16, seed=3)]
        tuned = trainer.encode(held_out)
        print(f"lora_rank {rank}, lr {lr}, {args.learn_steps} steps of batch 16: loss {np.mean(losses[:3]):.3f} -> "
              f"{np.mean(losses[-3:]):.3f}; held-out separation frozen {before:.3f} tuned "
              f"{planted.separation(tuned, held_out_topics):.3f}; cross-interest cosine "
              f"{planted.cross_cosine(frozen, held_out_topics):.3f} -> {planted.cross_cosine(tuned, held_out_topics):.3f}",
              flush=True)


if __name__ == "__main__":
    main()
