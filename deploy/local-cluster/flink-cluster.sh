#!/usr/bin/env bash
# A standalone Flink 1.20 session cluster on this machine: one JobManager process (dashboard and
# REST API) and one TaskManager process, separate JVMs started from the jars that
# deploy/local-cluster/pom.xml copies from Maven Central to target/flink/lib (flink-dist itself is
# not on Maven Central). The same entry points and memory calculation as Flink's bin/ scripts:
# BashJavaUtils computes the JVM flags and the memory settings that the processes get as -D.
#
#   flink-cluster.sh up       start JM + TM, wait until the TM's slots are registered
#   flink-cluster.sh down     stop both (SIGTERM, then SIGKILL after a deadline)
#   flink-cluster.sh status   the REST address and /overview, or "not running"
#   flink-cluster.sh flink ARGS...   Flink's command line client (bin/flink: CliFrontend) against
#                             the running cluster, e.g. flink run -d <jar> --kafka.bootstrap ...
#
# Environment: FLINK_HOME (default target/flink next to this script), CLUSTER_DIR (conf, logs,
# pids, checkpoints; default target/cluster), REST_PORT (default: first free of 8081..8099),
# RPC_PORT (default: first free of 6123..6199), TM_SLOTS (2), TM_PROCESS_SIZE (3g),
# JM_PROCESS_SIZE (1g), START_TIMEOUT (seconds, 120), JAVA (java).
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
FLINK_HOME="${FLINK_HOME:-$HERE/target/flink}"
CLUSTER_DIR="${CLUSTER_DIR:-$HERE/target/cluster}"
JAVA="${JAVA:-java}"
TM_SLOTS="${TM_SLOTS:-2}"
TM_PROCESS_SIZE="${TM_PROCESS_SIZE:-3g}"
JM_PROCESS_SIZE="${JM_PROCESS_SIZE:-1g}"
START_TIMEOUT="${START_TIMEOUT:-120}"

# What Flink 1.20's default config.yaml sets as env.java.opts.all for Java 17.
JAVA_17_OPTS=(
  --add-exports=java.base/sun.net.util=ALL-UNNAMED
  --add-exports=java.rmi/sun.rmi.registry=ALL-UNNAMED
  --add-exports=jdk.compiler/com.sun.tools.javac.api=ALL-UNNAMED
  --add-exports=jdk.compiler/com.sun.tools.javac.file=ALL-UNNAMED
  --add-exports=jdk.compiler/com.sun.tools.javac.parser=ALL-UNNAMED
  --add-exports=jdk.compiler/com.sun.tools.javac.tree=ALL-UNNAMED
  --add-exports=jdk.compiler/com.sun.tools.javac.util=ALL-UNNAMED
  --add-exports=java.security.jgss/sun.security.krb5=ALL-UNNAMED
  --add-opens=java.base/java.lang=ALL-UNNAMED
  --add-opens=java.base/java.net=ALL-UNNAMED
  --add-opens=java.base/java.io=ALL-UNNAMED
  --add-opens=java.base/java.nio=ALL-UNNAMED
  --add-opens=java.base/sun.nio.ch=ALL-UNNAMED
  --add-opens=java.base/java.lang.reflect=ALL-UNNAMED
  --add-opens=java.base/java.text=ALL-UNNAMED
  --add-opens=java.base/java.time=ALL-UNNAMED
  --add-opens=java.base/java.util=ALL-UNNAMED
  --add-opens=java.base/java.util.concurrent=ALL-UNNAMED
  --add-opens=java.base/java.util.concurrent.atomic=ALL-UNNAMED
  --add-opens=java.base/java.util.concurrent.locks=ALL-UNNAMED
)

die() { echo "flink-cluster: $*" >&2; exit 1; }

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

first_free_port() {
  local p
  for ((p = $1; p <= $2; p++)); do
    if ! port_in_use "$p"; then echo "$p"; return 0; fi
  done
  die "no free port in $1..$2"
}

alive() { [[ -f "$1" ]] && kill -0 "$(cat "$1")" 2>/dev/null; }

rest_url() { cat "$CLUSTER_DIR/rest-url" 2>/dev/null || true; }

