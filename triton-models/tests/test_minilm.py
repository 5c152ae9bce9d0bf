"""The Python encoder: shapes, unit norms, batching, and parity with the JVM's MiniLmEncoder."""
import numpy as np
import pytest

from encoder.minilm import DIMENSION, MAX_TOKENS, mean_pool_and_normalise

MIN_COSINE = 0.999


def test_shapes_and_dtype(encoder):
    vectors = encoder.encode(["one", "two", "three"])
    assert vectors.shape == (3, DIMENSION)
    assert vectors.dtype == np.float32


def test_an_empty_batch_gives_an_empty_matrix(encoder):
    assert encoder.encode([]).shape == (0, DIMENSION)


@pytest.fixture(scope="module")
def batched(encoder, parity):
    """The reference texts encoded as one batch (padded to 256 tokens: the slow part)."""
    texts, _ = parity
    return encoder.encode(texts)


def test_every_vector_has_unit_length(batched):
    norms = np.linalg.norm(batched, axis=1)
    np.testing.assert_allclose(norms, 1.0, atol=1e-5)


def test_a_batch_gives_the_same_vectors_as_one_text_at_a_time(encoder, parity, batched):
    texts, _ = parity
    single = np.stack([encoder.encode([t])[0] for t in texts])
    np.testing.assert_allclose(batched, single, atol=1e-5)


def test_bytes_numpy_and_str_inputs_agree(encoder):
    texts = ["Amélie à Montmartre", "東京物語", ""]
    as_str = encoder.encode(texts)
    as_bytes = encoder.encode([t.encode("utf-8") for t in texts])
    as_triton = encoder.encode(np.array([[t.encode("utf-8")] for t in texts], dtype=object))  # [n, 1]
    np.testing.assert_array_equal(as_str, as_bytes)
    np.testing.assert_array_equal(as_str, as_triton)


def test_texts_are_truncated_at_256_tokens(encoder):
    long = " ".join(f"word{i}" for i in range(2000))
    assert len(encoder._tokenizer.encode(long).ids) == MAX_TOKENS
    # what lies past the cut changes nothing
    np.testing.assert_allclose(encoder.encode([long])[0], encoder.encode([long + " tail tail tail"])[0], atol=1e-6)


def test_padding_is_to_the_longest_text_only(encoder):
    encodings = encoder._tokenizer.encode_batch(["a", "a b c"])
    assert len(encodings[0].ids) == len(encodings[1].ids) == 5  # [CLS] a b c [SEP]


def test_similar_texts_are_closer_than_unrelated_ones(encoder):
    a, b, c = encoder.encode(["a space adventure with starships", "science fiction film about spaceships",
                              "a recipe for lemon cake"])
    assert a @ b > a @ c + 0.2


@pytest.mark.parametrize("index", range(21))
def test_parity_with_the_jvm_encoder(parity, batched, index):
    texts, reference = parity
    assert len(texts) == 21, "ParityVectors.TEXTS changed: update the parametrisation"
    vector = batched[index]
    cosine = float(vector @ reference[index] / np.linalg.norm(reference[index]))
    assert cosine >= MIN_COSINE, f"text {index} {texts[index][:40]!r}: cosine {cosine}"


def test_parity_covers_long_unicode_and_empty_texts(parity):
    texts, reference = parity
    assert reference.shape == (len(texts), DIMENSION)
    assert "" in texts
    assert any(len(t.split()) > MAX_TOKENS for t in texts)
    assert any(not t.isascii() for t in texts)


def test_mean_pooling_ignores_masked_tokens():
    hidden = np.zeros((1, 3, DIMENSION), dtype=np.float32)
    hidden[0, 0, 0] = 2.0
    hidden[0, 1, 1] = 2.0
    hidden[0, 2, 2] = 100.0  # padding
    pooled = mean_pool_and_normalise(hidden, np.array([[1, 1, 0]]))
    np.testing.assert_allclose(pooled[0, :3], [2 ** -0.5, 2 ** -0.5, 0.0], atol=1e-6)
