package dev.interestgraph.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;

import dev.interestgraph.InterestGraphJob;
import dev.interestgraph.config.InterestGraphOptions;
import java.io.IOException;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.FallbackKey;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.snakeyaml.engine.v2.api.Load;
import org.snakeyaml.engine.v2.api.LoadSettings;

/**
 * deploy/ agrees with the build and with triton-models/: every YAML file parses; the JAR name,
 * entry class and Flink version are the build's; every option given to the job exists (or is a
 * Flink option) and every value passes the job's own validation; every Flink configuration key is
 * an option of Flink 1.20; Triton's model name and ports are those of triton-models/; the topics
 * are the job's, the tables (item-embeddings, item-neighbors, recommendations) compacted; the
 * Prometheus reporter's port is the scraped one.
 *
 * <p>YAML is read with snakeyaml-engine (YAML 1.2), which flink-core brings to the test classpath
 * (Flink parses its config.yaml with it).
 */
class DeployManifestsTest {

    private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();
    private static final Path DEPLOY = ROOT.resolve("deploy");
    private static final Path K8S = DEPLOY.resolve("kubernetes");

    /** Keys whose options live outside Flink's core (file systems, reporters, the operator). */
    private static final List<String> NON_CORE_PREFIXES = List.of("s3.",
            "metrics.reporter.prom.", "kubernetes.operator.");

    private static Set<String> flinkOptionKeys;
    private static Set<String> jobOptionKeys;

    @BeforeAll
    static void collectOptionKeys() throws Exception {
        flinkOptionKeys = new TreeSet<>();
        for (String name : List.of(
                "org.apache.flink.configuration.CheckpointingOptions",
                "org.apache.flink.configuration.ClusterOptions",
                "org.apache.flink.configuration.CoreOptions",
                "org.apache.flink.configuration.DeploymentOptions",
                "org.apache.flink.configuration.ExecutionOptions",
                "org.apache.flink.configuration.HighAvailabilityOptions",
                "org.apache.flink.configuration.JobManagerOptions",
                "org.apache.flink.configuration.MetricOptions",
                "org.apache.flink.configuration.PipelineOptions",
                "org.apache.flink.configuration.RestOptions",
                "org.apache.flink.configuration.RestartStrategyOptions",
                "org.apache.flink.configuration.SecurityOptions",
                "org.apache.flink.configuration.StateBackendOptions",
                "org.apache.flink.configuration.StateRecoveryOptions",
                "org.apache.flink.configuration.TaskManagerOptions",
                "org.apache.flink.configuration.WebOptions",
                "org.apache.flink.streaming.api.environment.ExecutionCheckpointingOptions",
                "org.apache.flink.contrib.streaming.state.RocksDBOptions",
                "org.apache.flink.contrib.streaming.state.RocksDBConfigurableOptions")) {
            for (Field field : Class.forName(name).getFields()) {
                if (Modifier.isStatic(field.getModifiers())
                        && ConfigOption.class.isAssignableFrom(field.getType())) {
                    ConfigOption<?> option = (ConfigOption<?>) field.get(null);
                    flinkOptionKeys.add(option.key());
                    for (FallbackKey key : option.fallbackKeys()) {
                        flinkOptionKeys.add(key.getKey());
                    }
                }
            }
        }
        assertThat(flinkOptionKeys).contains("state.backend.type",
                "execution.checkpointing.interval", "high-availability.type");
        jobOptionKeys = InterestGraphOptions.all().stream().map(ConfigOption::key)
                .collect(Collectors.toCollection(TreeSet::new));
    }

    // ------------------------------------------------------------------ YAML

    @Test
    void everyYamlFileParses() throws IOException {
        List<Path> files = yamlFiles();
        assertThat(files).extracting(p -> DEPLOY.relativize(p).toString()).contains(
                "kubernetes/flink-deployment.yaml", "kubernetes/triton.yaml",
                "kubernetes/kafka-topics.yaml", "kubernetes/monitoring.yaml",
                "kubernetes/namespace.yaml", "kubernetes/kustomization.yaml",
                "compose/compose.yaml", "compose/prometheus.yml");
        for (Path file : files) {
            List<Map<String, Object>> documents = load(file);
            assertThat(documents).as("%s", file).isNotEmpty().doesNotContainNull();
        }
    }

