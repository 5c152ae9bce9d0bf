"""KafkaAnnouncer against a real broker: the project's LocalKafkaBroker (Kafka 3.9.1, KRaft).

Needs the tools module's classes (LocalKafkaBroker lives there) and its test classpath:
$TOOLS_CLASSPATH (`make triton-pytest` writes build/tools-classpath.txt), else
tools/target/local-classpath.txt (`make local-classpath`); skipped without them, with a message
that says so.
"""
import json
import os
import subprocess
import threading
import time

import pytest

from conftest import ROOT
from encoder.tuner import KafkaAnnouncer

TOOLS = ROOT.parent / "tools" / "target"
CLASSPATH = next((p for p in (os.environ.get("TOOLS_CLASSPATH"), ROOT / "build" / "tools-classpath.txt",
                               TOOLS / "local-classpath.txt") if p and os.path.isfile(p)), None)


@pytest.fixture(scope="module")
def kafka(tmp_path_factory):
    if CLASSPATH is None or not (TOOLS / "classes" / "dev").is_dir():
        pytest.skip("no tools classes or test classpath: `make triton-pytest` (or `make local-classpath`)")
    log = open(tmp_path_factory.mktemp("kafka") / "broker.log", "wb")
    classpath = f"{TOOLS / 'classes'}{os.pathsep}{open(CLASSPATH).read().strip()}"
    process = subprocess.Popen(["java", "-Xmx512m", "-cp", classpath, str(ROOT / "tests" / "java" / "KafkaForPytest.java")],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log)
    found = {}

    def read():
        for line in process.stdout:
            if line.startswith(b"KAFKA_READY "):
                found["servers"] = line.split()[1].decode()
        found.setdefault("servers", None)

    threading.Thread(target=read, daemon=True).start()
    deadline = time.monotonic() + 120
    while "servers" not in found and time.monotonic() < deadline:
        time.sleep(0.2)
    if not found.get("servers"):
        process.kill()
        pytest.fail("the Kafka broker did not start; see " + log.name)
    yield found["servers"]
    process.stdin.close()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def test_versions_are_announced_on_the_model_versions_topic(kafka):
    from confluent_kafka import Consumer

    announcer = KafkaAnnouncer(kafka, "model-versions")
    messages = [{"model": "item_encoder", "version": str(v), "applies_from_ms": 1000 * v, "step": 50 * v}
                for v in (2, 3)]
    for message in messages:
        announcer.announce(message)
    announcer.close()

    consumer = Consumer({"bootstrap.servers": kafka, "group.id": "pytest", "auto.offset.reset": "earliest",
                         "enable.auto.commit": False})
    consumer.subscribe(["model-versions"])
    received = []
    deadline = time.monotonic() + 60
    while len(received) < 2 and time.monotonic() < deadline:
        record = consumer.poll(1.0)
        if record is not None and record.error() is None:
            received.append((record.key(), json.loads(record.value())))
    consumer.close()
    assert received == [(b"item_encoder", m) for m in messages]
