package dev.interestgraph.inspect;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.interestgraph.delta.DeltaMaterializer;
import dev.interestgraph.sink.DeltaSerializationSchema;
import dev.interestgraph.proto.v1.GraphDelta;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.function.Function;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * A downstream consumer of the delta topic: reads every partition from the beginning with
 * {@code read_committed} (the sink is exactly-once), applies each delta to a
 * {@link DeltaMaterializer} and keeps the current graph of every user.
 *
 * <p>No consumer group: the follower assigns all partitions itself, so it neither needs group
 * rights on a shared cluster nor moves anyone's committed offsets. Methods are synchronized so
 * that one thread can poll while another reads the counts or the graphs.
 */
public final class DeltaFollower implements AutoCloseable {
    private final KafkaConsumer<byte[], byte[]> consumer;
    private final List<TopicPartition> partitions;
    private final DeltaMaterializer graphs = new DeltaMaterializer();
    private long consumed;
    private long undecodable;

    /**
     * @param clientProperties extra Kafka client properties (security settings); may be empty
     */
    public DeltaFollower(String bootstrap, String topic, Properties clientProperties) {
        Properties props = new Properties();
        props.putAll(clientProperties);
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        props.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 2000);
        consumer = new KafkaConsumer<>(props, new ByteArrayDeserializer(),
                new ByteArrayDeserializer());
        var infos = consumer.partitionsFor(topic, Duration.ofSeconds(30));
        if (infos == null || infos.isEmpty()) {
            consumer.close();
            throw new IllegalArgumentException("Topic " + topic + " does not exist at "
                    + bootstrap);
        }
        partitions = infos.stream().map(p -> new TopicPartition(topic, p.partition())).toList();
        consumer.assign(partitions);
        consumer.seekToBeginning(partitions);
    }

    /** Polls once and applies what arrived; returns the deltas that changed a graph. */
    public synchronized List<GraphDelta> poll(Duration timeout) {
        List<GraphDelta> applied = new ArrayList<>();
        for (ConsumerRecord<byte[], byte[]> record : consumer.poll(timeout)) {
            consumed++;
            try {
                GraphDelta delta = graphs.applyRecord(DeltaSerializationSchema.format(record), record.value());
                if (delta != null) {
                    applied.add(delta); // decoded (v1 form), whatever the topic spoke
                }
            } catch (InvalidProtocolBufferException e) {
                undecodable++; // not ours to fail on: count it, show it in the summary
            }
        }
        return applied;
    }



    /**
     * Whether the follower has read every committed delta that is in the topic now. The end
     * offsets include transaction markers, which the consumer's position passes on its next
     * poll; so this turns true only after a poll at the end.
     */
    public synchronized boolean caughtUp() {
        Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
        return partitions.stream().allMatch(p -> consumer.position(p) >= end.get(p));
    }

    /** Records read from the topic. */
    public synchronized long consumed() {
        return consumed;
    }

    /** Records that were not GraphDelta protobufs. */
    public synchronized long undecodable() {
        return undecodable;
    }

    /** Reads the materialised graphs under the follower's lock. */
    public synchronized <T> T read(Function<DeltaMaterializer, T> reader) {
        return reader.apply(graphs);
    }

    @Override
    public synchronized void close() {
        consumer.close(Duration.ofSeconds(5));
    }
}