    @Test
    void kustomizationListsEveryManifest() throws IOException {
        Map<String, Object> kustomization = only(K8S.resolve("kustomization.yaml"));
        Set<String> listed = new TreeSet<>(strings(kustomization.get("resources")));
        try (Stream<Path> files = Files.list(K8S)) {
            Set<String> present = files.map(p -> p.getFileName().toString())
                    .filter(n -> n.endsWith(".yaml") && !n.equals("kustomization.yaml"))
                    .collect(Collectors.toCollection(TreeSet::new));
            assertThat(listed).isEqualTo(present);
        }
    }

    // ------------------------------------------------------------------ the job

    @Test
    void theFlinkDeploymentRunsTheJarTheBuildMakes() throws IOException {
        Map<String, Object> deployment = flinkDeployment();
        Map<String, Object> job = map(at(deployment, "spec", "job"));
        String jarUri = (String) job.get("jarURI");

        String shadedJar = firstGroup(pom("flink-job/pom.xml"),
                "<outputFile>\\$\\{project.build.directory}/([^<]+)</outputFile>");
        String mainClass = firstGroup(pom("flink-job/pom.xml"), "<mainClass>([^<]+)</mainClass>");
        assertThat(shadedJar).isEqualTo("interest-graph-job.jar");
        assertThat(jarUri).isEqualTo("local:///opt/flink/usrlib/" + shadedJar);
        assertThat(job.get("entryClass")).isEqualTo(mainClass)
                .isEqualTo(InterestGraphJob.class.getName());

        // the image puts that JAR at that path, on the Flink version of the build
        String flinkVersion = firstGroup(pom("pom.xml"), "<flink.version>([^<]+)</flink.version>");
        String dockerfile = Files.readString(DEPLOY.resolve("docker/job.Dockerfile"));
        assertThat(dockerfile).contains("FROM flink:" + flinkVersion + "-java17")
                .contains("flink-job/target/" + shadedJar + " "
                        + jarUri.substring("local://".length()));
        String[] version = flinkVersion.split("\\.");
        assertThat(at(deployment, "spec", "flinkVersion"))
                .isEqualTo("v" + version[0] + "_" + version[1]);
        assertThat(env(podContainer(deployment), "ENABLE_BUILT_IN_PLUGINS"))
                .isEqualTo("flink-s3-fs-presto-" + flinkVersion + ".jar");
        assertThat(job.get("upgradeMode")).isEqualTo("savepoint");

        // the compose file runs the same JAR (its image) and entry class
        Map<String, Object> compose = only(DEPLOY.resolve("compose/compose.yaml"));
        assertThat(at(compose, "x-flink", "build", "dockerfile"))
                .isEqualTo("deploy/docker/job.Dockerfile");
        List<String> command = strings(at(compose, "services", "jobmanager", "command"));
        assertThat(command.subList(0, 3)).containsExactly("standalone-job", "--job-classname",
                InterestGraphJob.class.getName());
    }

    @Test
    void everyJobArgumentIsAnOptionAndPassesTheJobsValidation() throws IOException {
        List<String> k8sArgs = strings(at(flinkDeployment(), "spec", "job", "args"));
        List<String> composeCommand = strings(at(only(DEPLOY.resolve("compose/compose.yaml")),
                "services", "jobmanager", "command"));
        List<String> composeArgs = composeCommand.subList(3, composeCommand.size());
        for (List<String> args : List.of(k8sArgs, composeArgs)) {
            Map<String, String> options = optionPairs(args);
            assertThat(options).containsKeys("kafka.bootstrap", "triton.endpoint",
                    "kafka.transactional-id-prefix");
            for (String key : options.keySet()) {
                assertThat(jobOptionKeys.contains(key)
                        || key.startsWith(InterestGraphOptions.KAFKA_PROPERTIES_PREFIX)
                        || flinkOptionKeys.contains(key))
                        .as("--%s is neither an option of InterestGraphOptions.all() nor of Flink",
                                key)
                        .isTrue();
            }
            assertThatCode(() -> InterestGraphOptions.validate(
                    InterestGraphOptions.fromArgs(args.toArray(new String[0]))))
                    .as("the job's validation of %s", args).doesNotThrowAnyException();
        }
        assertThat(Integer.parseInt(optionPairs(k8sArgs).get("job.max-parallelism")))
                .isGreaterThanOrEqualTo(
                        (Integer) at(flinkDeployment(), "spec", "job", "parallelism"));
    }

