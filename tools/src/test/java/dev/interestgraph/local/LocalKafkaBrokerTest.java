package dev.interestgraph.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Exercises a real in-process broker: plain and transactional produce/consume, topic configs. */
class LocalKafkaBrokerTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(30);

    private static LocalKafkaBroker kafka;

    @BeforeAll
    static void startBroker() {
        kafka = LocalKafkaBroker.start();
        System.out.println("LocalKafkaBroker start time: " + kafka.lastStartMillis() + " ms");
    }

    @AfterAll
    static void stopBroker() {
        if (kafka != null) {
            kafka.close();
        }
    }

    @Test
    void producedRecordsAreConsumedWithSameKeysAndValues() throws Exception {
        String topic = uniqueTopic();
        kafka.createTopic(topic, 3);
        int n = 500;
        Map<String, String> sent = new LinkedHashMap<>();
        try (KafkaProducer<String, String> producer = producer(Map.of())) {
            for (int i = 0; i < n; i++) {
                sent.put("key-" + i, "value-" + i);
                producer.send(new ProducerRecord<>(topic, "key-" + i, "value-" + i));
            }
            producer.flush();
        }

        List<ConsumerRecord<String, String>> received = consumeExactly(topic, n, IsolationLevel.READ_UNCOMMITTED);

        Map<String, String> got = new LinkedHashMap<>();
        received.forEach(r -> got.put(r.key(), r.value()));
        assertThat(received).hasSize(n);
        assertThat(got).isEqualTo(sent);
        // spread over all partitions, i.e. the topic really has 3 of them
        assertThat(received.stream().map(ConsumerRecord::partition).distinct()).hasSize(3);
    }

    @Test
    void readCommittedConsumerSeesOnlyCommittedTransactions() throws Exception {
        String topic = uniqueTopic();
        kafka.createTopic(topic, 2);
        Map<String, Object> txProps = Map.of(
                ProducerConfig.TRANSACTIONAL_ID_CONFIG, "tx-" + UUID.randomUUID(),
                // what Flink's EXACTLY_ONCE sink asks for; the broker must accept it (<= max)
                ProducerConfig.TRANSACTION_TIMEOUT_CONFIG, (int) Duration.ofMinutes(15).toMillis());
        try (KafkaProducer<String, String> producer = producer(txProps)) {
            producer.initTransactions();

            producer.beginTransaction();
            for (int i = 0; i < 10; i++) {
                producer.send(new ProducerRecord<>(topic, "aborted-" + i, "a" + i));
            }
            producer.flush(); // the records really reach the log before the abort
            producer.abortTransaction();

            producer.beginTransaction();
            for (int i = 0; i < 10; i++) {
                producer.send(new ProducerRecord<>(topic, "committed-" + i, "c" + i));
            }
            producer.commitTransaction();
        }

        // read_committed stops at the last stable offset, so reading "until end offsets" is exact:
        // everything that will ever be visible from these transactions is visible now.
        List<ConsumerRecord<String, String>> committedView = consumeToEnd(topic, IsolationLevel.READ_COMMITTED);
        assertThat(committedView).extracting(ConsumerRecord::key)
                .hasSize(10)
                .allMatch(k -> k.startsWith("committed-"));

        // Sanity check that the test can fail: read_uncommitted does see the aborted records.
        List<ConsumerRecord<String, String>> uncommittedView = consumeToEnd(topic, IsolationLevel.READ_UNCOMMITTED);
        assertThat(uncommittedView).extracting(ConsumerRecord::key)
                .hasSize(20)
                .anyMatch(k -> k.startsWith("aborted-"));
    }

    @Test
    void compactedTopicHasCompactCleanupPolicy() throws Exception {
        String compacted = uniqueTopic();
        String plain = uniqueTopic();
        kafka.createCompactedTopic(compacted, 2);
        kafka.createTopic(plain, 1);

        try (Admin admin = kafka.newAdmin()) {
            ConfigResource compactedRes = new ConfigResource(ConfigResource.Type.TOPIC, compacted);
            ConfigResource plainRes = new ConfigResource(ConfigResource.Type.TOPIC, plain);
            Map<ConfigResource, Config> configs = admin.describeConfigs(List.of(compactedRes, plainRes))
                    .all().get(TIMEOUT.toSeconds(), TimeUnit.SECONDS);
            assertThat(configs.get(compactedRes).get(TopicConfig.CLEANUP_POLICY_CONFIG).value()).isEqualTo("compact");
            assertThat(configs.get(plainRes).get(TopicConfig.CLEANUP_POLICY_CONFIG).value()).isEqualTo("delete");
            assertThat(admin.describeTopics(Set.of(compacted)).allTopicNames().get(TIMEOUT.toSeconds(), TimeUnit.SECONDS)
                    .get(compacted).partitions()).hasSize(2);
        }
    }

    @Test
    void topicsAreNotAutoCreatedAndDuplicatesAreRejected() {
        String topic = uniqueTopic();
        kafka.createTopic(topic, 1);
        assertThatThrownBy(() -> kafka.createTopic(topic, 1))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("already exists");

        try (KafkaProducer<String, String> producer = producer(Map.of(ProducerConfig.MAX_BLOCK_MS_CONFIG, 1_000))) {
            // with auto-creation disabled, metadata for a missing topic never arrives
            assertThatThrownBy(() -> producer.send(new ProducerRecord<>("never-created", "k", "v")).get())
                    .hasCauseInstanceOf(org.apache.kafka.common.errors.TimeoutException.class);
        }
        try (Admin admin = kafka.newAdmin()) {
            // ... and the producer's metadata request did not create it either
            assertThat(admin.listTopics().names().get(TIMEOUT.toSeconds(), TimeUnit.SECONDS))
                    .contains(topic)
                    .doesNotContain("never-created");
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void closeDeletesTheTemporaryDataDirectory() {
        Path dir;
        try (LocalKafkaBroker other = LocalKafkaBroker.start()) {
            dir = other.dataDir();
            assertThat(dir).isDirectory();
            assertThat(other.bootstrapServers()).isNotEqualTo(kafka.bootstrapServers());
        }
        assertThat(Files.exists(dir)).isFalse();
    }

    // ---------------------------------------------------------------------------------------------

    static String uniqueTopic() {
        return "t-" + UUID.randomUUID();
    }

    static KafkaProducer<String, String> producer(Map<String, Object> overrides) {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        p.putAll(overrides);
        return new KafkaProducer<>(p, new StringSerializer(), new StringSerializer());
    }

    static KafkaConsumer<String, String> consumer(IsolationLevel isolation) {
        return consumer(kafka, isolation);
    }

    static KafkaConsumer<String, String> consumer(LocalKafkaBroker broker, IsolationLevel isolation) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, isolation.toString());
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        return new KafkaConsumer<>(p, new StringDeserializer(), new StringDeserializer());
    }

    /** Reads a topic (manually assigned, no group) until {@code n} records arrived or timeout. */
    static List<ConsumerRecord<String, String>> consumeExactly(String topic, int n, IsolationLevel isolation) {
        return consumeExactly(kafka, topic, n, isolation);
    }

    static List<ConsumerRecord<String, String>> consumeExactly(
            LocalKafkaBroker broker, String topic, int n, IsolationLevel isolation) {
        List<ConsumerRecord<String, String>> out = new ArrayList<>();
        try (KafkaConsumer<String, String> consumer = consumer(broker, isolation)) {
            List<TopicPartition> partitions = partitionsOf(consumer, topic);
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            long deadline = System.nanoTime() + TIMEOUT.toNanos();
            while (out.size() < n && System.nanoTime() < deadline) {
                consumer.poll(Duration.ofMillis(200)).forEach(out::add);
            }
            // one more short poll so that surplus records (a bug) would be noticed by the caller
            consumer.poll(Duration.ofMillis(100)).forEach(out::add);
        }
        return out;
    }

    /** Reads every record below the end offsets as of now (for read_committed: the LSO). */
    static List<ConsumerRecord<String, String>> consumeToEnd(String topic, IsolationLevel isolation) {
        List<ConsumerRecord<String, String>> out = new ArrayList<>();
        try (KafkaConsumer<String, String> consumer = consumer(isolation)) {
            List<TopicPartition> partitions = partitionsOf(consumer, topic);
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            Map<TopicPartition, Long> end = consumer.endOffsets(partitions, TIMEOUT);
            long deadline = System.nanoTime() + TIMEOUT.toNanos();
            while (partitions.stream().anyMatch(tp -> consumer.position(tp) < end.get(tp))) {
                assertThat(System.nanoTime()).as("reached end offsets %s in time", end).isLessThan(deadline);
                consumer.poll(Duration.ofMillis(200)).forEach(out::add);
            }
        }
        return out;
    }

    private static List<TopicPartition> partitionsOf(KafkaConsumer<String, String> consumer, String topic) {
        return consumer.partitionsFor(topic, TIMEOUT).stream()
                .map(info -> new TopicPartition(topic, info.partition()))
                .toList();
    }
}
