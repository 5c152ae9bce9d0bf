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
 */
public final class DeadLetterSerializationSchema
        implements KafkaRecordSerializationSchema<DeadLetter> {
    private static final long serialVersionUID = 1L;
    private static final ObjectMapper MAPPER = new ObjectMapper();

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
        json.put("payload_base64",
                letter.payload == null ? null : Base64.getEncoder().encodeToString(letter.payload));
        return json.toString().getBytes(StandardCharsets.UTF_8);
    }
}
