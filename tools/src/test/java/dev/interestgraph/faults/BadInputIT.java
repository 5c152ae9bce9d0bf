package dev.interestgraph.faults;

import static dev.interestgraph.faults.FaultTestSupport.assertContiguous;
import static dev.interestgraph.faults.FaultTestSupport.bytes;
import static dev.interestgraph.faults.FaultTestSupport.deltasByUser;
import static dev.interestgraph.faults.FaultTestSupport.materialize;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.interestgraph.InterestGraphPipeline;
import dev.interestgraph.config.InterestGraphOptions;
import dev.interestgraph.config.InterestGraphOptions.InputFormat;
import dev.interestgraph.data.EventJson;
import dev.interestgraph.delta.DeltaMaterializer;
import dev.interestgraph.ingest.DeadLetterReason;
import dev.interestgraph.local.LocalKafkaBroker;
import dev.interestgraph.local.Topics;
import dev.interestgraph.model.Action;
import dev.interestgraph.model.ItemVersion;
import dev.interestgraph.model.UserAction;
import dev.interestgraph.proto.v1.UserEvent;
import dev.interestgraph.testing.HashingTestEmbedder;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.Future;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A corpus of malformed and adversarial records goes through the real job (Kafka source, parse
 * in the source, {@code SplitDeadLetters}, the exactly-once dead-letter sink) among valid events
 * and duplicates: the job does not fail (no restart strategy: any failure fails the test), every
 * malformed record is in the dead-letter topic exactly once with the expected reason, its source
 * offset and its original bytes, and the valid events make exactly the graph they should.
 *
 * <p>The parser itself is fuzzed in-process by {@code InputDeserializationSchemaTest}; this test
 * is about the path through the job.
 */
class BadInputIT {

    @RegisterExtension
    static final MiniClusterExtension FLINK = new MiniClusterExtension(
            new MiniClusterResourceConfiguration.Builder()
                    .setNumberTaskManagers(1).setNumberSlotsPerTaskManager(2).build());

    private static final long T0 = 1_700_000_000_000L;
    private static final ObjectMapper MAPPER = new ObjectMapper();
    /** In every id and text of the malformed records: a dead letter's detail must not quote it. */
    private static final String PII = "pii-";
    /**
     * How much of a malformed record a dead letter keeps (DeadLetterSerializationSchema's
     * MAX_PAYLOAD_BYTES): base64 of a record near Kafka's 1 MiB limit would not fit in the
     * dead-letter topic. Its own constant, so that this test compiles before that cap exists.
     */
    private static final int DEAD_LETTER_PAYLOAD_CAP = 512 * 1024;

    private static LocalKafkaBroker kafka;

    @BeforeAll
    static void start() {
        kafka = LocalKafkaBroker.start();
    }

    @AfterAll
    static void stop() {
        if (kafka != null) {
            kafka.close();
        }
    }

    /** One record sent, and what the job must make of it. */
    private static final class Sent {
        final String topic;
        final Future<RecordMetadata> metadata;
        final byte[] value;
        final DeadLetterReason reason; // null: a valid record

        Sent(String topic, Future<RecordMetadata> metadata, byte[] value, DeadLetterReason reason) {
            this.topic = topic;
            this.metadata = metadata;
            this.value = value;
            this.reason = reason;
        }
    }

    /** Collects what a corpus sends, with the offsets Kafka gave each record. */
    private static final class Corpus {
        final String prefix;
        final KafkaProducer<byte[], byte[]> producer;
        final List<Sent> sent = new ArrayList<>();
        /** user → item → how many times the graph must have applied an action to that edge. */
        final Map<String, Map<String, Integer>> expectedCounts = new TreeMap<>();
        int adjacentDuplicates;
        int reusedIds;
        /** user → item → how many reused-id pairs (the original's item and the reuse's) touch it. */
        final Map<String, Map<String, Integer>> reusePairs = new TreeMap<>();

        Corpus(String prefix, KafkaProducer<byte[], byte[]> producer) {
            this.prefix = prefix;
            this.producer = producer;
        }

        void bad(String topic, String key, byte[] value, DeadLetterReason reason) {
            sent.add(new Sent(topic, producer.send(new ProducerRecord<>(prefix + topic,
                    key == null ? null : bytes(key), value)), value, reason));
        }