    @Test
    void everyFlinkConfigurationKeyIsAFlinkOption() throws IOException {
        Map<String, Object> k8s = map(at(flinkDeployment(), "spec", "flinkConfiguration"));
        Map<String, Object> compose = only(DEPLOY.resolve("compose/compose.yaml"));
        String properties = (String) at(compose, "x-flink", "environment", "FLINK_PROPERTIES");
        Map<String, Object> composeConfig = map(new Load(LoadSettings.builder().build())
                .loadFromString(properties));
        for (Map<String, Object> config : List.of(k8s, composeConfig)) {
            for (String key : config.keySet()) {
                assertThat(flinkOptionKeys.contains(key)
                        || NON_CORE_PREFIXES.stream().anyMatch(key::startsWith))
                        .as("'%s' is not an option of Flink 1.20", key).isTrue();
            }
            assertThat(config).containsEntry("state.backend.type", "rocksdb")
                    .containsEntry("metrics.reporter.prom.factory.class",
                            "org.apache.flink.metrics.prometheus.PrometheusReporterFactory");
        }
        assertThat(k8s).containsEntry("high-availability.type", "kubernetes");
        for (String key : List.of("execution.checkpointing.dir",
                "execution.checkpointing.savepoint-dir", "high-availability.storageDir")) {
            assertThat((String) k8s.get(key)).as(key).startsWith("s3://");
        }
    }

    // ------------------------------------------------------------------ Triton

