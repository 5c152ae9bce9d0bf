"""item_encoder/1/model.py with a stand-in for Triton's triton_python_backend_utils."""
import importlib.util
import json
import sys
import types

import numpy as np

from conftest import MODEL_DIR, ROOT


class _Tensor:
    def __init__(self, name, array):
        self.name, self._array = name, array

    def as_numpy(self):
        return self._array


class _Response:
    def __init__(self, output_tensors=None, error=None):
        self.output_tensors, self.error = output_tensors or [], error


class _Request:
    def __init__(self, **tensors):
        self.tensors = tensors


def _fake_pb_utils():
    module = types.ModuleType("triton_python_backend_utils")
    module.Tensor = _Tensor
    module.InferenceResponse = _Response
    module.TritonError = lambda message: message
    module.get_input_tensor_by_name = lambda request, name: (
        _Tensor(name, request.tensors[name]) if name in request.tensors else None)
    module.Logger = types.SimpleNamespace(log_info=lambda message: None)
    return module


def _load_model(monkeypatch):
    monkeypatch.setitem(sys.modules, "triton_python_backend_utils", _fake_pb_utils())
    spec = importlib.util.spec_from_file_location("item_encoder_model", ROOT / "item_encoder" / "1" / "model.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    model = module.TritonPythonModel()
    config = (ROOT / "item_encoder" / "configs" / "cpu.pbtxt").read_text()
    assert 'name: "item_encoder"' in config
    model.initialize({
        "model_config": json.dumps({"parameters": {"intra_op_threads": {"string_value": "1"}}}),
        "model_repository": str(MODEL_DIR.parent),
        "model_version": MODEL_DIR.name,
        "model_instance_kind": "CPU",
        "model_instance_device_id": "0",
    })
    return model


def _texts(*texts):
    return np.array([[t.encode("utf-8")] for t in texts], dtype=object)


def test_one_response_per_request_in_order(monkeypatch, encoder):
    model = _load_model(monkeypatch)
    requests = [_Request(TEXT=_texts("a", "b")), _Request(), _Request(TEXT=_texts("c"))]

    responses = model.execute(requests)

    assert len(responses) == 3
    assert responses[1].error == "input 'TEXT' is missing"
    first, third = responses[0].output_tensors[0], responses[2].output_tensors[0]
    assert first.name == "EMBEDDING" and first.as_numpy().shape == (2, 384)
    assert third.as_numpy().dtype == np.float32
    np.testing.assert_allclose(np.vstack([first.as_numpy(), third.as_numpy()]),
                               encoder.encode(["a", "b", "c"]), atol=1e-5)
    model.finalize()
