package dev.interestgraph.ingest;

import static dev.interestgraph.ingest.UserEventParserTest.NOW;
import static dev.interestgraph.ingest.UserEventParserTest.event;
import static dev.interestgraph.ingest.UserEventParserTest.utf8;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.interestgraph.config.InterestGraphOptions.InputFormat;
import dev.interestgraph.model.Action;
import dev.interestgraph.proto.v1.ItemEvent;
import dev.interestgraph.proto.v1.UserEvent;
import dev.interestgraph.sink.DeadLetterSerializationSchema;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.apache.flink.util.Collector;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;

class InputDeserializationSchemaTest {
    private static final ObjectMapper MAPPER = new ObjectMapper();
    private static final String SECRET = "SECRET-PAYLOAD-TEXT";
    private static final InputLimits LIMITS =
            new InputLimits(16, 64, Duration.ofDays(1).toMillis());

    private final InputDeserializationSchema jsonEvents =
            InputDeserializationSchema.forUserEvents(InputFormat.JSON, LIMITS);
    private final InputDeserializationSchema protoEvents =
            InputDeserializationSchema.forUserEvents(InputFormat.PROTOBUF, LIMITS);
    private final InputDeserializationSchema jsonItems =
            InputDeserializationSchema.forItems(InputFormat.JSON, LIMITS);
    private final InputDeserializationSchema protoItems =
            InputDeserializationSchema.forItems(InputFormat.PROTOBUF, LIMITS);

    /** A JSON user event that carries the secret text in a field never quoted in details. */
    private static String withSecret(String field, String rawValue) {
        String base = event(field, rawValue);
        return base.substring(0, base.length() - 1) + ",\"attrs\":{\"note\":\"" + SECRET + "\"}}";
    }

    /** One payload per dead-letter reason, with the format it is read in. */
    private static Map<DeadLetterReason, Object[]> onePayloadPerReason() {
        Map<DeadLetterReason, Object[]> cases = new LinkedHashMap<>();
        cases.put(DeadLetterReason.EMPTY_RECORD, new Object[] {InputFormat.JSON, new byte[0]});
        byte[] invalidUtf8 = withSecret("event_id", "\"e\u00C3(\"")
                .getBytes(StandardCharsets.ISO_8859_1);
        cases.put(DeadLetterReason.INVALID_UTF8, new Object[] {InputFormat.JSON, invalidUtf8});
        String valid = withSecret(null, null);
        cases.put(DeadLetterReason.MALFORMED_JSON,
                new Object[] {InputFormat.JSON, utf8(valid.substring(0, valid.length() - 5))});
        byte[] proto = UserEvent.newBuilder().setEventId("e-1").setUserId("u-1").setItemId("i-1")
                .setAction(dev.interestgraph.proto.v1.Action.VIEW).setEventTimeMs(NOW)
                .setText(SECRET).build().toByteArray();
        cases.put(DeadLetterReason.MALFORMED_PROTOBUF,
                new Object[] {InputFormat.PROTOBUF, Arrays.copyOf(proto, proto.length - 4)});
        cases.put(DeadLetterReason.MISSING_FIELD,
                new Object[] {InputFormat.JSON, utf8(withSecret("user_id", null))});
        cases.put(DeadLetterReason.WRONG_TYPE,
                new Object[] {InputFormat.JSON, utf8(withSecret("event_time_ms", "\"" + NOW + "\""))});
        cases.put(DeadLetterReason.UNKNOWN_ACTION,
                new Object[] {InputFormat.JSON, utf8(withSecret("action", "\"LIKE\""))});
        cases.put(DeadLetterReason.INVALID_ID,
                new Object[] {InputFormat.JSON, utf8(withSecret("user_id", "\"\""))});
        cases.put(DeadLetterReason.INVALID_TIMESTAMP,
                new Object[] {InputFormat.JSON, utf8(withSecret("event_time_ms", "-5"))});
        cases.put(DeadLetterReason.INVALID_VALUE, new Object[] {InputFormat.JSON,
                utf8(withSecret("action", "\"RATE\"").replace("\"attrs\"", "\"value\":7,\"attrs\""))});
        cases.put(DeadLetterReason.TEXT_TOO_LONG, new Object[] {InputFormat.JSON,
                utf8(withSecret("text", "\"" + SECRET.repeat(4) + "\""))});
        return cases;
    }