        void valid(UserAction event, byte[] value) {
            sent.add(new Sent("user-events", producer.send(new ProducerRecord<>(
                    prefix + "user-events", bytes(event.userId), value)), value, null));
        }

        void expectApplied(UserAction event) {
            expectedCounts.computeIfAbsent(event.userId, u -> new TreeMap<>())
                    .merge(event.itemId, 1, Integer::sum);
        }

        long malformed() {
            return sent.stream().filter(s -> s.reason != null).count();
        }
    }

    @Test
    void malformedJsonRecordsAllBecomeDeadLettersAndTheJobCarriesOn() throws Exception {
        String prefix = "json-";
        createTopics(prefix);
        Random random = new Random(61);
        Corpus corpus;
        try (KafkaProducer<byte[], byte[]> producer = Topics.producer(kafka.bootstrapServers())) {
            corpus = new Corpus(prefix, producer);
            List<ItemVersion> items = catalogue();
            for (ItemVersion item : items) {
                producer.send(new ProducerRecord<>(prefix + "item-catalog", bytes(item.itemId),
                        EventJson.toJson(item)));
            }
            badItems(corpus, random);
            validEvents(corpus, random, EventJson::toJson);
            badJsonEvents(corpus, random);
            producer.flush();
        }
        verify(prefix, corpus, runJob(prefix, InputFormat.JSON));
        assertThat(corpus.malformed()).isGreaterThanOrEqualTo(10_000);
    }

    @Test
    void malformedProtobufRecordsAllBecomeDeadLettersAndTheJobCarriesOn() throws Exception {
        String prefix = "protobuf-";
        createTopics(prefix);
        Random random = new Random(62);
        Corpus corpus;
        try (KafkaProducer<byte[], byte[]> producer = Topics.producer(kafka.bootstrapServers())) {
            corpus = new Corpus(prefix, producer);
            validEvents(corpus, random, BadInputIT::toProtobuf);
            badProtobufEvents(corpus, random);
            producer.flush();
        }
        verify(prefix, corpus, runJob(prefix, InputFormat.PROTOBUF));
        assertThat(corpus.malformed()).isGreaterThanOrEqualTo(2_500);
    }

    // ------------------------------------------------------------------ the corpora

    private static List<ItemVersion> catalogue() {
        List<ItemVersion> items = new ArrayList<>();
        for (int i = 0; i < 30; i++) {
            items.add(new ItemVersion("item-" + i, "Title words " + i + " topic" + (i % 5), "",
                    new String[] {"topic" + (i % 5)}, T0 - 1000));
        }
        return items;
    }

    /**
     * Valid events of 10 users over an hour, with exact duplicates right behind 300 of them (same
     * event id, same flush slot: dropped by the user-graph, not dead letters) and 100 events that
     * reuse an earlier event id at another time (another flush slot: both are applied; event ids
     * are unique only within a flush).
     */
    private static void validEvents(Corpus corpus, Random random,
            java.util.function.Function<UserAction, byte[]> encode) {
        Action[] positive = {Action.VIEW, Action.CLICK, Action.CART, Action.PURCHASE, Action.SHARE};
        List<UserAction> events = new ArrayList<>();
        for (int u = 0; u < 10; u++) {
            for (int e = 0; e < 60; e++) {
                // 5 s apart per user: every event of a user has a flush slot of its own
                events.add(new UserAction("ev-" + u + "-" + e, "user-" + u,
                        "item-" + random.nextInt(30), positive[random.nextInt(positive.length)],
                        T0 + e * 5_000L + u * 100L, 0, null));
            }
        }
        events.sort((a, b) -> Long.compare(a.eventTimeMs, b.eventTimeMs));
        Map<String, UserAction> previous = new HashMap<>();
        for (int i = 0; i < events.size(); i++) {
            UserAction event = events.get(i);
            UserAction original = previous.put(event.userId, event);
            String reusable = original == null ? null : original.eventId;
            byte[] value = encode.apply(event);
            corpus.valid(event, value);
            corpus.expectApplied(event);
            if (i % 2 == 0 && corpus.adjacentDuplicates < 300) {
                corpus.valid(event, value); // same key, same partition, right behind it
                corpus.adjacentDuplicates++;
            }
            if (i % 6 == 5 && reusable != null && corpus.reusedIds < 100) {
                // the same user's previous event id, 1 s after this event: a slot of its own,
                // still a duplicate (graph.dedup-window). Of two events with one id the first to
                // reach the user-graph is applied; the item-keyed enrich stage decides which
                // that is, so the check below allows either
                UserAction reuse = new UserAction(reusable, event.userId, event.itemId,
                        event.action, event.eventTimeMs + 1_000, 0, null);
                corpus.valid(reuse, encode.apply(reuse));
                corpus.reusedIds++;
                Map<String, Integer> pairs =
                        corpus.reusePairs.computeIfAbsent(event.userId, u -> new TreeMap<>());
                pairs.merge(original.itemId, 1, Integer::sum);
                pairs.merge(reuse.itemId, 1, Integer::sum);
            }
        }
    }

