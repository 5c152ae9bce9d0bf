"""The JVM's embedded server read with Triton's own Python client (tritonclient, real gRPC):
ModelConfig, ModelStatistics, and a version the PyTorch tuner published served from its ONNX model."""
import numpy as np
import pytest

from embedded_server import embedded_server
from encoder import torch_minilm
from encoder.minilm import MiniLmEncoder
from test_tuner import BATCH, _trainer, _tuner, make_repository

tritonclient = pytest.importorskip("tritonclient.grpc")

TEXTS = ["Galactic starship alien 1", "Recipe kitchen pasta 2", "Goal league striker 3"]


def _infer(client, texts, version=""):
    tensor = tritonclient.InferInput("TEXT", [len(texts)], "BYTES")
    tensor.set_data_from_numpy(np.array([t.encode() for t in texts], dtype=object))
    result = client.infer("item_encoder", [tensor], model_version=version)
    return result.as_numpy("EMBEDDING"), result.get_response().model_version


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    """A repository in which the PyTorch tuner published version 2 (a few steps at a high rate)."""
    repository = make_repository(tmp_path_factory.mktemp("embedded") / "models")
    tuner = _tuner(repository, _trainer(1e-3), publish_every_steps=2)
    tuner.train("e-1", *BATCH)
    tuner.train("e-2", *BATCH)
    assert tuner.latest_version == "2"
    return repository, tuner.encode(TEXTS)


def test_model_config_and_statistics_read_by_tritonclient(published, tmp_path, encoder):
    repository, _ = published
    with embedded_server(repository, tmp_path / "server.log") as endpoint:
        client = tritonclient.InferenceServerClient(endpoint)
        config = client.get_model_config("item_encoder", as_json=True)["config"]
        assert config["name"] == "item_encoder" and config["platform"] == "onnxruntime_onnx"
        assert [(i["name"], i["data_type"], i["dims"]) for i in config["input"]] == [("TEXT", "TYPE_STRING", ["-1"])]
        assert [(o["name"], o["data_type"], o["dims"]) for o in config["output"]] == [
            ("EMBEDDING", "TYPE_FP32", ["-1", "384"])]
        assert "all" in config["version_policy"]
        assert config["instance_group"][0]["kind"] == "KIND_CPU"

        _infer(client, TEXTS, "1")
        _infer(client, TEXTS[:1], "2")
        _infer(client, TEXTS[:1], "2")
        stats = {s["version"]: s for s in client.get_inference_statistics("item_encoder", as_json=True)["model_stats"]}
        assert set(stats) == {"1", "2"}
        assert (stats["1"]["inference_count"], stats["1"]["execution_count"]) == (str(len(TEXTS)), "1")
        assert (stats["2"]["inference_count"], stats["2"]["execution_count"]) == ("2", "2")
        assert stats["2"]["inference_stats"]["success"]["count"] == "2"
        assert int(stats["2"]["inference_stats"]["success"]["ns"]) > 0
        assert [b["batch_size"] for b in stats["2"]["batch_stats"]] == ["1"]
        only = client.get_inference_statistics("item_encoder", "1", as_json=True)["model_stats"]
        assert [s["version"] for s in only] == ["1"]
        with pytest.raises(tritonclient.InferenceServerException):
            client.get_model_config("no_such_model")


def test_a_published_version_is_served_from_its_own_onnx_model(published, tmp_path, encoder):
    repository, tuned = published
    exported = MiniLmEncoder(repository / "item_encoder" / "2", intra_op_threads=1).encode(TEXTS)
    with embedded_server(repository, tmp_path / "server.log") as endpoint:
        client = tritonclient.InferenceServerClient(endpoint)
        v2, served = _infer(client, TEXTS, "2")
        v1, _ = _infer(client, TEXTS, "1")
        latest, latest_version = _infer(client, TEXTS)
    assert (served, latest_version) == ("2", "2")
    assert torch_minilm.cosines(v2, exported).min() >= 0.999
    assert torch_minilm.cosines(v2, tuned).min() >= 0.999   # the PyTorch model the tuner trained
    np.testing.assert_allclose(v1, encoder.encode(TEXTS), atol=1e-5)
    assert np.abs(v2 - v1).max() > 1e-3
    np.testing.assert_array_equal(latest, v2)
