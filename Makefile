# interest-graph — the two commands a new user needs: `make demo` and `make test`.
MVN ?= mvn -B -ntp
ARGS ?=
export DJL_CACHE_DIR ?= $(CURDIR)/flink-job/target/djl-cache

.PHONY: build test demo deltas local-classpath jar bench eval eval-fine-tune analytics recommendations docs clean

## Compile everything and install the modules locally (no tests).
build:
	$(MVN) -q install -DskipTests

## Unit, harness and integration tests (MiniCluster, in-process Kafka, real gRPC + ONNX model,
## a real Triton server from nvidia-pytriton), the shaded JAR on a standalone Flink cluster
## (failsafe, after `package`: docs/cluster.md), then the Python encoder's pytest suite.
# install, not only verify: the Python tests' targets below run Maven on flink-job or tools alone,
# which resolves the sibling modules (inference-proto, interest-graph-core, flink-job) from the
# local repository
test: triton-venv models
	$(MVN) install
	$(MAKE) --no-print-directory triton-pytest

## The whole product on this machine: Kafka in-process, embedded inference, Flink dashboard.
##   make demo ARGS="--demo.users 500 --graph.max-interests 4"
##   make demo DATA=../shared/data/ml-latest-small ARGS="--demo.max-events 20000"
# java runs directly (not under mvn exec) so that Ctrl-C reaches it alone and it can drain the
# job and print the summary, and so that the progress line can refresh on a terminal. The local
# runs live in the tools module (docs/architecture.md, "Modules"); its test classpath holds the
# job, the core, Flink, the Kafka broker and the runtime-scoped (grpc-protobuf-lite, ...)
# dependencies a local run needs. The --add-opens are the ones Flink's own launch scripts pass on
# Java 17.
LOCAL_CP = tools/target/classes:$$(cat tools/target/local-classpath.txt)
LOCAL_HEAP ?= 3g
LOCAL_JAVA = java -Xmx$(LOCAL_HEAP) --add-opens java.base/java.util=ALL-UNNAMED \
  --add-opens java.base/java.lang=ALL-UNNAMED \
  -Dlog4j2.configurationFile=tools/src/main/resources/log4j2-local.properties -cp $(LOCAL_CP)

local-classpath: build
	$(MVN) -q -pl tools dependency:build-classpath \
	  -Dmdep.outputFile=target/local-classpath.txt -Dmdep.includeScope=test

##   make demo ARGS="--fine-tune"   (the fine-tuning loop: the Python tuner under PyTriton)
# --fine-tune runs the tuner from the Python venv on the staged model files: build them first
demo: local-classpath $(if $(findstring fine-tune,$(ARGS)),triton-venv models)
	$(LOCAL_JAVA) dev.interestgraph.local.LocalDemo $(if $(DATA),--demo.data $(DATA)) $(ARGS)

## Consume graph-deltas and show users' graphs: make deltas ARGS="--follow --user 414 --json"
# no build first: it runs beside a running demo, from what the demo built
deltas:
	@test -f tools/target/local-classpath.txt || $(MAKE) local-classpath
	$(LOCAL_JAVA) dev.interestgraph.cli.InterestGraphCli deltas $(ARGS)

## Users' latest recommendations (after `make analytics` fed a running job): make recommendations
recommendations:
	@test -f tools/target/local-classpath.txt || $(MAKE) local-classpath
	$(LOCAL_JAVA) dev.interestgraph.cli.InterestGraphCli recommendations $(ARGS)

## The job JAR for `flink run` (flink-job/target/interest-graph-job.jar; docs/cluster.md).
jar:
	$(MVN) -q package -DskipTests
	@ls -l flink-job/target/interest-graph-job.jar

## JMH: user-graph update path vs a bare keyed counter (heap and RocksDB), state bytes per user;
## then the end-to-end harness: the real job on a local cluster with the in-process broker next
## to bare Flink baselines (throughput, RocksDB replay, freshness, state): docs/benchmarks.md.
##   make bench ARGS="jmh=false parts=freshness"      (one part only; see BenchMain)
# the end-to-end part runs a MiniCluster, the Kafka broker and the ONNX model in this JVM
BENCH_HEAP ?= 6g
bench: build
	$(MVN) -q -pl tools test-compile dependency:build-classpath \
	  -Dmdep.outputFile=target/bench-classpath.txt -Dmdep.includeScope=test
	cd tools && java -Xmx$(BENCH_HEAP) --add-opens=java.base/java.util=ALL-UNNAMED \
	  --add-opens=java.base/java.lang=ALL-UNNAMED \
	  -cp target/test-classes:target/classes:$$(cat target/bench-classpath.txt) \
	  dev.interestgraph.bench.BenchMain $(ARGS)

clean:
	$(MVN) -q clean

## Evaluation: replays a dataset through the real job (local cluster, in-process Kafka, embedded
## inference), writes docs/evaluation.md and docs/evaluation-prequential.png.
##   make eval DATA=../shared/data/ml-latest-small    (without DATA: the generated dataset)
eval: LOCAL_HEAP = 6g
eval: local-classpath
	$(LOCAL_JAVA) dev.interestgraph.eval.EvaluationMain --eval.out $(CURDIR)/docs \
	  $(if $(DATA),--eval.data $(abspath $(DATA))) $(ARGS)

## Fine-tuning evaluation (issue 10): prequential NDCG@10 / Recall@10 with the item encoder
## fine-tuned by the real Python tuner (two passes: train, then the measured replay) vs frozen,
## and the cost; writes docs/evaluation-fine-tuning.md. Needs the venv and the model files.
## On a CPU (seconds a training step) pass 1's training must fit its 29 min checkpoint timeout:
## sample the examples (docs/evaluation-fine-tuning.md, "Pass 1 on a CPU").
##   make eval-fine-tune DATA=../shared/data/ml-latest-small ARGS="--eval.max-users 150 --fine-tune.example-sample 0.3"
eval-fine-tune: LOCAL_HEAP = 6g
eval-fine-tune: local-classpath triton-venv models
	$(LOCAL_JAVA) dev.interestgraph.eval.FineTuneEvaluationMain --eval.out $(CURDIR)/docs \
	  --eval.data $(abspath $(DATA)) $(ARGS)

## Graph analytics (Flink Gelly) on the demo's graph, MovieLens (DATA=), the evaluation's graph
## (ARGS="--analytics.graph evaluation"), or a running Kafka (ARGS="--kafka.bootstrap host:port",
## which also publishes item-neighbors back to the job). Files in flink-job/target/analytics.
analytics: local-classpath
	$(LOCAL_JAVA) dev.interestgraph.cli.AnalyticsMain \
	  --analytics.out $(CURDIR)/flink-job/target/analytics \
	  $(if $(DATA),--demo.data $(abspath $(DATA))) $(ARGS)

## Regenerate the option table of docs/configuration.md from the code.
docs: build
	$(MVN) -q -pl flink-job exec:exec -Dexec.executable=java -Dexec.classpathScope=test \
	  -Dexec.args="-cp %classpath dev.interestgraph.config.ConfigurationDocs ../docs/configuration.md"

# Triton model repository, Python encoder venv, PyTriton server (triton-models/README.md);
# a standalone Flink cluster on this machine (docs/cluster.md).
# Included last so that `build` stays the default goal.
include triton-models/triton.mk
include deploy/cluster.mk