    @Test
    void tritonServesTheModelOfTritonModelsOnItsPorts() throws IOException {
        String modelName = pbtxtName("triton-models/item_encoder/config.pbtxt");
        assertThat(modelName).isEqualTo(pbtxtName("triton-models/item_encoder/configs/cpu.pbtxt"))
                .isEqualTo(InterestGraphOptions.TRITON_MODEL.defaultValue());
        String config = Files.readString(ROOT.resolve("triton-models/item_encoder/config.pbtxt"));
        assertThat(config).contains("dynamic_batching").contains("KIND_GPU");
        int grpcPort = Integer.parseInt(firstGroup(
                Files.readString(ROOT.resolve("triton-models/triton.mk")),
                "TRITON_GRPC_PORT\\s*\\?=\\s*(\\d+)"));
        assertThat(grpcPort).isEqualTo(8001);

        List<Map<String, Object>> triton = load(K8S.resolve("triton.yaml"));
        Map<String, Object> deployment = kind(triton, "Deployment");
        Map<String, Object> service = kind(triton, "Service");
        Map<String, Object> container = map(list(at(deployment, "spec", "template", "spec",
                "containers")).get(0));
        List<String> args = strings(container.get("args"));
        assertThat(args).contains("--model-repository=/models", "--load-model=" + modelName,
                "--grpc-port=" + grpcPort, "--http-port=8000", "--metrics-port=8002");
        // the tuner publishes versions into /models and loads them with the repository API:
        // explicit model control, a writable volume that outlives the pod
        String tunerName = pbtxtName("triton-models/item_encoder_tuner/config.pbtxt");
        assertThat(args).contains("--model-control-mode=explicit", "--load-model=" + tunerName);
        assertThat(list(container.get("volumeMounts")).stream().map(DeployManifestsTest::map)
                .filter(m -> "/models".equals(m.get("mountPath"))).findFirst().orElseThrow())
                .doesNotContainKey("readOnly");
        Map<String, Object> volume = list(at(deployment, "spec", "template", "spec", "volumes")).stream()
                .map(DeployManifestsTest::map).filter(v -> "model-repository".equals(v.get("name"))).findFirst().orElseThrow();
        assertThat(at(volume, "persistentVolumeClaim", "claimName"))
                .isEqualTo(at(kind(triton, "PersistentVolumeClaim"), "metadata", "name"));
        Map<String, Integer> containerPorts = ports(container.get("ports"), "containerPort");
        assertThat(containerPorts).containsEntry("grpc", grpcPort).containsEntry("http", 8000)
                .containsEntry("metrics", 8002);
        assertThat(at(container, "readinessProbe", "httpGet", "path"))
                .isEqualTo("/v2/health/ready");
        assertThat(containerPorts.get((String) at(container, "readinessProbe", "httpGet",
                "port"))).isEqualTo(8000);
        assertThat(at(container, "resources", "limits", "nvidia.com/gpu")).isEqualTo(1);
        assertThat(strings(list(container.get("volumeMounts")).stream()
                .map(m -> map(m).get("mountPath")).collect(Collectors.toList())))
                .contains("/models");
        Map<String, Integer> servicePorts = ports(at(service, "spec", "ports"), "port");
        assertThat(servicePorts).containsEntry("grpc", grpcPort).containsEntry("metrics", 8002);

        // the job speaks to that service, port and model
        Map<String, String> jobArgs = optionPairs(strings(at(flinkDeployment(), "spec", "job",
                "args")));
        String serviceHost = at(service, "metadata", "name") + "."
                + at(service, "metadata", "namespace") + ".svc";
        assertThat(jobArgs.get("triton.endpoint")).isEqualTo(serviceHost + ":" + grpcPort);
        assertThat(jobArgs.getOrDefault("triton.model", modelName)).isEqualTo(modelName);

        // the image of the model repository holds triton-models/item_encoder and encoder/
        assertThat(Files.readString(DEPLOY.resolve("docker/models.Dockerfile")))
                .contains("COPY triton-models/" + modelName + " /model-repository/" + modelName)
                .contains("COPY triton-models/encoder /model-repository/encoder")
                .contains("COPY triton-models/item_encoder_tuner /model-repository/item_encoder_tuner");

        // compose: the same model and ports
        Map<String, Object> compose = only(DEPLOY.resolve("compose/compose.yaml"));
        String tritonCommand = String.join(" ",
                strings(at(compose, "services", "triton", "command")));
        assertThat(tritonCommand).contains("--load-model=" + modelName,
                "--grpc-port=" + grpcPort, "--metrics-port=8002");
        assertThat(strings(at(compose, "services", "triton", "ports")))
                .contains(grpcPort + ":" + grpcPort);
        List<String> composeJob = strings(at(compose, "services", "jobmanager", "command"));
        assertThat(optionPairs(composeJob.subList(3, composeJob.size())).get("triton.endpoint"))
                .isEqualTo("triton:" + grpcPort);
    }

    // ------------------------------------------------------------------ Kafka

