"""item_encoder/1/model.py with a stand-in for Triton's triton_python_backend_utils."""
import numpy as np

from conftest import MODEL_DIR, ROOT
from pb_stub import Request as _Request
from pb_stub import load_model


def _load_model(monkeypatch):
    config = (ROOT / "item_encoder" / "configs" / "cpu.pbtxt").read_text()
    assert 'name: "item_encoder"' in config
    return load_model(monkeypatch, ROOT / "item_encoder" / "1" / "model.py", MODEL_DIR.parent, MODEL_DIR.name,
                      {"intra_op_threads": "1"})


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
