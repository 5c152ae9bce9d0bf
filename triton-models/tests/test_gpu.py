"""item_encoder on a GPU (encoder/gpu.py through item_encoder/1/model.py): the same vectors as the
CPU path where a GPU exists; a clear failure, never a silent CPU fallback, where none does."""
import numpy as np
import pytest
import torch

from conftest import MODEL_DIR, ROOT
from encoder import torch_minilm
from pb_stub import Request, load_model

TEXTS = list(torch_minilm.PARITY_TEXTS) + [f"Galactic starship alien {i} with a recipe for pasta" for i in range(40)]


def _item_encoder(monkeypatch, kind, precision="fp32"):
    return load_model(monkeypatch, ROOT / "item_encoder" / "1" / "model.py", MODEL_DIR.parent, MODEL_DIR.name,
                      {"intra_op_threads": "1", "precision": precision}, kind=kind)


def _embed(model, texts):
    (response,) = model.execute([Request(TEXT=np.array([[t.encode()] for t in texts], dtype=object))])
    return response.output("EMBEDDING")


@pytest.mark.skipif(torch.cuda.is_available(), reason="a GPU is here")
def test_a_gpu_instance_without_a_gpu_fails_instead_of_falling_back(monkeypatch):
    with pytest.raises(RuntimeError, match="sees no CUDA device"):
        _item_encoder(monkeypatch, "GPU")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no GPU here")
@pytest.mark.parametrize("precision,minimum", [("fp32", 0.9999), ("fp16", 0.999)])
def test_gpu_vectors_match_the_cpu_path(monkeypatch, precision, minimum):
    gpu = _embed(_item_encoder(monkeypatch, "GPU", precision), TEXTS)
    cpu = _embed(_item_encoder(monkeypatch, "CPU"), TEXTS)
    cosine = torch_minilm.cosines(gpu, cpu)
    print(f"{precision}: lowest cosine GPU vs CPU {cosine.min():.6f}")
    assert cosine.min() >= minimum
    np.testing.assert_allclose(np.linalg.norm(gpu, axis=1), 1.0, atol=1e-3)
