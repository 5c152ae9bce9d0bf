"""A real Triton (serve_pytriton.py) serving item_encoder_tuner next to item_encoder, over gRPC.

pytriton mode: PyTriton binds the tuner (encoder/tuner.py). repository mode: tritonserver runs the
Python backend models item_encoder_tuner/1/model.py and item_encoder/1/model.py on a staged
working repository, and a version the tuner publishes is loaded and served.
"""
import json
import os
import socket
import subprocess
import sys
import threading

import numpy as np
import pytest

from conftest import ROOT
from embedded_server import embedded_server
from test_tuner import BATCH

tritonclient = pytest.importorskip("tritonclient.grpc")


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(tmp_path, *extra, timeout=240):
    grpc, http = _free_port(), _free_port()
    log = open(tmp_path / "server.log", "wb")
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "serve_pytriton.py"), "--grpc-port", str(grpc), "--http-port", str(http),
         "--intra-op-threads", "1", "--exit-on-stdin-eof", "--tuner", *extra],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, cwd=ROOT)
    ready = threading.Event()

    def drain():  # tritonserver may log to the same stdout: look for the line anywhere, keep reading
        for line in process.stdout:
            if b"TRITON_READY" in line:
                ready.set()
            log.write(line)
        ready.set()

    threading.Thread(target=drain, daemon=True).start()
    if not ready.wait(timeout) or process.poll() is not None:
        process.kill()
        process.wait()
        log.flush()
        pytest.fail("serve_pytriton.py did not become ready:\n" + (tmp_path / "server.log").read_text()[-4000:])
    return process, tritonclient.InferenceServerClient(f"127.0.0.1:{grpc}")


def _stop(process):
    process.stdin.close()  # --exit-on-stdin-eof
    try:
        process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _train(client, batch_id, contexts, positives, times):
    def tensor(name, array, dtype):
        t = tritonclient.InferInput(name, list(array.shape), dtype)
        t.set_data_from_numpy(array)
        return t

    inputs = [tensor("BATCH_ID", np.array([batch_id.encode()], dtype=object), "BYTES"),
              tensor("CONTEXT", np.array([c.encode() for c in contexts], dtype=object), "BYTES"),
              tensor("POSITIVE", np.array([p.encode() for p in positives], dtype=object), "BYTES"),
              tensor("EVENT_TIME_MS", np.array(times, dtype=np.int64), "INT64")]
    result = client.infer("item_encoder_tuner", inputs)
    return (float(result.as_numpy("LOSS")[0]), int(result.as_numpy("STEP")[0]), bool(result.as_numpy("APPLIED")[0]),
            result.as_numpy("MODEL_VERSION")[0].decode())


def _embed(client, texts, version=""):
    tensor = tritonclient.InferInput("TEXT", [len(texts), 1], "BYTES")
    tensor.set_data_from_numpy(np.array([[t.encode()] for t in texts], dtype=object))
    result = client.infer("item_encoder", [tensor], model_version=version)
    return result.as_numpy("EMBEDDING"), result.get_response().model_version


def test_pytriton_trains_once_per_batch_id_over_grpc(tmp_path, encoder):
    repository = tmp_path / "models"
    announcements = tmp_path / "versions.jsonl"
    process, client = _start(tmp_path, "--tuner-repository", str(repository), "--publish-every-steps", "2",
                             "--announce-file", str(announcements))
    try:
        metadata = client.get_model_metadata("item_encoder_tuner", as_json=True)
        assert [(i["name"], i["datatype"], i["shape"]) for i in metadata["inputs"]] == [
            ("BATCH_ID", "BYTES", ["1"]), ("CONTEXT", "BYTES", ["-1"]), ("POSITIVE", "BYTES", ["-1"]),
            ("EVENT_TIME_MS", "INT64", ["-1"])]
        assert [(o["name"], o["datatype"]) for o in metadata["outputs"]] == [
            ("LOSS", "FP32"), ("STEP", "INT64"), ("APPLIED", "BOOL"), ("MODEL_VERSION", "BYTES")]

        loss, step, applied, version = _train(client, "wire-1", *BATCH)
        assert (step, applied, version) == (1, True, "1") and np.isfinite(loss) and loss > 0
        assert _train(client, "wire-1", *BATCH) == (loss, 1, False, "1")  # the same batch id: no step
        loss2, step2, applied2, version2 = _train(client, "wire-2", *BATCH)
        assert (step2, applied2, version2) == (2, True, "2")

        assert json.loads(announcements.read_text()) == {"model": "item_encoder", "version": "2",
                                                         "applies_from_ms": 3001, "step": 2}
        assert (repository / "item_encoder" / "2" / "all-minilm-l6-v2.onnx").is_file()
        vectors, served = _embed(client, ["Galactic starship alien 1"])  # PyTriton: version 1, frozen
        assert served == "1"
        np.testing.assert_allclose(vectors, encoder.encode(["Galactic starship alien 1"]), atol=1e-5)
    finally:
        _stop(process)


def test_tritonserver_serves_the_versions_the_tuner_publishes(tmp_path, encoder):
    from encoder import torch_minilm
    from encoder.minilm import MiniLmEncoder

    repository = tmp_path / "models"
    process, client = _start(tmp_path, "--mode", "repository", "--tuner-repository", str(repository),
                             "--publish-every-steps", "2")
    texts = ["Galactic starship alien 1", "Recipe kitchen pasta 2"]
    announcements = repository / "item_encoder_tuner" / "state" / "model-versions.jsonl"
    try:
        assert _train(client, "r-1", *BATCH)[1:] == (1, True, "1")
        assert _train(client, "r-1", *BATCH)[1:] == (1, False, "1")
        assert _train(client, "r-2", *BATCH)[1:] == (2, True, "2")

        # the tuner loaded version 2 through the repository API before it announced it
        assert [json.loads(a)["version"] for a in announcements.read_text().splitlines()] == ["2"]
        assert client.is_model_ready("item_encoder", "2")
        frozen = encoder.encode(texts)
        v1, served1 = _embed(client, texts, "1")
        v2, served2 = _embed(client, texts, "2")
        latest, served = _embed(client, texts)
        assert (served1, served2, served) == ("1", "2", "2")
        np.testing.assert_allclose(v1, frozen, atol=1e-5)
        # tritonserver serves the exported ONNX model of version 2: the vectors ONNX Runtime gives here
        exported = MiniLmEncoder(repository / "item_encoder" / "2", intra_op_threads=1).encode(texts)
        assert torch_minilm.cosines(v2, exported).min() >= 0.999
        np.testing.assert_array_equal(latest, v2)
        assert np.abs(v2 - frozen).max() > 1e-3
        # the JVM's embedded server on the same repository serves version 2 with the same vectors
        with embedded_server(repository, tmp_path / "embedded.log") as endpoint:
            jvm = tritonclient.InferenceServerClient(endpoint)
            jvm_v2, jvm_served = _embed(jvm, texts, "2")
        assert jvm_served == "2"
        assert torch_minilm.cosines(jvm_v2, v2).min() >= 0.999

        for i in range(4):
            _train(client, f"r-more-{i}", *BATCH)
        assert sorted(os.listdir(repository / "item_encoder")) == ["3", "4", "config.pbtxt", "configs"]
        assert client.is_model_ready("item_encoder", "4") and client.is_model_ready("item_encoder", "3")
        assert not client.is_model_ready("item_encoder", "1")
        assert [json.loads(a)["version"] for a in announcements.read_text().splitlines()] == ["2", "3", "4"]
    finally:
        _stop(process)
