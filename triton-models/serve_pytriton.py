#!/usr/bin/env python3
"""Serves item_encoder from a real NVIDIA Triton Inference Server, on 127.0.0.1 only.

Two ways, both with the Triton server binary that the `nvidia-pytriton` wheel bundles:

  --mode pytriton    (default) PyTriton binds the encoder (encoder/minilm.py) as model
                     `item_encoder`, version 1, TEXT BYTES [-1, 1] -> EMBEDDING FP32 [-1, 384],
                     dynamic batching.
  --mode repository  runs `tritonserver` on the standard model repository (this folder, or
                     --repository), loading only item_encoder with its Python backend model
                     (item_encoder/1/model.py) and the config named by --config-name (default
                     `cpu`: item_encoder/configs/cpu.pbtxt; `default` uses config.pbtxt).

--tuner adds the model `item_encoder_tuner` (encoder/tuner.py; contract in README.md), which
publishes new versions of item_encoder into a working model repository, never into this source
folder: --tuner-repository, or a temporary one whose item_encoder/1 links the model files.
In pytriton mode item_encoder itself stays version 1 (PyTriton binds fixed versions): the published
versions (complete ONNX models) are on disk for a tritonserver or the JVM's embedded server, and
the tuner announces one once ONNX Runtime has opened it. In repository mode the staged working repository is what
tritonserver serves: the tuner itself loads each new version through the repository API
(explicit model control) and announces it once Triton reports it READY, the last two of them
loaded (version_policy latest 2).

Prints one line `TRITON_READY grpc=127.0.0.1:<port> http=127.0.0.1:<port>` once the server and
the model are ready, then serves until SIGTERM/SIGINT, or until stdin closes when
--exit-on-stdin-eof is given (so that a parent process that dies takes the server with it).

  python serve_pytriton.py --grpc-port 8001 --http-port 8000 [--model-dir item_encoder/1]
"""
from __future__ import annotations

import argparse
import os
import pathlib
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

MODEL_NAME = "item_encoder"
TUNER_NAME = "item_encoder_tuner"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--mode", choices=["pytriton", "repository"], default="pytriton")
    p.add_argument("--grpc-port", type=int, default=8001)
    p.add_argument("--http-port", type=int, default=8000)
    p.add_argument("--metrics-port", type=int, default=0, help="0: metrics off")
    p.add_argument("--model-dir", default=str(HERE / MODEL_NAME / "1"),
                   help="folder with all-minilm-l6-v2.onnx and its tokenizer json (pytriton mode)")
    p.add_argument("--model-version", type=int, default=1, help="pytriton mode")
    p.add_argument("--max-batch-size", type=int, default=256, help="pytriton mode")
    p.add_argument("--max-queue-delay-us", type=int, default=2000, help="pytriton mode")
    p.add_argument("--instances", type=int, default=1, help="pytriton mode: inference callables")
    p.add_argument("--intra-op-threads", type=int, default=0, help="pytriton mode: 0 = ONNX Runtime default")
    p.add_argument("--repository", default=str(HERE), help="repository mode: model repository")
    p.add_argument("--config-name", default="cpu", help="repository mode: configs/<name>.pbtxt, or 'default'")
    p.add_argument("--tuner", action="store_true", help="also serve item_encoder_tuner")
    p.add_argument("--tuner-repository", default="",
                   help="tuner: the model repository it publishes item_encoder versions into "
                        "(default: a temporary one seeded with version 1)")
    p.add_argument("--tuner-state-dir", default="", help="pytriton mode: default <tuner repository>/"
                                                         "item_encoder_tuner/state (repository mode: always)")
    p.add_argument("--publish-every-steps", type=int, default=50,
                   help="tuner: a new item_encoder version every N steps (repository mode: written "
                        "into the staged tuner config)")
    p.add_argument("--applies-from-lead-ms", type=int, default=0,
                   help="tuner: announce each version as applying from 1 + the highest trained event "
                        "time + this lead (ms), ahead of the job's event time (repository mode: "
                        "written into the staged tuner config)")
    p.add_argument("--weight-decay", type=float, default=None,
                   help="pytriton mode, tuner: AdamW's weight decay (default: the tuner's, 0.01)")
    p.add_argument("--learning-rate", type=float, default=None,
                   help="pytriton mode, tuner: AdamW's learning rate (default: the tuner's, 5e-5)")
    p.add_argument("--uniformity-weight", type=float, default=None,
                   help="pytriton mode, tuner: weight of the uniformity term added to InfoNCE, 0 = plain "
                        "InfoNCE (default: the tuner's, see encoder/tuner.py DEFAULTS)")
    p.add_argument("--temperature", type=float, default=None,
                   help="pytriton mode, tuner: InfoNCE's temperature (default: the tuner's, 0.05)")
    p.add_argument("--warmup-steps", type=int, default=None,
                   help="pytriton mode, tuner: linear learning-rate warm-up over the first N steps "
                        "(default: the tuner's, 0)")
    p.add_argument("--lora-rank", type=int, default=None,
                   help="pytriton mode, tuner: 0 trains every weight (default), r > 0 LoRA adapters of rank r")
    p.add_argument("--keep-versions", type=int, default=0,
                   help="pytriton mode, tuner: version folders kept (0: the tuner's default, 2)")
    p.add_argument("--kafka-bootstrap-servers", default=os.environ.get("KAFKA_BOOTSTRAP_SERVERS", ""),
                   help="tuner: model-versions announcements (default $KAFKA_BOOTSTRAP_SERVERS); "
                        "none: a JSONL file in the state folder")
    p.add_argument("--announce-topic", default="",
                   help="pytriton mode, tuner: Kafka topic of the announcements (default model-versions)")
    p.add_argument("--announce-file", default="", help="pytriton mode: JSONL file used without Kafka")
    p.add_argument("--ready-timeout", type=float, default=120.0, help="seconds to wait for readiness")
    p.add_argument("--exit-on-stdin-eof", action="store_true")
    p.add_argument("--verbose", action="store_true")
    return p.parse_args(argv)


