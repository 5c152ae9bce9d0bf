"""The item_encoder tuner: fine-tunes the MiniLM encoder itself on (context → positive) pairs and
publishes every N-th step as a new version of item_encoder, an ONNX model, in the model repository.

Plain Python (no Triton import): the Triton Python backend (item_encoder_tuner/1/model.py),
PyTriton (serve_pytriton.py --tuner) and the tests share it.

- The encoder is PyTorch (encoder/torch_minilm.py), converted from the ONNX model of version 1
  and checked against ONNX Runtime; every weight is trained (or LoRA adapters, `lora_rank` > 0)
  with the symmetric in-batch InfoNCE (τ 0.05, a repeated positive is not its own negative) plus
  the uniformity term, and AdamW (optionally a linear learning-rate warm-up); bf16 autocast on a
  GPU, fp32 on the CPU.
- A training batch carries a batch id; a batch id already applied is not trained again (the
  response repeats the loss and step of the first time, with applied = False). The weights, the
  optimiser's state and the applied ids (the last `max_applied_ids`) are one checkpoint, written
  atomically every `checkpoint_every_steps` steps and at every publish: a restarted tuner resumes
  from it, refusing the ids it holds; batches after it are forgotten together with their effect,
  so a client that resends them gets them applied once.
- Every `publish_every_steps` steps the weights become version N = (highest version folder) + 1
  of item_encoder: the model exported to ONNX (parity with the PyTorch model asserted, cosine ≥
  0.9999), the tokenizer hard-linked and model.py copied from an existing version, version.json;
  assembled under a hidden name and renamed into place, so Triton never sees half a version.
  Only the last `keep_versions` (2) version folders stay.
- The version is then loaded into the server (`loader`: Triton's repository API under explicit
  model control, waiting until Triton reports that version READY) and only then announced as
  {"model", "version", "applies_from_ms", "step"} on the Kafka topic `model-versions` (or
  appended to a JSONL file when no bootstrap servers are configured). A failed load or
  announcement is retried after the next step.
- Each announcement also carries "cosine_calibration" {"base_mean", "base_std", "mean", "std",
  "pairs", "texts"} (issue 19): the mean and standard deviation of the cosines of all pairs of a
  fixed sample of item texts — the first `calibration_texts` distinct positive texts trained on,
  fixed at the first publish — under version 1 (the frozen encoder) and under the version. The
  user-graph maps its cosine thresholds by them, so that a fine-tuned version that spreads or
  narrows the space does not fragment or merge the interests version 1 would have found.
  applies_from_ms = 1 + the highest event time of every training example the version has seen
  + `applies_from_lead_ms`, and strictly above the previous version's.
"""
from __future__ import annotations

import collections
import io
import json
import math
import logging
import os
import re
import shutil
import threading
import time
from dataclasses import dataclass
from typing import Callable, List, Optional, Sequence

import numpy as np

from encoder.minilm import MODEL_FILE, TOKENIZER_FILE, _as_text

LOG = logging.getLogger("item_encoder_tuner")

STATE_FILE = "tuner-state.pt"
PROGRESS_FILE = "tuner-progress.json"  # {"step": N, "checkpoint_step": C}: readable without torch
VERSION_META_FILE = "version.json"
FROZEN_FILES = (MODEL_FILE, TOKENIZER_FILE)
MODEL_CODE_FILE = "model.py"
_VERSION_DIR = re.compile(r"^[1-9][0-9]*$")


@dataclass
class TrainResult:
    loss: float
    step: int          # the step this batch was applied as (the first time, for a repeated id)
    applied: bool      # False: the batch id had been applied already, nothing was trained
    model_version: str  # the latest published version of item_encoder


# ---------------------------------------------------------------------------------------------
# announcements


