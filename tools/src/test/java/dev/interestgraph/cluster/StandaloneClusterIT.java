package dev.interestgraph.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.interestgraph.InterestGraphJob;
import dev.interestgraph.data.EventJson;
import dev.interestgraph.data.SyntheticDataset;
import dev.interestgraph.delta.DeltaMaterializer;
import dev.interestgraph.inference.EmbeddedInferenceServer;
import dev.interestgraph.local.LocalKafkaBroker;
import dev.interestgraph.local.Topics;
import dev.interestgraph.model.ItemVersion;
import dev.interestgraph.model.UserAction;
import dev.interestgraph.proto.v1.GraphDelta;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The shaded job JAR on a real standalone Flink session cluster (JobManager and TaskManager
 * processes from {@code deploy/local-cluster}), submitted and operated only through the REST API
 * the dashboard uses: upload, run against an in-process Kafka broker with the embedded inference
 * server (no {@code --triton.endpoint}: the real MiniLM model inside the TaskManager), deltas
 * checked, vertices and metrics read, stop with a savepoint, run again from the savepoint, and
 * the graphs continue where they were.
 *
 * <p>Needs {@code target/interest-graph-job.jar} (package phase) and the cluster's jars in
 * {@code deploy/local-cluster/target/flink}: failsafe runs it in {@code mvn verify}, after both
 * modules are packaged.
 */
class StandaloneClusterIT {

    private static final String ENTRY_CLASS = "dev.interestgraph.InterestGraphJob";
    private static final int USERS = 6;
    private static final int EVENTS_PER_USER = 12;
    private static final long DAY = 24L * 3600 * 1000;
    private static final long START_MS = 1_750_000_000_000L;
    private static final String PREFIX = "cluster-";
    private static final Duration CLUSTER_START = Duration.ofSeconds(90);
    private static final Duration JOB_PROGRESS = Duration.ofSeconds(90);

    private static Path jobJar;
    private static Path flinkHome;

    @BeforeAll
    static void locateArtifacts() {
        jobJar = Path.of(System.getProperty("interest-graph.job-jar",
                "target/interest-graph-job.jar")).toAbsolutePath().normalize();
        flinkHome = Path.of(System.getProperty("interest-graph.flink-home",
                "../deploy/local-cluster/target/flink")).toAbsolutePath().normalize();
        assertThat(jobJar).as("the shaded job JAR (mvn package / make jar)").isRegularFile();
        assertThat(flinkHome.resolve("lib"))
                .as("the cluster's jars (mvn -f deploy/local-cluster/pom.xml generate-resources, "
                        + "or make cluster-dist)")
                .isDirectory();
    }

    /** The entry class is the one the build and the manifests name. */
    @Test
    void theJarNamesTheEntryClassInItsManifest() throws IOException {
        assertThat(InterestGraphJob.class.getName()).isEqualTo(ENTRY_CLASS);
        try (java.util.jar.JarFile jar = new java.util.jar.JarFile(jobJar.toFile())) {
            assertThat(jar.getManifest().getMainAttributes().getValue("Main-Class"))
                    .isEqualTo(ENTRY_CLASS);
        }
    }

    /**
     * No class of the job JAR is also on the cluster's classpath (lib/): such a class would be
     * loaded from the cluster for parent-first packages (org.apache.flink, org.slf4j, ...) and
     * twice otherwise. Flink's own modules stay out; the connectors come with the job.
     */
    @Test
    void theJarSharesNoClassWithTheCluster() throws IOException {
        Set<String> jobClasses = classes(jobJar);
        Map<String, String> clusterClasses = new HashMap<>();
        try (var libs = Files.list(flinkHome.resolve("lib"))) {
            for (Path lib : libs.filter(p -> p.toString().endsWith(".jar"))
                    .collect(Collectors.toList())) {
                for (String c : classes(lib)) {
                    clusterClasses.put(c, lib.getFileName().toString());
                }
            }
        }
        Map<String, String> clashes = new java.util.TreeMap<>();
        for (String c : jobClasses) {
            if (clusterClasses.containsKey(c)) {
                clashes.put(c, clusterClasses.get(c));
            }
        }
        assertThat(clashes).as("classes both in the job JAR and the cluster's lib/").isEmpty();
        assertThat(jobClasses).as("Flink's runtime is provided, not bundled")
                .noneMatch(c -> c.startsWith("org/apache/flink/runtime/")
                        || c.startsWith("org/apache/flink/streaming/api/environment/"));
        assertThat(jobClasses).as("the Kafka connector, gRPC, protobuf, ONNX Runtime and the "
                + "tokenizer are bundled").contains(
                "org/apache/flink/connector/kafka/source/KafkaSource.class",
                "io/grpc/netty/shaded/io/grpc/netty/NettyChannelBuilder.class",
                "com/google/protobuf/GeneratedMessage.class",
                "ai/onnxruntime/OrtEnvironment.class",
                "ai/djl/huggingface/tokenizers/HuggingFaceTokenizer.class");
    }

