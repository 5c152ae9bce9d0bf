# interest-graph — the two commands a new user needs: `make demo` and `make test`.
MVN ?= mvn -B -ntp
ARGS ?=
export DJL_CACHE_DIR ?= $(CURDIR)/flink-job/target/djl-cache

.PHONY: build test demo jar bench docs clean

## Compile everything and install the modules locally (no tests).
build:
	$(MVN) -q install -DskipTests

## Unit, harness and integration tests (MiniCluster, in-process Kafka, real gRPC + ONNX model,
## a real Triton server from nvidia-pytriton), then the Python encoder's pytest suite.
test: triton-venv models
	$(MVN) test
	$(MAKE) --no-print-directory triton-pytest

## The whole product on this machine: Kafka in-process, embedded inference, Flink dashboard.
##   make demo ARGS="--demo.users 500 --graph.max-interests 4"
# test scope: it is the only Maven scope with both the provided (Flink, Kafka broker) and the
# runtime-scoped (grpc-protobuf-lite, ...) dependencies a local run needs
demo: build
	$(MVN) -q -pl flink-job exec:exec -Dexec.executable=java -Dexec.classpathScope=test \
	  -Dexec.args="-Xmx3g -cp %classpath dev.interestgraph.local.LocalDemo $(ARGS)"

## The job JAR for `flink run` (flink-job/target/interest-graph-job.jar).
jar:
	$(MVN) -q package -DskipTests
	@ls -l flink-job/target/interest-graph-job.jar

## JMH: user-graph update path vs a bare keyed counter (heap and RocksDB), state bytes per user.
bench: build
	$(MVN) -q -pl flink-job test-compile dependency:build-classpath \
	  -Dmdep.outputFile=target/bench-classpath.txt -Dmdep.includeScope=test
	cd flink-job && java -Xmx1g --add-opens=java.base/java.util=ALL-UNNAMED \
	  --add-opens=java.base/java.lang=ALL-UNNAMED \
	  -cp target/test-classes:target/classes:$$(cat target/bench-classpath.txt) \
	  dev.interestgraph.bench.BenchMain $(ARGS)

clean:
	$(MVN) -q clean

## Regenerate the option table of docs/configuration.md from the code.
docs: build
	$(MVN) -q -pl flink-job exec:exec -Dexec.executable=java -Dexec.classpathScope=test \
	  -Dexec.args="-cp %classpath dev.interestgraph.config.ConfigurationDocs ../docs/configuration.md"

# Triton model repository, Python encoder venv, PyTriton server (triton-models/README.md).
# Included last so that `build` stays the default goal.
include triton-models/triton.mk
