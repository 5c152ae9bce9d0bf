package dev.interestgraph.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.interestgraph.InterestGraphPipeline;
import dev.interestgraph.config.InterestGraphOptions;
import dev.interestgraph.data.EventJson;
import dev.interestgraph.data.SyntheticDataset;
import dev.interestgraph.delta.DeltaMaterializer;
import dev.interestgraph.delta.DeltaRecord;
import dev.interestgraph.sink.DeltaSerializationSchema;
import dev.interestgraph.inference.EmbeddedInferenceServer;
import dev.interestgraph.inference.EmbeddingBackends;
import dev.interestgraph.inference.MiniLmEncoder;
import dev.interestgraph.local.LocalKafkaBroker;
import dev.interestgraph.local.Topics;
import dev.interestgraph.model.ItemVersion;
import dev.interestgraph.model.UserAction;
import dev.interestgraph.proto.v1.EdgeUpsert;
import dev.interestgraph.proto.v1.InterestUpsert;
import dev.interestgraph.proto.v1.ItemEmbedding;
import dev.interestgraph.proto.v2.GraphDelta;
import dev.interestgraph.testing.HashingTestEmbedder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.stream.Collectors;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.sink.SinkFunction;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import static org.assertj.core.api.Assertions.assertThat;


/**
 * The whole job on a MiniCluster against a real in-process Kafka broker: items and events in
 * (JSON, with malformed records among them), deltas out through the exactly-once sink, read with
 * read_committed.
 */
class InterestGraphJobIT {

    @RegisterExtension
    static final MiniClusterExtension FLINK = new MiniClusterExtension(
            new MiniClusterResourceConfiguration.Builder()
                    .setNumberTaskManagers(1)
                    .setNumberSlotsPerTaskManager(2)
                    .build());

    private static final long DAY = 24L * 3600 * 1000;
    private static final long HALF_LIFE_MS = 30 * DAY;
    private static LocalKafkaBroker kafka;

    /** Deltas as the operator emitted them, before Kafka. */
    private static final ConcurrentLinkedQueue<byte[]> TAPPED = new ConcurrentLinkedQueue<>();

    @BeforeAll
    static void startKafka() {
        kafka = LocalKafkaBroker.start();
    }

    @AfterAll
    static void stopKafka() {
        kafka.close();
    }

