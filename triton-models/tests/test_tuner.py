"""encoder/tuner.py: idempotence by batch id, learning on planted topics, ONNX versions, load-then-announce."""
import json
import os
import shutil
import threading

import numpy as np
import pytest

import planted
from conftest import MODEL_DIR, ROOT
from encoder import torch_minilm
from encoder.minilm import MODEL_FILE, TOKENIZER_FILE, MiniLmEncoder
from encoder.tuner import VERSION_META_FILE, EncoderTrainer, FileAnnouncer, KafkaAnnouncer, Tuner, \
    negatives_mask, pair_cosine_stats, version_numbers
from pb_stub import Request, load_model


def make_repository(root):
    """A model repository with item_encoder version 1 (the frozen files linked from `make models`)."""
    version = root / "item_encoder" / "1"
    version.mkdir(parents=True)
    for name in (MODEL_FILE, TOKENIZER_FILE):
        os.symlink(MODEL_DIR / name, version / name)
    shutil.copy(ROOT / "item_encoder" / "1" / "model.py", version / "model.py")
    shutil.copy(ROOT / "item_encoder" / "configs" / "cpu.pbtxt", root / "item_encoder" / "config.pbtxt")
    return root


@pytest.fixture
def repository(tmp_path):
    return make_repository(tmp_path / "models")


def _trainer(learning_rate=1e-4, **kwargs):
    return EncoderTrainer(str(MODEL_DIR), learning_rate=learning_rate, threads=1, **kwargs)


def _tuner(repository, trainer=None, **kwargs):
    kwargs.setdefault("announcer", FileAnnouncer(str(repository / "announcements.jsonl")))
    return Tuner(str(repository), trainer or _trainer(), str(repository / "state"), **kwargs)


def _weights(tuner):
    return {k: v.detach().clone() for k, v in tuner.trainer.model.state_dict().items()}


def _same_weights(a, b):
    return all(bool((a[k] == b[k]).all()) for k in a)


BATCH = (["Galactic starship alien 1 | Recipe kitchen pasta 2", "Goal league striker 3 | Saxophone swing blues 4",
          "Seeds compost roses 5 | Stocks bonds dividend 6"],
         ["Oven baking spice 7", "Trumpet quartet swing 8", "Portfolio market savings 9"],
         [1000, 2000, 3000])


def test_the_frozen_pytorch_encoder_matches_onnx_runtime(encoder):
    model = torch_minilm.load_frozen(str(MODEL_DIR))
    tokens = torch_minilm.Tokens(str(MODEL_DIR))
    texts = list(torch_minilm.PARITY_TEXTS)
    cosine = torch_minilm.cosines(torch_minilm.embed(model, tokens, texts), encoder.encode(texts))
    assert cosine.min() >= 0.9999


def test_duplicate_positives_are_not_negatives():
    assert negatives_mask(["a", "b", "c"]) is None
    np.testing.assert_array_equal(negatives_mask(["a", "b", "a"]),
                                  [[False, False, True], [False, False, False], [True, False, False]])


def test_the_same_batch_id_twice_is_one_step(repository):
    tuner = _tuner(repository, publish_every_steps=100)
    before = _weights(tuner)
    first = tuner.train("batch-1", *BATCH)
    after_first = _weights(tuner)
    again = tuner.train(b"batch-1", *BATCH)

    assert first.applied and first.step == 1
    assert not _same_weights(before, after_first)  # the first time trains
    assert not again.applied
    assert (again.step, again.loss) == (first.step, first.loss)  # the first answer, repeated
    assert tuner.step == 1
    assert _same_weights(_weights(tuner), after_first)  # the second time does not
    assert json.loads((repository / "state" / "tuner-progress.json").read_text())["step"] == 1
    assert tuner.train("batch-2", *BATCH).step == 2


