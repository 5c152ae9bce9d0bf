// A Kafka broker for triton-models/tests/test_kafka_announcer.py: the project's LocalKafkaBroker
// (in-process KRaft, kafka_2.13 3.9.1) with the topic model-versions. Launched as a single-file
// source program: java -cp <tools classes + test classpath> KafkaForPytest.java
// Prints "KAFKA_READY <bootstrap servers>" and runs until stdin closes.
import dev.interestgraph.local.LocalKafkaBroker;

public class KafkaForPytest {
    public static void main(String[] args) throws Exception {
        try (LocalKafkaBroker kafka = LocalKafkaBroker.start()) {
            kafka.createTopic("model-versions", 1);
            System.out.println("KAFKA_READY " + kafka.bootstrapServers());
            System.out.flush();
            while (System.in.read() >= 0) {
                // until the parent closes stdin (or dies)
            }
        }
    }
}
