package dev.interestgraph.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.interestgraph.graph.GraphParameters;
import dev.interestgraph.local.LocalKafkaBroker;
import dev.interestgraph.proto.v1.UserEvent;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The measuring instruments issue 16's figures rest on: the broker-side topic volume, the
 * same-shape bare pipeline (one exactly-once record of the stated size per event) and the
 * arithmetic floor's interest assignment, each against a real in-process broker or real data.
 */
class BenchInstrumentsTest {
    private static LocalKafkaBroker kafka;

    @BeforeAll
    static void startBroker() {
        kafka = LocalKafkaBroker.start();
    }

    @AfterAll
    static void stopBroker() {
        if (kafka != null) {
            kafka.close();
        }
    }

    @Test
    void brokerMetersAgreeWithTheLogDirectories() throws Exception {
        String topic = "volume-" + System.nanoTime();
        kafka.createTopic(topic, 2);
        int records = 2_000;
        try (KafkaProducer<byte[], byte[]> producer =
                E2EWorkload.bulkProducer(kafka.bootstrapServers())) {
            for (int i = 0; i < records; i++) {
                producer.send(new ProducerRecord<>(topic, E2EWorkload.bytes("k" + (i % 7)),
                        new byte[300]));
            }
            producer.flush();
        }
        TopicVolume.Appended appended = TopicVolume.appendedBytes(topic);
        long onDisk;
        try (Admin admin = kafka.newAdmin()) {
            onDisk = TopicVolume.logDirBytes(admin, topic);
        }
        assertThat(appended.records).isEqualTo(records);
        assertThat(appended.bytes).isGreaterThanOrEqualTo(300L * records);
        assertThat((double) onDisk).isCloseTo(appended.bytes, within(appended.bytes * 0.01));
        assertThat(TopicVolume.appendedBytes("no-such-topic-" + System.nanoTime()).bytes)
                .isZero();
    }

    @Test
    void sameShapePipelineWritesOneFixedSizeRecordPerEventExactlyOnce() throws Exception {
        String run = "same-shape-test-" + System.nanoTime();
        String events = run + "-events";
        String items = run + "-items";
        String output = run + "-out";
        kafka.createTopic(events, 2);
        kafka.createTopic(items, 2);
        kafka.createTopic(output, 2);
        E2EWorkload workload = new E2EWorkload(50, 5, 1_000, 1_000, 7);
        Set<Long> sent = new HashSet<>();
        try (KafkaProducer<byte[], byte[]> producer =
                E2EWorkload.bulkProducer(kafka.bootstrapServers())) {
            workload.produceItems(producer, items);
            for (long i = 0; i < workload.events; i++) {
                UserEvent event = workload.event(i);
                sent.add(event.getEventTimeMs());
            }
            workload.produceEvents(producer, events, 0, workload.events);
        }
        Map<TopicPartition, Long> end = endOffsets(events);

        Configuration config = new Configuration();
        config.setString("execution.checkpointing.interval", "500 ms");
        StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(2,
                config);
        SameShapeBarePipeline.Settings settings = new SameShapeBarePipeline.Settings();
        settings.bootstrap = kafka.bootstrapServers();
        settings.eventsTopic = events;
        settings.itemsTopic = items;
        settings.outputTopic = output;
        settings.transactionalIdPrefix = run;
        settings.eventsEnd = end;
        settings.exactlyOnce = true;
        settings.transactionTimeout = Duration.ofMinutes(1);
        SameShapeBarePipeline.build(env, config, settings);
        env.execute("same-shape test");

        List<ConsumerRecord<byte[], byte[]>> out = readCommitted(output, workload.events);
        assertThat(out).hasSize((int) workload.events);
        Set<Long> eventTimes = new HashSet<>();
        for (ConsumerRecord<byte[], byte[]> record : out) {
            assertThat(record.value()).hasSize(SameShapeBarePipeline.RECORD_BYTES);
            eventTimes.add(ByteBuffer.wrap(record.value()).getLong());
        }
        assertThat(eventTimes).isEqualTo(sent);
    }

    @Test
    void arithmeticFloorJoinsSimilarVectorsAndOpensInterestsForOthers() {
        GraphParameters params = GraphParameters.defaults();
        VectorArithmeticBenchmark.UserVectors user =
                new VectorArithmeticBenchmark.UserVectors(params, 4);
        float[] a = {1, 0, 0, 0};
        float[] nearA = {0.9f, 0.1f, 0, 0};
        float[] b = {0, 0, 1, 0};
        assertThat(user.apply(a, 1, 1_000)).isEqualTo(1);
        assertThat(user.apply(nearA, 1, 2_000)).isEqualTo(1);
        assertThat(user.apply(b, 1, 3_000)).isEqualTo(2);
        // more distinct directions than interests: the count stops at the cap
        int directions = params.maxInterests + 2;
        VectorArithmeticBenchmark.UserVectors wide =
                new VectorArithmeticBenchmark.UserVectors(params, directions);
        for (int j = 0; j < directions; j++) {
            float[] v = new float[directions];
            v[j] = 1;
            assertThat(wide.apply(v, 1, 1_000 + j)).isEqualTo(Math.min(j + 1, params.maxInterests));
        }

        float[] mean = {2, 0};
        double weight = VectorArithmeticBenchmark.addDecayed(mean, 1, 5_000, new float[] {0, 2},
                1, 5_000, 60_000);
        assertThat(weight).isEqualTo(2.0);
        assertThat(mean).containsExactly(1f, 1f);
    }

    private static Map<TopicPartition, Long> endOffsets(String topic) {
        try (KafkaConsumer<byte[], byte[]> consumer = consumer("read_uncommitted")) {
            return consumer.endOffsets(consumer.partitionsFor(topic).stream()
                    .map(p -> new TopicPartition(topic, p.partition())).toList());
        }
    }

    private static List<ConsumerRecord<byte[], byte[]>> readCommitted(String topic, long expected)
            throws InterruptedException {
        List<ConsumerRecord<byte[], byte[]>> out = new java.util.ArrayList<>();
        try (KafkaConsumer<byte[], byte[]> consumer = consumer("read_committed")) {
            consumer.subscribe(List.of(topic));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            // then one more poll past the expected count: a duplicate would show up in it
            boolean extraPoll = false;
            while (System.nanoTime() < deadline && !extraPoll) {
                extraPoll = out.size() >= expected;
                consumer.poll(Duration.ofMillis(extraPoll ? 1_000 : 200)).forEach(out::add);
            }
        }
        return out;
    }

    private static KafkaConsumer<byte[], byte[]> consumer(String isolation) {
        Properties props = new Properties();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, isolation);
        props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        props.put(ConsumerConfig.GROUP_ID_CONFIG, "bench-test-" + System.nanoTime());
        return new KafkaConsumer<>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer());
    }
}