    @Test
    void theJarRunsOnAStandaloneClusterAndResumesFromItsSavepoint() throws Exception {
        Path workDir = Files.createDirectories(Path.of("target"))
                .resolve("cluster-it-" + System.currentTimeMillis()).toAbsolutePath();
        // a 2-core machine also runs the JobManager, the TaskManager and the model here: a broker
        // starved of CPU for the default 9 s would be fenced by its own controller
        try (LocalKafkaBroker kafka = LocalKafkaBroker.builder()
                     .brokerConfig("broker.session.timeout.ms", "60000").start();
             StandaloneFlinkCluster cluster = StandaloneFlinkCluster.start(flinkHome, workDir, 2,
                     CLUSTER_START)) {
            try {
                runStopAndResume(kafka, cluster);
            } catch (AssertionError | Exception e) {
                throw new AssertionError(e.getMessage()
                        + StandaloneFlinkCluster.tail(cluster.log("jobmanager"))
                        + StandaloneFlinkCluster.tail(cluster.log("taskmanager")), e);
            }
        }
    }

    private void runStopAndResume(LocalKafkaBroker kafka, StandaloneFlinkCluster cluster)
            throws Exception {
        String bootstrap = kafka.bootstrapServers();
        // one partition per input and parallelism 1: every source reader has a split, so event
        // time moves with the data alone (no reliance on idleness detection, see below)
        kafka.createTopic(PREFIX + "user-events", 1);
        kafka.createTopic(PREFIX + "item-catalog", 1);
        // the sinks stamp records with their event time (2025 here): without LogAppendTime the
        // broker's retention check (30 s after start, 7 days) would delete them as expired
        Map<String, String> appendTime = Map.of("message.timestamp.type", "LogAppendTime");
        kafka.createTopic(PREFIX + "graph-deltas", 2, appendTime);
        kafka.createTopic(PREFIX + "dead-letters", 1, appendTime);
        kafka.createCompactedTopic(PREFIX + "item-embeddings", 1);
        // the job's main checks that every topic it writes exists (KafkaStartupChecks)
        kafka.createCompactedTopic(PREFIX + "recommendations", 1);

        // ---- the dashboard is served, and accepts JAR submissions
        assertThat(cluster.get("/config").path("features").path("web-submit").asBoolean())
                .isTrue();
        assertThat(cluster.get("/overview").path("flink-version").asText()).startsWith("1.20");

        // ---- phase 1: the catalogue and two days of events
        SyntheticDataset phase1 = SyntheticDataset.builder().users(USERS).itemsPerTopic(3)
                .eventsPerUser(EVENTS_PER_USER).startMs(START_MS).spanMs(2 * DAY).seed(7)
                .build();
        produce(bootstrap, phase1.items(), phase1.events(), "p1-");
        // a catalogue update after the last event moves the item side's event time past it, as
        // a live catalogue does (the join waits for both inputs' watermarks)
        produceTick(bootstrap, phase1.items().get(0), START_MS + 2 * DAY + 60_000);

        // ---- upload the shaded JAR and run it (as the dashboard's "Submit New Job" does)
        JsonNode upload = cluster.uploadJar(jobJar);
        assertThat(upload.path("status").asText()).isEqualTo("success");
        String filename = upload.path("filename").asText();
        String jarId = filename.substring(filename.lastIndexOf('/') + 1);
        assertThat(cluster.get("/jars").path("files").findValuesAsText("id")).contains(jarId);

        String job1 = run(cluster, jarId, bootstrap, null);
        awaitRunning(cluster, job1);

        // ---- the job's vertices, by their operator names
        String vertexNames = vertices(cluster, job1).values().stream()
                .collect(Collectors.joining(" | "));
        assertThat(vertexNames).contains("user-events source", "parse + validate user events",
                "embed event text", "item-catalog source", "parse + validate items",
                "embed items", "item-enrich (temporal join)", "user-graph", "graph-deltas sink",
                "dead-letters sink", "item-embeddings sink");

        // ---- phase 1 processed: every event in (eventsIn), every delta out (deltasOut) committed
        int phase1Events = phase1.events().size();
        StringBuilder seen = new StringBuilder();
        int[] committedInPhase1 = new int[1];
        cluster.await(() -> "phase 1: eventsIn = " + phase1Events + ", deltasOut = committed "
                + "deltas, all users (seen: " + seen + ")", JOB_PROGRESS, () -> {
                    long in = metricSum(cluster, job1, "eventsIn");
                    long out = metricSum(cluster, job1, "deltasOut");
                    List<GraphDelta> committed = deltas(bootstrap);
                    seen.setLength(0);
                    seen.append("eventsIn ").append(in).append(", deltasOut ").append(out)
                            .append(", committed ").append(committed.size()).append(", users ")
                            .append(users(committed).size()).append("; watermarks ")
                            .append(watermarks(cluster, job1));
                    committedInPhase1[0] = committed.size();
                    return in == phase1Events && out > 0 && committed.size() == out
                            && users(committed).size() == USERS;
                });
        assertThat(metricSum(cluster, job1, "itemsIn")).isEqualTo(phase1.items().size() + 1);
        assertThat(metricSum(cluster, job1, "actionsWithoutItem")).isZero();

        // ---- the same metrics on the TaskManager's Prometheus endpoint (deploy/'s reporter)
        int prometheus = cluster.prometheusPort("taskmanager");
        assertThat(prometheus).as("the TaskManager's Prometheus reporter port").isPositive();
        String scrape = cluster.getText("http://127.0.0.1:" + prometheus + "/metrics");
        assertThat(scrape).containsPattern(
                "flink_taskmanager_job_task_operator_deltasOut\\{[^}]*operator_name=\"user_graph\"")
                .contains("flink_taskmanager_job_task_operator_eventsIn{");

        // ---- stop with a savepoint
        String savepoint = stopWithSavepoint(cluster, job1);
        assertThat(Path.of(java.net.URI.create(savepoint.startsWith("file:") ? savepoint
                : "file:" + savepoint))).isDirectory();
        // what the stop committed (the savepoint's transactions) comes on top of phase 1's
        List<List<GraphDelta>> read = new ArrayList<>(List.of(List.of()));
        cluster.await(() -> "the " + committedInPhase1[0] + " committed deltas readable after the "
                + "stop (seen: " + seen + ")", JOB_PROGRESS, () -> {
                    read.set(0, deltas(bootstrap));
                    seen.setLength(0);
                    seen.append(read.get(0).size()).append(", end offsets ")
                            .append(endOffsets(bootstrap));
                    return read.get(0).size() >= committedInPhase1[0];
                });
        List<GraphDelta> beforeStop = read.get(0);
        Map<String, GraphDelta> lastBeforeStop = new HashMap<>();
        beforeStop.forEach(d -> lastBeforeStop.merge(d.getUserId(), d,
                (a, b) -> a.getSeq() > b.getSeq() ? a : b));
        assertThat(lastBeforeStop).hasSize(USERS);

        // ---- phase 2: two more days of events, no catalogue (item versions are in the state)
        SyntheticDataset phase2 = SyntheticDataset.builder().users(USERS).itemsPerTopic(3)
                .eventsPerUser(EVENTS_PER_USER).startMs(START_MS + 3 * DAY).spanMs(2 * DAY)
                .seed(8).build();
        produce(bootstrap, List.of(), phase2.events(), "p2-");
        produceTick(bootstrap, phase1.items().get(1), START_MS + 5 * DAY + 60_000);

        // ---- run again from the savepoint
        String job2 = run(cluster, jarId, bootstrap, savepoint);
        assertThat(job2).isNotEqualTo(job1);
        awaitRunning(cluster, job2);
        int phase2Events = phase2.events().size();
        // done when every user's newest committed delta has reached their second-to-last phase-2
        // event (the last may wait within the out-of-orderness bound)
        Map<String, Long> secondLast = new HashMap<>();
        phase2.events().stream().collect(Collectors.groupingBy(e -> e.userId))
                .forEach((user, events) -> secondLast.put(user,
                        events.get(events.size() - 2).eventTimeMs));
        cluster.await(() -> "phase 2: eventsIn = " + phase2Events + ", every user's deltas up "
                + "to their second-to-last event committed (seen: " + seen + ")", JOB_PROGRESS,
                () -> {
                    long in = metricSum(cluster, job2, "eventsIn");
                    List<GraphDelta> all = deltas(bootstrap);
                    Map<String, Long> newest = new HashMap<>();
                    all.forEach(d -> newest.merge(d.getUserId(), d.getEventTimeMs(), Math::max));
                    long caughtUp = secondLast.entrySet().stream()
                            .filter(e -> newest.getOrDefault(e.getKey(), 0L) >= e.getValue())
                            .count();
                    seen.setLength(0);
                    seen.append("eventsIn ").append(in).append(", committed ").append(all.size())
                            .append(" (").append(beforeStop.size()).append(" before the stop), ")
                            .append("users caught up ").append(caughtUp).append("; ")
                            .append(endOffsets(bootstrap)).append("; watermarks ")
                            .append(watermarks(cluster, job2));
                    return in == phase2Events && caughtUp == USERS;
                });
        // the sources went on from the savepoint's offsets (phase 1 was not read again) and the
        // item versions came from the restored join state
        assertThat(metricSum(cluster, job2, "eventsIn")).isEqualTo(phase2Events);
        assertThat(metricSum(cluster, job2, "itemsIn")).isEqualTo(1); // the tick
        assertThat(metricSum(cluster, job2, "actionsWithoutItem")).isZero();
        // every delta committed since the stop was emitted by job 2: its deltasOut counter gets
        // there, but the REST API serves metrics from a cache (metrics.fetcher.update-interval),
        // so a read right after the last commit can lag it — await, do not read once
        long committedSinceStop = deltas(bootstrap).size() - beforeStop.size();
        cluster.await("job 2's deltasOut metric reaching the " + committedSinceStop
                + " deltas committed since the stop", JOB_PROGRESS,
                () -> metricSum(cluster, job2, "deltasOut") >= committedSinceStop);

        // ---- the graphs continued: same epoch, sequence numbers on from the last before the stop
        List<GraphDelta> all = deltas(bootstrap);
        Map<String, List<GraphDelta>> byUser = all.stream()
                .collect(Collectors.groupingBy(GraphDelta::getUserId));
        byUser.forEach((user, deltas) -> {
            GraphDelta last = lastBeforeStop.get(user);
            for (int i = 0; i < deltas.size(); i++) {
                assertThat(deltas.get(i).getSeq()).as("seq of %s", user).isEqualTo(i + 1);
                assertThat(deltas.get(i).getEpoch()).as("epoch of %s", user)
                        .isEqualTo(last.getEpoch());
            }
            assertThat(deltas.get(deltas.size() - 1).getEventTimeMs()).as("%s", user)
                    .isGreaterThanOrEqualTo(START_MS + 3 * DAY);
        });
        DeltaMaterializer graphs = new DeltaMaterializer();
        all.forEach(graphs::apply);
        assertThat(graphs.users()).hasSize(USERS);
        assertThat(graphs.users().values()).allSatisfy(user -> {
            assertThat(user.edges()).isNotEmpty();
            assertThat(user.interests()).isNotEmpty();
            assertThat(user.profile().orElseThrow().getModelVersion())
                    .as("embedded by the MiniLM server inside the TaskManager")
                    .isEqualTo(EmbeddedInferenceServer.MODEL_VERSION);
        });

        // ---- end: cancel, the cluster is killed by close()
        cluster.patch("/jobs/" + job2 + "?mode=cancel");
        cluster.await("job " + job2 + " cancelled", JOB_PROGRESS,
                () -> "CANCELED".equals(state(cluster, job2)));
    }