    @Test
    void itemsAndEventsBecomeDeltasThatFollowThePlantedDrift() throws Exception {
        kafka.createTopic("user-events", 2);
        kafka.createTopic("item-catalog", 1);
        // as deployed: the deltas carry their (old) event time, which CreateTime with the default
        // 7-day retention would delete at the broker's retention check (docs/reliability.md)
        kafka.createTopic("graph-deltas", 2,
                Map.of("message.timestamp.type", "LogAppendTime"));
        kafka.createTopic("dead-letters", 1);
        kafka.createCompactedTopic("item-embeddings", 1);

        SyntheticDataset data = SyntheticDataset.builder()
                .users(24).itemsPerTopic(12).eventsPerUser(40).spanMs(90 * DAY).noise(0.05)
                .build();
        Map<String, Integer> malformed = new HashMap<>();
        try (KafkaProducer<byte[], byte[]> producer = Topics.producer(kafka.bootstrapServers())) {
            for (ItemVersion item : data.items()) {
                producer.send(new ProducerRecord<>("item-catalog", bytes(item.itemId),
                        EventJson.toJson(item)));
            }
            for (UserAction event : data.events()) {
                producer.send(new ProducerRecord<>("user-events", bytes(event.userId),
                        EventJson.toJson(event)));
            }
            sendMalformed(producer, "user-events", bytes("{\"user_id\": \"u\""), "MALFORMED_JSON",
                    malformed);
            sendMalformed(producer, "user-events", bytes("{\"event_id\":\"x\",\"user_id\":\"u\","
                    + "\"item_id\":\"i\",\"action\":\"TELEPORT\",\"event_time_ms\":1700000000000}"),
                    "UNKNOWN_ACTION", malformed);
            sendMalformed(producer, "user-events", bytes("{\"event_id\":\"x\",\"user_id\":\"u\","
                    + "\"item_id\":\"i\",\"action\":\"VIEW\",\"event_time_ms\":\"yesterday\"}"),
                    "WRONG_TYPE", malformed);
            sendMalformed(producer, "user-events", bytes("{\"event_id\":\"x\",\"user_id\":\"u\","
                    + "\"item_id\":\"i\",\"action\":\"VIEW\",\"event_time_ms\":-5}"),
                    "INVALID_TIMESTAMP", malformed);
            sendMalformed(producer, "user-events", new byte[0], "EMPTY_RECORD", malformed);
            sendMalformed(producer, "item-catalog", bytes("{\"title\":\"no id\",\"updated_ms\":"
                    + "1700000000000}"), "MISSING_FIELD", malformed);
            producer.flush();
        }

        Configuration config = new Configuration();
        config.set(InterestGraphOptions.KAFKA_BOOTSTRAP, kafka.bootstrapServers());
        config.set(InterestGraphOptions.KAFKA_BOUNDED, true);
        config.set(InterestGraphOptions.WATERMARK_IDLENESS, Duration.ofSeconds(1));
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        env.setParallelism(2);
        env.enableCheckpointing(500);
        InterestGraphPipeline.Outputs outputs =
                new InterestGraphPipeline(config, HashingTestEmbedder.factory()).build(env);
        outputs.deltas.addSink(new TapSink()).name("test tap");
        env.execute("interest-graph IT");

        // ---- deltas: what the exactly-once sink committed equals what the operator emitted
        List<GraphDelta> committed = Topics.readAll(kafka.bootstrapServers(), "graph-deltas")
                .stream().map(InterestGraphJobIT::parseDelta).collect(Collectors.toList());
        List<GraphDelta> tapped = TAPPED.stream().map(InterestGraphJobIT::parseDelta)
                .collect(Collectors.toList());
        assertThat(committed).hasSameSizeAs(tapped).hasSizeGreaterThan(data.events().size() / 10);
        assertThat(committed).containsExactlyInAnyOrderElementsOf(tapped);
        Map<String, List<GraphDelta>> byUser = committed.stream()
                .collect(Collectors.groupingBy(GraphDelta::getUserId));
        assertThat(byUser).hasSize(24);
        byUser.forEach((user, deltas) -> {
            for (int i = 0; i < deltas.size(); i++) { // one partition per user: in order
                assertThat(deltas.get(i).getSeq()).as("seq of %s", user).isEqualTo(i + 1);
            }
        });

        // ---- dead letters: every malformed record, with its reason
        List<JsonNode> deadLetters = Topics.readAll(kafka.bootstrapServers(), "dead-letters")
                .stream().map(InterestGraphJobIT::parseJson).collect(Collectors.toList());
        Map<String, Integer> reasons = new HashMap<>();
        deadLetters.forEach(d -> reasons.merge(d.get("reason").asText(), 1, Integer::sum));
        assertThat(reasons).isEqualTo(malformed);
        assertThat(deadLetters).allSatisfy(d -> assertThat(d.get("detail").asText()).isNotBlank());

        // ---- item embeddings: one per item
        assertThat(Topics.readAll(kafka.bootstrapServers(), "item-embeddings"))
                .hasSize(data.items().size())
                .allSatisfy(r -> assertThat(ItemEmbedding.parseFrom(r.value()).getEmbeddingCount())
                        .isEqualTo(HashingTestEmbedder.DIMENSION));

        // ---- the planted drift: the strongest interest moves from the old topic to the new
        DeltaMaterializer beforeDrift = new DeltaMaterializer();
        committed.stream().filter(d -> d.getEventTimeMs() < data.driftMs())
                .forEach(beforeDrift::apply);
        DeltaMaterializer atEnd = new DeltaMaterializer();
        committed.forEach(atEnd::apply);
        int followed = 0;
        for (String user : byUser.keySet()) {
            String labelBefore = strongestInterestLabel(beforeDrift.user(user).orElseThrow(),
                    data.driftMs());
            String labelAfter = strongestInterestLabel(atEnd.user(user).orElseThrow(),
                    atEnd.user(user).orElseThrow().eventTimeMs());
            if (labelBefore.contains(data.topicBefore(user))
                    && labelAfter.contains(data.topicAfter(user))) {
                followed++;
            }
        }
        assertThat(followed).as("users whose strongest interest followed the drift")
                .isGreaterThanOrEqualTo(20);
    }