# Lines BashJavaUtils prints as "BASH_JAVA_UTILS_EXEC_RESULT:<value>"; $2 = which (1 or 2).
bash_java_utils() {
  local out
  out="$("$JAVA" -cp "$FLINK_HOME/lib/*" org.apache.flink.runtime.util.bash.BashJavaUtils \
    "$1" --configDir "$CLUSTER_DIR/conf" 2>&1)" || die "BashJavaUtils $1 failed: $out"
  grep '^BASH_JAVA_UTILS_EXEC_RESULT:' <<<"$out" | sed -n "${2}p" | sed 's/^BASH_JAVA_UTILS_EXEC_RESULT://'
}

write_conf() {
  mkdir -p "$CLUSTER_DIR"/{conf,log,tmp,web-upload,checkpoints,savepoints}
  cat >"$CLUSTER_DIR/conf/config.yaml" <<EOF
# Written by deploy/local-cluster/flink-cluster.sh (Flink 1.20 standard YAML).
jobmanager.rpc.address: localhost
jobmanager.rpc.port: $RPC_PORT
jobmanager.bind-host: 127.0.0.1
jobmanager.memory.process.size: $JM_PROCESS_SIZE
taskmanager.host: localhost
taskmanager.bind-host: 127.0.0.1
taskmanager.numberOfTaskSlots: $TM_SLOTS
taskmanager.memory.process.size: $TM_PROCESS_SIZE
# the job's state and the embedded inference server (ONNX Runtime, native) share the TM
taskmanager.memory.managed.fraction: 0.25
taskmanager.memory.jvm-metaspace.size: 512m
parallelism.default: 1
rest.address: localhost
rest.bind-address: 127.0.0.1
rest.port: $REST_PORT
web.submit.enable: true
web.cancel.enable: true
web.upload.dir: $CLUSTER_DIR/web-upload
io.tmp.dirs: $CLUSTER_DIR/tmp
execution.checkpointing.dir: file://$CLUSTER_DIR/checkpoints
execution.checkpointing.savepoint-dir: file://$CLUSTER_DIR/savepoints
execution.checkpointing.externalized-checkpoint-retention: RETAIN_ON_CANCELLATION
# Prometheus scrape endpoint on each process (plugins/metrics-prometheus), first free port
metrics.reporter.prom.factory.class: org.apache.flink.metrics.prometheus.PrometheusReporterFactory
metrics.reporter.prom.port: 9249-9299
EOF
  cat >"$CLUSTER_DIR/conf/log4j.properties" <<'EOF'
rootLogger.level = INFO
rootLogger.appenderRef.file.ref = MainAppender
logger.kafka.name = org.apache.kafka
logger.kafka.level = WARN
appender.main.name = MainAppender
appender.main.type = RollingFile
appender.main.append = true
appender.main.fileName = ${sys:log.file}
appender.main.filePattern = ${sys:log.file}.%i
appender.main.layout.type = PatternLayout
appender.main.layout.pattern = %d{yyyy-MM-dd HH:mm:ss,SSS} %-5p %-60c %x - %m%n
appender.main.policies.type = Policies
appender.main.policies.size.type = SizeBasedTriggeringPolicy
appender.main.policies.size.size = 100MB
appender.main.strategy.type = DefaultRolloverStrategy
appender.main.strategy.max = 5
EOF
}

start_process() { # name main-class resource-params-command
  local name="$1" main="$2" jvm dyn
  jvm="$(bash_java_utils "$3" 1)"
  dyn="$(bash_java_utils "$3" 2)"
  # shellcheck disable=SC2086 # jvm and dyn are word lists by design (as in bin/taskmanager.sh)
  FLINK_CONF_DIR="$CLUSTER_DIR/conf" FLINK_PLUGINS_DIR="$FLINK_HOME/plugins" \
  FLINK_LIB_DIR="$FLINK_HOME/lib" \
    nohup "$JAVA" $jvm "${JAVA_17_OPTS[@]}" \
      -Dlog.file="$CLUSTER_DIR/log/$name.log" \
      -Dlog4j.configurationFile="file:$CLUSTER_DIR/conf/log4j.properties" \
      -cp "$FLINK_HOME/lib/*" "$main" --configDir "$CLUSTER_DIR/conf" $dyn \
      >"$CLUSTER_DIR/log/$name.out" 2>&1 </dev/null &
  echo $! >"$CLUSTER_DIR/$name.pid"
}

up() {
  [[ -d "$FLINK_HOME/lib" ]] || die "no $FLINK_HOME/lib: run 'make cluster-dist' first"
  if alive "$CLUSTER_DIR/jobmanager.pid" || alive "$CLUSTER_DIR/taskmanager.pid"; then
    die "already running at $(rest_url) (make cluster-down first)"
  fi
  REST_PORT="${REST_PORT:-$(first_free_port 8081 8099)}"
  RPC_PORT="${RPC_PORT:-$(first_free_port 6123 6199)}"
  port_in_use "$REST_PORT" && die "REST port $REST_PORT is in use"
  port_in_use "$RPC_PORT" && die "RPC port $RPC_PORT is in use"
  write_conf
  local url="http://localhost:$REST_PORT"
  echo "$url" >"$CLUSTER_DIR/rest-url"

  start_process jobmanager org.apache.flink.runtime.entrypoint.StandaloneSessionClusterEntrypoint \
    GET_JM_RESOURCE_PARAMS
  start_process taskmanager org.apache.flink.runtime.taskexecutor.TaskManagerRunner \
    GET_TM_RESOURCE_PARAMS

  # Ready when the TaskManager's slots are registered with the JobManager (polling /overview).
  local deadline=$((SECONDS + START_TIMEOUT)) overview=""
  while ((SECONDS < deadline)); do
    for name in jobmanager taskmanager; do
      alive "$CLUSTER_DIR/$name.pid" || { tail -n 30 "$CLUSTER_DIR/log/$name.out" "$CLUSTER_DIR/log/$name.log" >&2 || true; down; die "$name exited during start-up"; }
    done
    overview="$(curl -fsS "$url/overview" 2>/dev/null || true)"
    if [[ "$overview" =~ \"slots-total\":([0-9]+) ]] && ((BASH_REMATCH[1] >= TM_SLOTS)); then
      echo "Flink session cluster up: dashboard and REST API at $url ($TM_SLOTS slots)"
      echo "  logs: $CLUSTER_DIR/log   checkpoints/savepoints: $CLUSTER_DIR"
      return 0
    fi
    sleep 0.5 # poll interval, not synchronisation: the loop ends on the condition or the deadline
  done
  down
  die "no TaskManager slots registered within ${START_TIMEOUT}s (logs in $CLUSTER_DIR/log)"
}

stop_pid() { # pid-file
  local pidfile="$1" pid deadline
  alive "$pidfile" || { rm -f "$pidfile"; return 0; }
  pid="$(cat "$pidfile")"
  kill -TERM "$pid" 2>/dev/null || true
  deadline=$((SECONDS + 30))
  while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.2; done
  if kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null || true; fi
  rm -f "$pidfile"
}

down() {
  stop_pid "$CLUSTER_DIR/taskmanager.pid"
  stop_pid "$CLUSTER_DIR/jobmanager.pid"
  rm -f "$CLUSTER_DIR/rest-url"
  echo "Flink session cluster stopped"
}

status() {
  if alive "$CLUSTER_DIR/jobmanager.pid"; then
    echo "$(rest_url): $(curl -fsS "$(rest_url)/overview" 2>/dev/null || echo 'REST not answering')"
  else
    echo "not running"
  fi
}

# bin/flink: the CLI reads the cluster's address (rest.address/rest.port) from its config.
flink_cli() {
  [[ -f "$CLUSTER_DIR/conf/config.yaml" ]] || die "no cluster configuration: flink-cluster.sh up"
  FLINK_CONF_DIR="$CLUSTER_DIR/conf" exec "$JAVA" "${JAVA_17_OPTS[@]}" \
    -Dlog.file="$CLUSTER_DIR/log/client.log" \
    -Dlog4j.configurationFile="file:$CLUSTER_DIR/conf/log4j.properties" \
    -cp "$FLINK_HOME/lib/*" org.apache.flink.client.cli.CliFrontend "$@"
}

case "${1:-}" in
  up) up ;;
  flink) shift; flink_cli "$@" ;;
  down) down ;;
  status) status ;;
  *) die "usage: $0 up|down|status|flink ARGS..." ;;
esac