    private static void badItems(Corpus corpus, Random random) {
        for (int i = 0; i < 200; i++) {
            ItemVersion item = new ItemVersion(PII + "item-" + i, PII + "title", "", new String[0],
                    T0 - 1000);
            byte[] json = EventJson.toJson(item);
            switch (i % 4) {
                case 0 -> corpus.bad("item-catalog", "k", Arrays.copyOf(json,
                        1 + random.nextInt(json.length - 1)), DeadLetterReason.MALFORMED_JSON);
                case 1 -> corpus.bad("item-catalog", "k", bytes("{\"title\":\"" + PII
                        + "no id\",\"updated_ms\":" + T0 + "}"), DeadLetterReason.MISSING_FIELD);
                case 2 -> corpus.bad("item-catalog", "k", bytes("{\"item_id\":\"" + PII
                        + "x\",\"title\":\"t\",\"tags\":\"" + PII + "not-an-array\",\"updated_ms\":"
                        + T0 + "}"), DeadLetterReason.WRONG_TYPE);
                default -> corpus.bad("item-catalog", "k", withInvalidUtf8(json),
                        DeadLetterReason.INVALID_UTF8);
            }
        }
    }

    private static void badJsonEvents(Corpus corpus, Random random) {
        String topic = "user-events";
        // truncated at a random byte (ASCII only, so a cut never splits a character)
        for (int i = 0; i < 2_000; i++) {
            byte[] json = json(i, "\"action\":\"CLICK\"", "\"event_time_ms\":" + (T0 + i));
            corpus.bad(topic, PII + "user-" + i, Arrays.copyOf(json,
                    1 + random.nextInt(json.length - 1)), DeadLetterReason.MALFORMED_JSON);
        }
        // wrong JSON types, one field at a time
        String[][] wrongTypes = {
            {"\"action\":7", "\"event_time_ms\":" + T0},
            {"\"action\":\"VIEW\"", "\"event_time_ms\":\"yesterday\""},
            {"\"action\":\"VIEW\"", "\"event_time_ms\":1700000000000.5"},
            {"\"action\":\"VIEW\"", "\"event_time_ms\":100000000000000000000000000000"},
            {"\"action\":\"VIEW\"", "\"event_time_ms\":[1700000000000]"},
            {"\"action\":\"VIEW\"", "\"event_time_ms\":" + T0, "\"value\":\"5 stars\""},
            {"\"action\":[\"VIEW\"]", "\"event_time_ms\":" + T0},
        };
        for (int i = 0; i < 1_400; i++) {
            corpus.bad(topic, PII + "k", json(i, wrongTypes[i % wrongTypes.length]),
                    DeadLetterReason.WRONG_TYPE);
        }
        for (int i = 0; i < 100; i++) { // ids of the wrong type
            String field = i % 2 == 0 ? "user_id" : "event_id";
            corpus.bad(topic, PII + "k", bytes("{\"" + field + "\":" + i + ","
                    + (i % 2 == 0 ? "\"event_id\":\"" + PII + "e\"" : "\"user_id\":\"" + PII + "u\"")
                    + ",\"item_id\":\"item-1\",\"action\":\"VIEW\",\"event_time_ms\":" + T0 + "}"),
                    DeadLetterReason.WRONG_TYPE);
        }
        // huge text: just over the limit, far over it, and records near Kafka's 1 MiB limit
        for (int i = 0; i < 1_000; i++) {
            int length = i % 100 == 0 ? 200_000 : 8_193 + random.nextInt(4_000);
            corpus.bad(topic, PII + "k", json(i, "\"action\":\"COMMENT\"", "\"event_time_ms\":" + T0,
                    "\"text\":\"" + PII + "x".repeat(length) + "\""), DeadLetterReason.TEXT_TOO_LONG);
        }
        for (int i = 0; i < 3; i++) {
            corpus.bad(topic, PII + "k", json(i, "\"action\":\"COMMENT\"", "\"event_time_ms\":" + T0,
                    "\"text\":\"" + PII + "y".repeat(900_000) + "\""), DeadLetterReason.TEXT_TOO_LONG);
        }
        // timestamps: negative, zero, seconds instead of milliseconds, far future
        long[] times = {-1, -T0, Long.MIN_VALUE, 0, T0 / 1000, System.currentTimeMillis()
                + Duration.ofDays(3).toMillis(), 4_102_444_800_000L, Long.MAX_VALUE};
        for (int i = 0; i < 1_000; i++) {
            corpus.bad(topic, PII + "k", json(i, "\"action\":\"VIEW\"", "\"event_time_ms\":"
                    + times[i % times.length]), DeadLetterReason.INVALID_TIMESTAMP);
        }
        // unknown actions
        String[] actions = {"TELEPORT", "", " ", "VIEWS", "view!", "ПРОСМОТР", "null", "FORGET"};
        for (int i = 0; i < 1_000; i++) {
            corpus.bad(topic, PII + "k", json(i, "\"action\":\"" + actions[i % actions.length]
                    + "\"", "\"event_time_ms\":" + T0), DeadLetterReason.UNKNOWN_ACTION);
        }
        // ids: empty, blank, oversized, with control characters — in each id field
        String[] ids = {"", "   ", PII + "u".repeat(200), PII + "u".repeat(5_000),
            PII + "a\\u0000b", PII + "line\\nbreak"};
        String[] fields = {"event_id", "user_id", "item_id"};
        for (int i = 0; i < 1_500; i++) {
            String field = fields[i % fields.length];
            String id = ids[(i / fields.length) % ids.length];
            String event = "{\"event_id\":\"" + (field.equals("event_id") ? id : PII + "e" + i)
                    + "\",\"user_id\":\"" + (field.equals("user_id") ? id : PII + "u" + i)
                    + "\",\"item_id\":\"" + (field.equals("item_id") ? id : "item-1")
                    + "\",\"action\":\"VIEW\",\"event_time_ms\":" + T0 + "}";
            corpus.bad(topic, PII + "k", bytes(event), DeadLetterReason.INVALID_ID);
        }
        // invalid UTF-8 inside otherwise well-formed JSON
        for (int i = 0; i < 800; i++) {
            corpus.bad(topic, PII + "k", withInvalidUtf8(json(i, "\"action\":\"VIEW\"",
                    "\"event_time_ms\":" + T0)), DeadLetterReason.INVALID_UTF8);
        }
        // empty values and tombstones (null value)
        for (int i = 0; i < 200; i++) {
            corpus.bad(topic, PII + "k", i % 2 == 0 ? new byte[0] : null,
                    DeadLetterReason.EMPTY_RECORD);
        }
        // not an object, not JSON, nested beyond the parser's depth limit
        String[] notObjects = {"[]", "42", "\"" + PII + "string\"", "null", "true", "<xml/>",
            "{\"a\":" + "[".repeat(5_000) + "]".repeat(5_000) + "}", "{{}}", "{\"a\":1,}"};
        for (int i = 0; i < 900; i++) {
            corpus.bad(topic, PII + "k", bytes(notObjects[i % notObjects.length]),
                    DeadLetterReason.MALFORMED_JSON);
        }
        // missing required fields
        String[] missing = {
            "{\"user_id\":\"" + PII + "u\",\"item_id\":\"i\",\"action\":\"VIEW\",\"event_time_ms\":" + T0 + "}",
            "{\"event_id\":\"" + PII + "e\",\"item_id\":\"i\",\"action\":\"VIEW\",\"event_time_ms\":" + T0 + "}",
            "{\"event_id\":\"" + PII + "e\",\"user_id\":\"" + PII + "u\",\"item_id\":\"i\",\"action\":\"VIEW\"}",
            "{\"event_id\":\"" + PII + "e\",\"user_id\":\"" + PII + "u\",\"item_id\":\"i\",\"event_time_ms\":" + T0 + "}",
        };
        for (int i = 0; i < 500; i++) {
            corpus.bad(topic, PII + "k", bytes(missing[i % missing.length]),
                    DeadLetterReason.MISSING_FIELD);
        }
        // values out of range
        String[] values = {"\"action\":\"RATE\",\"value\":7", "\"action\":\"RATE\",\"value\":-1",
            "\"action\":\"VIEW\",\"value\":1e400"};
        for (int i = 0; i < 300; i++) {
            corpus.bad(topic, PII + "k", json(i, values[i % values.length],
                    "\"event_time_ms\":" + T0), DeadLetterReason.INVALID_VALUE);
        }
    }

