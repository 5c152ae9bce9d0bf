package dev.interestgraph.it;

import dev.interestgraph.InterestGraphPipeline;
import dev.interestgraph.config.InterestGraphOptions;
import dev.interestgraph.data.EventJson;
import dev.interestgraph.data.SyntheticDataset;
import dev.interestgraph.delta.DeltaMaterializer;
import dev.interestgraph.sink.DeltaSerializationSchema;
import dev.interestgraph.inference.EmbeddedInferenceServer;
import dev.interestgraph.inference.EmbeddingBackends;
import dev.interestgraph.inference.MiniLmEncoder;
import dev.interestgraph.local.LocalKafkaBroker;
import dev.interestgraph.local.Topics;
import dev.interestgraph.model.Action;
import dev.interestgraph.model.ItemVersion;
import dev.interestgraph.model.UserAction;
import dev.interestgraph.proto.v1.EdgeUpsert;
import dev.interestgraph.proto.v1.GraphDelta;
import dev.interestgraph.proto.v1.InterestUpsert;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import static org.assertj.core.api.Assertions.assertThat;


/**
 * The inference server goes away mid-stream and comes back on the same address: the job holds
 * back (retries, breaker), loses no event and ends with the same graphs as an undisturbed run.
 */
class InferenceOutageIT {

    @RegisterExtension
    static final MiniClusterExtension FLINK = new MiniClusterExtension(
            new MiniClusterResourceConfiguration.Builder()
                    .setNumberTaskManagers(1).setNumberSlotsPerTaskManager(2).build());

    private static LocalKafkaBroker kafka;
    private static MiniLmEncoder encoder;

    @BeforeAll
    static void start() {
        kafka = LocalKafkaBroker.start();
        encoder = MiniLmEncoder.load();
    }

    @AfterAll
    static void stop() {
        kafka.close();
        encoder.close();
    }

    @Test
    void anInferenceOutageLosesNothingAndChangesNothing() throws Exception {
        int port;
        try (ServerSocket probe = new ServerSocket(0)) {
            port = probe.getLocalPort();
        }
        SyntheticDataset data = SyntheticDataset.builder().users(8).itemsPerTopic(3)
                .eventsPerUser(15).build();
        // every event brings its own text, so embedding requests run through the whole stream
        data.events().forEach(e -> {
            e.action = Action.COMMENT;
            e.text = "comment " + e.eventId + " on " + SyntheticDataset.topicOf(e.itemId);
        });

        EmbeddedInferenceServer[] server = {serve(port)};
        Map<String, DeltaMaterializer.UserView> calm;
        try {
            calm = run("calm-", port, data, () -> produceEvents("calm-", data));
        } finally {
            server[0].close();
        }

        server[0] = serve(port);
        AtomicInteger reconnects = new AtomicInteger();
        try {
            Map<String, DeltaMaterializer.UserView> disturbed = run("outage-", port, data, () -> {
                // The catalogue is embedded; now the server goes away. A plain socket on its
                // port counts the job's reconnection attempts; then the server comes back.
                server[0].close();
                try (ServerSocket blackhole = new ServerSocket(port)) {
                    Thread acceptor = new Thread(() -> {
                        while (!blackhole.isClosed()) {
                            try (Socket socket = blackhole.accept()) {
                                reconnects.incrementAndGet();
                            } catch (Exception e) {
                                return;
                            }
                        }
                    });
                    acceptor.start();
                    produceEvents("outage-", data);
                    await(() -> reconnects.get() >= 3);
                }
                server[0] = serve(port);
            });
            assertThat(reconnects.get()).isGreaterThanOrEqualTo(3);
            assertThat(disturbed).hasSize(8);
            assertThat(summary(disturbed)).isEqualTo(summary(calm));
        } finally {
            server[0].close();
        }
    }

    /** What happens once the catalogue is embedded: at least, the events are produced. */
    @FunctionalInterface
    private interface AfterCatalogue {
        void run() throws Exception;
    }