def test_idempotence_survives_a_restart_from_the_checkpoint(repository):
    tuner = _tuner(repository, publish_every_steps=100, checkpoint_every_steps=2)
    tuner.train("batch-1", *BATCH)
    tuner.train("batch-2", *BATCH)
    weights = _weights(tuner)
    tuner.train("batch-3", *BATCH)  # after the checkpoint: forgotten with its effect

    restarted = _tuner(repository, publish_every_steps=100, checkpoint_every_steps=2)

    assert restarted.step == 2
    assert _same_weights(_weights(restarted), weights)
    assert restarted.trainer.optimizer.state_dict()["state"]  # AdamW's moments came back too
    assert not restarted.train("batch-1", *BATCH).applied
    assert restarted.train("batch-3", *BATCH).step == 3  # resent: applied once


def test_the_warm_up_ramps_the_learning_rate_and_survives_a_restart(repository):
    tuner = _tuner(repository, _trainer(1e-4, warmup_steps=4), publish_every_steps=100, checkpoint_every_steps=2)
    rates = []
    for i in range(2):
        rates.append(tuner.trainer.optimizer.param_groups[0]["lr"])
        tuner.train(f"batch-{i}", *BATCH)
    assert rates == pytest.approx([2.5e-5, 5e-5])
    # the checkpoint at step 2 holds the schedule: a restarted tuner goes on with the third step's rate
    restarted = _tuner(repository, _trainer(1e-4, warmup_steps=4), publish_every_steps=100)
    assert restarted.step == 2
    assert restarted.trainer.optimizer.param_groups[0]["lr"] == pytest.approx(7.5e-5)
    restarted.train("batch-2", *BATCH)
    restarted.train("batch-3", *BATCH)
    assert restarted.trainer.optimizer.param_groups[0]["lr"] == pytest.approx(1e-4)  # and stays there
    with pytest.raises(ValueError, match="warmup_steps"):
        _trainer(1e-4, warmup_steps=-1)


def test_the_set_of_applied_ids_is_bounded(repository):
    tuner = _tuner(repository, publish_every_steps=100, max_applied_ids=2)
    for i in range(3):
        tuner.train(f"batch-{i}", *BATCH)
    assert list(tuner.applied) == ["batch-1", "batch-2"]


def test_malformed_batches_are_refused(repository):
    tuner = _tuner(repository)
    with pytest.raises(ValueError, match="differ in length"):
        tuner.train("b", BATCH[0], BATCH[1][:2], BATCH[2])
    with pytest.raises(ValueError, match="at least 2"):
        tuner.train("b", BATCH[0][:1], BATCH[1][:1], BATCH[2][:1])
    with pytest.raises(ValueError, match="empty"):
        tuner.train("", *BATCH)
    assert tuner.step == 0 and not tuner.applied


# Measured here (docs/fine-tuning.md): planted interests, batch 16, AdamW lr 2e-4, 16 steps of the
# whole encoder (fp32, CPU), uniformity weight 0.5: InfoNCE on a trained batch 4.65 -> 1.89,
# held-out separation 0.241 -> 0.763, cross-interest cosine 0.169 -> 0.130 (without the uniformity
# term: separation 0.375, cross-interest cosine 0.603). Asserted with half the gain as margin.
LEARNING_STEPS, LEARNING_BATCH, LEARNING_RATE = 16, 16, 2e-4
MIN_SEPARATION_GAIN = 0.25


def test_the_loss_falls_and_the_planted_topics_separate(repository, encoder):
    train_texts, train_topics = planted.items(first=1, count=15, seed=1)
    held_out, topics = planted.items(first=101, count=8, seed=2)  # titles never trained on
    tuner = _tuner(repository, _trainer(LEARNING_RATE), publish_every_steps=1000)
    batches = list(planted.batches(train_texts, train_topics, LEARNING_STEPS, LEARNING_BATCH, seed=3))
    probe = batches[0][:2]
    before = tuner.evaluate(*probe)
    for i, (contexts, positives, times) in enumerate(batches):
        tuner.train(f"b{i}", contexts, positives, times)
    after = tuner.evaluate(*probe)
    tuned, frozen = tuner.encode(held_out), encoder.encode(held_out)

    separation = planted.separation(frozen, topics), planted.separation(tuned, topics)
    cross = planted.cross_cosine(frozen, topics), planted.cross_cosine(tuned, topics)
    print(f"loss on a trained batch {before:.3f} -> {after:.3f}; held-out separation frozen {separation[0]:.3f} "
          f"tuned {separation[1]:.3f}; cross-interest cosine {cross[0]:.3f} -> {cross[1]:.3f}")
    assert after < 0.8 * before
    assert separation[1] > separation[0] + MIN_SEPARATION_GAIN
    # unrelated items do not grow alike (the uniformity term; without it 0.17 -> 0.60)
    assert cross[1] < cross[0] + 0.1