    private static void badProtobufEvents(Corpus corpus, Random random) {
        String topic = "user-events";
        // truncated inside the first field (event_id): the message ends mid-string
        for (int i = 0; i < 1_000; i++) {
            byte[] proto = protobuf(i).build().toByteArray();
            int idLength = proto[1];
            corpus.bad(topic, PII + "k", Arrays.copyOf(proto, 2 + random.nextInt(idLength)),
                    DeadLetterReason.MALFORMED_PROTOBUF);
        }
        // not protobuf at all: a varint that never ends, an invalid wire type
        for (int i = 0; i < 300; i++) {
            byte[] garbage = new byte[1 + random.nextInt(64)];
            Arrays.fill(garbage, (byte) 0xFF);
            corpus.bad(topic, PII + "k", i % 2 == 0 ? garbage : new byte[] {0x0F, 0x01},
                    DeadLetterReason.MALFORMED_PROTOBUF);
        }
        // invalid UTF-8 in a string field (proto3 strings must be UTF-8)
        for (int i = 0; i < 300; i++) {
            byte[] rest = protobuf(i).clearEventId().build().toByteArray();
            byte[] proto = new byte[4 + rest.length];
            proto[0] = 0x0A; // field 1, length-delimited
            proto[1] = 2;
            proto[2] = (byte) 0xC3;
            proto[3] = 0x28;
            System.arraycopy(rest, 0, proto, 4, rest.length);
            corpus.bad(topic, PII + "k", proto, DeadLetterReason.MALFORMED_PROTOBUF);
        }
        for (int i = 0; i < 400; i++) { // unknown and unspecified action numbers
            corpus.bad(topic, PII + "k", protobuf(i).setActionValue(i % 4 == 0 ? 0 : 40 + i % 50)
                    .build().toByteArray(), DeadLetterReason.UNKNOWN_ACTION);
        }
        for (int i = 0; i < 400; i++) { // empty and oversized ids
            UserEvent.Builder event = protobuf(i);
            switch (i % 4) {
                case 0 -> event.clearUserId();
                case 1 -> event.clearItemId();
                case 2 -> event.setEventId(PII + "e".repeat(300));
                default -> event.setUserId(PII + "\u0007bell");
            }
            corpus.bad(topic, PII + "k", event.build().toByteArray(), DeadLetterReason.INVALID_ID);
        }
        long[] times = {0, -1, Long.MIN_VALUE, Long.MAX_VALUE, 4_102_444_800_000L};
        for (int i = 0; i < 300; i++) {
            corpus.bad(topic, PII + "k", protobuf(i).setEventTimeMs(times[i % times.length])
                    .build().toByteArray(), DeadLetterReason.INVALID_TIMESTAMP);
        }
        for (int i = 0; i < 100; i++) {
            corpus.bad(topic, PII + "k", protobuf(i).setAction(
                    dev.interestgraph.proto.v1.Action.COMMENT).setText(PII + "z".repeat(10_000))
                    .build().toByteArray(), DeadLetterReason.TEXT_TOO_LONG);
        }
        for (int i = 0; i < 50; i++) {
            corpus.bad(topic, PII + "k", i % 2 == 0 ? new byte[0] : null,
                    DeadLetterReason.EMPTY_RECORD);
        }
    }

