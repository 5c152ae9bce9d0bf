"""Triton Python backend for item_encoder: TEXT (BYTES [n, 1]) -> EMBEDDING (FP32 [n, 384]).

The encoder itself is the plain module ../../encoder/minilm.py (shared with PyTriton and the
tests). Triton fills in model_name and model_version of every response; the version is this
directory's name.

Every version folder holds a complete ONNX model: version 1 the frozen all-MiniLM-L6-v2 of
`make models`, later ones the fine-tuned encoders item_encoder_tuner exported
(../../encoder/tuner.py). This file is copied into every published version folder.

CPU instances run the model in ONNX Runtime (encoder/minilm.py). GPU instances run it in PyTorch
on CUDA (encoder/gpu.py, `precision` parameter fp32/fp16/bf16) after checking it against ONNX
Runtime; without a usable GPU the load fails, there is no silent fallback to the CPU.
"""
import json
import os
import sys

import numpy as np
import triton_python_backend_utils as pb_utils


def _import_encoder(model_repository):
    """Finds the `encoder` package: importable already, else $ITEM_ENCODER_PYTHONPATH, else next to the repository."""
    try:
        import encoder.minilm  # noqa: F401 - already importable (PYTHONPATH, installed)
        return
    except ImportError:
        pass
    root = os.environ.get("ITEM_ENCODER_PYTHONPATH") or os.path.dirname(os.path.abspath(model_repository))
    if root not in sys.path:
        sys.path.insert(0, root)


class TritonPythonModel:
    def initialize(self, args):
        config = json.loads(args["model_config"])
        parameters = {k: v.get("string_value", "") for k, v in config.get("parameters", {}).items()}
        repository = args["model_repository"]
        self.version = args["model_version"]
        _import_encoder(repository)
        threads = int(parameters.get("intra_op_threads", "0") or 0)
        device = "cuda" if args.get("model_instance_kind") == "GPU" else "cpu"
        folder = os.path.join(repository, self.version)
        device_id = int(args.get("model_instance_device_id", "0") or 0)
        if device == "cuda":
            from encoder.gpu import TorchGpuEncoder

            self.encoder = TorchGpuEncoder(folder, device_id=device_id,
                                           precision=parameters.get("precision", "fp32") or "fp32")
        else:
            from encoder.minilm import MiniLmEncoder

            self.encoder = MiniLmEncoder(folder, intra_op_threads=threads if threads > 0 else None)
        pb_utils.Logger.log_info(
            f"item_encoder version {self.version} loaded on {device}, {self.encoder.providers}")

    def execute(self, requests):
        # One forward pass over every text of every request in the dynamic batch, then split.
        texts, counts, responses = [], [], [None] * len(requests)
        for i, request in enumerate(requests):
            tensor = pb_utils.get_input_tensor_by_name(request, "TEXT")
            if tensor is None:
                responses[i] = pb_utils.InferenceResponse(
                    error=pb_utils.TritonError("input 'TEXT' is missing"))
                counts.append(0)
                continue
            values = tensor.as_numpy().reshape(-1)
            texts.extend(values.tolist())
            counts.append(len(values))
        try:
            vectors = self.encoder.encode(texts)
        except Exception as e:  # noqa: BLE001 - report every failure to the caller
            error = pb_utils.TritonError(f"inference failed: {e}")
            return [r or pb_utils.InferenceResponse(error=error) for r in responses]
        start = 0
        for i, count in enumerate(counts):
            if responses[i] is None:
                rows = np.ascontiguousarray(vectors[start:start + count], dtype=np.float32)
                responses[i] = pb_utils.InferenceResponse(
                    output_tensors=[pb_utils.Tensor("EMBEDDING", rows)])
            start += count
        return responses

    def finalize(self):
        self.encoder = None