def wait_for_stop(args) -> None:
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    if args.exit_on_stdin_eof:
        def watch_stdin():
            try:
                while sys.stdin.buffer.read(4096):
                    pass
            except (OSError, ValueError):
                pass
            stop.set()
        threading.Thread(target=watch_stdin, daemon=True, name="stdin-watch").start()
    while not stop.wait(0.5):
        pass


def announce(args) -> None:
    print(f"TRITON_READY grpc=127.0.0.1:{args.grpc_port} http=127.0.0.1:{args.http_port}", flush=True)


def stage_repository(target: pathlib.Path, model_dir: pathlib.Path, publish_every_steps: int = 0,
                     applies_from_lead_ms: int = 0) -> pathlib.Path:
    """A working model repository in `target`: item_encoder (version 1: this folder's model.py, the
    model files of `model_dir` linked) and item_encoder_tuner, configs copied from this folder; so
    that the versions the tuner publishes never land in the source folder. publish_every_steps > 0
    and applies_from_lead_ms > 0 replace the tuner configs' values."""
    from encoder.minilm import MODEL_FILE, TOKENIZER_FILE

    overrides = {k: v for k, v in (("publish_every_steps", publish_every_steps),
                                   ("applies_from_lead_ms", applies_from_lead_ms)) if v > 0}
    for model in (MODEL_NAME, TUNER_NAME):
        (target / model / "configs").mkdir(parents=True, exist_ok=True)
        (target / model / "1").mkdir(exist_ok=True)
        for config in [HERE / model / "config.pbtxt", *(HERE / model / "configs").glob("*.pbtxt")]:
            text = config.read_text(encoding="utf-8")
            if model == TUNER_NAME:
                for key, value in overrides.items():
                    text = re.sub(rf'(key: "{key}"\s*value: \{{ string_value: ")[0-9]+"', rf'\g<1>{value}"', text)
            (target / model / config.relative_to(HERE / model)).write_text(text, encoding="utf-8")
        shutil.copy(HERE / model / "1" / "model.py", target / model / "1" / "model.py")
    for name in (MODEL_FILE, TOKENIZER_FILE):
        link = target / MODEL_NAME / "1" / name
        if not link.exists():
            os.symlink((model_dir / name).resolve(), link)
    return target


def tuner_repository(args, workspace: pathlib.Path) -> pathlib.Path:
    repository = pathlib.Path(args.tuner_repository).resolve() if args.tuner_repository else workspace / "models"
    if repository == HERE.resolve():
        raise SystemExit("--tuner-repository must not be the source folder: the tuner writes and prunes versions")
    if not (repository / MODEL_NAME / "1").is_dir():
        stage_repository(repository, pathlib.Path(args.model_dir).resolve(), args.publish_every_steps,
                         args.applies_from_lead_ms)
    return repository