    /** A JSON user event with its own ids and the given fields. */
    private static byte[] json(int i, String... fields) {
        return bytes("{\"event_id\":\"" + PII + "e" + i + "\",\"user_id\":\"" + PII + "u" + i
                + "\",\"item_id\":\"item-1\"," + String.join(",", fields) + "}");
    }

    private static UserEvent.Builder protobuf(int i) {
        return UserEvent.newBuilder().setEventId(PII + "e" + i).setUserId(PII + "u" + i)
                .setItemId("item-1").setAction(dev.interestgraph.proto.v1.Action.VIEW)
                .setEventTimeMs(T0 + i);
    }

    private static byte[] toProtobuf(UserAction event) {
        return UserEvent.newBuilder().setEventId(event.eventId).setUserId(event.userId)
                .setItemId(event.itemId).setAction(dev.interestgraph.proto.v1.Action.valueOf(
                        event.action.name())).setEventTimeMs(event.eventTimeMs)
                .build().toByteArray();
    }

    /** Replaces the byte after the first quote with one of several invalid UTF-8 sequences. */
    private static byte[] withInvalidUtf8(byte[] json) {
        byte[][] invalid = {{(byte) 0xC3, 0x28}, {(byte) 0xFF}, {(byte) 0xED, (byte) 0xA0,
            (byte) 0x80}, {(byte) 0xC0, (byte) 0xAF}, {(byte) 0xF8, (byte) 0x88, (byte) 0x80}};
        byte[] bad = invalid[Math.floorMod(Arrays.hashCode(json), invalid.length)];
        int at = 2; // inside the first key
        byte[] out = new byte[json.length + bad.length];
        System.arraycopy(json, 0, out, 0, at);
        System.arraycopy(bad, 0, out, at, bad.length);
        System.arraycopy(json, at, out, at + bad.length, json.length - at);
        return out;
    }