    @Test
    void everyDeadLetterReasonIsProducedWithSourcePositionKeyAndOriginalBytes() {
        Map<DeadLetterReason, Object[]> cases = onePayloadPerReason();
        assertThat(cases.keySet()).containsExactlyInAnyOrder(DeadLetterReason.values());
        byte[] key = utf8("u-1");

        for (Map.Entry<DeadLetterReason, Object[]> c : cases.entrySet()) {
            InputDeserializationSchema schema =
                    c.getValue()[0] == InputFormat.JSON ? jsonEvents : protoEvents;
            byte[] payload = (byte[]) c.getValue()[1];

            InputRecord record = schema.parse("user-events", 2, 99L, key, payload, NOW);

            assertThat(record.userAction).as(c.getKey().name()).isNull();
            assertThat(record.deadLetter).as(c.getKey().name()).isNotNull();
            assertThat(record.deadLetter.reason).as(c.getKey().name()).isEqualTo(c.getKey());
            assertThat(record.deadLetter.topic).isEqualTo("user-events");
            assertThat(record.deadLetter.partition).isEqualTo(2);
            assertThat(record.deadLetter.offset).isEqualTo(99L);
            assertThat(record.deadLetter.key).isSameAs(key);
            assertThat(record.deadLetter.payload).isEqualTo(payload);
            assertThat(record.deadLetter.detail).as(c.getKey().name()).isNotBlank();
            assertThat(record.eventTimeMs()).isEqualTo(Long.MIN_VALUE);
        }
    }

    @Test
    void deadLetterJsonRoundTripsPayloadAndDetailHoldsNoPayloadText() throws Exception {
        for (Map.Entry<DeadLetterReason, Object[]> c : onePayloadPerReason().entrySet()) {
            InputDeserializationSchema schema =
                    c.getValue()[0] == InputFormat.JSON ? jsonEvents : protoEvents;
            byte[] payload = (byte[]) c.getValue()[1];
            DeadLetter letter = schema.parse("user-events", 0, 7L, null, payload, NOW).deadLetter;

            JsonNode json = MAPPER.readTree(DeadLetterSerializationSchema.toJson(letter));

            assertThat(json.get("reason").asText()).isEqualTo(c.getKey().name());
            assertThat(json.get("topic").asText()).isEqualTo("user-events");
            assertThat(json.get("offset").asLong()).isEqualTo(7L);
            assertThat(Base64.getDecoder().decode(json.get("payload_base64").asText()))
                    .as(c.getKey().name()).isEqualTo(payload);
            assertThat(json.get("detail").asText()).as(c.getKey().name()).doesNotContain(SECRET);
        }
    }

    @Test
    void malformedJsonDetailDoesNotQuoteTheOffendingToken() {
        // Jackson reads "trueUserSecret42" as one unrecognized token
        InputRecord record = jsonEvents.parse("user-events", 0, 0, null,
                utf8("{\"user_id\": trueUserSecret42}"), NOW);

        assertThat(record.deadLetter.reason).isEqualTo(DeadLetterReason.MALFORMED_JSON);
        assertThat(record.deadLetter.detail).doesNotContain("UserSecret42");
    }

    @Test
    void validJsonAndProtobufRecordsBecomeUserActionsAndItems() {
        InputRecord fromJson = jsonEvents.parse("e", 0, 0, null, utf8(event(null, null)), NOW);
        InputRecord fromProto = protoEvents.parse("e", 0, 0, null, UserEvent.newBuilder()
                .setEventId("e-1").setUserId("u-1").setItemId("i-1")
                .setAction(dev.interestgraph.proto.v1.Action.PURCHASE).setEventTimeMs(NOW)
                .build().toByteArray(), NOW);
        InputRecord itemJson = jsonItems.parse("i", 0, 0, null, utf8("{\"item_id\":\"m\","
                + "\"title\":\"T\",\"updated_ms\":" + NOW + "}"), NOW);
        InputRecord itemProto = protoItems.parse("i", 0, 0, null, ItemEvent.newBuilder()
                .setItemId("m").addTags("x").setUpdatedMs(NOW + 1).build().toByteArray(), NOW);

        assertThat(fromJson.deadLetter).isNull();
        assertThat(fromJson.userAction.action).isEqualTo(Action.CLICK);
        assertThat(fromJson.eventTimeMs()).isEqualTo(NOW - 1000);
        assertThat(fromProto.userAction.action).isEqualTo(Action.PURCHASE);
        assertThat(itemJson.item.itemId).isEqualTo("m");
        assertThat(itemJson.eventTimeMs()).isEqualTo(NOW);
        assertThat(itemProto.item.tags).containsExactly("x");
        assertThat(itemProto.eventTimeMs()).isEqualTo(NOW + 1);
    }

