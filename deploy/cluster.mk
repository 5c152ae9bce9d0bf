# deploy/cluster.mk — a real standalone Flink 1.20 session cluster on this machine (JobManager
# with the dashboard and REST API, and a TaskManager: two JVMs), from jars on Maven Central.
# Included by the top-level Makefile.
#
#   make cluster-dist   the cluster's lib/ and plugins/ (deploy/local-cluster/target/flink)
#   make cluster-up     start it; prints the dashboard URL (first free port of 8081..8099)
#   make cluster-down   stop it
#   make cluster-submit submit the job JAR over REST (make jar first), ARGS = job options,
#                       split at spaces (write durations without one: 1s, 10min):
#                         make cluster-submit ARGS="--kafka.bootstrap localhost:9092"
#   make cluster-status the REST address and /overview
#   make flink ARGS="run -d flink-job/target/interest-graph-job.jar --kafka.bootstrap ..."
#                       Flink's CLI (bin/flink) against the running cluster
#
# Ports: REST_PORT=... RPC_PORT=... override the free-port search; logs, checkpoints and
# savepoints are under deploy/local-cluster/target/cluster/.
MVN ?= mvn -B -ntp

CLUSTER_DIR_LOCAL := deploy/local-cluster
FLINK_CLUSTER_SH  := $(CLUSTER_DIR_LOCAL)/flink-cluster.sh
FLINK_DIST_LIB    := $(CLUSTER_DIR_LOCAL)/target/flink/lib
JOB_JAR           := flink-job/target/interest-graph-job.jar
JOB_ENTRY_CLASS   := dev.interestgraph.InterestGraphJob

.PHONY: cluster-dist cluster-up cluster-down cluster-status cluster-submit flink

cluster-dist: $(CLUSTER_DIR_LOCAL)/target/flink/.copied

$(CLUSTER_DIR_LOCAL)/target/flink/.copied: $(CLUSTER_DIR_LOCAL)/pom.xml pom.xml
	$(MVN) -q -f $(CLUSTER_DIR_LOCAL)/pom.xml generate-resources
	touch $@

cluster-up: cluster-dist
	@bash $(FLINK_CLUSTER_SH) up

cluster-down:
	@bash $(FLINK_CLUSTER_SH) down

cluster-status:
	@bash $(FLINK_CLUSTER_SH) status

## Upload the JAR (POST /jars/upload) and run it (POST /jars/:id/run), as the dashboard does.
cluster-submit:
	@test -s $(JOB_JAR) || { echo "no $(JOB_JAR): run 'make jar' first" >&2; exit 1; }
	@url=$$(cat $(CLUSTER_DIR_LOCAL)/target/cluster/rest-url 2>/dev/null) || { echo "no cluster: make cluster-up" >&2; exit 1; }; \
	  id=$$(curl -fsS -X POST -F "jarfile=@$(JOB_JAR)" $$url/jars/upload | sed -n 's#.*"filename":"[^"]*/\([^"]*\)".*#\1#p'); \
	  test -n "$$id" || { echo "upload failed" >&2; exit 1; }; \
	  args=$$(for a in $(ARGS); do printf '"%s",' "$$a"; done); args=$${args%,}; \
	  curl -fsS -X POST -H 'Content-Type: application/json' \
	    -d "{\"entryClass\":\"$(JOB_ENTRY_CLASS)\",\"programArgsList\":[$$args]}" $$url/jars/$$id/run; \
	  echo; echo "dashboard: $$url/#/job/running"

## bin/flink of the distribution (CliFrontend), configured for the running cluster.
flink: cluster-dist
	@bash $(FLINK_CLUSTER_SH) flink $(ARGS)