def tuner_parameters(args) -> dict:
    """The tuner's build() parameters from the command line ("" = the tuner's default)."""
    return {
        "publish_every_steps": str(args.publish_every_steps),
        "applies_from_lead_ms": str(args.applies_from_lead_ms),
        "kafka_bootstrap_servers": args.kafka_bootstrap_servers,
        "announce_file": args.announce_file,
        "announce_topic": args.announce_topic,
        "state_dir": args.tuner_state_dir,
        "intra_op_threads": str(args.intra_op_threads),
        "weight_decay": "" if args.weight_decay is None else repr(float(args.weight_decay)),
        "learning_rate": "" if args.learning_rate is None else repr(float(args.learning_rate)),
        "lora_rank": "" if args.lora_rank is None else str(int(args.lora_rank)),
        "uniformity_weight": "" if args.uniformity_weight is None else repr(float(args.uniformity_weight)),
        "temperature": "" if args.temperature is None else repr(float(args.temperature)),
        "warmup_steps": "" if args.warmup_steps is None else str(int(args.warmup_steps)),
        "keep_versions": str(args.keep_versions) if args.keep_versions > 0 else "",
    }


def bind_tuner(triton, args, workspace: pathlib.Path) -> None:
    import numpy as np
    from pytriton.decorators import sample
    from pytriton.model_config import ModelConfig, Tensor

    from encoder import tuner as tuner_module

    repository = tuner_repository(args, workspace)
    parameters = tuner_parameters(args)
    tuner = tuner_module.build(parameters, str(repository), str(repository / TUNER_NAME / "state"))
    print(f"item_encoder_tuner: repository {repository}, step {tuner.step}, announcing to "
          f"{tuner.announcer.target}", file=sys.stderr, flush=True)

    @sample
    def train(BATCH_ID, CONTEXT, POSITIVE, EVENT_TIME_MS):  # noqa: N803 - the tensors' names
        result = tuner.train(BATCH_ID.reshape(-1)[0], CONTEXT, POSITIVE, EVENT_TIME_MS)
        return {"LOSS": np.array([result.loss], dtype=np.float32),
                "STEP": np.array([result.step], dtype=np.int64),
                "APPLIED": np.array([result.applied], dtype=np.bool_),
                "MODEL_VERSION": np.array([result.model_version.encode("utf-8")], dtype=np.object_)}

    triton.bind(
        model_name=TUNER_NAME,
        model_version=1,
        infer_func=train,  # one callable: the single writer of the training state
        inputs=[Tensor(name="BATCH_ID", dtype=bytes, shape=(1,)),
                Tensor(name="CONTEXT", dtype=bytes, shape=(-1,)),
                Tensor(name="POSITIVE", dtype=bytes, shape=(-1,)),
                Tensor(name="EVENT_TIME_MS", dtype=np.int64, shape=(-1,))],
        outputs=[Tensor(name="LOSS", dtype=np.float32, shape=(1,)),
                 Tensor(name="STEP", dtype=np.int64, shape=(1,)),
                 Tensor(name="APPLIED", dtype=np.bool_, shape=(1,)),
                 Tensor(name="MODEL_VERSION", dtype=bytes, shape=(1,))],
        config=ModelConfig(batching=False),
        strict=True,
    )


def serve_pytriton(args) -> int:
    import numpy as np
    from pytriton.decorators import batch
    from pytriton.model_config import DynamicBatcher, ModelConfig, Tensor
    from pytriton.triton import Triton, TritonConfig

    from encoder.minilm import DIMENSION, MiniLmEncoder

    started = time.monotonic()
    encoder = MiniLmEncoder(args.model_dir,
                            intra_op_threads=args.intra_op_threads if args.intra_op_threads > 0 else None)

    @batch
    def infer(TEXT):  # noqa: N803 - the tensor's name
        return {"EMBEDDING": encoder.encode(TEXT.reshape(-1))}

    config = TritonConfig(
        grpc_address="127.0.0.1", grpc_port=args.grpc_port,
        http_address="127.0.0.1", http_port=args.http_port,
        allow_metrics=args.metrics_port > 0,
        metrics_address="127.0.0.1", metrics_port=args.metrics_port if args.metrics_port > 0 else free_port(),
        log_verbose=1 if args.verbose else 0,
    )
    preferred = [b for b in (32, 64, 128) if b <= args.max_batch_size]
    workspace = pathlib.Path(tempfile.mkdtemp(prefix="item-encoder-tuner-"))
    with Triton(config=config) as triton:
        triton.bind(
            model_name=MODEL_NAME,
            model_version=args.model_version,
            infer_func=[infer] * args.instances,
            inputs=[Tensor(name="TEXT", dtype=bytes, shape=(1,))],
            outputs=[Tensor(name="EMBEDDING", dtype=np.float32, shape=(DIMENSION,))],
            config=ModelConfig(
                max_batch_size=args.max_batch_size,
                batcher=DynamicBatcher(max_queue_delay_microseconds=args.max_queue_delay_us,
                                       preferred_batch_size=preferred or None),
            ),
            strict=True,
        )
        if args.tuner:
            bind_tuner(triton, args, workspace)
        triton.run()  # returns once the server and the model are ready
        print(f"item_encoder (PyTriton) ready in {time.monotonic() - started:.1f} s", file=sys.stderr, flush=True)
        announce(args)
        wait_for_stop(args)
    shutil.rmtree(workspace, ignore_errors=True)
    return 0