def _item_encoder(monkeypatch, repository, version):
    return load_model(monkeypatch, repository / "item_encoder" / str(version) / "model.py",
                      repository / "item_encoder", version, {"intra_op_threads": "1"})


def _embed(model, texts):
    (response,) = model.execute([Request(TEXT=np.array([[t.encode()] for t in texts], dtype=object))])
    return response.output("EMBEDDING")


def _announcements(repository):
    return [json.loads(line) for line in (repository / "announcements.jsonl").read_text().splitlines()]


def test_every_n_steps_a_new_onnx_version_of_item_encoder_is_published(repository, encoder, monkeypatch):
    tuner = _tuner(repository, _trainer(1e-3), publish_every_steps=2)
    texts = ["Galactic starship alien 1", "Recipe kitchen pasta 2"]
    results = [tuner.train("b1", *BATCH)]
    assert version_numbers(str(repository / "item_encoder")) == [1]
    assert results[0].model_version == "1"

    results.append(tuner.train("b2", BATCH[0], BATCH[1], [5000, 4000, 4500]))

    assert results[1].model_version == "2"
    folder = repository / "item_encoder" / "2"
    assert sorted(os.listdir(folder)) == sorted([MODEL_FILE, TOKENIZER_FILE, "model.py", VERSION_META_FILE])
    meta = json.loads((folder / VERSION_META_FILE).read_text())
    assert meta["applies_from_ms"] == 5001 and meta["parity_cosine_onnx_vs_pytorch"] >= 0.9999
    assert _announcements(repository) == [
        {"model": "item_encoder", "version": "2", "applies_from_ms": 5001, "step": 2}]

    # the exported ONNX model gives the PyTorch model's vectors; version 1 stays the frozen one
    tuned = tuner.encode(texts)
    exported = MiniLmEncoder(folder, intra_op_threads=1).encode(texts)
    assert torch_minilm.cosines(exported, tuned).min() >= 0.9999
    frozen = encoder.encode(texts)
    assert np.abs(tuned - frozen).max() > 1e-3

    # item_encoder's model.py serves each version's own ONNX model
    v1, v2 = _item_encoder(monkeypatch, repository, 1), _item_encoder(monkeypatch, repository, 2)
    np.testing.assert_array_equal(_embed(v1, texts), frozen)
    np.testing.assert_allclose(_embed(v2, texts), exported, atol=1e-6)

    # two more versions: only the last two folders stay
    for i, times in enumerate(([100, 200, 300], [6000, 7000, 8000], [10, 20, 30], [40, 50, 60])):
        tuner.train(f"more-{i}", BATCH[0], BATCH[1], times)
    assert version_numbers(str(repository / "item_encoder")) == [3, 4]
    announced = _announcements(repository)
    assert [a["version"] for a in announced] == ["2", "3", "4"]
    assert [a["step"] for a in announced] == [2, 4, 6]
    # the highest event time seen + 1, strictly increasing even when later batches carry older events
    assert [a["applies_from_ms"] for a in announced] == [5001, 8001, 8002]


def _item_encoder(monkeypatch, repository, version):
    return load_model(monkeypatch, repository / "item_encoder" / str(version) / "model.py",
                      repository / "item_encoder", version, {"intra_op_threads": "1"})


def _embed(model, texts):
    (response,) = model.execute([Request(TEXT=np.array([[t.encode()] for t in texts], dtype=object))])
    return response.output("EMBEDDING")


def _announcements(repository):
    path = repository / "announcements.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


class _SlowLoader:
    """A server that takes its time: load() blocks until the test lets it finish (or fail)."""

    def __init__(self):
        self.calls, self.release, self.fail, self.started = [], threading.Event(), False, threading.Event()

    def __call__(self, model, version):
        self.calls.append((model, version))
        self.started.set()
        assert self.release.wait(60)
        if self.fail:
            raise RuntimeError("not ready")


