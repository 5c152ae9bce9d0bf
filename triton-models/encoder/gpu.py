"""item_encoder on a GPU: the version's ONNX model run by PyTorch on CUDA.

The version folder's ONNX model (version 1 from `make models`, or one item_encoder_tuner
published) is converted into the PyTorch module of encoder/torch_minilm.py and moved to the GPU;
the first thing it does there is compare itself with ONNX Runtime on the CPU (cosine >= 0.9999,
fp32; >= 0.999 in half precision, whose rounding is larger), so a wrong GPU path fails the load
instead of serving wrong vectors. There is no silent CPU fallback: no CUDA device is an error.

Tokenization stays on the CPU in the instance's own thread: item_encoder's GPU config runs
several instances on the one GPU, so one instance tokenizes the next batch while another's
forward pass runs (Triton schedules them concurrently).
"""
from __future__ import annotations

import os
from typing import Sequence

import numpy as np

from encoder.minilm import DIMENSION, MODEL_FILE

PRECISIONS = ("fp32", "fp16", "bf16")


class TorchGpuEncoder:
    def __init__(self, model_dir: str, device_id: int = 0, precision: str = "fp32") -> None:
        import torch

        from encoder import torch_minilm

        if precision not in PRECISIONS:
            raise ValueError(f"precision {precision!r}: expected one of {PRECISIONS}")
        if not torch.cuda.is_available():
            raise RuntimeError(f"item_encoder on a GPU instance, but torch {torch.__version__} sees no CUDA device "
                               f"(CUDA build {torch.version.cuda}); use --model-config-name=cpu on CPU machines")
        self.torch = torch
        self.device = torch.device(f"cuda:{device_id}")
        self.dtype = {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}[precision]
        self.tokens = torch_minilm.Tokens(model_dir)
        onnx_path = os.path.join(model_dir, MODEL_FILE)
        model = torch_minilm.from_onnx(onnx_path)
        self.model = model.to(self.device, self.dtype).eval()
        self._pool = torch_minilm.mean_pool_normalise
        self.providers = [f"torch:{self.device}:{precision}"]
        reference = torch_minilm.onnx_embed(onnx_path, self.tokens, torch_minilm.PARITY_TEXTS)
        self.parity_cosine = float(torch_minilm.cosines(self.encode(torch_minilm.PARITY_TEXTS), reference).min())
        minimum = 0.9999 if precision == "fp32" else 0.999
        if not self.parity_cosine >= minimum:
            raise AssertionError(f"{onnx_path}: GPU ({precision}) vs ONNX Runtime CPU cosine "
                                 f"{self.parity_cosine:.6f} < {minimum}")

    def encode(self, texts: Sequence) -> np.ndarray:
        if isinstance(texts, np.ndarray):
            texts = texts.reshape(-1).tolist()
        if len(texts) == 0:
            return np.zeros((0, DIMENSION), dtype=np.float32)
        ids, mask, types = self.tokens(texts)  # CPU
        ids, mask, types = (t.pin_memory().to(self.device, non_blocking=True) for t in (ids, mask, types))
        with self.torch.inference_mode():
            return self._pool(self.model(ids, mask, types), mask).cpu().numpy()
