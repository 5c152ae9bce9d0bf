"""encoder/adapter.py: the residual adapter and its InfoNCE gradient, checked against finite differences."""
import numpy as np
import pytest

from encoder import adapter


def _unit(rng, n, d):
    x = rng.normal(size=(n, d))
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def _numeric_gradient(w, xc, xp, tau, mask, h=1e-6):
    grad = np.zeros_like(w)
    for i in range(w.shape[0]):
        for j in range(w.shape[1]):
            plus, minus = w.copy(), w.copy()
            plus[i, j] += h
            minus[i, j] -= h
            grad[i, j] = (adapter.infonce(plus, xc, xp, tau, mask, with_grad=False)[0]
                          - adapter.infonce(minus, xc, xp, tau, mask, with_grad=False)[0]) / (2 * h)
    return grad


@pytest.mark.parametrize("keys", [None, ["a", "b", "a", "c", "d", "b"]], ids=["distinct", "repeated-positives"])
@pytest.mark.parametrize("scale", [0.0, 0.3])
def test_the_gradient_matches_finite_differences(keys, scale):
    rng = np.random.default_rng(7)
    n, d, tau = 6, 8, 0.1
    xc, xp = _unit(rng, n, d), _unit(rng, n, d)
    w = rng.normal(size=(d, d)) * scale
    mask = adapter.negatives_mask(keys)
    loss, grad = adapter.infonce(w, xc, xp, tau, mask)
    numeric = _numeric_gradient(w, xc, xp, tau, mask)
    assert np.isfinite(loss)
    np.testing.assert_allclose(grad, numeric, rtol=1e-5, atol=1e-7 * np.abs(numeric).max())


def test_the_gradient_matches_at_full_size_in_a_few_directions():
    """384 dimensions, τ = 0.05: directional derivatives along random directions."""
    rng = np.random.default_rng(3)
    n, d, tau = 16, 384, 0.05
    xc, xp = _unit(rng, n, d), _unit(rng, n, d)
    w = rng.normal(size=(d, d)) * 0.01
    _, grad = adapter.infonce(w, xc, xp, tau)
    for _ in range(3):
        direction = rng.normal(size=(d, d))
        h = 1e-6
        numeric = (adapter.infonce(w + h * direction, xc, xp, tau, with_grad=False)[0]
                   - adapter.infonce(w - h * direction, xc, xp, tau, with_grad=False)[0]) / (2 * h)
        assert np.isclose((grad * direction).sum(), numeric, rtol=1e-5)


def test_w_zero_is_the_identity_on_the_frozen_vectors(encoder):
    frozen = encoder.encode(["Galactic starship alien 3", "Recipe kitchen pasta 7", ""])
    zero = np.zeros((384, 384), dtype=np.float32)
    np.testing.assert_array_equal(adapter.apply(frozen, zero), frozen)
    np.testing.assert_array_equal(adapter.apply(frozen, None), frozen)


def test_adapted_vectors_have_unit_length_and_follow_the_formula():
    rng = np.random.default_rng(1)
    x = _unit(rng, 5, 384).astype(np.float32)
    w = (rng.normal(size=(384, 384)) * 0.05).astype(np.float32)
    y = adapter.apply(x, w)
    z = x.astype(np.float64) + x.astype(np.float64) @ w.astype(np.float64).T
    np.testing.assert_allclose(y, z / np.linalg.norm(z, axis=1, keepdims=True), atol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(y, axis=1), 1.0, atol=1e-6)


def test_repeated_positives_are_not_negatives_of_each_other():
    mask = adapter.negatives_mask(["a", "b", "a", "a"])
    assert mask.tolist() == [[False, False, True, True], [False] * 4, [True, False, False, True],
                             [True, False, True, False]]
    assert adapter.negatives_mask(["a", "b"]) is None


def test_adam_descends_the_loss():
    rng = np.random.default_rng(5)
    xc = _unit(rng, 8, 16)
    xp = _unit(rng, 8, 16)
    w = np.zeros((16, 16))
    optimizer = adapter.Adam(lr=1e-2)
    first = adapter.infonce(w, xc, xp, 0.1)[0]
    for _ in range(50):
        _, grad = adapter.infonce(w, xc, xp, 0.1)
        w = optimizer.step(w, grad)
    assert adapter.infonce(w, xc, xp, 0.1)[0] < 0.5 * first


def test_save_and_load_round_trip(tmp_path):
    w = np.arange(16, dtype=np.float64).reshape(4, 4) / 10
    adapter.save(tmp_path, w, {"version": "2"})
    np.testing.assert_array_equal(adapter.load(tmp_path), w.astype(np.float32))
    assert adapter.load(tmp_path / "nothing-here") is None


def test_without_mean_direction_leaves_the_mean_direction_alone():
    rng = np.random.default_rng(5)
    w = rng.normal(size=(8, 8))
    mean = rng.normal(size=8) + 3.0  # a shared component, as frozen sentence vectors have
    projected = adapter.without_mean_direction(w, mean)
    m_hat = mean / np.linalg.norm(mean)
    np.testing.assert_allclose(projected @ m_hat, 0.0, atol=1e-12)
    # the mean direction passes the adapter unchanged; other directions are still adapted
    np.testing.assert_allclose(adapter.apply(m_hat[None, :], projected)[0], m_hat, atol=1e-6)
    other = np.eye(8)[0] - (np.eye(8)[0] @ m_hat) * m_hat
    np.testing.assert_allclose(projected @ other, w @ other, atol=1e-12)
    assert adapter.without_mean_direction(w, np.zeros(8)) is w