    @Test
    void deserializeEmitsExactlyOneRecordPerKafkaRecord() throws Exception {
        List<InputRecord> out = new ArrayList<>();
        Collector<InputRecord> collector = new Collector<>() {
            @Override
            public void collect(InputRecord record) {
                out.add(record);
            }

            @Override
            public void close() {}
        };

        jsonEvents.deserialize(new ConsumerRecord<>("user-events", 1, 5L, null, new byte[0]),
                collector);

        assertThat(out).hasSize(1);
        assertThat(out.get(0).deadLetter.reason).isEqualTo(DeadLetterReason.EMPTY_RECORD);
        assertThat(out.get(0).deadLetter.partition).isEqualTo(1);
        assertThat(out.get(0).deadLetter.offset).isEqualTo(5L);
    }

    @Test
    void fuzzedRecordsNeverThrowAndYieldExactlyOneOutcome() {
        Random random = new Random(20240611L);
        List<byte[]> seeds = List.of(
                utf8(event(null, null)),
                utf8(event("action", "\"RATE\"").replace("}", ",\"value\":4,\"text\":\"ok\"}")),
                UserEvent.newBuilder().setEventId("e-1").setUserId("u-1").setItemId("i-1")
                        .setAction(dev.interestgraph.proto.v1.Action.COMMENT).setEventTimeMs(NOW)
                        .setText("hello").putAttrs("a", "b").build().toByteArray());
        Set<DeadLetterReason> seen = EnumSet.noneOf(DeadLetterReason.class);
        int accepted = 0;

        for (int i = 0; i < 5_000; i++) {
            byte[] payload;
            if (i % 2 == 0) {
                payload = new byte[random.nextInt(64)];
                random.nextBytes(payload);
            } else {
                payload = seeds.get(random.nextInt(seeds.size())).clone();
                int mutations = 1 + random.nextInt(4);
                for (int m = 0; m < mutations && payload.length > 0; m++) {
                    int at = random.nextInt(payload.length);
                    switch (random.nextInt(3)) {
                        case 0:
                            payload[at] = (byte) random.nextInt(256);
                            break;
                        case 1:
                            payload = Arrays.copyOf(payload, at);
                            break;
                        default:
                            payload[at] = payload[random.nextInt(payload.length)];
                            break;
                    }
                }
            }
            InputDeserializationSchema schema =
                    random.nextBoolean() ? (random.nextBoolean() ? jsonEvents : protoEvents)
                            : (random.nextBoolean() ? jsonItems : protoItems);

            InputRecord record = schema.parse("t", 0, i, null, payload, NOW);

            int outcomes = (record.userAction != null ? 1 : 0) + (record.item != null ? 1 : 0)
                    + (record.deadLetter != null ? 1 : 0);
            assertThat(outcomes).as("record %d", i).isEqualTo(1);
            if (record.deadLetter != null) {
                assertThat(record.deadLetter.reason).isNotNull();
                assertThat(record.deadLetter.payload).isSameAs(payload);
                // a parser bug surfaces as "unexpected <Exception>"; none should happen
                assertThat(record.deadLetter.detail).as("record %d", i)
                        .doesNotStartWith("unexpected ");
                seen.add(record.deadLetter.reason);
            } else {
                accepted++;
            }
        }
        assertThat(seen).contains(DeadLetterReason.MALFORMED_JSON,
                DeadLetterReason.MALFORMED_PROTOBUF);
        assertThat(accepted).isPositive();
    }
}