def serve_repository(args) -> int:
    import importlib.util
    from tritonclient.grpc import InferenceServerClient

    started = time.monotonic()
    # only the server binary of the nvidia-pytriton wheel: its Python package (which imports
    # gevent and needs numpy < 2) is not loaded in this mode
    spec = importlib.util.find_spec("pytriton")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("repository mode needs the nvidia-pytriton wheel (its tritonserver binary)")
    dist = pathlib.Path(list(spec.submodule_search_locations)[0]).resolve() / "tritonserver"
    libs = dist.parent.parent / "nvidia_pytriton.libs"
    version = f"{sys.version_info[0]}.{sys.version_info[1]}"
    workspace = pathlib.Path(tempfile.mkdtemp(prefix="item-encoder-triton-"))
    models = [MODEL_NAME, TUNER_NAME] if args.tuner else [MODEL_NAME]
    try:
        repository = pathlib.Path(args.repository).resolve()
        if args.tuner:
            repository = tuner_repository(args, workspace)
        # The Python backend expects its stub next to libtriton_python.so, built for this Python.
        server_dir = workspace / "tritonserver"
        shutil.copytree(dist, server_dir, ignore=shutil.ignore_patterns("python_backend_stubs"))
        shutil.copy(dist / "python_backend_stubs" / version / "triton_python_backend_stub",
                    server_dir / "backends" / "python" / "triton_python_backend_stub")
        env = os.environ.copy()
        env["LD_LIBRARY_PATH"] = os.pathsep.join(p for p in (str(libs), env.get("LD_LIBRARY_PATH")) if p)
        env["PATH"] = os.pathsep.join((str(pathlib.Path(sys.executable).parent), env.get("PATH", "")))
        # The stub embeds libpython: give it this interpreter's packages and the encoder package.
        site = [p for p in sys.path if p.endswith("site-packages")]
        env["PYTHONPATH"] = os.pathsep.join([str(HERE), *site, env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
        env.setdefault("ITEM_ENCODER_PYTHONPATH", str(HERE))
        if args.kafka_bootstrap_servers:
            env["KAFKA_BOOTSTRAP_SERVERS"] = args.kafka_bootstrap_servers
        command = [
            str(server_dir / "bin" / "tritonserver"),
            f"--model-repository={repository}",
            "--model-control-mode=explicit", *(f"--load-model={m}" for m in models),
            f"--backend-directory={server_dir / 'backends'}",
            f"--cache-directory={server_dir / 'caches'}",
            "--grpc-address=127.0.0.1", f"--grpc-port={args.grpc_port}",
            "--http-address=127.0.0.1", f"--http-port={args.http_port}",
            f"--allow-metrics={'true' if args.metrics_port > 0 else 'false'}",
            f"--log-verbose={1 if args.verbose else 0}",
        ]
        if args.metrics_port > 0:
            command += ["--metrics-address=127.0.0.1", f"--metrics-port={args.metrics_port}"]
        if args.config_name != "default":
            command.append(f"--model-config-name={args.config_name}")
        print("starting " + " ".join(command), file=sys.stderr, flush=True)
        server = subprocess.Popen(command, env=env)
        try:
            client = InferenceServerClient(f"127.0.0.1:{args.grpc_port}")
            deadline = time.monotonic() + args.ready_timeout
            while True:
                if server.poll() is not None:
                    print(f"tritonserver exited with {server.returncode}", file=sys.stderr, flush=True)
                    return 1
                try:
                    if client.is_server_ready() and all(client.is_model_ready(m) for m in models):
                        break
                except Exception:  # noqa: BLE001 - not listening yet
                    pass
                if time.monotonic() > deadline:
                    print(f"{', '.join(models)} not ready after {args.ready_timeout} s", file=sys.stderr, flush=True)
                    return 1
                time.sleep(0.2)
            print(f"{', '.join(models)} (tritonserver on {repository}, config {args.config_name}) ready in "
                  f"{time.monotonic() - started:.1f} s", file=sys.stderr, flush=True)
            announce(args)
            wait_for_stop(args)
        finally:
            if server.poll() is None:
                server.terminate()
                try:
                    server.wait(timeout=40)
                except subprocess.TimeoutExpired:
                    server.kill()
                    server.wait()
    finally:
        shutil.rmtree(workspace, ignore_errors=True)
    return 0


def main(argv=None) -> int:
    args = parse_args(argv)
    return serve_pytriton(args) if args.mode == "pytriton" else serve_repository(args)


if __name__ == "__main__":
    sys.exit(main())
