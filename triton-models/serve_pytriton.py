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

Prints one line `TRITON_READY grpc=127.0.0.1:<port> http=127.0.0.1:<port>` once the server and
the model are ready, then serves until SIGTERM/SIGINT, or until stdin closes when
--exit-on-stdin-eof is given (so that a parent process that dies takes the server with it).

  python serve_pytriton.py --grpc-port 8001 --http-port 8000 [--model-dir item_encoder/1]
"""
from __future__ import annotations

import argparse
import os
import pathlib
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
        triton.run()  # returns once the server and the model are ready
        print(f"item_encoder (PyTriton) ready in {time.monotonic() - started:.1f} s", file=sys.stderr, flush=True)
        announce(args)
        wait_for_stop(args)
    return 0


def serve_repository(args) -> int:
    import pytriton
    from tritonclient.grpc import InferenceServerClient

    started = time.monotonic()
    dist = pathlib.Path(pytriton.__file__).resolve().parent / "tritonserver"
    libs = dist.parent.parent / "nvidia_pytriton.libs"
    version = f"{sys.version_info[0]}.{sys.version_info[1]}"
    workspace = pathlib.Path(tempfile.mkdtemp(prefix="item-encoder-triton-"))
    try:
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
        command = [
            str(server_dir / "bin" / "tritonserver"),
            f"--model-repository={pathlib.Path(args.repository).resolve()}",
            "--model-control-mode=explicit", f"--load-model={MODEL_NAME}",
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
                    if client.is_server_ready() and client.is_model_ready(MODEL_NAME):
                        break
                except Exception:  # noqa: BLE001 - not listening yet
                    pass
                if time.monotonic() > deadline:
                    print(f"item_encoder not ready after {args.ready_timeout} s", file=sys.stderr, flush=True)
                    return 1
                time.sleep(0.2)
            print(f"item_encoder (tritonserver, config {args.config_name}) ready in "
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