    @Test
    void theDefaultPathEmbedsWithTheRealModelThroughTheEmbeddedServer() throws Exception {
        String prefix = "real-";
        for (String topic : List.of("user-events", "item-catalog", "graph-deltas", "dead-letters")) {
            kafka.createTopic(prefix + topic, 1);
        }
        kafka.createCompactedTopic(prefix + "item-embeddings", 1);
        SyntheticDataset data = SyntheticDataset.builder().users(4).itemsPerTopic(3)
                .eventsPerUser(10).build();
        try (KafkaProducer<byte[], byte[]> producer = Topics.producer(kafka.bootstrapServers())) {
            for (ItemVersion item : data.items()) {
                producer.send(new ProducerRecord<>(prefix + "item-catalog", bytes(item.itemId),
                        EventJson.toJson(item)));
            }
            for (UserAction event : data.events()) {
                producer.send(new ProducerRecord<>(prefix + "user-events", bytes(event.userId),
                        EventJson.toJson(event)));
            }
        }
        Configuration config = new Configuration();
        config.set(InterestGraphOptions.KAFKA_BOOTSTRAP, kafka.bootstrapServers());
        config.set(InterestGraphOptions.KAFKA_BOUNDED, true);
        config.set(InterestGraphOptions.WATERMARK_IDLENESS, Duration.ofSeconds(1));
        InterestGraphOptions.prefixTopics(config, prefix);
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        env.setParallelism(1);
        env.enableCheckpointing(500);
        new InterestGraphPipeline(config, EmbeddingBackends.fromConfig(config)).build(env);
        env.execute("interest-graph real model IT");

        Map<String, ItemEmbedding> embeddings = new HashMap<>();
        for (ConsumerRecord<byte[], byte[]> record :
                Topics.readAll(kafka.bootstrapServers(), prefix + "item-embeddings")) {
            ItemEmbedding embedding = ItemEmbedding.parseFrom(record.value());
            embeddings.put(embedding.getItemId(), embedding);
        }
        assertThat(embeddings).hasSize(data.items().size());
        try (MiniLmEncoder encoder = MiniLmEncoder.load()) {
            List<String> texts = data.items().stream().map(ItemVersion::text)
                    .collect(Collectors.toList());
            float[][] expected = encoder.encode(texts);
            for (int i = 0; i < expected.length; i++) {
                ItemEmbedding actual = embeddings.get(data.items().get(i).itemId);
                assertThat(actual.getModelVersion()).isEqualTo(EmbeddedInferenceServer.MODEL_VERSION);
                double dot = 0;
                for (int d = 0; d < expected[i].length; d++) {
                    dot += expected[i][d] * actual.getEmbedding(d);
                }
                assertThat(dot).as("cosine for %s", texts.get(i)).isGreaterThan(0.999);
            }
        }
        List<GraphDelta> deltas = Topics.readAll(kafka.bootstrapServers(), prefix + "graph-deltas")
                .stream().map(InterestGraphJobIT::parseDelta).collect(Collectors.toList());
        DeltaMaterializer graphs = new DeltaMaterializer();
        deltas.forEach(graphs::apply);
        assertThat(graphs.users()).hasSize(4);
        assertThat(graphs.users().values()).allSatisfy(user -> {
            assertThat(user.interests()).isNotEmpty();
            assertThat(user.profile().orElseThrow().getModelVersion())
                    .isEqualTo(EmbeddedInferenceServer.MODEL_VERSION);
        });
    }

    /** The label of the interest whose member edges weigh most, decayed to {@code atMs}. */
    private static String strongestInterestLabel(DeltaMaterializer.UserView view, long atMs) {
        Map<Integer, Double> strength = new HashMap<>();
        for (EdgeUpsert edge : view.edges().values()) {
            if (edge.getInterestId() >= 0) {
                double decayed = edge.getWeight()
                        * Math.pow(2, -(double) (atMs - edge.getLastMs()) / HALF_LIFE_MS);
                strength.merge(edge.getInterestId(), decayed, Double::sum);
            }
        }
        int strongest = strength.entrySet().stream()
                .max(Map.Entry.comparingByValue()).orElseThrow().getKey();
        InterestUpsert interest = view.interests().get(strongest);
        return interest == null ? "" : interest.getLabel();
    }

    private static void sendMalformed(KafkaProducer<byte[], byte[]> producer, String topic,
            byte[] value, String reason, Map<String, Integer> expected) {
        producer.send(new ProducerRecord<>(topic, bytes("bad"), value));
        expected.merge(reason, 1, Integer::sum);
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static GraphDelta parseDelta(ConsumerRecord<byte[], byte[]> record) {
        assertThat(new String(record.key(), StandardCharsets.UTF_8)).isNotEmpty();
        assertThat(DeltaSerializationSchema.format(record)).as("delta format header").isEqualTo("2");
        return parseDelta(record.value());
    }

    private static GraphDelta parseDelta(byte[] bytes) {
        try {
            return GraphDelta.parseFrom(bytes);
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    private static JsonNode parseJson(ConsumerRecord<byte[], byte[]> record) {
        try {
            return new ObjectMapper().readTree(record.value());
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    /** Collects the operator's deltas in this JVM (MiniCluster). */
    private static final class TapSink implements SinkFunction<DeltaRecord> {
        private static final long serialVersionUID = 1L;

        @Override
        public void invoke(DeltaRecord record, Context context) {
            TAPPED.add(record.payload);
        }
    }

}