class FileAnnouncer:
    """Appends one JSON line per version to a file (when no Kafka bootstrap servers are set)."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.target = f"file:{path}"

    def announce(self, message: dict) -> None:
        os.makedirs(os.path.dirname(os.path.abspath(self.path)), exist_ok=True)
        with open(self.path, "a", encoding="utf-8") as f:
            f.write(json.dumps(message, sort_keys=True) + "\n")
            f.flush()
            os.fsync(f.fileno())

    def close(self) -> None:
        pass


class KafkaAnnouncer:
    """Produces one record per version (key = model name, value = JSON) with confluent-kafka."""

    def __init__(self, bootstrap_servers: str, topic: str = "model-versions",
                 timeout_s: float = 10.0, producer=None, extra_config: Optional[dict] = None) -> None:
        if producer is None:
            from confluent_kafka import Producer

            config = {"bootstrap.servers": bootstrap_servers, "enable.idempotence": True, "acks": "all"}
            config.update(extra_config or {})
            producer = Producer(config)
        self._producer = producer
        self.topic = topic
        self.timeout_s = timeout_s
        self.target = f"kafka:{bootstrap_servers}/{topic}"

    def announce(self, message: dict) -> None:
        errors = []

        def delivered(err, _msg):
            if err is not None:
                errors.append(err)

        self._producer.produce(self.topic, key=message["model"].encode("utf-8"),
                               value=json.dumps(message, sort_keys=True).encode("utf-8"),
                               on_delivery=delivered)
        remaining = self._producer.flush(self.timeout_s)
        if errors or remaining:
            raise RuntimeError(f"announcement to {self.target} failed: {errors or f'{remaining} not delivered'}")

    def close(self) -> None:
        self._producer.flush(self.timeout_s)


def make_announcer(bootstrap_servers: Optional[str], topic: str, jsonl_path: str):
    """Kafka when bootstrap servers are given, else the JSONL file (and a log line that says so)."""
    if bootstrap_servers:
        return KafkaAnnouncer(bootstrap_servers, topic)
    LOG.warning("no Kafka bootstrap servers configured: announcing model versions to %s", jsonl_path)
    return FileAnnouncer(jsonl_path)


# ---------------------------------------------------------------------------------------------
# the model repository


def version_numbers(model_dir: str) -> List[int]:
    """The numeric version folders of a Triton model folder, ascending."""
    if not os.path.isdir(model_dir):
        return []
    return sorted(int(n) for n in os.listdir(model_dir)
                  if _VERSION_DIR.match(n) and os.path.isdir(os.path.join(model_dir, n)))


def frozen_source(model_dir: str) -> str:
    """The lowest version folder that holds the frozen model files (every published one does)."""
    for v in version_numbers(model_dir):
        folder = os.path.join(model_dir, str(v))
        if all(os.path.isfile(os.path.join(folder, f)) for f in FROZEN_FILES):
            return folder
    raise FileNotFoundError(f"no version of {model_dir} holds {', '.join(FROZEN_FILES)}: run `make models`")


def _link_or_copy(source: str, target: str) -> None:
    source = os.path.realpath(source)  # a link to the file, never to a symbolic link
    try:
        os.link(source, target)  # no extra disk; survives the pruning of the source folder
    except OSError:
        shutil.copy2(source, target)


# ---------------------------------------------------------------------------------------------
# loading a published version into the server


class TritonLoader:
    """Loads a version through Triton's model repository API (explicit model control) and waits
    until Triton reports that version READY. `client` is anything with load_model(name) and
    is_model_ready(name, version): tritonclient's InferenceServerClient, or the Python backend's
    own pb_utils (item_encoder_tuner/1/model.py) from inside the server."""

    def __init__(self, client, timeout_s: float = 300.0, poll_s: float = 0.1) -> None:
        self.client = client
        self.timeout_s = timeout_s
        self.poll_s = poll_s

    def __call__(self, model_name: str, version: str) -> None:
        self.client.load_model(model_name)
        deadline = time.monotonic() + self.timeout_s
        while not self.client.is_model_ready(model_name, version):
            if time.monotonic() > deadline:
                raise TimeoutError(f"{model_name} version {version} not ready after {self.timeout_s} s")
            time.sleep(self.poll_s)


def check_loadable(model_dir: str):
    """The loader where no Triton serves the repository (PyTriton mode, the JVM's embedded server
    reads the folders): the version's ONNX model opens in ONNX Runtime and embeds a text."""

    def load(model_name: str, version: str) -> None:
        from encoder.minilm import MiniLmEncoder

        vector = MiniLmEncoder(os.path.join(model_dir, version), intra_op_threads=1).encode(["probe"])
        if vector.shape != (1, 384) or not np.isfinite(vector).all():
            raise ValueError(f"{model_name} version {version} gives {vector.shape} / non-finite vectors")

    return load