    @Test
    void theTopicsAreTheJobsWithCompactedTables() throws IOException {
        Set<String> jobTopics = Set.of(InterestGraphOptions.TOPIC_EVENTS.defaultValue(),
                InterestGraphOptions.TOPIC_ITEMS.defaultValue(),
                InterestGraphOptions.TOPIC_DELTAS.defaultValue(),
                InterestGraphOptions.TOPIC_DEAD_LETTERS.defaultValue(),
                InterestGraphOptions.TOPIC_ITEM_EMBEDDINGS.defaultValue(),
                InterestGraphOptions.TOPIC_ITEM_NEIGHBORS.defaultValue(),
                InterestGraphOptions.TOPIC_RECOMMENDATIONS.defaultValue());
        List<String> compacted = List.of("item-embeddings", "item-neighbors", "recommendations");
        Map<String, Map<String, Object>> topics = new HashMap<>();
        Set<String> clusters = new TreeSet<>();
        for (Map<String, Object> topic : load(K8S.resolve("kafka-topics.yaml"))) {
            assertThat(topic.get("kind")).isEqualTo("KafkaTopic");
            assertThat(topic.get("apiVersion")).isEqualTo("kafka.strimzi.io/v1beta2");
            clusters.add((String) at(topic, "metadata", "labels", "strimzi.io/cluster"));
            Map<String, Object> spec = map(topic.get("spec"));
            assertThat((Integer) spec.get("partitions")).isPositive();
            assertThat((Integer) spec.get("replicas")).isPositive();
            topics.put((String) spec.get("topicName"), map(spec.get("config")));
        }
        assertThat(topics.keySet()).isEqualTo(jobTopics);
        for (String table : compacted) {
            assertThat(topics.get(table)).as(table).containsEntry("cleanup.policy", "compact");
        }
        // the sinks stamp records with event time: time retention must count from the append
        for (String output : List.of("graph-deltas", "dead-letters")) {
            assertThat(topics.get(output)).as(output)
                    .containsEntry("message.timestamp.type", "LogAppendTime");
        }
        topics.forEach((name, config) -> assertThat("compact".equals(config.get("cleanup.policy"))
                || config.containsKey("retention.ms"))
                .as("%s: compacted or with a retention", name).isTrue());

        // the job's bootstrap is the Strimzi bootstrap service of that cluster
        assertThat(clusters).hasSize(1);
        String bootstrap = optionPairs(strings(at(flinkDeployment(), "spec", "job", "args")))
                .get("kafka.bootstrap");
        assertThat(bootstrap).startsWith(clusters.iterator().next() + "-kafka-bootstrap.");

        // compose creates the same topics, item-embeddings compacted
        String init = String.join(" ", strings(at(only(DEPLOY.resolve("compose/compose.yaml")),
                "services", "kafka-topics", "command")));
        for (String topic : jobTopics) {
            assertThat(init).contains("--topic " + topic + " ");
        }
        for (String table : compacted) {
            assertThat(init).containsPattern("--topic " + table + " [^\\n]*cleanup.policy=compact");
        }
        assertThat(init).containsPattern(
                        "--topic graph-deltas [^\\n]*message.timestamp.type=LogAppendTime");
    }

    // ------------------------------------------------------------------ metrics

    @Test
    void prometheusScrapesTheReportersPort() throws IOException {
        Map<String, Object> deployment = flinkDeployment();
        int reporterPort = Integer.parseInt(String.valueOf(at(deployment, "spec",
                "flinkConfiguration", "metrics.reporter.prom.port")));
        Map<String, Integer> podPorts = ports(podContainer(deployment).get("ports"),
                "containerPort");
        assertThat(podPorts).containsEntry("metrics", reporterPort);

        List<Map<String, Object>> monitoring = load(K8S.resolve("monitoring.yaml"));
        Map<String, Object> podMonitor = kind(monitoring, "PodMonitor");
        assertThat(at(podMonitor, "spec", "selector", "matchLabels", "app"))
                .isEqualTo(at(deployment, "metadata", "name"));
        assertThat(map(list(at(podMonitor, "spec", "podMetricsEndpoints")).get(0)).get("port"))
                .isEqualTo("metrics");
        Map<String, Object> serviceMonitor = kind(monitoring, "ServiceMonitor");
        assertThat(map(list(at(serviceMonitor, "spec", "endpoints")).get(0)).get("port"))
                .isEqualTo("metrics");
        assertThat(at(serviceMonitor, "spec", "selector", "matchLabels", "app"))
                .isEqualTo(at(kind(load(K8S.resolve("triton.yaml")), "Service"), "metadata",
                        "labels", "app"));

        // compose: prometheus.yml scrapes the reporter's port and Triton's metrics port
        String properties = (String) at(only(DEPLOY.resolve("compose/compose.yaml")), "x-flink",
                "environment", "FLINK_PROPERTIES");
        int composePort = (Integer) map(new Load(LoadSettings.builder().build())
                .loadFromString(properties)).get("metrics.reporter.prom.port");
        Map<String, Object> prometheus = only(DEPLOY.resolve("compose/prometheus.yml"));
        List<String> targets = new ArrayList<>();
        for (Object job : list(prometheus.get("scrape_configs"))) {
            for (Object staticConfig : list(map(job).get("static_configs"))) {
                targets.addAll(strings(map(staticConfig).get("targets")));
            }
        }
        assertThat(targets).contains("jobmanager:" + composePort, "taskmanager:" + composePort,
                "triton:8002");
    }

    // ------------------------------------------------------------------ helpers

