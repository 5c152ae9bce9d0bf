"""A residual linear adapter on top of the frozen MiniLM sentence vectors, and its training math.

    y = normalize(x + x·Wᵀ)        x: the frozen encoder's unit vector (384), W: 384×384

W = 0 is the identity (y = x exactly, since x already has unit length), so an untrained adapter
changes nothing. The loss is the symmetric in-batch contrastive loss (InfoNCE, CLIP-style): for
a batch of n (context, positive) pairs, S = U·Vᵀ/τ with U, V the adapted context and positive
vectors; L = ½·(CE(rows of S, diagonal) + CE(columns of S, diagonal)). Positions whose positive
text equals another row's positive text are masked out of the negatives (an item seen twice in
a batch is not its own negative).

Plain numpy with explicit gradients and Adam: no autograd framework. PyPI's torch wheel pulls
about 2.5 GB of CUDA libraries, too heavy for this project's CI, and one 384×384 matrix does not
need it: a training step is a few small matrix products next to the encoder's forward pass.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Optional, Sequence

import numpy as np

ADAPTER_FILE = "adapter.npy"
ADAPTER_META_FILE = "adapter.json"
_EPS = 1e-12


def apply(x: np.ndarray, w: Optional[np.ndarray]) -> np.ndarray:
    """normalize(x + x·Wᵀ) row by row, float32; w None or all zeros returns x itself (the identity)."""
    x = np.asarray(x, dtype=np.float32)
    if w is None or not np.any(w):
        return x
    z = x + x @ np.asarray(w, dtype=np.float32).T
    norms = np.sqrt((z.astype(np.float64) ** 2).sum(axis=1, keepdims=True))
    return (z / np.maximum(norms, _EPS)).astype(np.float32)


def load(version_dir) -> Optional[np.ndarray]:
    """The adapter matrix of a version directory of item_encoder, or None when it holds none."""
    path = os.path.join(version_dir, ADAPTER_FILE)
    if not os.path.isfile(path):
        return None
    w = np.load(path, allow_pickle=False)
    if w.ndim != 2 or w.shape[0] != w.shape[1]:
        raise ValueError(f"{path}: expected a square matrix, got shape {w.shape}")
    return w.astype(np.float32)


def _forward(x: np.ndarray, w: np.ndarray):
    z = x + x @ w.T
    norms = np.sqrt((z * z).sum(axis=1, keepdims=True))
    norms = np.maximum(norms, _EPS)
    return z / norms, norms


def _backward(x: np.ndarray, y: np.ndarray, norms: np.ndarray, grad_y: np.ndarray) -> np.ndarray:
    """dL/dW given dL/dy, for y = z/|z|, z = x + x·Wᵀ."""
    grad_z = (grad_y - y * (grad_y * y).sum(axis=1, keepdims=True)) / norms
    return grad_z.T @ x  # z_ik = Σ_j x_ij·W_kj  =>  dL/dW_kj = Σ_i dz_ik·x_ij


def _log_softmax(s: np.ndarray, axis: int) -> np.ndarray:
    m = np.max(s, axis=axis, keepdims=True)
    shifted = s - m
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


def negatives_mask(positive_keys: Optional[Sequence]) -> Optional[np.ndarray]:
    """True where (i, j), i ≠ j, share a positive: such a j is not a negative for i (nor i for j)."""
    if positive_keys is None:
        return None
    keys = list(positive_keys)
    n = len(keys)
    mask = np.zeros((n, n), dtype=bool)
    first = {}
    groups = {}
    for i, k in enumerate(keys):
        groups.setdefault(first.setdefault(k, i), []).append(i)
    for members in groups.values():
        if len(members) > 1:
            idx = np.asarray(members)
            mask[np.ix_(idx, idx)] = True
    np.fill_diagonal(mask, False)
    return mask if mask.any() else None


def infonce(w: np.ndarray, contexts: np.ndarray, positives: np.ndarray, tau: float,
            mask: Optional[np.ndarray] = None, with_grad: bool = True):
    """Symmetric InfoNCE of the adapted vectors; returns (loss, dL/dW or None). float64 inside."""
    w64 = np.asarray(w, dtype=np.float64)
    xc = np.asarray(contexts, dtype=np.float64)
    xp = np.asarray(positives, dtype=np.float64)
    n = xc.shape[0]
    if n < 2 or xp.shape[0] != n:
        raise ValueError(f"need at least 2 pairs with as many positives as contexts, got {n} and {xp.shape[0]}")
    u, nu = _forward(xc, w64)
    v, nv = _forward(xp, w64)
    s = (u @ v.T) / tau
    if mask is not None:
        s = np.where(mask, -np.inf, s)
    log_rows = _log_softmax(s, axis=1)
    log_cols = _log_softmax(s, axis=0)
    diag = np.arange(n)
    loss = -0.5 * (log_rows[diag, diag].mean() + log_cols[diag, diag].mean())
    if not with_grad:
        return float(loss), None
    eye = np.eye(n)
    grad_s = 0.5 * ((np.exp(log_rows) - eye) + (np.exp(log_cols) - eye)) / n  # masked: exp(-inf) = 0
    grad_u = grad_s @ v / tau
    grad_v = grad_s.T @ u / tau
    grad_w = _backward(xc, u, nu, grad_u) + _backward(xp, v, nv, grad_v)
    return float(loss), grad_w


def without_mean_direction(w: np.ndarray, mean: np.ndarray) -> np.ndarray:
    """W with no response to the direction of `mean` (the mean frozen vector): W m̂ = 0.

    InfoNCE only compares similarities within a batch, so it is blind to one vector added to
    every output, and x·Wᵀ can grow exactly that from the component all frozen vectors share: the
    cosine of unrelated items rises towards 1 (measured: 0.17 -> 0.57 in 300 steps). Projecting
    W after each step keeps the adapter from moving the common direction, so the adapted space
    keeps its spread while the contrastive loss falls as before.
    """
    norm = float(np.linalg.norm(mean))
    if norm == 0.0:
        return w
    m_hat = np.asarray(mean, dtype=np.float64) / norm
    return w - np.outer(w @ m_hat, m_hat)


@dataclass
class Adam:
    """Adam (Kingma & Ba) with optional decoupled weight decay towards W = 0 (the identity)."""
    lr: float = 1e-3
    beta1: float = 0.9
    beta2: float = 0.999
    eps: float = 1e-8
    weight_decay: float = 0.0
    t: int = 0
    m: Optional[np.ndarray] = field(default=None, repr=False)
    v: Optional[np.ndarray] = field(default=None, repr=False)

    def step(self, w: np.ndarray, grad: np.ndarray) -> np.ndarray:
        if self.m is None:
            self.m = np.zeros_like(w, dtype=np.float64)
            self.v = np.zeros_like(w, dtype=np.float64)
        self.t += 1
        self.m = self.beta1 * self.m + (1 - self.beta1) * grad
        self.v = self.beta2 * self.v + (1 - self.beta2) * grad * grad
        m_hat = self.m / (1 - self.beta1 ** self.t)
        v_hat = self.v / (1 - self.beta2 ** self.t)
        w = w - self.lr * m_hat / (np.sqrt(v_hat) + self.eps)
        if self.weight_decay:
            w = w - self.lr * self.weight_decay * w
        return w


def save(version_dir, w: np.ndarray, meta: dict) -> None:
    """Writes adapter.npy (float32) and adapter.json into a (not yet published) version directory."""
    np.save(os.path.join(version_dir, ADAPTER_FILE), np.asarray(w, dtype=np.float32), allow_pickle=False)
    with open(os.path.join(version_dir, ADAPTER_META_FILE), "w", encoding="utf-8") as f:
        json.dump(meta, f, indent=2, sort_keys=True)
        f.write("\n")
