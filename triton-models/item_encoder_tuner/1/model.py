"""Triton Python backend for item_encoder_tuner: one training step per request, idempotent by batch id.

  inputs   BATCH_ID BYTES [1], CONTEXT BYTES [n], POSITIVE BYTES [n], EVENT_TIME_MS INT64 [n]
  outputs  LOSS FP32 [1], STEP INT64 [1], APPLIED BOOL [1], MODEL_VERSION BYTES [1]

The work is done by the plain module ../../encoder/tuner.py (shared with PyTriton and the tests):
the MiniLM encoder fine-tuned in PyTorch (bf16 on the GPU of a KIND_GPU instance, fp32 on the
CPU), and every `publish_every_steps` steps a new version folder of item_encoder (an ONNX model)
in this model repository, loaded through Triton's repository API (`pb_utils.load_model`; the
server must run with --model-control-mode=explicit) and announced on the `model-versions` topic
once Triton reports that version READY. Run exactly one instance: it is the single writer of the
training state and of item_encoder's version folders.
"""
import json
import os
import sys

import numpy as np
import triton_python_backend_utils as pb_utils


def _import_tuner(model_folder):
    try:
        from encoder import tuner  # already importable (PYTHONPATH, installed)
        return tuner
    except ImportError:
        pass
    root = os.environ.get("ITEM_ENCODER_PYTHONPATH") or os.path.dirname(os.path.abspath(model_folder))
    if root not in sys.path:
        sys.path.insert(0, root)
    from encoder import tuner
    return tuner


def _input(request, name):
    tensor = pb_utils.get_input_tensor_by_name(request, name)
    if tensor is None:
        raise ValueError(f"input '{name}' is missing")
    return tensor.as_numpy().reshape(-1)


class _RepositoryApi:
    """Triton's model repository API from inside the server (Python backend, explicit model control)."""

    @staticmethod
    def load_model(name):
        pb_utils.load_model(model_name=name)

    @staticmethod
    def is_model_ready(name, version):
        return pb_utils.is_model_ready(model_name=name, model_version=str(version))


class TritonPythonModel:
    def initialize(self, args):
        config = json.loads(args["model_config"])
        parameters = {k: v.get("string_value", "") for k, v in config.get("parameters", {}).items()}
        folder = args["model_repository"]  # this model's folder: <repository>/item_encoder_tuner
        tuner_module = _import_tuner(folder)
        device = "cuda" if args.get("model_instance_kind") == "GPU" else "cpu"
        loader = None
        if parameters.get("load_into_triton", "true").strip().lower() in ("1", "true", "yes"):
            loader = tuner_module.TritonLoader(_RepositoryApi())
        self.tuner = tuner_module.build(
            parameters, os.path.dirname(os.path.abspath(folder)), os.path.join(folder, "state"),
            device=device, device_id=int(args.get("model_instance_device_id", "0") or 0), loader=loader)
        pb_utils.Logger.log_info(
            f"item_encoder_tuner on {device} ({self.tuner.providers}): step {self.tuner.step}, "
            f"{self.tuner.model_name} latest version {self.tuner.latest_version}, "
            f"announcing to {getattr(self.tuner.announcer, 'target', None)}")

    def execute(self, requests):
        responses = []
        for request in requests:  # in order: each request is one training step (or none)
            try:
                batch_id = _input(request, "BATCH_ID")
                if batch_id.size != 1:
                    raise ValueError(f"BATCH_ID must hold one value, got {batch_id.size}")
                result = self.tuner.train(batch_id[0], _input(request, "CONTEXT"), _input(request, "POSITIVE"),
                                          _input(request, "EVENT_TIME_MS"))
            except Exception as e:  # noqa: BLE001 - report every failure to the caller
                responses.append(pb_utils.InferenceResponse(error=pb_utils.TritonError(f"training failed: {e}")))
                continue
            responses.append(pb_utils.InferenceResponse(output_tensors=[
                pb_utils.Tensor("LOSS", np.array([result.loss], dtype=np.float32)),
                pb_utils.Tensor("STEP", np.array([result.step], dtype=np.int64)),
                pb_utils.Tensor("APPLIED", np.array([result.applied], dtype=np.bool_)),
                pb_utils.Tensor("MODEL_VERSION", np.array([result.model_version.encode("utf-8")], dtype=np.object_)),
            ]))
        return responses

    def finalize(self):
        if self.tuner is not None:
            self.tuner.close()
        self.tuner = None
