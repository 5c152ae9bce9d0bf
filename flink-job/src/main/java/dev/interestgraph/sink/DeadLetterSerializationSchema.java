package dev.interestgraph.sink;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.interestgraph.ingest.DeadLetter;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import org.apache.flink.connector.kafka.sink.KafkaRecordSerializationSchema;
import org.apache.kafka.clients.producer.ProducerRecord;

/**
 * Dead letters as JSON: {@code reason}, {@code detail}, the source {@code topic}, {@code
 * partition} and {@code offset}, and the original bytes as {@code payload_base64}; the Kafka key
 * is the original key.
 *
 * <p>Payloads longer than {@link #MAX_PAYLOAD_BYTES} are cut to that length ({@code
 * payload_truncated: true}; {@code payload_bytes} is always the original length): base64 makes a
 * payload a third longer, so a record just under the broker's 1 MiB limit would otherwise become
 * a dead letter over it, fail the sink and the job, and fail it again after every restart.
 */
public final class DeadLetterSerializationSchema
        implements KafkaRecordSerializationSchema<DeadLetter> {
    private static final long serialVersionUID = 1L;
    private static final ObjectMapper MAPPER = new ObjectMapper();

    /** The most original bytes a dead letter carries: 512 KiB, about 683 KiB in base64. */
    public static final int MAX_PAYLOAD_BYTES = 512 * 1024;

    private final String topic;

    public DeadLetterSerializationSchema(String topic) {
        this.topic = topic;
    }

    @Override
    public ProducerRecord<byte[], byte[]> serialize(DeadLetter letter, KafkaSinkContext context,
            Long timestamp) {
        // no timestamp: a dead letter's own may be the very thing that is wrong with it
        return new ProducerRecord<>(topic, null, null, letter.key, toJson(letter));
    }

    public static byte[] toJson(DeadLetter letter) {
        ObjectNode json = MAPPER.createObjectNode();
        json.put("reason", letter.reason.name());
        json.put("detail", letter.detail);
        json.put("topic", letter.topic);
        json.put("partition", letter.partition);
        json.put("offset", letter.offset);
        byte[] payload = letter.payload;
        boolean truncated = payload != null && payload.length > MAX_PAYLOAD_BYTES;
        if (truncated) {
            payload = java.util.Arrays.copyOf(payload, MAX_PAYLOAD_BYTES);
        }
        json.put("payload_base64",
                payload == null ? null : Base64.getEncoder().encodeToString(payload));
        json.put("payload_bytes", letter.payload == null ? 0 : letter.payload.length);
        json.put("payload_truncated", truncated);
        return json.toString().getBytes(StandardCharsets.UTF_8);
    }
}
