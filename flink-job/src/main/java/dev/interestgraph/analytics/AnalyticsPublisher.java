package dev.interestgraph.analytics;

import dev.interestgraph.proto.v1.AnalyticsRecord;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * Puts one analytics run on the {@code item-neighbors} topic in a single Kafka transaction: a
 * read_committed consumer (the streaming job) sees the whole run or none of it, and the run
 * marker last. The topic should be compacted (deploy/ creates it so): the latest record per key
 * is the table.
 */
public final class AnalyticsPublisher {
    private AnalyticsPublisher() {}

    /**
     * Publishes {@code output}'s records.
     *
     * @param clientProperties security and other client settings (kafka.properties.*)
     * @return the number of records written
     */
    public static int publish(AnalyticsOutput output, String bootstrap, String topic,
            Properties clientProperties) {
        Properties props = new Properties();
        props.putAll(clientProperties);
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        props.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        props.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG,
                ByteArraySerializer.class.getName());
        props.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG,
                "interest-graph-analytics-" + topic);
        props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        Map<String, AnalyticsRecord> records = output.records();
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(props)) {
            producer.initTransactions();
            producer.beginTransaction();
            for (Map.Entry<String, AnalyticsRecord> record : records.entrySet()) {
                producer.send(new ProducerRecord<>(topic,
                        record.getKey().getBytes(StandardCharsets.UTF_8),
                        record.getValue().toByteArray()));
            }
            producer.commitTransaction();
        }
        return records.size();
    }
}
