package dev.interestgraph.analytics;

import dev.interestgraph.proto.v1.AnalyticsRecord;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ListOffsetsOptions;
import org.apache.kafka.clients.admin.ListOffsetsResult;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * Puts one analytics run on the {@code item-neighbors} topic in a single Kafka transaction: a
 * read_committed consumer (the streaming job) sees the whole run or none of it, and the run
 * marker last. Returns once read_committed readers can see it. The topic should be compacted (deploy/ creates it so): the latest record per key
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
        List<Future<RecordMetadata>> sent = new ArrayList<>();
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(props)) {
            producer.initTransactions();
            producer.beginTransaction();
            for (Map.Entry<String, AnalyticsRecord> record : records.entrySet()) {
                sent.add(producer.send(new ProducerRecord<>(topic,
                        record.getKey().getBytes(StandardCharsets.UTF_8),
                        record.getValue().toByteArray())));
            }
            producer.commitTransaction();
        }
        awaitVisible(sent, props);
        return records.size();
    }

    /**
     * Waits until read_committed readers see the run: the commit returns before the brokers have
     * written the commit markers, and until then a reader that starts now (a bounded job, a test)
     * would stop short of the run.
     */
    private static void awaitVisible(List<Future<RecordMetadata>> sent, Properties props) {
        Map<TopicPartition, Long> last = new HashMap<>();
        try {
            for (Future<RecordMetadata> future : sent) {
                RecordMetadata metadata = future.get();
                last.merge(new TopicPartition(metadata.topic(), metadata.partition()),
                        metadata.offset(), Math::max);
            }
            Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
            last.keySet().forEach(partition -> latest.put(partition, OffsetSpec.latest()));
            long deadline = System.nanoTime() + VISIBILITY_TIMEOUT.toNanos();
            try (Admin admin = Admin.create(props)) {
                while (true) {
                    Map<TopicPartition, ListOffsetsResult.ListOffsetsResultInfo> committed = admin
                            .listOffsets(latest, new ListOffsetsOptions(
                                    IsolationLevel.READ_COMMITTED))
                            .all().get();
                    if (last.entrySet().stream().allMatch(
                            e -> committed.get(e.getKey()).offset() > e.getValue())) {
                        return;
                    }
                    if (System.nanoTime() > deadline) {
                        throw new IllegalStateException("the analytics run was committed but "
                                + "read_committed readers did not see it within "
                                + VISIBILITY_TIMEOUT);
                    }
                    Thread.sleep(50); // polling the broker's last stable offset
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while publishing", e);
        } catch (ExecutionException e) {
            throw new IllegalStateException("publishing the analytics run failed", e.getCause());
        }
    }

    private static final Duration VISIBILITY_TIMEOUT = Duration.ofSeconds(60);
}
