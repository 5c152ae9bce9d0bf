package dev.interestgraph.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.interestgraph.data.EventJson;
import dev.interestgraph.data.SyntheticDataset;
import dev.interestgraph.inference.EmbeddedInferenceServer;
import dev.interestgraph.local.LocalKafkaBroker;
import dev.interestgraph.local.Topics;
import dev.interestgraph.model.Action;
import dev.interestgraph.model.ItemVersion;
import dev.interestgraph.model.UserAction;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code kill -9} of a real TaskManager process of the standalone cluster (separate JVMs, the
 * shaded job JAR submitted over REST) in the middle of a run. A new TaskManager process comes up,
 * the job restarts from its last completed checkpoint, and what a read_committed consumer gets
 * from the delta topic equals a failure-free run of the same input on the same cluster: per key,
 * the same records, byte for byte, in the same order.
 *
 * <p>Both jobs run side by side, each in the one slot of its own TaskManager: the failure-free
 * job first (it takes the first TaskManager's slot), then the second TaskManager and the job
 * whose TaskManager is killed. Embeddings come from one inference server in the test JVM (the
 * real MiniLM model over gRPC, {@code --triton.endpoint}), so that restarted TaskManagers need no
 * model of their own.
 */
class KillTaskManagerIT {
    private static final long DAY = 24L * 3600 * 1000;
    private static final long START_MS = 1_750_000_000_000L;
    private static final Duration CLUSTER_START = Duration.ofSeconds(90);
    private static final Duration PROGRESS = Duration.ofSeconds(120);
    private static final long OUT_OF_ORDERNESS_MS = 5_000;

    private static Path jobJar;
    private static Path flinkHome;

    @BeforeAll
    static void locateArtifacts() {
        jobJar = Path.of(System.getProperty("interest-graph.job-jar",
                "target/interest-graph-job.jar")).toAbsolutePath().normalize();
        flinkHome = Path.of(System.getProperty("interest-graph.flink-home",
                "../deploy/local-cluster/target/flink")).toAbsolutePath().normalize();
        assertThat(jobJar).as("the shaded job JAR (mvn package / make jar)").isRegularFile();
        assertThat(flinkHome.resolve("lib")).as("the cluster's jars").isDirectory();
    }

    @Test
    void aKilledTaskManagerIsReplacedAndTheCommittedDeltasEqualAFailureFreeRun()
            throws Exception {
        Path workDir = Files.createDirectories(Path.of("target"))
                .resolve("kill-tm-it-" + System.currentTimeMillis()).toAbsolutePath();
        Map<String, String> config = Map.of(
                // one slot per TaskManager: each job on a TaskManager of its own
                "taskmanager.numberOfTaskSlots", "1",
                "taskmanager.memory.process.size", "2g",
                // a killed TaskManager answers no heartbeat: noticed within seconds
                "heartbeat.interval", "1000",
                "heartbeat.timeout", "8000");
        SyntheticDataset data = SyntheticDataset.builder().users(6).itemsPerTopic(3)
                .eventsPerUser(16).startMs(START_MS).spanMs(4 * DAY).seed(9).build();
        List<UserAction> events = data.events();
        List<UserAction> slice1 = events.subList(0, events.size() / 2);
        List<UserAction> slice2 = events.subList(events.size() / 2, events.size());
        long sentinelMs = events.get(events.size() - 1).eventTimeMs + DAY;

        try (LocalKafkaBroker kafka = LocalKafkaBroker.builder()
                     .brokerConfig("broker.session.timeout.ms", "60000").start();
             EmbeddedInferenceServer inference = EmbeddedInferenceServer.builder().build();
             StandaloneFlinkCluster cluster = StandaloneFlinkCluster.start(flinkHome, workDir, 1,
                     CLUSTER_START, config)) {
            try {
                String bootstrap = kafka.bootstrapServers();
                for (String prefix : List.of("ref-", "kill-")) {
                    kafka.createTopic(prefix + "user-events", 1);
                    kafka.createTopic(prefix + "item-catalog", 1);
                    Map<String, String> appendTime =
                            Map.of("message.timestamp.type", "LogAppendTime");
                    kafka.createTopic(prefix + "graph-deltas", 1, appendTime);
                    kafka.createTopic(prefix + "dead-letters", 1, appendTime);
                }
                JsonNode upload = cluster.uploadJar(jobJar);
                String filename = upload.path("filename").asText();
                String jarId = filename.substring(filename.lastIndexOf('/') + 1);

                // ---- the failure-free run: all of the input, then the sentinels
                produce(bootstrap, "ref-", data.items(), events);
                produceSentinels(bootstrap, "ref-", sentinelMs);
                String reference = run(cluster, jarId, bootstrap, "ref-", inference.endpoint());
                awaitRunning(cluster, reference);

                // ---- a second TaskManager, and the run whose TaskManager is killed
                String victim = cluster.startTaskManager(CLUSTER_START);
                produce(bootstrap, "kill-", data.items(), slice1);
                String job = run(cluster, jarId, bootstrap, "kill-", inference.endpoint());
                awaitRunning(cluster, job);
                assertThat(taskManagers(cluster, job)).as("on another TaskManager than the "
                        + "failure-free job").doesNotContainAnyElementsOf(
                                taskManagers(cluster, reference));
                cluster.await("committed deltas of the first half (a completed checkpoint)",
                        PROGRESS, () -> !committed(bootstrap, "kill-").isEmpty());

                long killedAt = System.nanoTime();
                cluster.killTaskManager(victim);
                cluster.startTaskManager(CLUSTER_START);
                cluster.await("the job restarted on the new TaskManager", PROGRESS,
                        () -> jobMetric(cluster, job, "numRestarts") >= 1
                                && running(cluster, job));
                double recoverySeconds = (System.nanoTime() - killedAt) / 1e9;
                produce(bootstrap, "kill-", List.of(), slice2);
                produceSentinels(bootstrap, "kill-", sentinelMs);

                // ---- the failure-free run complete: event time at the sentinels (every flush
                // done) and every delta the user-graph emitted committed
                long finalWatermark = sentinelMs - OUT_OF_ORDERNESS_MS - 1;
                StringBuilder seen = new StringBuilder();
                cluster.await(() -> "the failure-free run complete (" + seen + ")", PROGRESS,
                        () -> {
                            long watermark = graphWatermark(cluster, reference);
                            long emitted = operatorMetric(cluster, reference, "deltasOut");
                            int committed = count(committed(bootstrap, "ref-"));
                            seen.setLength(0);
                            seen.append("watermark ").append(watermark).append(" of ")
                                    .append(finalWatermark).append(", deltasOut ")
                                    .append(emitted).append(", committed ").append(committed);
                            return watermark >= finalWatermark && emitted > 0
                                    && committed == emitted;
                        });
                Map<String, List<String>> expected = committed(bootstrap, "ref-");
                assertThat(expected).as("every user has deltas").hasSize(data.users());

                cluster.await(() -> "the killed run's committed deltas equal the failure-free "
                        + "run's (" + sizes(committed(bootstrap, "kill-")) + " of "
                        + sizes(expected) + ")", PROGRESS,
                        () -> committed(bootstrap, "kill-").equals(expected));
                assertThat(jobMetric(cluster, reference, "numRestarts")).isZero();
                System.out.printf("kill -9: %d committed deltas equal; job running again %.1f s "
                        + "after the kill, %d restart(s)%n", count(expected), recoverySeconds,
                        jobMetric(cluster, job, "numRestarts"));
                for (String id : List.of(reference, job)) {
                    cluster.patch("/jobs/" + id + "?mode=cancel");
                }
            } catch (AssertionError | Exception e) {
                throw new AssertionError(e.getMessage()
                        + StandaloneFlinkCluster.tail(cluster.log("jobmanager")), e);
            }
        }
    }

    // ------------------------------------------------------------------ the job via REST

    private static String run(StandaloneFlinkCluster cluster, String jarId, String bootstrap,
            String prefix, String inference) throws Exception {
        List<String> args = new ArrayList<>(List.of(
                "--kafka.bootstrap", bootstrap,
                "--kafka.topic.events", prefix + "user-events",
                "--kafka.topic.items", prefix + "item-catalog",
                "--kafka.topic.deltas", prefix + "graph-deltas",
                "--kafka.topic.dead-letters", prefix + "dead-letters",
                "--kafka.topic.item-embeddings", "",
                "--recommend.enabled", "false",
                "--kafka.group-id", prefix + "group",
                "--kafka.transactional-id-prefix", prefix + "tx",
                "--triton.endpoint", inference,
                // no partition may go idle: event time moves with the data alone
                "--watermark.idleness", "1 h",
                "--execution.checkpointing.interval", "1 s",
                "--restart-strategy.type", "fixed-delay",
                "--restart-strategy.fixed-delay.attempts", "20",
                "--restart-strategy.fixed-delay.delay", "1 s"));
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("entryClass", "dev.interestgraph.InterestGraphJob");
        body.put("programArgsList", args);
        body.put("parallelism", 1);
        String jobId = cluster.post("/jars/" + jarId + "/run", body).path("jobid").asText();
        assertThat(jobId).hasSize(32);
        return jobId;
    }

    private static boolean running(StandaloneFlinkCluster cluster, String jobId) {
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
    }

    private static void awaitRunning(StandaloneFlinkCluster cluster, String jobId)
            throws InterruptedException {
        cluster.await("job " + jobId + " RUNNING", PROGRESS, () -> running(cluster, jobId));
    }

    /** The TaskManagers the job's subtasks run on. */
    private static List<String> taskManagers(StandaloneFlinkCluster cluster, String jobId)
            throws Exception {
        List<String> ids = new ArrayList<>();
        for (JsonNode vertex : cluster.get("/jobs/" + jobId).path("vertices")) {
            for (JsonNode subtask : cluster.get("/jobs/" + jobId + "/vertices/"
                    + vertex.path("id").asText()).path("subtasks")) {
                ids.add(subtask.path("taskmanager-id").asText());
            }
        }
        return ids;
    }

    /** A job-level metric (numRestarts), -1 while unknown. */
    private static long jobMetric(StandaloneFlinkCluster cluster, String jobId, String name) {
        JsonNode values = cluster.tryGet("/jobs/" + jobId + "/metrics?get=" + name);
        if (values == null || !values.isArray() || values.isEmpty()) {
            return -1;
        }
        return (long) values.get(0).path("value").asDouble();
    }

    /** The sum over subtasks of an operator metric ({@code user-graph.deltasOut}). */
    private static long operatorMetric(StandaloneFlinkCluster cluster, String jobId,
            String name) {
        long sum = 0;
        JsonNode job = cluster.tryGet("/jobs/" + jobId);
        if (job == null) {
            return -1;
        }
        for (JsonNode vertex : job.path("vertices")) {
            String base = "/jobs/" + jobId + "/vertices/" + vertex.path("id").asText()
                    + "/subtasks/metrics";
            JsonNode metrics = cluster.tryGet(base);
            if (metrics == null) {
                return -1;
            }
            List<String> ids = new ArrayList<>();
            metrics.forEach(m -> {
                if (m.path("id").asText().endsWith("." + name)) {
                    ids.add(m.path("id").asText());
                }
            });
            if (ids.isEmpty()) {
                continue;
            }
            JsonNode values = cluster.tryGet(base + "?agg=sum&get="
                    + URLEncoder.encode(String.join(",", ids), StandardCharsets.UTF_8));
            if (values == null) {
                return -1;
            }
            for (JsonNode value : values) {
                sum += (long) value.path("sum").asDouble();
            }
        }
        return sum;
    }

    /** The user-graph's input watermark (the dashboard's Watermarks tab), MIN while unknown. */
    private static long graphWatermark(StandaloneFlinkCluster cluster, String jobId) {
        JsonNode job = cluster.tryGet("/jobs/" + jobId);
        if (job == null) {
            return Long.MIN_VALUE;
        }
        for (JsonNode vertex : job.path("vertices")) {
            if (vertex.path("name").asText().startsWith("user-graph")) {
                JsonNode marks = cluster.tryGet("/jobs/" + jobId + "/vertices/"
                        + vertex.path("id").asText() + "/watermarks");
                if (marks == null || marks.isEmpty()) {
                    return Long.MIN_VALUE;
                }
                long min = Long.MAX_VALUE;
                for (JsonNode mark : marks) {
                    min = Math.min(min, (long) mark.path("value").asDouble());
                }
                return min;
            }
        }
        return Long.MIN_VALUE;
    }

    // ------------------------------------------------------------------ Kafka

    private static void produce(String bootstrap, String prefix, List<ItemVersion> items,
            List<UserAction> events) {
        try (KafkaProducer<byte[], byte[]> producer = Topics.producer(bootstrap)) {
            for (ItemVersion item : items) {
                producer.send(new ProducerRecord<>(prefix + "item-catalog", bytes(item.itemId),
                        EventJson.toJson(item)));
            }
            for (UserAction event : events) {
                producer.send(new ProducerRecord<>(prefix + "user-events", bytes(event.userId),
                        EventJson.toJson(event)));
            }
            // a catalogue record at the last event's time: the item side's event time follows
            // (watermarks are not in checkpoints: after a restore only new records move it)
            if (!events.isEmpty()) {
                producer.send(new ProducerRecord<>(prefix + "item-catalog",
                        bytes("heartbeat-item"), EventJson.toJson(heartbeat(
                                events.get(events.size() - 1).eventTimeMs))));
            }
            producer.flush();
        }
    }

    /** An event and a catalogue record a day after the last event: every flush is due. */
    private static void produceSentinels(String bootstrap, String prefix, long sentinelMs) {
        try (KafkaProducer<byte[], byte[]> producer = Topics.producer(bootstrap)) {
            producer.send(new ProducerRecord<>(prefix + "user-events", bytes("sentinel"),
                    EventJson.toJson(new UserAction("sentinel", "sentinel-user",
                            "heartbeat-item", Action.VIEW, sentinelMs, 0, null))));
            producer.send(new ProducerRecord<>(prefix + "item-catalog", bytes("heartbeat-item"),
                    EventJson.toJson(heartbeat(sentinelMs))));
            producer.flush();
        }
    }

    private static ItemVersion heartbeat(long timeMs) {
        return new ItemVersion("heartbeat-item", "heartbeat", "", new String[] {"heartbeat"},
                timeMs);
    }

    /** The committed deltas (read_committed) as opaque records: per key, values in order. */
    private static Map<String, List<String>> committed(String bootstrap, String prefix) {
        Map<String, List<String>> byKey = new TreeMap<>();
        for (ConsumerRecord<byte[], byte[]> record
                : Topics.readAll(bootstrap, prefix + "graph-deltas")) {
            byKey.computeIfAbsent(HexFormat.of().formatHex(record.key()),
                    k -> new ArrayList<>()).add(HexFormat.of().formatHex(record.value()));
        }
        return byKey;
    }

    private static int count(Map<String, List<String>> byKey) {
        return byKey.values().stream().mapToInt(List::size).sum();
    }

    private static Map<String, Integer> sizes(Map<String, List<String>> byKey) {
        Map<String, Integer> sizes = new TreeMap<>();
        byKey.forEach((k, v) -> sizes.put(new String(HexFormat.of().parseHex(k),
                StandardCharsets.UTF_8), v.size()));
        return sizes;
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
