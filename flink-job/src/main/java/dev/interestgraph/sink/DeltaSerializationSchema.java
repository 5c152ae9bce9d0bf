package dev.interestgraph.sink;

import dev.interestgraph.delta.DeltaRecord;
import java.nio.charset.StandardCharsets;
import org.apache.flink.connector.kafka.sink.KafkaRecordSerializationSchema;
import org.apache.kafka.clients.producer.ProducerRecord;

/**
 * Writes deltas to the delta topic keyed by user id, so that each user's deltas stay in one
 * partition, in order. The record timestamp is the delta's event time.
 */
public final class DeltaSerializationSchema implements KafkaRecordSerializationSchema<DeltaRecord> {
    private static final long serialVersionUID = 1L;

    private final String topic;

    public DeltaSerializationSchema(String topic) {
        this.topic = topic;
    }

    @Override
    public ProducerRecord<byte[], byte[]> serialize(DeltaRecord record, KafkaSinkContext context,
            Long timestamp) {
        return new ProducerRecord<>(topic, null, record.eventTimeMs,
                record.userId.getBytes(StandardCharsets.UTF_8), record.payload);
    }
}