# ---------------------------------------------------------------------------------------------
# the trainer (PyTorch)


class EncoderTrainer:
    """The encoder under training: symmetric in-batch InfoNCE, AdamW; bf16 autocast on CUDA."""

    def __init__(self, model_dir: str, device: str = "cpu", learning_rate: float = 5e-5,
                 weight_decay: float = 0.01, temperature: float = 0.05, lora_rank: int = 0,
                 max_tokens: int = 128, threads: int = 0, seed: int = 0,
                 uniformity_weight: float = 0.5, warmup_steps: int = 0) -> None:
        import torch

        from encoder import torch_minilm

        self.torch = torch
        if threads > 0:
            torch.set_num_threads(threads)
        if device.startswith("cuda") and not torch.cuda.is_available():
            # no silent fallback: a GPU instance without a usable GPU is a deployment error
            raise RuntimeError(f"item_encoder_tuner was given {device} but torch sees no CUDA device "
                               f"(torch {torch.__version__}, CUDA build {torch.version.cuda})")
        self.device = torch.device(device)
        torch.manual_seed(seed)
        self.tokens = torch_minilm.Tokens(model_dir)
        self.tokens._tokenizer.enable_truncation(max_length=max_tokens)  # training texts: a shorter cap
        self.model = torch_minilm.load_frozen(model_dir)  # parity with ONNX Runtime asserted
        self.lora_rank = int(lora_rank)
        if self.lora_rank > 0:
            self.model.add_lora(self.lora_rank)
        self.model.to(self.device).train()
        self.temperature = temperature
        self.uniformity_weight = float(uniformity_weight)
        self.autocast_dtype = torch.bfloat16 if self.device.type == "cuda" else None
        self.optimizer = torch.optim.AdamW([p for p in self.model.parameters() if p.requires_grad],
                                           lr=learning_rate, weight_decay=weight_decay)
        if warmup_steps < 0:
            raise ValueError(f"warmup_steps must be >= 0, got {warmup_steps}")
        self.warmup_steps = int(warmup_steps)
        # Linear warm-up: Adam's first steps move every weight by about the full learning rate,
        # whatever the size of its gradient (the moments are not yet estimated); on MovieLens two
        # such steps of plain InfoNCE raised the cosine of random item pairs from 0.37 to 0.63
        # (docs/evaluation-fine-tuning.md), a warm-up lets the moments settle first.
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(
            self.optimizer, lambda done: min(1.0, (done + 1) / self.warmup_steps) if self.warmup_steps else 1.0)
        self._torch_minilm = torch_minilm
        self._eval_tokens = torch_minilm.Tokens(model_dir)  # serving truncation (256)
        self.model_dir = model_dir

    def _embed(self, texts: List[str], tokens=None):
        ids, mask, types = (tokens or self.tokens)(texts, self.device)
        if self.autocast_dtype is not None:
            with self.torch.autocast(self.device.type, dtype=self.autocast_dtype):
                hidden = self.model(ids, mask, types)
        else:
            hidden = self.model(ids, mask, types)
        return self._torch_minilm.mean_pool_normalise(hidden, mask)

    def _loss(self, contexts: List[str], positives: List[str]):
        torch = self.torch
        u, v = self._embed(contexts), self._embed(positives)
        logits = u @ v.t() / self.temperature
        same = negatives_mask(positives)
        if same is not None:
            logits = logits.masked_fill(torch.as_tensor(same, device=logits.device), float("-inf"))
        target = torch.arange(len(contexts), device=logits.device)
        infonce = 0.5 * (torch.nn.functional.cross_entropy(logits, target)
                         + torch.nn.functional.cross_entropy(logits.t(), target))
        loss = infonce
        if self.uniformity_weight > 0:
            # InfoNCE cannot see a shift shared by every vector, and unrelated items grow alike
            # (docs/fine-tuning.md): the uniformity term of Wang & Isola (2020) keeps them spread,
            # log E exp(-2 |x - y|^2) over distinct pairs of the batch's vectors
            x = torch.cat([u, v]).float()
            distances = torch.cdist(x, x).pow(2)
            off = ~torch.eye(len(x), dtype=torch.bool, device=x.device)
            loss = loss + self.uniformity_weight * torch.logsumexp(-2 * distances[off], 0).sub(
                math.log(int(off.sum())))
        return loss, infonce

    def step(self, contexts: List[str], positives: List[str]) -> float:
        """One optimiser step; returns the batch's InfoNCE loss before it (the uniformity term,
        which can be negative, is trained on but not reported)."""
        self.model.train()
        self.optimizer.zero_grad(set_to_none=True)
        loss, infonce = self._loss(contexts, positives)
        loss.backward()
        self.optimizer.step()
        self.scheduler.step()
        return float(infonce.detach())

    def evaluate(self, contexts: List[str], positives: List[str]) -> float:
        """The batch's InfoNCE loss under the current weights, without training."""
        with self.torch.no_grad():
            return float(self._loss(contexts, positives)[1])

    def encode(self, texts: Sequence) -> np.ndarray:
        """Sentence vectors of the current weights (serving truncation, fp32 on the CPU)."""
        self.model.eval()
        with self.torch.no_grad():
            return self._embed([_as_text(t) for t in texts], self._eval_tokens).float().cpu().numpy()

    def encode_frozen(self, texts: Sequence) -> np.ndarray:
        """Sentence vectors of version 1, the frozen encoder (fp32 on the CPU), whatever was trained."""
        model = self._torch_minilm.load_frozen(self.model_dir).to("cpu", self.torch.float32).eval()
        with self.torch.no_grad():
            return self._torch_minilm.embed(model, self._eval_tokens, [_as_text(t) for t in texts])

    def export(self, onnx_path: str, minimum_cosine: float = 0.9999) -> float:
        """The current weights as an ONNX model; returns the parity cosine (raises below the minimum)."""
        import copy

        model = copy.deepcopy(self.model).to("cpu", self.torch.float32).eval()
        self._torch_minilm.export_onnx(model, onnx_path)
        return self._torch_minilm.check_parity(model, onnx_path, self._eval_tokens, minimum=minimum_cosine)

    def state_dict(self) -> dict:
        return {"model": self.model.state_dict(), "optimizer": self.optimizer.state_dict(),
                "scheduler": self.scheduler.state_dict()}

    def load_state_dict(self, state: dict) -> None:
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        if "scheduler" in state:  # checkpoints written before the warm-up existed have none
            self.scheduler.load_state_dict(state["scheduler"])


