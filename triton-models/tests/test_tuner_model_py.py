"""item_encoder_tuner/1/model.py with the stand-in for triton_python_backend_utils."""
import json
import re

import numpy as np

from conftest import MODEL_DIR, ROOT
from pb_stub import Request, load_model
from test_tuner import BATCH, make_repository


def _request(batch_id, contexts, positives, times):
    return Request(BATCH_ID=np.array([batch_id.encode()], dtype=object),
                   CONTEXT=np.array([t.encode() for t in contexts], dtype=object),
                   POSITIVE=np.array([t.encode() for t in positives], dtype=object),
                   EVENT_TIME_MS=np.array(times, dtype=np.int64))


def test_the_configs_declare_the_contract():
    for path in (ROOT / "item_encoder_tuner" / "config.pbtxt", ROOT / "item_encoder_tuner" / "configs" / "cpu.pbtxt"):
        text = path.read_text()
        assert 'name: "item_encoder_tuner"' in text and "max_batch_size: 0" in text
        for name, dtype, dims in [("BATCH_ID", "STRING", "1"), ("CONTEXT", "STRING", "-1"),
                                  ("POSITIVE", "STRING", "-1"), ("EVENT_TIME_MS", "INT64", "-1"),
                                  ("LOSS", "FP32", "1"), ("STEP", "INT64", "1"), ("APPLIED", "BOOL", "1"),
                                  ("MODEL_VERSION", "STRING", "1")]:
            assert re.search(rf'name: "{name}", data_type: TYPE_{dtype}, dims: \[ {dims} \]', text), (path, name)
        assert re.search(r"count: 1\s+kind: KIND_(CPU|GPU)", text)
    assert "KIND_GPU" in (ROOT / "item_encoder_tuner" / "config.pbtxt").read_text()


def test_one_step_per_new_batch_id_and_a_version_every_n_steps(tmp_path, monkeypatch, encoder):
    repository = make_repository(tmp_path / "models")
    folder = repository / "item_encoder_tuner"
    (folder / "1").mkdir(parents=True)
    (folder / "1" / "model.py").write_bytes((ROOT / "item_encoder_tuner" / "1" / "model.py").read_bytes())
    announcements = tmp_path / "versions.jsonl"
    model = load_model(monkeypatch, folder / "1" / "model.py", folder, 1,
                       {"publish_every_steps": "2", "announce_file": str(announcements), "intra_op_threads": "1",
                        "load_into_triton": "false"})

    responses = model.execute([_request("a", *BATCH), _request("a", *BATCH), Request(BATCH_ID=np.array([b"x"], dtype=object)),
                               _request("b", *BATCH)])

    first, repeated, missing, second = responses
    assert first.error is None and first.output("APPLIED").tolist() == [True]
    assert first.output("LOSS").dtype == np.float32 and first.output("LOSS").shape == (1,)
    assert first.output("STEP").tolist() == [1] and first.output("STEP").dtype == np.int64
    assert first.output("MODEL_VERSION").tolist() == [b"1"]
    assert repeated.output("APPLIED").tolist() == [False] and repeated.output("STEP").tolist() == [1]
    assert repeated.output("LOSS").tolist() == first.output("LOSS").tolist()
    assert missing.error == "training failed: input 'CONTEXT' is missing"
    assert second.output("STEP").tolist() == [2] and second.output("MODEL_VERSION").tolist() == [b"2"]
    assert (folder / "state" / "tuner-state.pt").is_file()
    assert json.loads(announcements.read_text()) == {"model": "item_encoder", "version": "2",
                                                     "applies_from_ms": 3001, "step": 2}
    model.finalize()


def test_the_lead_comes_from_the_model_config_and_the_staged_repository(tmp_path, monkeypatch, encoder):
    import serve_pytriton

    for path in (ROOT / "item_encoder_tuner" / "config.pbtxt", ROOT / "item_encoder_tuner" / "configs" / "cpu.pbtxt"):
        # default 0: announcements as before the lead existed
        assert re.search(r'key: "applies_from_lead_ms"\s*value: \{ string_value: "0" \}', path.read_text()), path
    staged = serve_pytriton.stage_repository(tmp_path / "staged", MODEL_DIR, publish_every_steps=3,
                                             applies_from_lead_ms=5000)
    for path in (staged / "item_encoder_tuner" / "config.pbtxt", staged / "item_encoder_tuner" / "configs" / "cpu.pbtxt"):
        text = path.read_text()
        assert re.search(r'key: "applies_from_lead_ms"\s*value: \{ string_value: "5000" \}', text), path
        assert re.search(r'key: "publish_every_steps"\s*value: \{ string_value: "3" \}', text), path
    assert serve_pytriton.parse_args(["--applies-from-lead-ms", "250"]).applies_from_lead_ms == 250

    repository = make_repository(tmp_path / "models")
    folder = repository / "item_encoder_tuner"
    (folder / "1").mkdir(parents=True)
    (folder / "1" / "model.py").write_bytes((ROOT / "item_encoder_tuner" / "1" / "model.py").read_bytes())
    announcements = tmp_path / "versions.jsonl"
    model = load_model(monkeypatch, folder / "1" / "model.py", folder, 1,
                       {"publish_every_steps": "1", "applies_from_lead_ms": "1000",
                        "announce_file": str(announcements), "intra_op_threads": "1", "load_into_triton": "false"})
    model.execute([_request("a", *BATCH)])
    model.finalize()
    assert json.loads(announcements.read_text())["applies_from_ms"] == 3000 + 1 + 1000


def test_learning_rate_lora_weight_decay_and_kept_versions_reach_the_tuner_parameters():
    import serve_pytriton
    from encoder import tuner as tuner_module

    defaults = serve_pytriton.tuner_parameters(serve_pytriton.parse_args([]))
    # "" means the tuner's own default (build() skips blank values)
    assert defaults["weight_decay"] == "" and defaults["keep_versions"] == "" and defaults["announce_topic"] == ""
    assert tuner_module.DEFAULTS["weight_decay"] == "0.01" and tuner_module.DEFAULTS["keep_versions"] == "2"
    given = serve_pytriton.tuner_parameters(
        serve_pytriton.parse_args(["--weight-decay", "10", "--keep-versions", "1000", "--announce-topic", "v-2",
                                   "--learning-rate", "0.0002", "--lora-rank", "8"]))
    assert float(given["weight_decay"]) == 10.0 and given["keep_versions"] == "1000"
    assert float(given["learning_rate"]) == 0.0002 and given["lora_rank"] == "8"
    assert given["announce_topic"] == "v-2"
    assert defaults["uniformity_weight"] == defaults["temperature"] == defaults["warmup_steps"] == ""
    recipe = serve_pytriton.tuner_parameters(
        serve_pytriton.parse_args(["--uniformity-weight", "0", "--temperature", "0.1", "--warmup-steps", "20"]))
    assert float(recipe["uniformity_weight"]) == 0.0 and float(recipe["temperature"]) == 0.1
    assert recipe["warmup_steps"] == "20"
