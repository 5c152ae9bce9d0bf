package dev.interestgraph.recommend;

import java.nio.charset.StandardCharsets;
import org.apache.flink.connector.kafka.sink.KafkaRecordSerializationSchema;
import org.apache.kafka.clients.producer.ProducerRecord;

/**
 * A user's Recommendations (protobuf bytes) on their way to the recommendations topic; a null
 * payload is a tombstone: the user was erased or expired.
 */
public class RecommendationRecord {
    public String userId;
    public long eventTimeMs;
    public byte[] payload;

    public RecommendationRecord() {}

    public RecommendationRecord(String userId, long eventTimeMs, byte[] payload) {
        this.userId = userId;
        this.eventTimeMs = eventTimeMs;
        this.payload = payload;
    }

    /** Keyed by user id (a compacted topic keeps each user's latest list). */
    public static final class Serializer
            implements KafkaRecordSerializationSchema<RecommendationRecord> {
        private static final long serialVersionUID = 1L;
        private final String topic;

        public Serializer(String topic) {
            this.topic = topic;
        }

        @Override
        public ProducerRecord<byte[], byte[]> serialize(RecommendationRecord record,
                KafkaSinkContext context, Long timestamp) {
            return new ProducerRecord<>(topic, null, record.eventTimeMs,
                    record.userId.getBytes(StandardCharsets.UTF_8), record.payload);
        }
    }
}
