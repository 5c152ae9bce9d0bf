#!/usr/bin/env python3
"""`make bench-gpu`: item_encoder and item_encoder_tuner on a GPU, in one run of a few minutes.

Prints (docs/benchmarks.md, GPU section):
  1. model only: sentences/s by batch size and dtype (pre-tokenized inputs on the GPU, forward
     pass + pooling, CUDA-synchronised), the raw model;
  2. end to end in process: tokenization on the CPU + copy + model (encoder/gpu.py, the code of
     item_encoder's GPU instances), serial and with 4 threads (as 4 Triton instances), and the
     ratio to the raw model at the same batch;
  3. end to end through Triton's gRPC when tritonclient and a Triton (nvidia-pytriton) are
     importable: item_encoder's GPU config on tritonserver, tritonclient sending batches from
     4 threads; the ratio to the raw model;
  4. the tuner's examples/s: one training step = both sides of a batch of (context, positive)
     pairs through the encoder, symmetric InfoNCE, AdamW; bf16 autocast; all weights and LoRA r=8;
  5. parity: the GPU path against ONNX Runtime on the CPU (cosine, fp32 and fp16).

  python scripts/bench-gpu.py [--model-dir item_encoder/1] [--weights file.pt --tokenizer file.json]

--weights: a state_dict of encoder/torch_minilm.MiniLm (any float dtype, e.g. fp16 to fit a small
transfer), staged as an ONNX model in a temporary version folder first; then every step runs on
that folder exactly as on `make models`' one.
"""
from __future__ import annotations

import argparse
import concurrent.futures
import os
import random
import shutil
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "tests"))

import numpy as np  # noqa: E402
import torch  # noqa: E402

from encoder import torch_minilm  # noqa: E402
from encoder.minilm import MODEL_FILE, TOKENIZER_FILE  # noqa: E402


def texts(n: int, words: int, seed: int = 0):
    """Item-like sentences of about `words` words from the planted vocabularies."""
    import planted

    vocabulary = [w for ws in planted.VOCABULARIES.values() for w in ws] + \
        "the a of and with for in on new old great small story film music book".split()
    rng = random.Random(seed)
    return [" ".join(rng.choice(vocabulary) for _ in range(words)).capitalize() + f" {i}" for i in range(n)]


def timed(fn, min_s: float = 0.6, warmup: int = 2) -> float:
    """Seconds per call: warm-up calls, then as many calls as fill min_s, CUDA-synchronised."""
    for _ in range(warmup):
        fn()
    torch.cuda.synchronize()
    calls, started = 0, time.perf_counter()
    while True:
        fn()
        calls += 1
        if calls >= 3:
            torch.cuda.synchronize()
            elapsed = time.perf_counter() - started
            if elapsed >= min_s:
                return elapsed / calls


def stage(weights: str, tokenizer: str, folder: str) -> str:
    model = torch_minilm.MiniLm()
    if weights == "random":  # same shapes and cost, other numbers: for throughput-only runs
        torch.manual_seed(0)
        for module in model.modules():
            if isinstance(module, (torch.nn.Linear, torch.nn.Embedding)):
                torch.nn.init.normal_(module.weight, std=0.02)
            if isinstance(module, torch.nn.LayerNorm):  # distinct values: the exporter merges equal tensors
                torch.nn.init.normal_(module.weight, mean=1.0, std=0.02)
                torch.nn.init.normal_(module.bias, std=0.02)
    else:
        state = torch.load(weights, map_location="cpu")
        model.load_state_dict({k: v.float() for k, v in state.items()})
    os.makedirs(folder, exist_ok=True)
    torch_minilm.export_onnx(model, os.path.join(folder, MODEL_FILE))
    shutil.copy(tokenizer, os.path.join(folder, TOKENIZER_FILE))
    return folder


def model_only(model_dir: str, words: int, raw: dict, batches=None, dtypes=("fp32", "fp16", "bf16")) -> None:
    batches = batches or BATCHES
    print(f"\n## 1. model only (pre-tokenized, ~{words} words a sentence), sentences/s", flush=True)
    tokens = torch_minilm.Tokens(model_dir)
    base = torch_minilm.from_onnx(os.path.join(model_dir, MODEL_FILE))
    print("| dtype | " + " | ".join(f"batch {b}" for b in batches) + " |")
    print("|---|" + "---|" * len(batches))
    for name, dtype in (("fp32", torch.float32), ("fp16", torch.float16), ("bf16", torch.bfloat16)):
        if name not in dtypes:
            continue
        model = torch_minilm.MiniLm()
        model.load_state_dict(base.state_dict())
        model = model.to("cuda", dtype).eval()
        row = []
        for b in batches:
            ids, mask, types = tokens(texts(b, words, seed=b), "cuda")

            def run():
                with torch.inference_mode():
                    torch_minilm.mean_pool_normalise(model(ids, mask, types), mask)

            rate = b / timed(run)
            raw[(name, b)] = rate
            row.append(f"{rate:,.0f}")
        print(f"| {name} | " + " | ".join(row) + " |", flush=True)
        del model
        torch.cuda.empty_cache()