    // ------------------------------------------------------------------ the job via REST

    private static String run(StandaloneFlinkCluster cluster, String jarId, String bootstrap,
            String savepoint) throws Exception {
        List<String> args = new ArrayList<>(List.of(
                "--kafka.bootstrap", bootstrap,
                "--kafka.topic.events", PREFIX + "user-events",
                "--kafka.topic.items", PREFIX + "item-catalog",
                "--kafka.topic.deltas", PREFIX + "graph-deltas",
                "--kafka.topic.dead-letters", PREFIX + "dead-letters",
                "--kafka.topic.item-embeddings", PREFIX + "item-embeddings",
                "--kafka.topic.recommendations", PREFIX + "recommendations",
                "--kafka.group-id", "cluster-it",
                "--kafka.transactional-id-prefix", "cluster-it",
                "--watermark.idleness", "1 s",
                // a Flink option, passed the same way: commits (and so deltas) every second
                "--execution.checkpointing.interval", "1 s"));
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("entryClass", ENTRY_CLASS);
        body.put("programArgsList", args);
        body.put("parallelism", 1);
        if (savepoint != null) {
            body.put("savepointPath", savepoint);
            body.put("allowNonRestoredState", false);
        }
        JsonNode response = cluster.post("/jars/" + jarId + "/run", body);
        String jobId = response.path("jobid").asText();
        assertThat(jobId).as("POST /jars/%s/run answered %s", jarId, response).hasSize(32);
        return jobId;
    }

