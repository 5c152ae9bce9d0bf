package dev.interestgraph.cli;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;
import picocli.CommandLine.Option;

/** The Kafka connection options every consumer command shares (a picocli mixin). */
final class KafkaConnection {
    @Option(names = "--kafka.bootstrap", defaultValue = "localhost:9092",
            description = "Kafka bootstrap servers (default: ${DEFAULT-VALUE}, the demo's broker).")
    String bootstrap;

    @Option(names = "--kafka.properties", paramLabel = "PROPERTY=VALUE",
            description = "Kafka client properties, e.g. security.protocol=SASL_SSL.")
    Map<String, String> clientProperties = new LinkedHashMap<>();

    Properties properties() {
        Properties props = new Properties();
        props.putAll(clientProperties);
        return props;
    }
}
