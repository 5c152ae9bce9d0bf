# The job image for the Flink Kubernetes Operator (application mode) and the compose file.
#   make jar && docker build -f deploy/docker/job.Dockerfile -t registry.example.com/interest-graph/job:0.1.0 .
# Flink's official image: Flink itself, plugins/metrics-prometheus and opt/flink-s3-fs-presto
# (enabled with ENABLE_BUILT_IN_PLUGINS). The job JAR goes to usrlib/, where application mode
# finds it (jarURI local:///opt/flink/usrlib/interest-graph-job.jar).
FROM flink:1.20.5-java17
COPY --chown=flink:flink flink-job/target/interest-graph-job.jar /opt/flink/usrlib/interest-graph-job.jar
