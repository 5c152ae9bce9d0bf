package dev.interestgraph.faults;

import static dev.interestgraph.faults.FaultTestSupport.bytes;
import static org.assertj.core.api.Assertions.assertThat;

import dev.interestgraph.InterestGraphPipeline;
import dev.interestgraph.config.InterestGraphOptions;
import dev.interestgraph.data.EventJson;
import dev.interestgraph.local.LocalKafkaBroker;
import dev.interestgraph.local.Topics;
import dev.interestgraph.model.Action;
import dev.interestgraph.model.ItemVersion;
import dev.interestgraph.model.UserAction;
import dev.interestgraph.testing.HashingTestEmbedder;
import java.lang.reflect.Field;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.apache.flink.api.dag.Transformation;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.connector.kafka.sink.KafkaSink;
import org.apache.flink.connector.kafka.source.KafkaSource;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.transformations.SinkTransformation;
import org.apache.flink.streaming.api.transformations.SourceTransformation;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.core.LogEvent;
import org.apache.logging.log4j.core.LoggerContext;
import org.apache.logging.log4j.core.appender.AbstractAppender;
import org.apache.logging.log4j.core.config.LoggerConfig;
import org.apache.logging.log4j.core.config.Property;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Security settings and log hygiene. gRPC with TLS (a self-signed certificate made in the test) is
 * covered by {@code dev.interestgraph.inference.TlsRoundTripTest}; here: Kafka security settings
 * given as {@code kafka.properties.*} reach every Kafka client the job builds (and the delta
 * sink's own codec wins over theirs), and a run of the job logs no user id and no user text at
 * INFO.
 */
class SecurityIT {

    @RegisterExtension
    static final MiniClusterExtension FLINK = new MiniClusterExtension(
            new MiniClusterResourceConfiguration.Builder()
                    .setNumberTaskManagers(1).setNumberSlotsPerTaskManager(2).build());

    private static final Map<String, String> SECURITY = Map.of(
            "security.protocol", "SASL_SSL",
            "sasl.mechanism", "SCRAM-SHA-512",
            "sasl.jaas.config", "org.apache.kafka.common.security.scram.ScramLoginModule "
                    + "required username=\"ig\" password=\"secret\";",
            "ssl.truststore.location", "/etc/kafka/truststore.p12",
            "ssl.truststore.password", "changeit",
            "ssl.truststore.type", "PKCS12",
            "ssl.endpoint.identification.algorithm", "https");

    @Test
    void kafkaSecuritySettingsReachEverySourceAndSink() throws Exception {
        Configuration config = new Configuration();
        config.set(InterestGraphOptions.KAFKA_BOOTSTRAP, "kafka-1:9093");
        SECURITY.forEach((key, value) ->
                config.setString(InterestGraphOptions.KAFKA_PROPERTIES_PREFIX + key, value));
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        new InterestGraphPipeline(config, HashingTestEmbedder.factory()).build(env);

        Map<String, Properties> clients = new HashMap<>();
        for (Transformation<?> transformation : transformations(env)) {
            if (transformation instanceof SourceTransformation<?, ?, ?> source
                    && source.getSource() instanceof KafkaSource<?> kafka) {
                clients.put(source.getName(), field(kafka, "props"));
            } else if (transformation instanceof SinkTransformation<?, ?> sink
                    && sink.getSink() instanceof KafkaSink<?> kafka) {
                clients.put(sink.getName(), field(kafka, "kafkaProducerConfig"));
            }
        }
        // three sources (consumers and the enumerator's admin client use these properties) and
        // four exactly-once sinks (their transactional producers use these)
        assertThat(clients).containsOnlyKeys("user-events source", "item-catalog source",
                "item-neighbors source", "graph-deltas sink", "dead-letters sink",
                "item-embeddings sink", "recommendations sink");
        clients.forEach((client, properties) -> {
            SECURITY.forEach((key, value) -> assertThat(properties.getProperty(key))
                    .as("%s of %s", key, client).isEqualTo(value));
            assertThat(properties.getProperty("bootstrap.servers")).as(client)
                    .isEqualTo("kafka-1:9093");
        });
    }

    /**
     * The delta sink compresses with {@code kafka.deltas.compression} (LZ4 unless set), which wins
     * over a codec given for every client; the other sinks keep that codec. (Every broker test of
     * the job reads LZ4 deltas through real consumers, and StandaloneClusterIT through the shaded
     * JAR on a cluster.)
     */
    @Test
    void theDeltaSinkCompressesWithItsOwnCodec() throws Exception {
        Configuration config = new Configuration();
        config.set(InterestGraphOptions.KAFKA_BOOTSTRAP, "kafka-1:9093");
        config.setString(InterestGraphOptions.KAFKA_PROPERTIES_PREFIX + "compression.type", "gzip");
        Map<String, Properties> sinks = sinkProperties(config);
        assertThat(sinks.get("graph-deltas sink").getProperty("compression.type"))
                .isEqualTo("lz4");
        assertThat(sinks).hasSize(4);
        sinks.forEach((sink, properties) -> {
            if (!sink.equals("graph-deltas sink")) {
                assertThat(properties.getProperty("compression.type")).as(sink).isEqualTo("gzip");
            }
            assertThat(properties.getProperty("transaction.timeout.ms")).as(sink)
                    .isEqualTo("600000");
        });

        config.set(InterestGraphOptions.KAFKA_DELTAS_COMPRESSION,
                InterestGraphOptions.KafkaCompression.ZSTD);
        assertThat(sinkProperties(config).get("graph-deltas sink")
                .getProperty("compression.type")).isEqualTo("zstd");
    }

    private static Map<String, Properties> sinkProperties(Configuration config) throws Exception {
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        new InterestGraphPipeline(config, HashingTestEmbedder.factory()).build(env);
        Map<String, Properties> sinks = new HashMap<>();
        for (Transformation<?> transformation : transformations(env)) {
            if (transformation instanceof SinkTransformation<?, ?> sink
                    && sink.getSink() instanceof KafkaSink<?> kafka) {
                sinks.put(sink.getName(), field(kafka, "kafkaProducerConfig"));
            }
        }
        return sinks;
    }

    @Test
    void aRunOfTheJobLogsNoUserIdsAndNoUserTextAtInfo() throws Exception {
        String userMarker = "uid7qx";
        String textMarker = "txt9zk";
        LogCapture capture = LogCapture.atInfo();
        try (LocalKafkaBroker kafka = LocalKafkaBroker.start()) {
            kafka.createTopic("user-events", 2);
            kafka.createTopic("item-catalog", 1);
            // as deployed: deltas carry event time, and CreateTime with the broker's 7-day
            // retention would let the broker delete them (docs/reliability.md, finding 4)
            kafka.createTopic("graph-deltas", 2,
                    Map.of("message.timestamp.type", "LogAppendTime"));
            kafka.createTopic("dead-letters", 1);
            long t0 = 1_700_000_000_000L;
            try (KafkaProducer<byte[], byte[]> producer = Topics.producer(kafka.bootstrapServers())) {
                for (int i = 0; i < 10; i++) {
                    producer.send(new ProducerRecord<>("item-catalog", bytes("item-" + i),
                            EventJson.toJson(new ItemVersion("item-" + i, "Title " + i, "",
                                    new String[] {"tag" + i}, t0 - 1000))));
                }
                List<UserAction> events = new ArrayList<>();
                for (int u = 0; u < 5; u++) {
                    for (int e = 0; e < 20; e++) {
                        events.add(new UserAction("ev-" + u + "-" + e, userMarker + "-user-" + u,
                                "item-" + (e % 10), e % 3 == 0 ? Action.COMMENT : Action.CLICK,
                                t0 + e * 2_000L + u, 0, e % 3 == 0
                                        ? textMarker + " a comment by user " + u : null));
                    }
                }
                events.add(new UserAction("forget", userMarker + "-user-0", "",
                        Action.FORGET_USER, t0 + 50_000, 0, null));
                for (UserAction event : events) {
                    producer.send(new ProducerRecord<>("user-events", bytes(event.userId),
                            EventJson.toJson(event)));
                }
                // malformed records that carry a user id and text: dead letters, not log lines
                producer.send(new ProducerRecord<>("user-events", bytes(userMarker + "-bad"),
                        bytes("{\"event_id\":\"x\",\"user_id\":\"" + userMarker + "-bad\","
                                + "\"item_id\":\"i\",\"action\":\"" + textMarker + "\","
                                + "\"event_time_ms\":" + t0 + "}")));
                producer.send(new ProducerRecord<>("user-events", bytes(userMarker + "-bad"),
                        bytes("{\"user_id\":\"" + userMarker + "-bad\",\"text\":\"" + textMarker)));
            }
            Configuration config = new Configuration();
            config.set(InterestGraphOptions.KAFKA_BOOTSTRAP, kafka.bootstrapServers());
            config.set(InterestGraphOptions.KAFKA_BOUNDED, true);
            config.set(InterestGraphOptions.WATERMARK_IDLENESS, Duration.ofSeconds(1));
            config.set(InterestGraphOptions.TOPIC_ITEM_EMBEDDINGS, "");
            StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
            env.setParallelism(2);
            env.enableCheckpointing(500);
            new InterestGraphPipeline(config, HashingTestEmbedder.factory()).build(env);
            env.execute("log hygiene");
            assertThat(Topics.readAll(kafka.bootstrapServers(), "graph-deltas")).isNotEmpty();
            assertThat(Topics.readAll(kafka.bootstrapServers(), "dead-letters")).hasSize(2);
            // the capture works: a line with the marker written here at INFO is caught
            LogManager.getLogger(SecurityIT.class).info("control line {}", userMarker);
        } finally {
            capture.close();
        }
        List<String> lines = new ArrayList<>(capture.lines);
        assertThat(lines).as("INFO lines captured during the run").hasSizeGreaterThan(100);
        assertThat(lines).filteredOn(line -> line.contains(userMarker)).singleElement()
                .satisfies(line -> assertThat(line).startsWith("control line"));
        assertThat(lines).noneMatch(line -> line.contains(textMarker));
        System.out.printf("log hygiene: %d INFO lines captured, none with a user id or text%n",
                lines.size());
    }

    @SuppressWarnings("unchecked")
    private static List<Transformation<?>> transformations(StreamExecutionEnvironment env)
            throws Exception {
        // every transformation reachable from the sinks, sources included
        List<Transformation<?>> all = new ArrayList<>();
        List<Transformation<?>> todo = new ArrayList<>((List<Transformation<?>>) (List<?>)
                field(env, StreamExecutionEnvironment.class, "transformations"));
        while (!todo.isEmpty()) {
            Transformation<?> next = todo.remove(todo.size() - 1);
            if (!all.contains(next)) {
                all.add(next);
                todo.addAll(next.getInputs());
            }
        }
        return all;
    }

    private static <T> T field(Object target, String name) throws Exception {
        return field(target, target.getClass(), name);
    }

    /** A private field, read reflectively: the connectors expose no accessor for the config. */
    @SuppressWarnings("unchecked")
    private static <T> T field(Object target, Class<?> owner, String name) throws Exception {
        Field field = owner.getDeclaredField(name);
        field.setAccessible(true);
        return (T) field.get(target);
    }

    /**
     * Every log event of the JVM at INFO and above, formatted with its exception chain, while
     * open; the configured levels and the console appender are restored on close.
     */
    private static final class LogCapture extends AbstractAppender implements AutoCloseable {
        final ConcurrentLinkedQueue<String> lines = new ConcurrentLinkedQueue<>();
        private final LoggerContext context;
        private final Map<LoggerConfig, Level> levels = new HashMap<>();
        private final Map<String, org.apache.logging.log4j.core.Appender> rootAppenders;

        private LogCapture(LoggerContext context) {
            super("capture", null, null, true, Property.EMPTY_ARRAY);
            this.context = context;
            this.rootAppenders = new HashMap<>(context.getConfiguration().getRootLogger()
                    .getAppenders());
        }

        static LogCapture atInfo() {
            LoggerContext context = (LoggerContext) LogManager.getContext(false);
            LogCapture capture = new LogCapture(context);
            capture.start();
            org.apache.logging.log4j.core.config.Configuration config = context.getConfiguration();
            LoggerConfig root = config.getRootLogger();
            for (LoggerConfig logger : config.getLoggers().values()) {
                capture.levels.put(logger, logger.getLevel());
                logger.setLevel(Level.INFO); // the Kafka loggers are at ERROR in tests
            }
            capture.levels.put(root, root.getLevel());
            root.setLevel(Level.INFO);
            // INFO goes to the capture only, not into the test's output file
            capture.rootAppenders.keySet().forEach(root::removeAppender);
            root.addAppender(capture, Level.INFO, null);
            context.updateLoggers();
            return capture;
        }

        @Override
        public void append(LogEvent event) {
            StringBuilder line = new StringBuilder(event.getMessage().getFormattedMessage());
            for (Throwable t = event.getThrown(); t != null; t = t.getCause()) {
                line.append(" | ").append(t);
            }
            lines.add(line.toString());
        }

        @Override
        public void close() {
            org.apache.logging.log4j.core.config.Configuration config = context.getConfiguration();
            LoggerConfig root = config.getRootLogger();
            root.removeAppender(getName());
            rootAppenders.values().forEach(appender -> root.addAppender(appender, null, null));
            levels.forEach(LoggerConfig::setLevel);
            context.updateLoggers();
            stop();
        }
    }
}