    private static void awaitRunning(StandaloneFlinkCluster cluster, String jobId)
            throws InterruptedException {
        cluster.await("job " + jobId + " and all its vertices RUNNING", JOB_PROGRESS, () -> {
            JsonNode job = cluster.tryGet("/jobs/" + jobId);
            if (job == null) {
                return false;
            }
            String state = job.path("state").asText();
            if (state.equals("FAILED") || state.equals("CANCELED") || state.equals("FINISHED")) {
                JsonNode exceptions = cluster.tryGet("/jobs/" + jobId + "/exceptions");
                throw new AssertionError("job " + jobId + " is " + state + ": "
                        + (exceptions == null ? "" : exceptions.path("root-exception").asText()));
            }
            List<String> vertexStates = job.path("vertices").findValuesAsText("status");
            return state.equals("RUNNING") && !vertexStates.isEmpty()
                    && vertexStates.stream().allMatch("RUNNING"::equals);
        });
    }

    private static String state(StandaloneFlinkCluster cluster, String jobId) {
        JsonNode job = cluster.tryGet("/jobs/" + jobId);
        return job == null ? "" : job.path("state").asText();
    }

    private static Map<String, String> vertices(StandaloneFlinkCluster cluster, String jobId)
            throws Exception {
        Map<String, String> names = new LinkedHashMap<>();
        for (JsonNode vertex : cluster.get("/jobs/" + jobId).path("vertices")) {
            names.put(vertex.path("id").asText(), vertex.path("name").asText());
        }
        return names;
    }