def pair_cosine_stats(vectors: np.ndarray) -> dict:
    """Mean and (population) standard deviation of the cosines of all distinct pairs of rows."""
    v = np.asarray(vectors, dtype=np.float64)
    v = v / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-12)
    upper = np.triu_indices(len(v), k=1)
    cosines = (v @ v.T)[upper]
    return {"mean": float(cosines.mean()), "std": float(cosines.std()), "pairs": int(len(cosines))}


def negatives_mask(positives: Sequence) -> Optional[np.ndarray]:
    """True at (i, j), i ≠ j, where the positives are the same text: j is no negative for i."""
    index: dict = {}
    ids = np.asarray([index.setdefault(k, len(index)) for k in positives])
    if len(index) == len(ids):
        return None
    same = ids[:, None] == ids[None, :]
    np.fill_diagonal(same, False)
    return same


# ---------------------------------------------------------------------------------------------
# the tuner


class Tuner:
    """Single writer of the encoder's training state and of item_encoder's version folders (one instance)."""

    def __init__(
        self,
        repository: str,
        trainer: EncoderTrainer,
        state_dir: str,
        announcer=None,
        loader: Optional[Callable[[str, str], None]] = None,
        model_name: str = "item_encoder",
        publish_every_steps: int = 50,
        checkpoint_every_steps: int = 10,
        keep_versions: int = 2,
        max_applied_ids: int = 10000,
        applies_from_lead_ms: int = 0,
        calibration_texts: int = 256,
    ) -> None:
        if publish_every_steps < 1 or keep_versions < 1 or checkpoint_every_steps < 1:
            raise ValueError("publish_every_steps, checkpoint_every_steps and keep_versions must be >= 1")
        if applies_from_lead_ms < 0:
            raise ValueError("applies_from_lead_ms must be >= 0")
        self.repository = os.path.abspath(repository)
        self.model_name = model_name
        self.model_dir = os.path.join(self.repository, model_name)
        self.state_dir = os.path.abspath(state_dir)
        self.state_path = os.path.join(self.state_dir, STATE_FILE)
        self.trainer = trainer
        self.announcer = announcer
        self.loader = loader
        self.publish_every_steps = publish_every_steps
        self.checkpoint_every_steps = checkpoint_every_steps
        self.keep_versions = keep_versions
        self.max_applied_ids = max_applied_ids
        self.applies_from_lead_ms = int(applies_from_lead_ms)
        if calibration_texts < 0:
            raise ValueError("calibration_texts must be >= 0 (0: announce no cosine calibration)")
        self.calibration_texts = int(calibration_texts)
        self._lock = threading.Lock()

        self.step = 0
        self.applied: "collections.OrderedDict[str, list]" = collections.OrderedDict()  # id -> [step, loss]
        self.max_event_ms: Optional[int] = None   # over every example trained so far
        self.last_applies_from_ms: Optional[int] = None
        self.published: List[dict] = []            # versions, with "ready" and "announced": bool
        self.publish_due = False
        # the cosine calibration's sample: distinct positive texts in training order, fixed (with
        # version 1's statistics on it) at the first publish, so every version is measured alike
        self.calibration_sample: List[str] = []
        self.calibration_base: Optional[dict] = None
        os.makedirs(self.state_dir, exist_ok=True)
        self._load_state()
        with self._lock:
            # no loading while the model itself is being initialised: Triton's repository API is
            # not to be called from initialize(); the first step loads and announces what is due
            self._catch_up(load=False)

    # -- public -------------------------------------------------------------------------------

    @property
    def latest_version(self) -> str:
        versions = version_numbers(self.model_dir)
        return str(versions[-1]) if versions else ""

    def train(self, batch_id, contexts: Sequence, positives: Sequence,
              event_times_ms: Sequence[int]) -> TrainResult:
        batch_id = _as_text(batch_id)
        contexts = [_as_text(t) for t in np.asarray(contexts, dtype=object).reshape(-1)]
        positives = [_as_text(t) for t in np.asarray(positives, dtype=object).reshape(-1)]
        times = np.asarray(event_times_ms, dtype=np.int64).reshape(-1)
        if not batch_id:
            raise ValueError("BATCH_ID is empty")
        if not (len(contexts) == len(positives) == len(times)):
            raise ValueError(f"CONTEXT, POSITIVE and EVENT_TIME_MS differ in length: "
                             f"{len(contexts)}, {len(positives)}, {len(times)}")
        if len(contexts) < 2:
            raise ValueError("a contrastive step needs at least 2 examples")
        with self._lock:
            seen = self.applied.get(batch_id)
            if seen is not None:
                return TrainResult(loss=seen[1], step=seen[0], applied=False, model_version=self.latest_version)
            loss = self.trainer.step(contexts, positives)
            self._sample_for_calibration(positives)
            self.step += 1
            self.applied[batch_id] = [self.step, loss]
            while len(self.applied) > self.max_applied_ids:
                self.applied.popitem(last=False)
            batch_max = int(times.max())
            self.max_event_ms = batch_max if self.max_event_ms is None else max(self.max_event_ms, batch_max)
            if self.step % self.publish_every_steps == 0:
                self.publish_due = True
            elif self.step % self.checkpoint_every_steps == 0:
                self._save_state()
            self._catch_up()
            self._write_progress()
            return TrainResult(loss=loss, step=self.step, applied=True, model_version=self.latest_version)

    def evaluate(self, contexts: Sequence, positives: Sequence) -> float:
        """The contrastive loss of the current weights on a batch, without training."""
        return self.trainer.evaluate([_as_text(t) for t in contexts], [_as_text(t) for t in positives])

    def encode(self, texts: Sequence) -> np.ndarray:
        """Vectors of the current (possibly unpublished) weights."""
        return self.trainer.encode(texts)

    def close(self) -> None:
        if self.announcer is not None:
            self.announcer.close()

    # -- publishing ---------------------------------------------------------------------------

    def _catch_up(self, load: bool = True) -> None:
        """Publishes a due version, loads the published ones into the server and announces the
        ready ones, in order; what fails is retried after the next step (after a crash, too)."""
        if self.publish_due:
            self._publish()
        for record in self.published:
            if record.get("announced") or record.get("skipped"):
                continue
            if not record.get("ready"):
                if record["version"] not in map(str, version_numbers(self.model_dir)):
                    record["skipped"] = "pruned before it was ready"  # superseded: never announced
                    self._save_meta()
                    continue
                if self.loader is not None and not load:
                    return
                try:
                    if self.loader is not None:
                        self.loader(self.model_name, record["version"])
                except Exception as e:  # noqa: BLE001 - retried after the next step
                    LOG.warning("loading %s version %s failed, will retry: %s", self.model_name, record["version"], e)
                    return
                record["ready"] = True
                self._save_meta()
            if self.announcer is None:
                continue
            message = {k: record[k] for k in ("model", "version", "applies_from_ms", "step")}
            if record.get("cosine_calibration"):
                message["cosine_calibration"] = record["cosine_calibration"]
            try:
                self.announcer.announce(message)
            except Exception as e:  # noqa: BLE001 - retried after the next step
                LOG.warning("announcing %s failed, will retry: %s", message, e)
                return
            record["announced"] = True
            self._save_meta()

    def _publish(self) -> None:
        versions = version_numbers(self.model_dir)
        version = (versions[-1] if versions else 0) + 1
        source = latest_complete_version(self.model_dir)
        applies_from = (self.max_event_ms if self.max_event_ms is not None else -1) + 1 + self.applies_from_lead_ms
        if self.last_applies_from_ms is not None:
            applies_from = max(applies_from, self.last_applies_from_ms + 1)
        staging = os.path.join(self.model_dir, f".publish-{version}")
        shutil.rmtree(staging, ignore_errors=True)
        os.makedirs(staging)
        try:
            started = time.monotonic()
            cosine = self.trainer.export(os.path.join(staging, MODEL_FILE))
            export_s = time.monotonic() - started
        except Exception:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        _link_or_copy(os.path.join(source, TOKENIZER_FILE), os.path.join(staging, TOKENIZER_FILE))
        code = os.path.join(source, MODEL_CODE_FILE)
        if os.path.isfile(code):
            shutil.copy2(code, os.path.join(staging, MODEL_CODE_FILE))
        calibration = self._cosine_calibration()
        meta = {"model": self.model_name, "version": str(version), "step": self.step,
                "applies_from_ms": applies_from, "parity_cosine_onnx_vs_pytorch": cosine,
                "lora_rank": self.trainer.lora_rank, "created_unix_ms": int(time.time() * 1000),
                "cosine_calibration": calibration}
        with open(os.path.join(staging, VERSION_META_FILE), "w", encoding="utf-8") as f:
            json.dump(meta, f, indent=1, sort_keys=True)
        os.rename(staging, os.path.join(self.model_dir, str(version)))
        for old in version_numbers(self.model_dir)[:-self.keep_versions]:
            shutil.rmtree(os.path.join(self.model_dir, str(old)), ignore_errors=True)
        self.last_applies_from_ms = applies_from
        self.published.append({"model": self.model_name, "version": str(version), "applies_from_ms": applies_from,
                               "step": self.step, "ready": False, "announced": False,
                               "cosine_calibration": calibration})
        self.published = self.published[-100:]
        self.publish_due = False
        self._save_state()
        LOG.info("published %s version %d at step %d (ONNX export %.1f s, parity cosine %.6f), applies from %d ms",
                 self.model_name, version, self.step, export_s, cosine, applies_from)

    def _sample_for_calibration(self, positives: Sequence[str]) -> None:
        if self.calibration_base is not None or len(self.calibration_sample) >= self.calibration_texts:
            return
        known = set(self.calibration_sample)
        for text in positives:
            if len(self.calibration_sample) >= self.calibration_texts:
                break
            if text and text not in known:
                known.add(text)
                self.calibration_sample.append(text)

    def _cosine_calibration(self) -> Optional[dict]:
        """Version 1's and the current weights' pair-cosine statistics on the fixed sample, or None
        when the sample is too small to say anything (fewer than 16 texts)."""
        if len(self.calibration_sample) < 16:
            return None
        started = time.monotonic()
        if self.calibration_base is None:
            self.calibration_base = pair_cosine_stats(self.trainer.encode_frozen(self.calibration_sample))
        current = pair_cosine_stats(self.trainer.encode(self.calibration_sample))
        calibration = {"base_mean": self.calibration_base["mean"], "base_std": self.calibration_base["std"],
                       "mean": current["mean"], "std": current["std"], "pairs": current["pairs"],
                       "texts": len(self.calibration_sample)}
        LOG.info("cosine calibration at step %d: version 1 %.4f ± %.4f, this version %.4f ± %.4f "
                 "(%d pairs of %d texts, %.1f s)", self.step, calibration["base_mean"], calibration["base_std"],
                 calibration["mean"], calibration["std"], calibration["pairs"], calibration["texts"],
                 time.monotonic() - started)
        return calibration

    # -- state --------------------------------------------------------------------------------

    def _meta(self) -> dict:
        return {"step": self.step, "applied": list(self.applied.items()), "max_event_ms": self.max_event_ms,
                "last_applies_from_ms": self.last_applies_from_ms, "published": self.published,
                "publish_due": self.publish_due, "calibration_sample": self.calibration_sample,
                "calibration_base": self.calibration_base}

    def _save_state(self) -> None:
        """The checkpoint: weights, optimiser state and the meta that goes with them, atomically."""
        import torch

        temporary = self.state_path + ".tmp"
        with open(temporary, "wb") as f:
            torch.save({"meta": self._meta(), "trainer": self.trainer.state_dict()}, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(temporary, self.state_path)
        self._saved_step = self.step

    def _write_progress(self) -> None:
        """The step and the last checkpoint's step as JSON, for tools that do not read torch files."""
        temporary = os.path.join(self.state_dir, PROGRESS_FILE + ".tmp")
        with open(temporary, "w", encoding="utf-8") as f:
            f.write(json.dumps({"step": self.step, "checkpoint_step": getattr(self, "_saved_step", None)}))
        os.replace(temporary, os.path.join(self.state_dir, PROGRESS_FILE))

    def _save_meta(self) -> None:
        """After a load or an announcement: the flags of the published versions. Written into the
        checkpoint when it is of the current step, else kept for the next checkpoint (a restart
        then repeats an announcement at worst, which consumers treat as idempotent)."""
        if getattr(self, "_saved_step", None) == self.step:
            self._save_state()

    def _load_state(self) -> None:
        if not os.path.isfile(self.state_path):
            return
        import torch

        state = torch.load(self.state_path, map_location=self.trainer.device, weights_only=False)
        self.trainer.load_state_dict(state["trainer"])
        meta = state["meta"]
        self.step = int(meta["step"])
        self._saved_step = self.step
        self.applied = collections.OrderedDict((k, v) for k, v in meta["applied"])
        self.max_event_ms = meta["max_event_ms"]
        self.last_applies_from_ms = meta["last_applies_from_ms"]
        self.published = meta["published"]
        self.publish_due = bool(meta["publish_due"])
        # checkpoints written before issue 19's calibration have neither: the sample starts afresh
        self.calibration_sample = list(meta.get("calibration_sample", []))
        self.calibration_base = meta.get("calibration_base")
        LOG.info("tuner state restored from %s: step %d, %d applied batch ids", self.state_path, self.step,
                 len(self.applied))


def latest_complete_version(model_dir: str) -> str:
    """The highest version folder that holds the model and tokenizer files."""
    for v in reversed(version_numbers(model_dir)):
        folder = os.path.join(model_dir, str(v))
        if all(os.path.isfile(os.path.join(folder, f)) for f in FROZEN_FILES):
            return folder
    raise FileNotFoundError(f"no version of {model_dir} holds {', '.join(FROZEN_FILES)}: run `make models`")


# ---------------------------------------------------------------------------------------------
# construction from the model's parameters (config.pbtxt, or serve_pytriton.py's flags)

DEFAULTS = {
    "target_model": "item_encoder",
    "publish_every_steps": "50",
    "checkpoint_every_steps": "10",
    "keep_versions": "2",
    "learning_rate": "0.00005",
    "weight_decay": "0.01",
    "temperature": "0.05",
    "lora_rank": "0",                # 0: every weight is trained (docs/fine-tuning.md: why)
    "uniformity_weight": "0.5",      # keeps unrelated items apart (docs/fine-tuning.md: measured)
    "warmup_steps": "0",             # linear learning-rate warm-up over the first N steps
    "max_train_tokens": "128",
    "max_applied_ids": "10000",
    "applies_from_lead_ms": "0",     # announce versions this far ahead of the trained event time
    "calibration_texts": "256",      # sample for the announced cosine calibration (0: none)
    "intra_op_threads": "0",
    "seed": "0",
    "state_dir": "",                 # default: <tuner model folder>/state
    "kafka_bootstrap_servers": "",   # default: $KAFKA_BOOTSTRAP_SERVERS; none -> JSONL file
    "announce_topic": "model-versions",
    "announce_file": "",             # default: <state_dir>/model-versions.jsonl
}


def build(parameters: dict, repository: str, default_state_dir: str, device: str = "cpu",
          device_id: int = 0, loader: Optional[Callable[[str, str], None]] = None) -> Tuner:
    """A Tuner for the model repository `repository`; the encoder starts from the target model's
    lowest complete version (version 1, the frozen MiniLM) unless a checkpoint exists."""
    p = dict(DEFAULTS)
    p.update({k: v for k, v in parameters.items() if v not in (None, "")})
    model_dir = os.path.join(repository, p["target_model"])
    trainer = EncoderTrainer(
        frozen_source(model_dir), device=f"cuda:{device_id}" if device == "cuda" else device,
        learning_rate=float(p["learning_rate"]), weight_decay=float(p["weight_decay"]),
        temperature=float(p["temperature"]), lora_rank=int(p["lora_rank"]),
        max_tokens=int(p["max_train_tokens"]), threads=int(p["intra_op_threads"]), seed=int(p["seed"]),
        uniformity_weight=float(p["uniformity_weight"]), warmup_steps=int(p["warmup_steps"]))
    state_dir = p["state_dir"] or default_state_dir
    servers = p["kafka_bootstrap_servers"] or os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "")
    announcer = make_announcer(servers, p["announce_topic"],
                               p["announce_file"] or os.path.join(state_dir, "model-versions.jsonl"))
    tuner = Tuner(
        repository, trainer, state_dir, announcer,
        loader=loader if loader is not None else check_loadable(model_dir),
        model_name=p["target_model"],
        publish_every_steps=int(p["publish_every_steps"]),
        checkpoint_every_steps=int(p["checkpoint_every_steps"]),
        keep_versions=int(p["keep_versions"]),
        max_applied_ids=int(p["max_applied_ids"]),
        applies_from_lead_ms=int(p["applies_from_lead_ms"]),
        calibration_texts=int(p["calibration_texts"]),
    )
    tuner.providers = [str(trainer.device)]
    return tuner