    // ------------------------------------------------------------------ the run and the checks

    private static void createTopics(String prefix) {
        kafka.createTopic(prefix + "user-events", 2);
        kafka.createTopic(prefix + "item-catalog", 1);
        // as deployed: the deltas carry their (old) event time, which CreateTime with the default
        // 7-day retention would delete at the broker's retention check (docs/reliability.md)
        kafka.createTopic(prefix + "graph-deltas", 2,
                Map.of("message.timestamp.type", "LogAppendTime"));
        kafka.createTopic(prefix + "dead-letters", 2);
    }

    /** A bounded run without restarts; returns the job's wall time in milliseconds. */
    private static long runJob(String prefix, InputFormat format) throws Exception {
        Configuration config = new Configuration();
        config.set(InterestGraphOptions.KAFKA_BOOTSTRAP, kafka.bootstrapServers());
        config.set(InterestGraphOptions.KAFKA_BOUNDED, true);
        config.set(InterestGraphOptions.INPUT_FORMAT, format);
        config.set(InterestGraphOptions.WATERMARK_IDLENESS, Duration.ofSeconds(1));
        InterestGraphOptions.prefixTopics(config, prefix);
        config.set(InterestGraphOptions.TOPIC_ITEM_EMBEDDINGS, "");
        Configuration runtime = new Configuration();
        // "no crash" means no failure at all: a restart would hide one
        runtime.set(RestartStrategyOptions.RESTART_STRATEGY, "none");
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        env.configure(runtime, BadInputIT.class.getClassLoader());
        env.setParallelism(2);
        env.enableCheckpointing(500);
        new InterestGraphPipeline(config, HashingTestEmbedder.factory()).build(env);
        return env.execute(prefix + "bad input").getNetRuntime();
    }

