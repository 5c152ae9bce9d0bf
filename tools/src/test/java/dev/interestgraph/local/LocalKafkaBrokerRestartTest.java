package dev.interestgraph.local;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Properties;
import java.util.UUID;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;

/** stop()/restart() keep the ports and the data: what a broker-restart fault test needs. */
class LocalKafkaBrokerRestartTest {

    @Test
    void dataProducedBeforeRestartIsReadableAfterIt() throws Exception {
        try (LocalKafkaBroker kafka = LocalKafkaBroker.start()) {
            String bootstrap = kafka.bootstrapServers();
            String topic = "restart-" + UUID.randomUUID();
            kafka.createTopic(topic, 2);
            try (KafkaProducer<String, String> producer = producer(kafka)) {
                for (int i = 0; i < 100; i++) {
                    producer.send(new ProducerRecord<>(topic, "k" + i, "before-" + i)).get();
                }
            }

            kafka.stop();
            assertThat(kafka.isRunning()).isFalse();
            kafka.restart();
            System.out.println("LocalKafkaBroker restart time: " + kafka.lastStartMillis() + " ms");

            assertThat(kafka.isRunning()).isTrue();
            assertThat(kafka.bootstrapServers()).isEqualTo(bootstrap);
            // the broker also accepts new writes after the restart
            try (KafkaProducer<String, String> producer = producer(kafka)) {
                producer.send(new ProducerRecord<>(topic, "k-after", "after")).get();
            }
            List<ConsumerRecord<String, String>> records =
                    LocalKafkaBrokerTest.consumeExactly(kafka, topic, 101, IsolationLevel.READ_COMMITTED);
            assertThat(records).hasSize(101);
            assertThat(records).filteredOn(r -> r.value().startsWith("before-")).hasSize(100);
            assertThat(records).extracting(ConsumerRecord::value).contains("before-0", "before-99", "after");
        }
    }

    private static KafkaProducer<String, String> producer(LocalKafkaBroker kafka) {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        return new KafkaProducer<>(p, new StringSerializer(), new StringSerializer());
    }
}
