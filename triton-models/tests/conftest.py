import json
import os
import pathlib
import sys

import numpy as np
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

MODEL_DIR = pathlib.Path(os.environ.get("ITEM_ENCODER_MODEL_DIR", ROOT / "item_encoder" / "1"))
PARITY = pathlib.Path(os.environ.get("PARITY_VECTORS", ROOT / "build" / "parity-vectors.json"))


@pytest.fixture(scope="session")
def encoder():
    from encoder.minilm import MiniLmEncoder

    if not (MODEL_DIR / "all-minilm-l6-v2.onnx").is_file():
        pytest.fail(f"no model in {MODEL_DIR}: run `make models`")
    return MiniLmEncoder(MODEL_DIR)


@pytest.fixture(scope="session")
def parity():
    """Texts and vectors from the JVM's MiniLmEncoder (`make triton-parity`)."""
    if not PARITY.is_file():
        pytest.fail(f"no reference vectors at {PARITY}: run `make triton-parity`")
    document = json.loads(PARITY.read_text(encoding="utf-8"))
    return document["texts"], np.asarray(document["vectors"], dtype=np.float32)
