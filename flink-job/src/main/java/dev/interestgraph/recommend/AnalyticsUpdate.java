package dev.interestgraph.recommend;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.connector.kafka.source.reader.deserializer.KafkaRecordDeserializationSchema;
import org.apache.flink.util.Collector;
import org.apache.kafka.clients.consumer.ConsumerRecord;

/**
 * One record of the {@code item-neighbors} topic as it travels to the recommender's broadcast
 * state: the key and the AnalyticsRecord bytes (null for a tombstone). Bytes rather than the
 * generated class, which Flink would hand to Kryo.
 */
public class AnalyticsUpdate {
    public String key;
    public byte[] value;

    public AnalyticsUpdate() {}

    public AnalyticsUpdate(String key, byte[] value) {
        this.key = key;
        this.value = value;
    }

    /** Reads the topic's records; records without a key are not the analytics job's and skipped. */
    public static final class Deserializer
            implements KafkaRecordDeserializationSchema<AnalyticsUpdate> {
        private static final long serialVersionUID = 1L;

        @Override
        public void deserialize(ConsumerRecord<byte[], byte[]> record,
                Collector<AnalyticsUpdate> out) throws IOException {
            if (record.key() != null) {
                out.collect(new AnalyticsUpdate(new String(record.key(), StandardCharsets.UTF_8),
                        record.value()));
            }
        }

        @Override
        public TypeInformation<AnalyticsUpdate> getProducedType() {
            return TypeInformation.of(AnalyticsUpdate.class);
        }
    }
}