def test_a_version_is_announced_only_after_the_server_reports_it_ready(repository):
    loader = _SlowLoader()
    tuner = _tuner(repository, publish_every_steps=1, loader=loader)
    worker = threading.Thread(target=tuner.train, args=("b1", *BATCH))
    worker.start()
    assert loader.started.wait(60)

    # published on disk, loading: not announced yet
    assert version_numbers(str(repository / "item_encoder")) == [1, 2]
    assert _announcements(repository) == []
    loader.release.set()
    worker.join(60)
    assert loader.calls == [("item_encoder", "2")]
    assert [a["version"] for a in _announcements(repository)] == ["2"]


def test_a_failed_load_is_retried_and_announced_after_it(repository):
    loader = _SlowLoader()
    loader.release.set()
    loader.fail = True
    tuner = _tuner(repository, publish_every_steps=2, loader=loader)
    tuner.train("b1", *BATCH)
    tuner.train("b2", *BATCH)  # version 2: its load fails
    assert _announcements(repository) == [] and tuner.published[-1]["ready"] is False

    loader.fail = False
    tuner.train("b3", *BATCH)  # retried
    assert loader.calls == [("item_encoder", "2"), ("item_encoder", "2")]
    assert [a["version"] for a in _announcements(repository)] == ["2"]


def test_a_lead_announces_versions_ahead_of_the_trained_event_time(repository):
    tuner = _tuner(repository, publish_every_steps=1, applies_from_lead_ms=60_000)
    for i, times in enumerate(([1000, 3000, 2000], [100, 200, 300], [70_000, 80_000, 90_000])):
        tuner.train(f"b{i}", BATCH[0], BATCH[1], times)
    # 1 + highest trained event time + lead; still strictly above the previous version's
    assert [a["applies_from_ms"] for a in _announcements(repository)] == [63_001, 63_002, 150_001]
    assert json.loads((repository / "item_encoder" / "4" / VERSION_META_FILE).read_text())[
        "applies_from_ms"] == 150_001
    with pytest.raises(ValueError, match="applies_from_lead_ms"):
        _tuner(repository, tuner.trainer, applies_from_lead_ms=-1)


class _FakeProducer:
    def __init__(self, fail=False):
        self.records, self.fail = [], fail

    def produce(self, topic, key, value, on_delivery):
        self.records.append((topic, key, value))
        on_delivery("broker down" if self.fail else None, None)

    def flush(self, timeout):
        return 0


def test_kafka_announcements_and_a_retry_after_a_failure(repository):
    producer = _FakeProducer(fail=True)
    tuner = _tuner(repository, publish_every_steps=1,
                   announcer=KafkaAnnouncer("broker:9092", producer=producer))
    tuner.train("b1", *BATCH)  # version 2 published; its announcement fails
    assert version_numbers(str(repository / "item_encoder")) == [1, 2]
    assert tuner.published[-1]["announced"] is False

    producer.fail = False
    tuner.train("b2", *BATCH)  # retries version 2, then announces version 3

    delivered = [json.loads(v) for t, k, v in producer.records if t == "model-versions" and k == b"item_encoder"]
    assert [d["version"] for d in delivered] == ["2", "2", "3"]
    assert all(p["announced"] for p in tuner.published)


def test_a_publish_due_at_a_crash_happens_at_the_restart(repository):
    tuner = _tuner(repository, publish_every_steps=100)
    tuner.train("b1", *BATCH)
    tuner.publish_due = True  # as if the process died between saving the step and publishing
    tuner._save_state()
    texts = ["Galactic starship alien 1"]
    expected = tuner.encode(texts)

    restarted = _tuner(repository, publish_every_steps=100)

    assert version_numbers(str(repository / "item_encoder")) == [1, 2]
    assert not restarted.publish_due
    assert [a["version"] for a in _announcements(repository)] == ["2"]
    published = MiniLmEncoder(repository / "item_encoder" / "2", intra_op_threads=1).encode(texts)
    assert torch_minilm.cosines(published, expected).min() >= 0.9999