def end_to_end(model_dir: str, words: int, raw: dict, precision: str = "fp16") -> None:
    from encoder.gpu import TorchGpuEncoder

    print(f"\n## 2. end to end in process ({precision}): tokenize (CPU) + copy + model, encoder/gpu.py", flush=True)
    encoder = TorchGpuEncoder(model_dir, precision=precision)
    print(f"parity at load: GPU {precision} vs ONNX Runtime CPU, lowest cosine {encoder.parity_cosine:.6f}")
    print("| batch | serial s/s | 4 threads s/s | raw model s/s | ratio 4 threads / raw |")
    print("|---|---|---|---|---|")
    for b in (32, 256, 1024):
        batch = texts(b, words, seed=7 + b)
        serial = b / timed(lambda: encoder.encode(batch), warmup=1)
        with concurrent.futures.ThreadPoolExecutor(4) as pool:
            def four():
                list(pool.map(lambda _: encoder.encode(batch), range(8)))
            threaded = 8 * b / timed(four, warmup=1)
        r = raw.get((precision, b), float("nan"))
        print(f"| {b} | {serial:,.0f} | {threaded:,.0f} | {r:,.0f} | {threaded / r:.2f} |", flush=True)


def through_triton(model_dir: str, words: int, raw: dict) -> None:
    print("\n## 3. end to end through Triton gRPC (item_encoder GPU config, fp16, 4 instances)", flush=True)
    try:
        import importlib.util

        import tritonclient.grpc as grpcclient
        if importlib.util.find_spec("pytriton") is None:
            raise ImportError("nvidia-pytriton (the tritonserver binary) is not installed")
    except Exception as e:  # noqa: BLE001 - reported, the rest of the bench still runs
        print(f"not run: no Triton here ({type(e).__name__}: {e})")
        return
    import subprocess

    import serve_pytriton  # noqa: F401 - the same staging code as `make triton-serve`

    workspace = tempfile.mkdtemp(prefix="bench-gpu-triton-")
    repo = os.path.join(workspace, "models")
    os.makedirs(os.path.join(repo, "item_encoder", "1"))
    for f in (MODEL_FILE, TOKENIZER_FILE):
        os.symlink(os.path.abspath(os.path.join(model_dir, f)), os.path.join(repo, "item_encoder", "1", f))
    shutil.copy(os.path.join(HERE, "item_encoder", "1", "model.py"), os.path.join(repo, "item_encoder", "1"))
    shutil.copy(os.path.join(HERE, "item_encoder", "config.pbtxt"), os.path.join(repo, "item_encoder"))
    port = serve_pytriton.free_port()
    server = subprocess.Popen([sys.executable, os.path.join(HERE, "serve_pytriton.py"), "--mode", "repository",
                               "--repository", repo, "--config-name", "default", "--grpc-port", str(port),
                               "--http-port", str(serve_pytriton.free_port()), "--exit-on-stdin-eof"],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        for line in server.stdout:
            if b"TRITON_READY" in line:
                break
        else:
            print("not run: tritonserver did not start")
            return
        client = grpcclient.InferenceServerClient(f"127.0.0.1:{port}")
        print("| batch | Triton gRPC s/s (4 client threads) | raw model fp16 s/s | ratio |")
        print("|---|---|---|---|")
        for b in (32, 256, 1024):
            data = np.array([[t.encode()] for t in texts(b, words, seed=11 + b)], dtype=object)

            def one(_):
                tensor = grpcclient.InferInput("TEXT", list(data.shape), "BYTES")
                tensor.set_data_from_numpy(data)
                return client.infer("item_encoder", [tensor]).as_numpy("EMBEDDING")

            with concurrent.futures.ThreadPoolExecutor(4) as pool:
                rate = 8 * b / timed(lambda: list(pool.map(one, range(8))), warmup=1, min_s=1.0)
            r = raw.get(("fp16", b), float("nan"))
            print(f"| {b} | {rate:,.0f} | {r:,.0f} | {rate / r:.2f} |", flush=True)
    finally:
        server.stdin.close()
        try:
            server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            server.kill()
        shutil.rmtree(workspace, ignore_errors=True)


def tuner(model_dir: str, batch: int, seconds: float) -> None:
    from encoder.tuner import EncoderTrainer

    print(f"\n## 4. tuner: training steps on the GPU (bf16 autocast, AdamW, batch {batch})", flush=True)
    print("| weights trained | steps/s | examples/s | loss first -> last |")
    print("|---|---|---|---|")
    items = texts(4 * batch, 12, seed=5)
    for label, rank in (("all (lora_rank 0)", 0), ("LoRA r=8", 8)):
        trainer = EncoderTrainer(model_dir, device="cuda", learning_rate=5e-5 if rank == 0 else 1e-3,
                                 lora_rank=rank)
        rng = random.Random(3)

        def batch_pairs():
            picked = [rng.sample(items, 4) for _ in range(batch)]
            return [" | ".join(p[:3]) for p in picked], [p[3] for p in picked]

        for _ in range(3):
            trainer.step(*batch_pairs())
        torch.cuda.synchronize()
        losses, steps, started = [], 0, time.perf_counter()
        while time.perf_counter() - started < seconds:
            losses.append(trainer.step(*batch_pairs()))  # float(loss): synchronises every step
            steps += 1
        elapsed = time.perf_counter() - started
        print(f"| {label} | {steps / elapsed:.1f} | {batch * steps / elapsed:,.0f} | "
              f"{losses[0]:.3f} -> {np.mean(losses[-5:]):.3f} |", flush=True)
        del trainer
        torch.cuda.empty_cache()


def parity(model_dir: str) -> None:
    from encoder.gpu import TorchGpuEncoder

    print("\n## 5. parity: GPU (encoder/gpu.py) vs ONNX Runtime on the CPU", flush=True)
    sample = texts(64, 20, seed=9) + list(torch_minilm.PARITY_TEXTS)
    reference = torch_minilm.onnx_embed(os.path.join(model_dir, MODEL_FILE), torch_minilm.Tokens(model_dir), sample)
    for precision, minimum in (("fp32", 0.9999), ("fp16", 0.999), ("bf16", 0.99)):
        lowest = float(torch_minilm.cosines(TorchGpuEncoder(model_dir, precision=precision).encode(sample),
                                            reference).min())
        verdict = "ok" if lowest >= minimum else "FAILED"
        print(f"{precision}: lowest cosine over {len(sample)} texts {lowest:.6f} (>= {minimum}: {verdict})", flush=True)
        if verdict != "ok" and precision == "fp32":
            raise SystemExit(f"GPU fp32 vectors differ from the CPU's: {lowest}")


BATCHES = (1, 32, 256, 1024, 4096)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model-dir", default=os.path.join(HERE, "item_encoder", "1"))
    p.add_argument("--weights", default="")
    p.add_argument("--tokenizer", default="")
    p.add_argument("--words", type=int, default=20)
    p.add_argument("--tuner-batch", type=int, default=256)
    p.add_argument("--tuner-seconds", type=float, default=8.0)
    p.add_argument("--skip-triton", action="store_true")
    p.add_argument("--only-triton", action="store_true", help="the raw fp16 model and Triton gRPC only")
    p.add_argument("--stage-to", default="", help="with --weights: write the version folder here and exit")
    args = p.parse_args()
    if args.stage_to:
        print(f"staged {stage(args.weights, args.tokenizer, args.stage_to)}")
        return 0
    if not torch.cuda.is_available():
        print("bench-gpu: no CUDA device (torch sees none): nothing to measure", file=sys.stderr)
        return 2
    started = time.monotonic()
    model_dir = args.model_dir
    if args.weights:
        model_dir = stage(args.weights, args.tokenizer, os.path.join(tempfile.mkdtemp(prefix="bench-gpu-"), "1"))
    print(f"# bench-gpu: {torch.cuda.get_device_name(0)}, torch {torch.__version__}, model {model_dir}")
    torch.backends.cuda.matmul.allow_tf32 = False  # fp32 means fp32 (parity)
    raw: dict = {}
    if args.only_triton:
        model_only(model_dir, args.words, raw, batches=(32, 256, 1024), dtypes=("fp16",))
        through_triton(model_dir, args.words, raw)
        return 0
    parity(model_dir)
    model_only(model_dir, args.words, raw)
    end_to_end(model_dir, args.words, raw)
    tuner(model_dir, args.tuner_batch, args.tuner_seconds)
    if not args.skip_triton:
        through_triton(model_dir, args.words, raw)
    print(f"\nbench-gpu: done in {time.monotonic() - started:.0f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