    /**
     * Runs the job unbounded: the catalogue first (waiting until it is embedded), then {@code
     * afterCatalogue}, then waits until every user's last event is in a committed delta.
     */
    private Map<String, DeltaMaterializer.UserView> run(String prefix, int port,
            SyntheticDataset data, AfterCatalogue afterCatalogue) throws Exception {
        for (String topic : List.of("user-events", "item-catalog", "graph-deltas", "dead-letters")) {
            kafka.createTopic(prefix + topic, 2);
        }
        kafka.createCompactedTopic(prefix + "item-embeddings", 1);
        try (KafkaProducer<byte[], byte[]> producer = Topics.producer(kafka.bootstrapServers())) {
            for (ItemVersion item : data.items()) {
                producer.send(new ProducerRecord<>(prefix + "item-catalog", bytes(item.itemId),
                        EventJson.toJson(item)));
            }
        }
        Configuration config = new Configuration();
        config.set(InterestGraphOptions.KAFKA_BOOTSTRAP, kafka.bootstrapServers());
        config.set(InterestGraphOptions.TRITON_ENDPOINT, "127.0.0.1:" + port);
        config.set(InterestGraphOptions.TRITON_REQUEST_TIMEOUT, Duration.ofSeconds(2));
        config.set(InterestGraphOptions.EMBED_RETRY_MAX_BACKOFF, Duration.ofMillis(300));
        config.set(InterestGraphOptions.WATERMARK_IDLENESS, Duration.ofSeconds(1));
        InterestGraphOptions.prefixTopics(config, prefix);
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        env.setParallelism(2);
        env.enableCheckpointing(300);
        new InterestGraphPipeline(config, EmbeddingBackends.fromConfig(config)).build(env);
        JobClient job = env.executeAsync(prefix + "outage IT");
        try {
            await(() -> Topics.readAll(kafka.bootstrapServers(), prefix + "item-embeddings").size()
                    == data.items().size());
            afterCatalogue.run();
            long expectedUsers = data.events().stream().map(e -> e.userId).distinct().count();
            await(() -> {
                Map<String, DeltaMaterializer.UserView> users = materialize(prefix);
                return users.size() == expectedUsers && users.values().stream()
                        .allMatch(u -> u.eventTimeMs() >= lastEventOf(data, u.userId));
            }, () -> "users with deltas: " + materialize(prefix).size() + " of " + expectedUsers
                    + "; behind their last event: " + materialize(prefix).values().stream()
                            .filter(u -> u.eventTimeMs() < lastEventOf(data, u.userId))
                            .map(u -> u.userId).collect(Collectors.toList()));
            return materialize(prefix);
        } finally {
            job.cancel().get();
        }
    }

    private static long lastEventOf(SyntheticDataset data, String user) {
        return data.events().stream().filter(e -> e.userId.equals(user))
                .mapToLong(e -> e.eventTimeMs).max().orElseThrow();
    }

    private static void produceEvents(String prefix, SyntheticDataset data) {
        try (KafkaProducer<byte[], byte[]> producer = Topics.producer(kafka.bootstrapServers())) {
            for (UserAction event : data.events()) {
                producer.send(new ProducerRecord<>(prefix + "user-events", bytes(event.userId),
                        EventJson.toJson(event)));
            }
            // a much later event moves event time past every real event, so all are flushed
            UserAction sentinel = new UserAction("sentinel", "sentinel-user", "scifi-0",
                    Action.VIEW, data.events().get(data.events().size() - 1).eventTimeMs
                            + Duration.ofDays(1).toMillis(), 0, null);
            for (int partition = 0; partition < 2; partition++) {
                producer.send(new ProducerRecord<>(prefix + "user-events", partition,
                        bytes("sentinel"), EventJson.toJson(sentinel)));
            }
        }
    }

    private static Map<String, DeltaMaterializer.UserView> materialize(String prefix) {
        DeltaMaterializer materializer = new DeltaMaterializer();
        Topics.readAll(kafka.bootstrapServers(), prefix + "graph-deltas").forEach(r -> {
            try {
                materializer.applyRecord(DeltaSerializationSchema.format(r), r.value());
            } catch (Exception e) {
                throw new AssertionError(e);
            }
        });
        return new TreeMap<>(materializer.users());
    }

    /** The graphs' substance: edges with weights and counts, interests with labels and sizes. */
    private static Map<String, String> summary(Map<String, DeltaMaterializer.UserView> users) {
        Map<String, String> summary = new TreeMap<>();
        users.forEach((user, view) -> summary.put(user, view.seq() + " | "
                + view.edges().values().stream().map(EdgeUpsert::toString)
                        .collect(Collectors.joining(";")).replaceAll("\\s+", " ")
                + " | " + view.interests().values().stream()
                        .map(i -> i.getInterestId() + ":" + i.getLabel() + ":" + i.getSize())
                        .collect(Collectors.joining(","))));
        return summary;
    }

    private static EmbeddedInferenceServer serve(int port) throws Exception {
        return EmbeddedInferenceServer.builder().port(port).encoder(encoder).build();
    }

    private static void await(BooleanSupplier condition) throws InterruptedException {
        await(condition, () -> "");
    }

    private static void await(BooleanSupplier condition, Supplier<String> diagnosis)
            throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("condition not met within 120 s " + diagnosis.get());
            }
            Thread.sleep(100); // polling interval of the condition
        }
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