    private static void verify(String prefix, Corpus corpus, long runtimeMs) throws Exception {
        // ---- dead letters: exactly the malformed records, each once, with reason, offset, bytes
        Map<String, Sent> malformed = new HashMap<>();
        Map<String, Integer> expectedReasons = new TreeMap<>();
        for (Sent sent : corpus.sent) {
            if (sent.reason != null) {
                RecordMetadata metadata = sent.metadata.get();
                malformed.put(sent.topic + "/" + metadata.partition() + "/" + metadata.offset(),
                        sent);
                expectedReasons.merge(sent.reason.name(), 1, Integer::sum);
            }
        }
        List<ConsumerRecord<byte[], byte[]>> letters =
                Topics.readAll(kafka.bootstrapServers(), prefix + "dead-letters");
        Map<String, Integer> reasons = new TreeMap<>();
        Set<String> seen = new HashSet<>();
        int truncated = 0;
        for (ConsumerRecord<byte[], byte[]> record : letters) {
            JsonNode letter = MAPPER.readTree(record.value());
            String source = letter.get("topic").asText().substring(prefix.length()) + "/"
                    + letter.get("partition").asInt() + "/" + letter.get("offset").asLong();
            assertThat(seen.add(source)).as("dead letter of %s only once", source).isTrue();
            Sent sent = malformed.get(source);
            assertThat(sent).as("dead letter %s is of a malformed record", source).isNotNull();
            assertThat(letter.get("reason").asText()).as("reason of %s", source)
                    .isEqualTo(sent.reason.name());
            String detail = letter.get("detail").asText();
            assertThat(detail).as("detail of %s", source).isNotBlank().doesNotContain(PII);
            byte[] payload = letter.get("payload_base64").isNull() ? null
                    : Base64.getDecoder().decode(letter.get("payload_base64").asText());
            // records over the dead-letter payload cap keep their first bytes and their length
            byte[] expected = sent.value == null ? null : Arrays.copyOf(sent.value,
                    Math.min(sent.value.length, DEAD_LETTER_PAYLOAD_CAP));
            assertThat(payload).as("original bytes of %s", source).isEqualTo(expected);
            assertThat(letter.get("payload_bytes").asInt()).as("length of %s", source)
                    .isEqualTo(sent.value == null ? 0 : sent.value.length);
            if (letter.get("payload_truncated").asBoolean()) {
                truncated++;
            }
            reasons.merge(letter.get("reason").asText(), 1, Integer::sum);
        }
        assertThat(reasons).isEqualTo(expectedReasons);
        assertThat(seen).isEqualTo(malformed.keySet());
        assertThat(truncated).as("dead letters with a truncated payload").isEqualTo(corpus.sent
                .stream().filter(s -> s.reason != null && s.value != null
                        && s.value.length > DEAD_LETTER_PAYLOAD_CAP)
                .count());

        // ---- the valid events: each applied once, a reused id in another flush slot included
        Map<String, List<dev.interestgraph.proto.v1.GraphDelta>> deltas = deltasByUser(
                Topics.readAll(kafka.bootstrapServers(), prefix + "graph-deltas"));
        assertContiguous(deltas);
        DeltaMaterializer graphs = materialize(deltas);
        assertThat(graphs.users()).containsOnlyKeys(corpus.expectedCounts.keySet());
        Map<String, Map<String, Integer>> applied = new TreeMap<>();
        graphs.users().forEach((user, view) -> view.edges().forEach((item, edge) ->
                applied.computeIfAbsent(user, u -> new TreeMap<>()).put(item, edge
                        .getActionCountsMap().values().stream().mapToInt(Integer::intValue).sum())));
        // every event id applied exactly once: per user as many actions as distinct ids, and an
        // edge off its expected count only by the reused-id pairs that touch it
        assertThat(applied.keySet()).isEqualTo(corpus.expectedCounts.keySet());
        applied.forEach((user, counts) -> {
            Map<String, Integer> expected = corpus.expectedCounts.get(user);
            assertThat(counts.values().stream().mapToInt(Integer::intValue).sum())
                    .as("actions applied for %s", user)
                    .isEqualTo(expected.values().stream().mapToInt(Integer::intValue).sum());
            Map<String, Integer> pairs = corpus.reusePairs.getOrDefault(user, Map.of());
            java.util.Set<String> items = new java.util.TreeSet<>(counts.keySet());
            items.addAll(expected.keySet());
            for (String item : items) {
                assertThat(Math.abs(counts.getOrDefault(item, 0) - expected.getOrDefault(item, 0)))
                        .as("count of %s / %s", user, item)
                        .isLessThanOrEqualTo(pairs.getOrDefault(item, 0));
            }
        });
        System.out.printf("%s: %d records, %d malformed (%s), %d truncated payloads, %d adjacent "
                + "duplicates dropped, %d reused ids dropped; job ran %d ms%n", prefix,
                corpus.sent.size(), corpus.malformed(), expectedReasons, truncated,
                corpus.adjacentDuplicates, corpus.reusedIds, runtimeMs);
    }
}
