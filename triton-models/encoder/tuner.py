"""The item_encoder tuner: trains the residual adapter on (context → positive) pairs and publishes
each N-th step as a new version of item_encoder in the model repository.

Plain Python (no Triton import): the Triton Python backend (item_encoder_tuner/1/model.py),
PyTriton (serve_pytriton.py --tuner) and the tests share it.

- A training batch carries a batch id; a batch id already applied is not trained again (the
  response repeats the loss and step of the first time, with applied = False). The applied ids
  (the last `max_applied_ids`) are persisted with the adapter and the optimiser state in one file,
  written atomically after every step, so a restarted tuner keeps idempotence.
- Every `publish_every_steps` steps the adapter becomes version N = (highest version folder) + 1
  of item_encoder: the frozen model files are hard-linked (copied where a hard link is not
  possible) from an existing version, with model.py, plus adapter.npy and adapter.json; the folder
  is assembled under a hidden name and renamed into place, so Triton never sees half a version.
  Only the last `keep_versions` (2) version folders stay.
- Each version is announced as {"model", "version", "applies_from_ms", "step"} on the Kafka topic
  `model-versions` (or appended to a JSONL file when no bootstrap servers are configured).
  applies_from_ms = 1 + the highest event time of every training example the version has seen
  + `applies_from_lead_ms`, and strictly above the previous version's: events at or after it are
  the first the version could not have been trained on, and the switch is a function of event
  time, not of wall-clock. The lead (default 0) announces the switch ahead of the event time the
  job has reached, so that a live run reads the announcement before the events it applies to.
"""
from __future__ import annotations

import collections
import io
import json
import logging
import os
import re
import shutil
import threading
import time
from dataclasses import dataclass
from typing import Callable, List, Optional, Sequence

import numpy as np

from encoder import adapter as adapter_math
from encoder.minilm import DIMENSION, MODEL_FILE, TOKENIZER_FILE, _as_text

LOG = logging.getLogger("item_encoder_tuner")

STATE_FILE = "tuner-state.npz"
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
# the tuner


class _FrozenCache:
    """A bounded LRU of frozen vectors by text: the encoder is frozen, so a text's vector never changes."""

    def __init__(self, encode: Callable[[List[str]], np.ndarray], capacity: int) -> None:
        self._encode = encode
        self._capacity = capacity
        self._vectors: "collections.OrderedDict[str, np.ndarray]" = collections.OrderedDict()

    def encode(self, texts: List[str]) -> np.ndarray:
        if self._capacity <= 0:
            return self._encode(texts)
        missing = list(dict.fromkeys(t for t in texts if t not in self._vectors))
        if missing:
            for text, vector in zip(missing, self._encode(missing)):
                self._vectors[text] = vector
        out = np.stack([self._vectors[t] for t in texts])
        for t in texts:
            self._vectors.move_to_end(t)
        while len(self._vectors) > self._capacity:
            self._vectors.popitem(last=False)
        return out


