"""Starts the JVM's EmbeddedInferenceServer (tests/java/EmbeddedServerForPytest.java) on a model
repository, for the tests that read it with tritonclient. Needs the tools module's classes and its
test classpath, which holds flink-job (`make triton-pytest` writes build/tools-classpath.txt);
skips without them."""
import contextlib
import os
import subprocess
import threading

import pytest

from conftest import ROOT

TOOLS = ROOT.parent / "tools" / "target"
CLASSPATH = next((p for p in (os.environ.get("TOOLS_CLASSPATH"), ROOT / "build" / "tools-classpath.txt",
                               TOOLS / "local-classpath.txt") if p and os.path.isfile(p)), None)


@contextlib.contextmanager
def embedded_server(repository, log_path, timeout=120):
    """Yields the server's host:port; stops it (stdin closed) on exit."""
    if CLASSPATH is None or not (TOOLS / "classes" / "dev").is_dir():
        pytest.skip("no tools classes or test classpath: `make triton-pytest` (or `make local-classpath`)")
    classpath = f"{TOOLS / 'classes'}{os.pathsep}{open(CLASSPATH).read().strip()}"
    log = open(log_path, "wb")
    process = subprocess.Popen(["java", "-Xmx1g", "-cp", classpath,
                                str(ROOT / "tests" / "java" / "EmbeddedServerForPytest.java"), str(repository)],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log)
    found = {}
    ready = threading.Event()

    def read():
        for line in process.stdout:
            if line.startswith(b"EMBEDDED_READY "):
                found["endpoint"] = line.split()[1].decode()
                ready.set()
        ready.set()

    threading.Thread(target=read, daemon=True).start()
    try:
        if not ready.wait(timeout) or "endpoint" not in found:
            log.flush()
            pytest.fail("the embedded server did not start:\n" + open(log_path, errors="replace").read()[-3000:])
        yield found["endpoint"]
    finally:
        process.stdin.close()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
