package dev.interestgraph.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.interestgraph.sink.DeadLetterSerializationSchema;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Random;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;

class DeadLetterSerializationSchemaTest {
    private static final ObjectMapper MAPPER = new ObjectMapper();

    @Test
    void jsonCarriesReasonDetailSourcePositionAndExactPayloadBytes() throws Exception {
        byte[] payload = new byte[256];
        for (int i = 0; i < payload.length; i++) {
            payload[i] = (byte) i; // every byte value, including invalid UTF-8
        }
        DeadLetter letter = new DeadLetter("user-events", 3, 12345678901L,
                DeadLetterReason.INVALID_UTF8, "value is not valid UTF-8", new byte[] {1}, payload);

        JsonNode json = MAPPER.readTree(DeadLetterSerializationSchema.toJson(letter));

        assertThat(json.get("reason").asText()).isEqualTo("INVALID_UTF8");
        assertThat(json.get("detail").asText()).isEqualTo("value is not valid UTF-8");
        assertThat(json.get("topic").asText()).isEqualTo("user-events");
        assertThat(json.get("partition").asInt()).isEqualTo(3);
        assertThat(json.get("offset").asLong()).isEqualTo(12345678901L);
        assertThat(Base64.getDecoder().decode(json.get("payload_base64").asText()))
                .isEqualTo(payload);
    }

    @Test
    void nullPayloadIsJsonNull() throws Exception {
        DeadLetter letter = new DeadLetter("t", 0, 0, DeadLetterReason.EMPTY_RECORD,
                "record has no value", null, null);

        JsonNode json = MAPPER.readTree(DeadLetterSerializationSchema.toJson(letter));

        assertThat(json.get("payload_base64").isNull()).isTrue();
    }

    @Test
    void producerRecordGoesToTheDeadLetterTopicWithTheOriginalKeyAndNoTimestamp() {
        byte[] key = "u-1".getBytes(StandardCharsets.UTF_8);
        DeadLetter letter = new DeadLetter("user-events", 0, 1, DeadLetterReason.MALFORMED_JSON,
                "not JSON", key, new byte[] {'{'});

        ProducerRecord<byte[], byte[]> record =
                new DeadLetterSerializationSchema("dead-letters").serialize(letter, null, 42L);

        assertThat(record.topic()).isEqualTo("dead-letters");
        assertThat(record.key()).isEqualTo(key);
        assertThat(record.timestamp()).isNull();
        assertThat(record.value()).isEqualTo(DeadLetterSerializationSchema.toJson(letter));
    }

    @Test
    void randomPayloadsRoundTripExactlyThroughBase64() throws Exception {
        Random random = new Random(7);
        for (int i = 0; i < 200; i++) {
            byte[] payload = new byte[random.nextInt(300)];
            random.nextBytes(payload);
            DeadLetter letter = new DeadLetter("t", 0, i, DeadLetterReason.MALFORMED_PROTOBUF,
                    "x", null, payload);

            JsonNode json = MAPPER.readTree(DeadLetterSerializationSchema.toJson(letter));

            assertThat(Base64.getDecoder().decode(json.get("payload_base64").asText()))
                    .isEqualTo(payload);
        }
    }
}