class Tuner:
    """Single writer of the adapter state and of item_encoder's version folders (one instance)."""

    def __init__(
        self,
        repository: str,
        encode: Callable[[List[str]], np.ndarray],
        state_dir: str,
        announcer=None,
        model_name: str = "item_encoder",
        publish_every_steps: int = 50,
        keep_versions: int = 2,
        learning_rate: float = 1e-3,
        temperature: float = 0.05,
        weight_decay: float = 0.0,
        max_applied_ids: int = 10000,
        cache_size: int = 20000,
        dimension: int = DIMENSION,
        applies_from_lead_ms: int = 0,
        center_adapter: bool = True,
    ) -> None:
        if publish_every_steps < 1 or keep_versions < 1:
            raise ValueError("publish_every_steps and keep_versions must be >= 1")
        if applies_from_lead_ms < 0:
            raise ValueError("applies_from_lead_ms must be >= 0")
        self.repository = os.path.abspath(repository)
        self.model_name = model_name
        self.model_dir = os.path.join(self.repository, model_name)
        self.state_dir = os.path.abspath(state_dir)
        self.state_path = os.path.join(self.state_dir, STATE_FILE)
        self.announcer = announcer
        self.publish_every_steps = publish_every_steps
        self.keep_versions = keep_versions
        self.temperature = temperature
        self.max_applied_ids = max_applied_ids
        self.applies_from_lead_ms = int(applies_from_lead_ms)
        self.center_adapter = bool(center_adapter)
        self._frozen = _FrozenCache(lambda texts: np.asarray(encode(texts), dtype=np.float32), cache_size)
        self._lock = threading.Lock()

        self.w = np.zeros((dimension, dimension), dtype=np.float64)
        self.optimizer = adapter_math.Adam(lr=learning_rate, weight_decay=weight_decay)
        self.step = 0
        # sum and count of the frozen vectors trained on: their mean is the direction the adapter
        # must not move (adapter.without_mean_direction)
        self.frozen_sum = np.zeros(dimension, dtype=np.float64)
        self.frozen_count = 0
        self.applied: "collections.OrderedDict[str, list]" = collections.OrderedDict()  # id -> [step, loss]
        self.max_event_ms: Optional[int] = None   # over every example trained so far
        self.last_applies_from_ms: Optional[int] = None
        self.published: List[dict] = []            # announcements, with "announced": bool
        self.publish_due = False
        os.makedirs(self.state_dir, exist_ok=True)
        self._load_state()
        with self._lock:
            self._catch_up()

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
            xc = self._frozen.encode(contexts)
            xp = self._frozen.encode(positives)
            mask = adapter_math.negatives_mask(positives)
            loss, grad = adapter_math.infonce(self.w, xc, xp, self.temperature, mask)
            self.w = self.optimizer.step(self.w, grad)
            self.frozen_sum += xc.sum(axis=0) + xp.sum(axis=0)
            self.frozen_count += len(xc) + len(xp)
            if self.center_adapter:
                self.w = adapter_math.without_mean_direction(self.w, self.frozen_sum / self.frozen_count)
            self.step += 1
            self.applied[batch_id] = [self.step, loss]
            while len(self.applied) > self.max_applied_ids:
                self.applied.popitem(last=False)
            batch_max = int(times.max())
            self.max_event_ms = batch_max if self.max_event_ms is None else max(self.max_event_ms, batch_max)
            if self.step % self.publish_every_steps == 0:
                self.publish_due = True
            self._save_state()
            self._catch_up()
            return TrainResult(loss=loss, step=self.step, applied=True, model_version=self.latest_version)

    def evaluate(self, contexts: Sequence, positives: Sequence) -> float:
        """The contrastive loss of the current adapter on a batch, without training."""
        xc = self._frozen.encode([_as_text(t) for t in contexts])
        xp = self._frozen.encode([_as_text(t) for t in positives])
        return adapter_math.infonce(self.w, xc, xp, self.temperature,
                                    adapter_math.negatives_mask(list(positives)), with_grad=False)[0]

    def adapted(self, texts: Sequence) -> np.ndarray:
        """Vectors of the current (possibly unpublished) adapter."""
        return adapter_math.apply(self._frozen.encode([_as_text(t) for t in texts]), self.w.astype(np.float32))

    def close(self) -> None:
        if self.announcer is not None:
            self.announcer.close()

    # -- publishing ---------------------------------------------------------------------------

    def _catch_up(self) -> None:
        """Publishes a due version and retries announcements that failed (after a crash, too)."""
        if self.publish_due:
            self._publish()
        for record in self.published:
            if not record.get("announced") and self.announcer is not None:
                message = {k: record[k] for k in ("model", "version", "applies_from_ms", "step")}
                try:
                    self.announcer.announce(message)
                except Exception as e:  # noqa: BLE001 - retried after the next step
                    LOG.warning("announcing %s failed, will retry: %s", message, e)
                    return
                record["announced"] = True
                self._save_state()

    def _publish(self) -> None:
        versions = version_numbers(self.model_dir)
        version = (versions[-1] if versions else 0) + 1
        source = frozen_source(self.model_dir)
        applies_from = (self.max_event_ms if self.max_event_ms is not None else -1) + 1 + self.applies_from_lead_ms
        if self.last_applies_from_ms is not None:
            applies_from = max(applies_from, self.last_applies_from_ms + 1)
        staging = os.path.join(self.model_dir, f".publish-{version}")
        shutil.rmtree(staging, ignore_errors=True)
        os.makedirs(staging)
        for name in FROZEN_FILES:
            _link_or_copy(os.path.join(source, name), os.path.join(staging, name))
        code = os.path.join(self.model_dir, str(versions[-1]), MODEL_CODE_FILE) if versions else None
        if code and os.path.isfile(code):
            shutil.copy2(code, os.path.join(staging, MODEL_CODE_FILE))
        meta = {"model": self.model_name, "version": str(version), "step": self.step,
                "applies_from_ms": applies_from, "frozen_from": os.path.basename(source),
                "temperature": self.temperature, "created_unix_ms": int(time.time() * 1000),
                "adapter": "y = normalize(x + x W^T), W = adapter.npy"}
        adapter_math.save(staging, self.w, meta)
        os.rename(staging, os.path.join(self.model_dir, str(version)))
        for old in version_numbers(self.model_dir)[:-self.keep_versions]:
            shutil.rmtree(os.path.join(self.model_dir, str(old)), ignore_errors=True)
        self.last_applies_from_ms = applies_from
        self.published.append({"model": self.model_name, "version": str(version), "applies_from_ms": applies_from,
                               "step": self.step, "announced": False})
        self.published = self.published[-100:]
        self.publish_due = False
        self._save_state()
        LOG.info("published %s version %d at step %d, applies from %d ms", self.model_name, version,
                 self.step, applies_from)

    # -- state --------------------------------------------------------------------------------

    def _save_state(self) -> None:
        meta = {"step": self.step, "applied": list(self.applied.items()), "max_event_ms": self.max_event_ms,
                "last_applies_from_ms": self.last_applies_from_ms, "published": self.published,
                "publish_due": self.publish_due, "adam_t": self.optimizer.t,
                "frozen_count": self.frozen_count}
        buffer = io.BytesIO()
        arrays = {"w": self.w, "frozen_sum": self.frozen_sum,
                  "meta": np.frombuffer(json.dumps(meta).encode("utf-8"), dtype=np.uint8)}
        if self.optimizer.m is not None:
            arrays.update(adam_m=self.optimizer.m, adam_v=self.optimizer.v)
        np.savez(buffer, **arrays)
        temporary = self.state_path + ".tmp"
        with open(temporary, "wb") as f:
            f.write(buffer.getvalue())
            f.flush()
            os.fsync(f.fileno())
        os.replace(temporary, self.state_path)

    def _load_state(self) -> None:
        if not os.path.isfile(self.state_path):
            return
        with np.load(self.state_path, allow_pickle=False) as state:
            meta = json.loads(state["meta"].tobytes().decode("utf-8"))
            if state["w"].shape != self.w.shape:
                raise ValueError(f"{self.state_path}: adapter shape {state['w'].shape}, expected {self.w.shape}")
            self.w = state["w"].astype(np.float64)
            if "frozen_sum" in state:
                self.frozen_sum = state["frozen_sum"].astype(np.float64)
            if "adam_m" in state:
                self.optimizer.m = state["adam_m"].astype(np.float64)
                self.optimizer.v = state["adam_v"].astype(np.float64)
        self.optimizer.t = int(meta["adam_t"])
        self.step = int(meta["step"])
        self.applied = collections.OrderedDict((k, v) for k, v in meta["applied"])
        self.max_event_ms = meta["max_event_ms"]
        self.last_applies_from_ms = meta["last_applies_from_ms"]
        self.published = meta["published"]
        self.publish_due = bool(meta["publish_due"])
        self.frozen_count = int(meta.get("frozen_count", 0))
        LOG.info("tuner state restored from %s: step %d, %d applied batch ids", self.state_path, self.step,
                 len(self.applied))


