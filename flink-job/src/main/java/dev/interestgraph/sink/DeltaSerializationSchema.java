package dev.interestgraph.sink;

import dev.interestgraph.delta.DeltaRecord;
import java.nio.charset.StandardCharsets;
import org.apache.flink.connector.kafka.sink.KafkaRecordSerializationSchema;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;

/**
 * Writes deltas to the delta topic keyed by user id, so that each user's deltas stay in one
 * partition, in order. The record timestamp is the delta's event time; a header names the
 * contract version (docs/architecture.md).
 */
public final class DeltaSerializationSchema implements KafkaRecordSerializationSchema<DeltaRecord> {
    private static final long serialVersionUID = 1L;

    /** The core's {@link DeltaRecord#FORMAT_HEADER}, for readers that know the sink. */
    public static final String FORMAT_HEADER = DeltaRecord.FORMAT_HEADER;
    private static final byte[] FORMAT_V2 = DeltaRecord.FORMAT_V2.getBytes(StandardCharsets.UTF_8);

    private final String topic;

    public DeltaSerializationSchema(String topic) {
        this.topic = topic;
    }

    /**
     * The delta format a record of the delta topic names in its header; null when it has none (a
     * topic written by a v1 job). See {@link DeltaMaterializer#applyRecord}.
     */
    public static String format(ConsumerRecord<byte[], byte[]> record) {
        Header header = record.headers().lastHeader(FORMAT_HEADER);
        return header == null ? null : new String(header.value(), StandardCharsets.UTF_8);
    }

    @Override
    public ProducerRecord<byte[], byte[]> serialize(DeltaRecord record, KafkaSinkContext context,
            Long timestamp) {
        ProducerRecord<byte[], byte[]> out = new ProducerRecord<>(topic, null, record.eventTimeMs,
                record.userId.getBytes(StandardCharsets.UTF_8), record.payload);
        out.headers().add(FORMAT_HEADER, FORMAT_V2);
        return out;
    }
}
