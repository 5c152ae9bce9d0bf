"""A stand-in for Triton's triton_python_backend_utils, and a loader for a model.py with it."""
import importlib.util
import json
import sys
import types


class Tensor:
    def __init__(self, name, array):
        self.name, self._array = name, array

    def as_numpy(self):
        return self._array


class Response:
    def __init__(self, output_tensors=None, error=None):
        self.output_tensors, self.error = output_tensors or [], error

    def output(self, name):
        return next(t.as_numpy() for t in self.output_tensors if t.name == name)


class Request:
    def __init__(self, **tensors):
        self.tensors = tensors


def fake_pb_utils():
    module = types.ModuleType("triton_python_backend_utils")
    module.Tensor = Tensor
    module.InferenceResponse = Response
    module.TritonError = lambda message: message
    module.get_input_tensor_by_name = lambda request, name: (
        Tensor(name, request.tensors[name]) if name in request.tensors else None)
    module.Logger = types.SimpleNamespace(log_info=lambda message: None)
    return module


def load_model(monkeypatch, model_py, model_folder, version, parameters=None, kind="CPU"):
    """Imports model_py with the stand-in and calls initialize() as the Python backend would."""
    monkeypatch.setitem(sys.modules, "triton_python_backend_utils", fake_pb_utils())
    spec = importlib.util.spec_from_file_location(f"model_{abs(hash((str(model_py), version)))}", model_py)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    model = module.TritonPythonModel()
    model.initialize({
        "model_config": json.dumps({"parameters": {k: {"string_value": v} for k, v in (parameters or {}).items()}}),
        "model_repository": str(model_folder),
        "model_version": str(version),
        "model_instance_kind": kind,
        "model_instance_device_id": "0",
    })
    return model