# ---------------------------------------------------------------------------------------------
# construction from the model's parameters (config.pbtxt, or serve_pytriton.py's flags)

DEFAULTS = {
    "target_model": "item_encoder",
    "publish_every_steps": "50",
    "keep_versions": "2",
    "learning_rate": "0.001",
    "temperature": "0.05",
    "weight_decay": "0",
    "max_applied_ids": "10000",
    "cache_size": "20000",
    "applies_from_lead_ms": "0",     # announce versions this far ahead of the trained event time
    "center_adapter": "true",        # keep the adapter from moving the frozen vectors' mean direction
    "intra_op_threads": "0",
    "state_dir": "",                 # default: <tuner model folder>/state
    "kafka_bootstrap_servers": "",   # default: $KAFKA_BOOTSTRAP_SERVERS; none -> JSONL file
    "announce_topic": "model-versions",
    "announce_file": "",             # default: <state_dir>/model-versions.jsonl
}


def build(parameters: dict, repository: str, default_state_dir: str, device: str = "cpu",
          device_id: int = 0) -> Tuner:
    """A Tuner for the model repository `repository`, with the frozen encoder from its target model."""
    from encoder.minilm import MiniLmEncoder

    p = dict(DEFAULTS)
    p.update({k: v for k, v in parameters.items() if v not in (None, "")})
    model_dir = os.path.join(repository, p["target_model"])
    threads = int(p["intra_op_threads"])
    encoder = MiniLmEncoder(frozen_source(model_dir), device=device, device_id=device_id,
                            intra_op_threads=threads if threads > 0 else None)
    state_dir = p["state_dir"] or default_state_dir
    servers = p["kafka_bootstrap_servers"] or os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "")
    announcer = make_announcer(servers, p["announce_topic"],
                               p["announce_file"] or os.path.join(state_dir, "model-versions.jsonl"))
    tuner = Tuner(
        repository, encoder.encode, state_dir, announcer,
        model_name=p["target_model"],
        publish_every_steps=int(p["publish_every_steps"]),
        keep_versions=int(p["keep_versions"]),
        learning_rate=float(p["learning_rate"]),
        temperature=float(p["temperature"]),
        weight_decay=float(p["weight_decay"]),
        max_applied_ids=int(p["max_applied_ids"]),
        cache_size=int(p["cache_size"]),
        applies_from_lead_ms=int(p["applies_from_lead_ms"]),
        center_adapter=str(p["center_adapter"]).strip().lower() in ("1", "true", "yes"),
    )
    tuner.providers = encoder.providers
    return tuner