    /**
     * The sum over subtasks of every operator metric named {@code name} (ids like
     * {@code user-graph.deltasOut}), as the dashboard's metrics tab reads it.
     */
    private static long metricSum(StandaloneFlinkCluster cluster, String jobId, String name) {
        try {
            long sum = 0;
            for (String vertex : vertices(cluster, jobId).keySet()) {
                String base = "/jobs/" + jobId + "/vertices/" + vertex + "/subtasks/metrics";
                List<String> ids = new ArrayList<>();
                for (JsonNode metric : cluster.get(base)) {
                    String id = metric.path("id").asText();
                    if (id.endsWith("." + name)) {
                        ids.add(id);
                    }
                }
                if (ids.isEmpty()) {
                    continue;
                }
                for (JsonNode value : cluster.get(base + "?agg=sum&get="
                        + java.net.URLEncoder.encode(String.join(",", ids),
                                StandardCharsets.UTF_8))) {
                    sum += (long) value.path("sum").asDouble();
                }
            }
            return sum;
        } catch (IOException e) {
            return -1;
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** Each vertex's subtask watermarks (the dashboard's Watermarks tab), for diagnoses. */
    private static String watermarks(StandaloneFlinkCluster cluster, String jobId) {
        try {
            StringBuilder text = new StringBuilder();
            for (Map.Entry<String, String> vertex : vertices(cluster, jobId).entrySet()) {
                text.append("\n  ").append(vertex.getValue()).append(": ");
                for (JsonNode watermark : cluster.get("/jobs/" + jobId + "/vertices/"
                        + vertex.getKey() + "/watermarks")) {
                    text.append(watermark.path("id").asText()).append('=')
                            .append(watermark.path("value").asText()).append(' ');
                }
            }
            return text.toString();
        } catch (Exception e) {
            return e.toString();
        }
    }

    /** POST /jobs/:id/stop, then polls the savepoint operation; returns the savepoint's path. */
    private static String stopWithSavepoint(StandaloneFlinkCluster cluster, String jobId)
            throws Exception {
        String target = cluster.dir().resolve("savepoints").toUri().toString();
        String trigger = cluster.post("/jobs/" + jobId + "/stop",
                Map.of("targetDirectory", target, "drain", false)).path("request-id").asText();
        assertThat(trigger).isNotEmpty();
        String[] location = new String[1];
        cluster.await("stop-with-savepoint of " + jobId, JOB_PROGRESS, () -> {
            JsonNode status = cluster.tryGet("/jobs/" + jobId + "/savepoints/" + trigger);
            if (status == null || !"COMPLETED".equals(status.path("status").path("id").asText())) {
                return false;
            }
            JsonNode operation = status.path("operation");
            if (operation.has("failure-cause")) {
                throw new AssertionError("savepoint failed: " + operation.path("failure-cause"));
            }
            location[0] = operation.path("location").asText();
            return true;
        });
        cluster.await("job " + jobId + " FINISHED after its savepoint", JOB_PROGRESS,
                () -> "FINISHED".equals(state(cluster, jobId)));
        return location[0];
    }

    // ------------------------------------------------------------------ Kafka

    private static void produce(String bootstrap, List<ItemVersion> items, List<UserAction> events,
            String eventIdPrefix) {
        try (KafkaProducer<byte[], byte[]> producer = Topics.producer(bootstrap)) {
            for (ItemVersion item : items) {
                producer.send(new ProducerRecord<>(PREFIX + "item-catalog", bytes(item.itemId),
                        EventJson.toJson(item)));
            }
            for (UserAction event : events) {
                event.eventId = eventIdPrefix + event.eventId;
                producer.send(new ProducerRecord<>(PREFIX + "user-events", bytes(event.userId),
                        EventJson.toJson(event)));
            }
            producer.flush();
        }
    }

    /** End offsets of the deltas topic: read_committed (the LSO) and read_uncommitted. */
    private static String endOffsets(String bootstrap) {
        StringBuilder text = new StringBuilder();
        for (String isolation : List.of("read_committed", "read_uncommitted")) {
            java.util.Properties props = new java.util.Properties();
            props.put("bootstrap.servers", bootstrap);
            props.put("isolation.level", isolation);
            try (var consumer = new org.apache.kafka.clients.consumer.KafkaConsumer<>(props,
                    new org.apache.kafka.common.serialization.ByteArrayDeserializer(),
                    new org.apache.kafka.common.serialization.ByteArrayDeserializer())) {
                var partitions = consumer.partitionsFor(PREFIX + "graph-deltas").stream()
                        .map(p -> new org.apache.kafka.common.TopicPartition(p.topic(),
                                p.partition())).collect(Collectors.toList());
                text.append(isolation).append(' ').append(consumer.endOffsets(partitions))
                        .append(' ');
            } catch (RuntimeException e) {
                text.append(isolation).append(' ').append(e).append(' ');
            }
        }
        return text.toString();
    }

    /** A new version of an item at {@code atMs} (same text): moves the catalogue's event time. */
    private static void produceTick(String bootstrap, ItemVersion item, long atMs) {
        ItemVersion tick = new ItemVersion(item.itemId, item.title, item.description, item.tags,
                atMs);
        try (KafkaProducer<byte[], byte[]> producer = Topics.producer(bootstrap)) {
            producer.send(new ProducerRecord<>(PREFIX + "item-catalog", bytes(tick.itemId),
                    EventJson.toJson(tick)));
            producer.flush();
        }
    }

    /**
     * The committed deltas (read_committed), in partition order, decoded from contract v2 as a
     * consumer sees them (self-contained v1 form).
     */
    private static List<GraphDelta> deltas(String bootstrap) {
        DeltaMaterializer consumer = new DeltaMaterializer();
        return Topics.readAll(bootstrap, PREFIX + "graph-deltas").stream().map(r -> {
            try {
                return consumer.decodeAndApply(
                        dev.interestgraph.proto.v2.GraphDelta.parseFrom(r.value()));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }).collect(Collectors.toList());
    }

    private static Set<String> users(List<GraphDelta> deltas) {
        return deltas.stream().map(GraphDelta::getUserId).collect(Collectors.toSet());
    }

    private static Set<String> classes(Path jar) throws IOException {
        try (ZipFile zip = new ZipFile(jar.toFile())) {
            return zip.stream().map(ZipEntry::getName)
                    .filter(n -> n.endsWith(".class") && !n.startsWith("META-INF/"))
                    .collect(Collectors.toCollection(TreeSet::new));
        }
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
