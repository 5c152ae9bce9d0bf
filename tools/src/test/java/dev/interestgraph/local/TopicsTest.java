package dev.interestgraph.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Properties;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** {@link Topics} against a real in-process broker: reading what exactly-once producers wrote. */
class TopicsTest {

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
    void anOpenTransactionHidesItsRecordsUntilSettledThenEveryRecordIsRead() {
        String topic = "topics-test-transactions";
        kafka.createTopic(topic, 2);
        Properties props = new Properties();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
        props.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, "topics-test");
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(props,
                new ByteArraySerializer(), new ByteArraySerializer())) {
            producer.initTransactions();
            producer.beginTransaction();
            for (int i = 0; i < 20; i++) {
                producer.send(new ProducerRecord<>(topic, i % 2, null,
                        ("record " + i).getBytes(StandardCharsets.UTF_8)));
            }
            producer.flush();

            // open: read_committed sees nothing yet, and waiting for it to settle times out
            assertThat(Topics.readAll(kafka.bootstrapServers(), topic)).isEmpty();
            assertThatThrownBy(() -> Topics.awaitTransactionsSettled(kafka.bootstrapServers(),
                    topic, Duration.ofMillis(500)))
                    .isInstanceOf(IllegalStateException.class).hasMessageContaining(topic);

            producer.commitTransaction();
        }
        // the commit's markers reach the partitions after commitTransaction returns: once
        // settled, both partitions' records are there
        Topics.awaitTransactionsSettled(kafka.bootstrapServers(), topic, Duration.ofSeconds(60));
        assertThat(Topics.readAll(kafka.bootstrapServers(), topic)).hasSize(20)
                .extracting(r -> r.partition()).containsOnly(0, 1);
    }
}