    private static List<Path> yamlFiles() throws IOException {
        try (Stream<Path> files = Files.walk(DEPLOY)) {
            return files.filter(p -> !DEPLOY.relativize(p).toString().contains("target"))
                    .filter(p -> p.toString().endsWith(".yaml") || p.toString().endsWith(".yml"))
                    .sorted().collect(Collectors.toList());
        }
    }

    @SuppressWarnings("unchecked")
    private static List<Map<String, Object>> load(Path file) throws IOException {
        List<Map<String, Object>> documents = new ArrayList<>();
        Load load = new Load(LoadSettings.builder().setLabel(file.toString()).build());
        for (Object document : load.loadAllFromString(Files.readString(file,
                StandardCharsets.UTF_8))) {
            assertThat(document).as("a document of %s", file).isInstanceOf(Map.class);
            documents.add((Map<String, Object>) document);
        }
        return documents;
    }

    private static Map<String, Object> only(Path file) throws IOException {
        List<Map<String, Object>> documents = load(file);
        assertThat(documents).as("%s", file).hasSize(1);
        return documents.get(0);
    }

    private static Map<String, Object> flinkDeployment() throws IOException {
        Map<String, Object> deployment = only(K8S.resolve("flink-deployment.yaml"));
        assertThat(deployment.get("kind")).isEqualTo("FlinkDeployment");
        assertThat(deployment.get("apiVersion")).isEqualTo("flink.apache.org/v1beta1");
        return deployment;
    }

    private static Map<String, Object> kind(List<Map<String, Object>> documents, String kind) {
        List<Map<String, Object>> matching = documents.stream()
                .filter(d -> kind.equals(d.get("kind"))).collect(Collectors.toList());
        assertThat(matching).as("one %s", kind).hasSize(1);
        return matching.get(0);
    }

    private static Map<String, Object> podContainer(Map<String, Object> deployment) {
        return list(at(deployment, "spec", "podTemplate", "spec", "containers")).stream()
                .map(DeployManifestsTest::map)
                .filter(c -> "flink-main-container".equals(c.get("name")))
                .findFirst().orElseThrow();
    }

    private static String env(Map<String, Object> container, String name) {
        return list(container.get("env")).stream().map(DeployManifestsTest::map)
                .filter(e -> name.equals(e.get("name")))
                .map(e -> (String) e.get("value")).findFirst().orElse(null);
    }

    /** name → port number of a list of Kubernetes port entries. */
    private static Map<String, Integer> ports(Object entries, String numberField) {
        Map<String, Integer> ports = new LinkedHashMap<>();
        for (Object entry : list(entries)) {
            ports.put((String) map(entry).get("name"), (Integer) map(entry).get(numberField));
        }
        return ports;
    }

    /** {@code --key value} pairs, as InterestGraphOptions.fromArgs reads them. */
    private static Map<String, String> optionPairs(List<String> args) {
        return InterestGraphOptions.fromArgs(args.toArray(new String[0])).toMap();
    }

    private static Object at(Object node, String... path) {
        Object current = node;
        for (String key : path) {
            assertThat(current).as("%s in %s", key, String.join(".", path))
                    .isInstanceOf(Map.class);
            current = map(current).get(key);
            assertThat(current).as("%s", String.join(".", path)).isNotNull();
        }
        return current;
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> map(Object node) {
        assertThat(node).isInstanceOf(Map.class);
        return (Map<String, Object>) node;
    }

    @SuppressWarnings("unchecked")
    private static List<Object> list(Object node) {
        assertThat(node).isInstanceOf(List.class);
        return (List<Object>) node;
    }

    private static List<String> strings(Object node) {
        return list(node).stream().map(String::valueOf).collect(Collectors.toList());
    }

    private static String pom(String path) throws IOException {
        return Files.readString(ROOT.resolve(path));
    }

    private static String pbtxtName(String path) throws IOException {
        return firstGroup(Files.readString(ROOT.resolve(path)), "(?m)^name:\\s*\"([^\"]+)\"");
    }

    private static String firstGroup(String text, String regex) {
        Matcher matcher = Pattern.compile(regex).matcher(text);
        assertThat(matcher.find()).as("/%s/", regex).isTrue();
        return matcher.group(1);
    }
}
