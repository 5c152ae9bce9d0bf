"""Triton Python backend for item_encoder: TEXT (BYTES [n, 1]) -> EMBEDDING (FP32 [n, 384]).

The encoder itself is the plain module ../../encoder/minilm.py (shared with PyTriton and the
tests). Triton fills in model_name and model_version of every response; the version is this
directory's name.

A version folder that holds adapter.npy (written by item_encoder_tuner, see
../../encoder/tuner.py) applies the residual adapter y = normalize(x + x·Wᵀ) to the frozen
vectors; version 1, without one, gives the frozen encoder's vectors unchanged. This file is
copied into every published version folder.
"""
import json
import os
import sys

import numpy as np
import triton_python_backend_utils as pb_utils


def _import_encoder(model_repository):
    """Finds the `encoder` package: importable already, else $ITEM_ENCODER_PYTHONPATH, else next to the repository."""
    try:
        from encoder import adapter, minilm  # already importable (PYTHONPATH, installed)
        return minilm, adapter
    except ImportError:
        pass
    root = os.environ.get("ITEM_ENCODER_PYTHONPATH") or os.path.dirname(os.path.abspath(model_repository))
    if root not in sys.path:
        sys.path.insert(0, root)
    from encoder import adapter, minilm
    return minilm, adapter


class TritonPythonModel:
    def initialize(self, args):
        config = json.loads(args["model_config"])
        parameters = {k: v.get("string_value", "") for k, v in config.get("parameters", {}).items()}
        repository = args["model_repository"]
        self.version = args["model_version"]
        minilm, self._adapter = _import_encoder(repository)
        threads = int(parameters.get("intra_op_threads", "0") or 0)
        device = "cuda" if args.get("model_instance_kind") == "GPU" else "cpu"
        self.encoder = minilm.MiniLmEncoder(
            os.path.join(repository, self.version),
            device=device,
            device_id=int(args.get("model_instance_device_id", "0") or 0),
            intra_op_threads=threads if threads > 0 else None,
        )
        # None for a version without adapter.npy (version 1): the frozen vectors, unchanged
        self.adapter = self._adapter.load(os.path.join(repository, self.version))
        pb_utils.Logger.log_info(
            f"item_encoder version {self.version} loaded on {device}, providers {self.encoder.providers}, "
            f"adapter {'none' if self.adapter is None else self.adapter.shape}"
        )

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
            vectors = self._adapter.apply(self.encoder.encode(texts), self.adapter)
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