def test_a_restarted_tuner_loads_and_announces_at_its_first_step_not_while_it_starts(repository):
    loader = _SlowLoader()
    loader.release.set()
    loader.fail = True
    tuner = _tuner(repository, publish_every_steps=1, loader=loader)
    tuner.train("b1", *BATCH)  # version 2 published, its load fails: not announced
    assert _announcements(repository) == []

    loader.fail, loader.calls = False, []
    restarted = _tuner(repository, tuner.trainer, publish_every_steps=100, loader=loader)
    assert loader.calls == [] and _announcements(repository) == []  # Triton is still loading the tuner
    restarted.train("b2", *BATCH)
    assert loader.calls == [("item_encoder", "2")]
    assert [a["version"] for a in _announcements(repository)] == ["2"]


def test_pair_cosine_stats_are_those_of_every_distinct_pair():
    # three unit vectors: pairs at cosine 0, 1/sqrt(2), 1/sqrt(2); unnormalised rows are normalised
    stats = pair_cosine_stats(np.array([[2.0, 0.0], [0.0, 1.0], [1.0, 1.0]]))
    assert stats["pairs"] == 3
    assert stats["mean"] == pytest.approx(2 / 3 * 2 ** -0.5)
    assert stats["std"] == pytest.approx(np.std([0.0, 2 ** -0.5, 2 ** -0.5]))


def test_each_announcement_carries_the_versions_cosine_calibration_on_a_fixed_sample(repository, encoder):
    """Issue 19: version 1's and the version's pair-cosine statistics on the first distinct positive texts
    trained on, fixed at the first publish, measured on what is served (the ONNX models)."""
    texts, topics = planted.items(first=1, count=6, seed=1)  # 6 titles x 8 vocabularies = 48 texts
    batches = list(planted.batches(texts, topics, 4, 12, seed=3))
    tuner = _tuner(repository, _trainer(1e-3), publish_every_steps=2, calibration_texts=20)
    for i, (contexts, positives, times) in enumerate(batches):
        tuner.train(f"b{i}", contexts, positives, times)

    first, second = _announcements(repository)
    sample = tuner.calibration_sample
    # the first 20 distinct positives of the first two steps, not extended after the first publish
    expected = list(dict.fromkeys(batches[0][1] + batches[1][1]))[:20]
    assert len(expected) == 20 and sample == expected
    for announcement in (first, second):
        calibration = announcement["cosine_calibration"]
        assert calibration["texts"] == 20 and calibration["pairs"] == 190
        frozen = pair_cosine_stats(encoder.encode(sample))
        assert calibration["base_mean"] == pytest.approx(frozen["mean"], abs=1e-4)
        assert calibration["base_std"] == pytest.approx(frozen["std"], abs=1e-4)
        served = MiniLmEncoder(repository / "item_encoder" / announcement["version"], intra_op_threads=1)
        tuned = pair_cosine_stats(served.encode(sample))
        assert calibration["mean"] == pytest.approx(tuned["mean"], abs=1e-4)
        assert calibration["std"] == pytest.approx(tuned["std"], abs=1e-4)
    # training at lr 1e-3 moves the space: the versions' statistics are not version 1's
    assert abs(second["cosine_calibration"]["mean"] - second["cosine_calibration"]["base_mean"]) > 1e-3
    meta = json.loads((repository / "item_encoder" / "3" / VERSION_META_FILE).read_text())
    assert meta["cosine_calibration"] == second["cosine_calibration"]

    # a restarted tuner keeps the sample and version 1's statistics
    restarted = _tuner(repository, _trainer(1e-3), publish_every_steps=2, calibration_texts=20)
    assert restarted.calibration_sample == sample
    assert restarted.calibration_base == tuner.calibration_base


def test_no_calibration_is_announced_without_enough_texts(repository):
    tuner = _tuner(repository, _trainer(1e-3), publish_every_steps=1)
    tuner.train("b1", *BATCH)  # 3 distinct positives: too few pairs to describe a space
    assert "cosine_calibration" not in _announcements(repository)[0]
